import ArgumentParser
import Recurrent

/// `recurrent bench`: times full training steps with the flags and the JSON record of
/// the peer script (`shared/peers/rnn_peer_bench.py`), so that it runs in the same matrix:
/// `PEER_CMDS="recurrent=.build/release/recurrent bench" ONLY=rnn shared/peers/run_all.sh`.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time full training steps (forward, loss, BPTT, SGD) like the peer benchmark script.",
        discussion: """
        Prints a readable line, then the JSON record as the last line (run_all.sh reads \
        the last line); --json prints the JSON record only.
        """
    )

    @Option(help: ArgumentHelp("relu | tanh (the peer script's RNNs: the irnn and rnn presets) or any preset: \(ModelConfiguration.presetNames.joined(separator: " | ")).")) var cell = "relu"
    @Option(name: [.customLong("hidden"), .customShort("H")], help: "Hidden units H.") var hidden = 100
    @Option(name: [.customLong("input"), .customShort("I")], help: "Input features I.") var input = 1
    @Option(name: [.customLong("seq-len"), .customShort("T")], help: "Sequence length T.") var seqLen = 784
    @Option(name: [.customLong("batch"), .customShort("B")], help: "Batch size B.") var batch = 16
    @Option(name: [.customLong("classes"), .customShort("C")], help: "Classes C (1: MSE regression).") var classes = 10
    @Option(help: "Threads: the batch is split among them for the time loop, and large products are split too (results are bit-identical for any count).") var threads = 1
    @Option(help: "Timed training steps.") var steps = 20
    @Option(help: "Untimed steps first.") var warmup = 3
    @Option(help: "SGD learning rate.") var lr = 1e-8
    @Option(help: "auto | xent | mse (auto: xent when classes > 1).") var loss = "auto"
    @Option(help: "Seed of the data and the initial weights.") var seed: UInt64 = 0
    @Option(help: "Distinct synthetic batches cycled during timing.") var dataBatches = 4
    @Option(help: "Report GFLOP/s as a percentage of this ceiling.") var ceilingGflops: Double?
    @Option(help: "Free text copied into the JSON record.") var label: String?
    @Flag(help: "Do not restrict the process to the first N CPUs.") var noPin = false
    @Flag(help: "Print only the JSON record.") var json = false

    func run() throws {
        var o = TrainingBenchmark.Options()
        o.cell = cell; o.hidden = hidden; o.input = input; o.seqLen = seqLen; o.batch = batch
        o.classes = classes; o.threads = threads; o.steps = steps; o.warmup = warmup
        o.learningRate = lr; o.loss = loss; o.seed = seed; o.dataBatches = dataBatches
        o.pin = !noPin; o.label = label; o.ceilingGFLOPs = ceilingGflops
        let record: TrainingBenchmark.Record
        do { record = try TrainingBenchmark.run(o) } catch { throw ValidationError(error.message) }
        if !json { print(record.summary) }
        print(record.json)
    }
}
