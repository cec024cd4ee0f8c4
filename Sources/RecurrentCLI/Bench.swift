import ArgumentParser
import Recurrent

/// `recurrent bench`: times full training steps (two modes) or inference.
///
/// Peer (the default): the flags and the JSON record of the peer script
/// (`shared/peers/rnn_peer_bench.py`), so that it runs in the same matrix:
/// `PEER_CMDS="recurrent=.build/release/recurrent bench" ONLY=rnn shared/peers/run_all.sh`.
///
/// Trainer (`--trainer`): the step of `recurrent train` itself (`Trainer.trainStep`: the
/// task's batch, the optimizer, clipping, the finite-state check, the statistics of logged
/// steps), built from train's options (task, cell, optimizer, seed), so that what a user's
/// training run costs per step is measured by the code it runs.
///
/// Inference (`--inference`): the peer mode's model, forward only, timed through
/// `RecurrentModel.predict` (what `recurrent predict` runs), for the inference peers
/// (`benchmarks/inference_peer_bench.py`: PyTorch and ONNX Runtime).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time full training steps: like the peer benchmark script, or (--trainer) the step of `recurrent train`; or (--inference) prediction.",
        discussion: """
        Prints a readable line, then the JSON record as the last line (run_all.sh reads \
        the last line); --json prints the JSON record only.

        Peer mode (default): one layer, a readout on the last step (--readout every: on \
        every step), plain SGD with --lr (default 1e-8) on --steps timed steps over \
        --data-batches synthetic batches (the adding problem when --input 2 --classes 1).

        Trainer mode (--trainer): the options of `recurrent train` for the task, the model \
        (--cell irnn|rnn|lstm|gru|indrnn, relu and tanh mean irnn and rnn; --hidden, \
        --layers, --activation) and the optimizer (--optimizer, --lr, --clip-norm, ...), with \
        train's defaults (batch 32, hidden 64, adam, clip-norm 1, seed 1); the same seed \
        gives the same steps as `recurrent train`. Logged steps (every --log-every) compute \
        the state statistics, as in train. Example:
          recurrent bench --trainer --task adding --length 150 --hidden 100 --batch 50 --lr 3e-4

        Inference mode (--inference): the peer mode's model and shapes, forward only: each \
        timed call predicts --batch sequences of U(0, 1) inputs (RecurrentModel.predict, as \
        `recurrent predict` without its file I/O); seq_per_s is the throughput. Example:
          recurrent bench --inference --cell relu --hidden 512 --input 64 --seq-len 100 --batch 1 --classes 10
        """
    )

    @Flag(help: "Time the step of `recurrent train` (task, optimizer, clipping) instead of the peer script's step.")
    var trainer = false

    @Flag(help: "Time prediction (forward only, the peer mode's model; --batch sequences per call) instead of a training step.")
    var inference = false

    @Option(help: "relu | tanh | lstm | gru | indrnn (--trainer: also irnn, rnn). (default: relu; --trainer: irnn)")
    var cell: String?
    @Option(name: [.customLong("hidden"), .customShort("H")], help: "Hidden units H. (default: 100; --trainer: 64)")
    var hidden: Int?
    @Option(name: [.customLong("input"), .customShort("I")], help: "Peer mode: input features I. (default: 1)")
    var input: Int?
    @Option(name: [.customLong("seq-len"), .customShort("T")], help: "Peer mode: sequence length T. (default: 784)")
    var seqLen: Int?
    @Option(name: [.customLong("batch"), .customShort("B")], help: "Batch size B. (default: 16; --trainer: 32)")
    var batch: Int?
    @Option(name: [.customLong("classes"), .customShort("C")], help: "Peer mode: classes C (1: MSE regression). (default: 10)")
    var classes: Int?
    @Option(help: "Threads: the batch is split among them for the time loop, and large products are split too (results are bit-identical for any count).") var threads = 1
    @Option(help: "Timed training steps.") var steps = 20
    @Flag(name: .customLong("keep-denormals"), help: "Keep denormal numbers instead of flushing them to zero (PyTorch's default; slower on many CPUs).")
    var keepDenormals = false
    @Option(help: "Untimed steps first.") var warmup = 3
    @Option(help: "Peer and inference modes: keep timing past --steps until the timed steps add up to this many seconds (0: exactly --steps).")
    var minSeconds = 0.0
    @Option(help: "Peer mode: auto | xent | mse (auto: xent when classes > 1). (default: auto)")
    var loss: String?
    @Option(help: "Peer mode: last | every: the readout reads h_T, or every h_t with a loss at every step (not in the peer script). (default: last)")
    var readout: String?
    @Option(help: "Seed of the data and the initial weights. (default: 0; --trainer: 1, as train)")
    var seed: UInt64?
    @Option(help: "Peer mode: distinct synthetic batches cycled during timing. (default: 4)")
    var dataBatches: Int?
    @Option(help: "Report GFLOP/s as a percentage of this ceiling.") var ceilingGflops: Double?
    @Option(help: "Free text copied into the JSON record.") var label: String?
    @Flag(help: "Do not restrict the process to the first N CPUs.") var noPin = false
    @Flag(help: "Print only the JSON record.") var json = false

    @OptionGroup(title: "Trainer mode: the task (as in train)") var taskOptions: TaskOptions
    @OptionGroup(title: "Optimizer (--lr also in peer mode: SGD's rate, default 1e-8; the rest with --trainer)")
    var optimizerOptions: OptimizerOptions
    @Option(help: "--trainer: stacked recurrent layers L. (default: 1)") var layers: Int?
    @Option(help: "--trainer: f for rnn, irnn and indrnn (as train's --activation).") var activation: String?
    @Option(name: .customLong("log-every"), help: "--trainer: compute the logged statistics every N steps, as train does. (default: 10)")
    var logEvery: Int?

    func validate() throws {
        for (option, value) in [("--hidden", hidden), ("--input", input), ("--seq-len", seqLen), ("--batch", batch), ("--classes", classes),
                                ("--data-batches", dataBatches), ("--layers", layers), ("--log-every", logEvery)] {
            if let v = value, v < 1 { throw ValidationError("\(option) must be at least 1, got \(v)") }
        }
        if threads < 1 || steps < 1 { throw ValidationError("--threads and --steps must be at least 1") }
        if warmup < 0 { throw ValidationError("--warmup must be at least 0, got \(warmup)") }
        if !(minSeconds >= 0) || !minSeconds.isFinite { throw ValidationError("--min-seconds must be a finite number of seconds >= 0, got \(minSeconds)") }
        if trainer && inference { throw ValidationError("--trainer and --inference are two different modes: pass one") }
        if inference {
            let trainingOnly: [(String, Bool)] = [("--loss", loss != nil), ("--data-batches", dataBatches != nil),
                                                  ("--lr", optimizerOptions.lr != nil)]
            if let (option, _) = trainingOnly.first(where: \.1) {
                throw ValidationError("\(option) applies to the training modes; --inference times the forward pass only")
            }
        }
        if trainer {
            let peerOnly: [(String, Bool)] = [("--input", input != nil), ("--seq-len", seqLen != nil), ("--classes", classes != nil),
                                              ("--loss", loss != nil), ("--readout", readout != nil), ("--data-batches", dataBatches != nil),
                                              ("--min-seconds", minSeconds != 0)]
            if let (option, _) = peerOnly.first(where: \.1) {
                throw ValidationError("\(option) applies to the peer mode; with --trainer the task sets the shapes and the loss (--task, --length, --data, --bptt)")
            }
        } else {
            let t = taskOptions, o = optimizerOptions
            let trainerOnly: [(String, Bool)] = [
                ("--task", t.task != nil), ("--length", t.length != nil), ("--data", t.data != nil), ("--val-fraction", t.valFraction != nil),
                ("--perm-seed", t.permSeed != nil), ("--bptt", t.bptt != nil), ("--limit", t.limit != nil),
                ("--standardize", t.standardize), ("--optimizer", o.optimizer != nil), ("--momentum", o.momentum != nil), ("--nesterov", o.nesterov),
                ("--weight-decay", o.weightDecay != nil), ("--clip-norm", o.clipNorm != nil), ("--clip-value", o.clipValue != nil),
                ("--schedule", o.schedule != nil), ("--layers", layers != nil), ("--activation", activation != nil), ("--log-every", logEvery != nil),
            ]
            if let (option, _) = trainerOnly.first(where: \.1) {
                throw ValidationError("\(option) applies to the trainer mode: add --trainer (the peer mode times plain SGD on synthetic data)")
            }
        }
    }

    func run() throws {
        var o = TrainingBenchmark.Options()
        o.threads = threads; o.steps = steps; o.warmup = warmup; o.minSeconds = minSeconds
        o.pin = !noPin; o.label = label; o.ceilingGFLOPs = ceilingGflops
        let record: TrainingBenchmark.Record
        if trainer {
            record = try timeTrainer(o)
        } else {
            o.cell = cell ?? "relu"; o.hidden = hidden ?? 100; o.input = input ?? 1; o.seqLen = seqLen ?? 784
            o.batch = batch ?? 16; o.classes = classes ?? 10; o.learningRate = optimizerOptions.lr ?? 1e-8
            o.loss = loss ?? "auto"; o.readout = readout ?? "last"; o.seed = seed ?? 0; o.dataBatches = dataBatches ?? 4
            if inference { o.mode = "inference" }
            do { record = try TrainingBenchmark.run(o) } catch { throw ValidationError(error.message) }
        }
        if !json { Terminal.out(record.summary) }
        Terminal.out(record.json)
    }

    // MARK: - Trainer mode

    /// Builds the trainer as `recurrent train` does (task, model from the seed, optimizer,
    /// clipping, schedule over warm-up + timed steps) and times its steps.
    func timeTrainer(_ base: TrainingBenchmark.Options) throws -> TrainingBenchmark.Record {
        let cellName = ["relu": "irnn", "tanh": "rnn"][cell ?? "irnn"] ?? cell ?? "irnn"
        guard ModelConfiguration.presetNames.contains(cellName) else {
            throw ValidationError("unknown cell '\(cell ?? "")' for --trainer. Accepted: relu, tanh, \(ModelConfiguration.presetNames.joined(separator: ", ")).")
        }
        // The task, optimizer, clipping and schedule (over warm-up + timed steps) as train resolves them.
        let spec = TrainSpec(task: try taskOptions.spec(over: nil), optimizer: optimizerOptions.spec(over: nil),
                             run: RunSpec(steps: warmup + steps, batch: batch ?? TrainingDefaults.batch, seed: seed ?? TrainingDefaults.seed,
                                          evalEvery: 0, logEvery: logEvery ?? 10, checkpointEvery: 0))
        let session: TrainingSession
        do { session = try TrainingSession(spec) } catch let error as ConfigurationError { throw ValidationError("\(error)") }
        let task = session.task
        // The model options of train, with its presets, defaults and checks.
        var modelArguments = ["--cell", cellName, "--hidden", String(hidden ?? TrainingDefaults.hidden), "--layers", String(layers ?? TrainingDefaults.layers)]
        if let a = activation { modelArguments += ["--activation", a] }
        let modelOptions = try ModelOptions.parse(modelArguments)
        let configuration = try modelOptions.configuration(inputSize: task.inputSize, outputs: task.outputSize, readout: task.readout)
        let (optimizer, options) = (session.optimizer, session.options)
        var o = base
        o.cell = cell ?? "irnn"
        o.seed = spec.run.seed
        o.optimizer = spec.optimizer.kind.rawValue
        // As train: the model's weights, then the trainer's seed, from one generator.
        var rng = SeededGenerator(seed: o.seed)
        let model = try AnyRecurrentModel(configuration, using: &rng)
        let job = BenchTrainerJob(task: task, optimizer: optimizer, options: options, configuration: configuration,
                                  seed: rng.next(), benchmark: o)
        do {
            return try model.visit(job)
        } catch let divergence as TrainingDivergence {
            Terminal.err("error: the timed run diverged: \(divergence)")
            throw ExitCode(3)                                   // as train: 3 is a divergence
        }
    }
}

/// Builds a `Trainer` for whichever cell the model holds and times its steps.
struct BenchTrainerJob: ModelVisitor {
    var task: any TrainingTask
    var optimizer: OptimizerChoice<Float>
    var options: TrainingOptions
    var configuration: ModelConfiguration
    var seed: UInt64
    var benchmark: TrainingBenchmark.Options

    func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> TrainingBenchmark.Record where Cell.Scalar == Float {
        var trainer: Trainer<Cell>
        do {
            trainer = try Trainer(model: model, optimizer: optimizer, task: task, options: options,
                                  configuration: configuration, seed: seed)
        } catch {
            throw CLIError("the model (\(configuration.summary)) does not fit the task: \(error.message)", fix: "check --task/--data")
        }
        return try TrainingBenchmark.timeTrainer(&trainer, benchmark)
    }
}
