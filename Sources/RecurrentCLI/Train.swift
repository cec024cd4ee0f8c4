import ArgumentParser
import Foundation
import Recurrent

/// `recurrent train`: one model, one task, progress, checkpoints, Ctrl-C, resume.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model on a task; Ctrl-C or SIGTERM saves and stops, --resume continues with the same bits.",
        discussion: """
            Examples:
              recurrent train --task adding --length 50
              recurrent train --task rowmnist --limit 2000 --epochs 1 --hidden 64
              recurrent train --task charlm --data input.txt --cell lstm --hidden 128
              recurrent train --resume checkpoints/adding-irnn.safetensors --steps 4000

            Exit status:
              0    done (all steps, or --target reached)
              1    bad input (the message names the file and the fix)
              3    diverged (the checkpoint holds the last finite state: weights, optimizer
                   state, generator and data position of the step before)
              64   bad options
              130  stopped by Ctrl-C, SIGTERM or SIGHUP: checkpoint saved, --resume
                   continues (a second signal quits at once, keeping the last save)
            """)

    @OptionGroup(title: "Task") var taskOptions: TaskOptions
    @OptionGroup(title: "Model") var modelOptions: ModelOptions
    @OptionGroup(title: "Optimizer") var optimizerOptions: OptimizerOptions

    @Option(help: "Sequences per batch (charlm: parallel streams). (default: 32)")
    var batch: Int?

    @Option(help: "Total optimizer steps; a resumed run continues to this total. (default: 3000, or the checkpoint's)")
    var steps: Int?

    @Option(help: "Passes over the training data instead of --steps (data set tasks).")
    var epochs: Int?

    @Option(name: .customLong("eval-every"), help: "Evaluate every N steps; 0 = only at the end. (default: 0)")
    var evalEvery: Int?

    @Option(name: .customLong("log-every"), help: "Log (and refresh the progress line) every N steps. (default: 10)")
    var logEvery: Int?

    @Option(help: "Seed of the initial weights and of the batch stream. (default: 1)")
    var seed: UInt64?

    @Option(help: "Threads: each batch is split among them for the time loop, and large products are split too (results are bit-identical for any count). (default: 1)")
    var threads: Int?

    @Option(help: "Stop once the evaluation metric reaches X (mse and bpc at or below, accuracy at or above).")
    var target: Double?

    @Option(name: .customLong("checkpoint-dir"), help: "Where checkpoints go. (default: checkpoints; with --resume: beside the resumed file)")
    var checkpointDir: String?

    @Option(help: "Checkpoint file name, without extension. (default: TASK-CELL, e.g. adding-irnn)")
    var name: String?

    @Option(name: .customLong("checkpoint-every"), help: "Also save every N steps; 0 = only at the end. (default: 1000)")
    var checkpointEvery: Int?

    @Option(help: ArgumentHelp("Continue a run from its checkpoint (its optimizer state and data position are in FILE's .state.safetensors sidecar).", valueName: "file"))
    var resume: String?

    @Option(name: .customLong("init-from"), help: ArgumentHelp("Start from a checkpoint's weights (e.g. saved from PyTorch's state_dict) with a fresh optimizer.", valueName: "file"))
    var initFrom: String?

    @Option(help: ArgumentHelp("Write a JSON Lines metrics log: one record per logged step and per evaluation.", valueName: "file.jsonl"))
    var log: String?

    @Option(help: ArgumentHelp("Write TensorBoard scalars to DIR/NAME/ (NAME: the checkpoint's; a resumed run adds an event file there). View with: tensorboard --logdir DIR", valueName: "dir"))
    var tensorboard: String?

    @Flag(help: "Print nothing while training, then one JSON object with the results.")
    var json = false

    func validate() throws {
        if steps != nil && epochs != nil { throw ValidationError("pass --steps or --epochs, not both") }
        if resume != nil && initFrom != nil { throw ValidationError("pass --resume (continue a run) or --init-from (new run from weights), not both") }
        for (option, value, minimum) in [("--batch", batch, 1), ("--steps", steps, 1), ("--epochs", epochs, 1), ("--eval-every", evalEvery, 0),
                                         ("--log-every", logEvery, 1), ("--checkpoint-every", checkpointEvery, 0), ("--threads", threads, 1)] {
            if let v = value, v < minimum { throw ValidationError("\(option) must be at least \(minimum), got \(v)") }
        }
        if tensorboard?.isEmpty == true { throw ValidationError("--tensorboard needs a folder, e.g. --tensorboard runs") }
        if let n = name, n.isEmpty || n.contains("/") { throw ValidationError("--name must be a file name without '/', got '\(n)'") }
        if let t = target, !t.isFinite { throw ValidationError("--target must be a finite number, got \(t)") }
    }

    func run() throws {
        try Compute.$threads.withValue(threads ?? 1) { try train() }
    }

    func train() throws {
        Interrupt.install()
        // 1. What a checkpoint we start from says (its own errors name its path). A resumed
        // checkpoint is first made whole (a kill may have cut its last save short).
        var storedSpec: TrainSpec?
        var storedConfiguration: ModelConfiguration?
        var initFile: (file: SafeTensorsFile, path: String)?
        var resumeStep: Int?
        if let path = resume {
            let recovery = try TrainingCheckpoint.recover(URL(fileURLWithPath: path))
            for note in recovery.notes { Terminal.err("note: \(note)") }
            resumeStep = recovery.step
        }
        if let path = resume ?? initFrom {
            let file = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: path))
            do { try file.requireFinite(.loading, path: path) } catch { throw refusal(error, command: nil) }
            do { storedConfiguration = try Checkpoint.configuration(of: file) } catch let error as CheckpointError {
                throw CheckpointError(error.message, path: path)
            }
            if resume != nil { storedSpec = TrainSpec.stored(in: file.metadata) } else { initFile = (file, path) }
        }

        // 2. Task (loads the data), model, optimizer, run: explicit options over the checkpoint's over the defaults.
        let taskSpec = try taskOptions.spec(over: storedSpec?.task)
        let built = try taskSpec.build()
        let task = built.task
        let configuration = try modelOptions.configuration(inputSize: task.inputSize, outputs: task.outputSize, readout: task.readout,
                                                           stored: storedConfiguration)
        let optimizerSpec = optimizerOptions.spec(over: storedSpec?.optimizer)
        let optimizer = try optimizerSpec.choice()
        let stored = storedSpec?.run
        let batchSize = batch ?? stored?.batch ?? 32
        var totalSteps = steps ?? stored?.steps ?? 3000
        if let e = epochs {
            guard let perEpoch = built.stepsPerEpoch else {
                throw ValidationError("--epochs applies to data set tasks (smnist, pmnist, rowmnist, charlm, tensors); \(task.name) draws fresh sequences every step: use --steps")
            }
            totalSteps = e * (try perEpoch(batchSize))
        }
        let runSpec = RunSpec(steps: totalSteps, batch: batchSize, seed: seed ?? stored?.seed ?? 1,
                              evalEvery: evalEvery ?? stored?.evalEvery ?? 0, logEvery: logEvery ?? stored?.logEvery ?? 10,
                              checkpointEvery: checkpointEvery ?? stored?.checkpointEvery ?? 1000, target: target ?? stored?.target)
        var options = TrainingOptions(steps: runSpec.steps, batchSize: runSpec.batch)
        options.evaluateEvery = runSpec.evalEvery
        options.logEvery = runSpec.logEvery
        options.checkpointEvery = runSpec.checkpointEvery
        options.clipNorm = optimizerSpec.clipNorm
        options.clipValue = optimizerSpec.clipValue
        options.target = runSpec.target
        do {
            options.schedule = try LearningRateSchedule(parsing: optimizerSpec.schedule, totalSteps: runSpec.steps)
            try options.validate()
        } catch {
            throw ValidationError("\(error)")
        }
        let spec = TrainSpec(task: taskSpec, optimizer: optimizerSpec, run: runSpec)
        // Refuse what would not fit in memory, before the model and its buffers exist.
        try MemoryEstimate.training(configuration, task: task, options: options, optimizer: optimizer).checkForCommandLine { kind in
            Self.memoryAdvice(kind, task: taskSpec)
        }

        // 3. Where results go (created only now that every input has been read).
        let checkpoint: URL
        if let r = resume, checkpointDir == nil, name == nil {
            checkpoint = URL(fileURLWithPath: r)
        } else {
            let directory = URL(fileURLWithPath: checkpointDir ?? "checkpoints")
            do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
                throw CLIError("\(directory.path): cannot create the checkpoint directory (\(error.localizedDescription))",
                               fix: "pass a writable --checkpoint-dir")
            }
            let cellName = modelOptions.cell?.rawValue ?? configuration.presetName
            checkpoint = directory.appendingPathComponent((name ?? "\(task.name)-\(cellName)") + ".safetensors")
        }
        for removed in TrainingCheckpoint.removeLeftoverTemporaries(of: checkpoint) {
            Terminal.err("note: removed \(removed.path), a temporary file of a save cut short")
        }
        if let path = log, let step = resumeStep {
            try TrainingCheckpoint.discardLogRecords(after: step, in: URL(fileURLWithPath: path))   // steps logged after the last save
        }
        let metricsLog = try log.map { try MetricsLog(path: $0, append: resume != nil) }
        var metadata = [TrainSpec.metadataKey: spec.json]
        if let v = built.vocabulary { metadata[TrainSpec.vocabularyKey] = String(String.UnicodeScalarView(v.scalars)) }

        // 4. Train.
        let progress = TrainingProgress(mode: json ? .silent : Terminal.isTTY ? .live : .lines, totalSteps: runSpec.steps,
                                        batchSize: runSpec.batch, metricName: task.metricName, logEvery: runSpec.logEvery, log: metricsLog)
        var rng = SeededGenerator(seed: runSpec.seed)
        let model = try AnyRecurrentModel(configuration, using: &rng)
        let job = TrainingJob(
            task: task, optimizer: optimizer, options: options, configuration: configuration, seed: rng.next(),
            initFrom: initFile, resume: resume.map { URL(fileURLWithPath: $0) }, checkpoint: checkpoint, metadata: metadata,
            observer: progress.handle, spectralRadii: tensorboard != nil,
            ready: { step in
                progress.startStep = step
                if let dir = tensorboard {
                    let run = URL(fileURLWithPath: dir).appendingPathComponent(checkpoint.deletingPathExtension().lastPathComponent)
                    progress.tensorboard = try TensorBoardTrainingLog(directory: run, metricName: task.metricName,
                                                                      batchSize: runSpec.batch, startStep: step)
                }
                guard !json else { return }
                Terminal.out("\(step > 0 ? "resuming at step \(step): " : "training ")\(configuration.summary) on \(Self.describe(taskSpec))")
                Terminal.out("  \(runSpec.steps) steps of \(runSpec.batch), \(Self.describe(optimizerSpec, rate: optimizer.learningRate)), seed \(runSpec.seed); checkpoint \(checkpoint.path)")
                if let tb = progress.tensorboard, let dir = tensorboard {
                    Terminal.out("  tensorboard: \(tb.writer.url.path) (view: tensorboard --logdir \(dir))")
                }
            })
        let summary: TrainingSummary
        do {
            summary = try model.visit(job)
        } catch let divergence as TrainingDivergence {
            progress.closeLine()
            Terminal.err("error: \(divergence)")
            Terminal.err("to continue from step \(divergence.keptStep) with other settings: recurrent train --resume \(checkpoint.path) --lr LOWER (options you pass override the checkpoint's)")
            if json {
                Terminal.out(JSONValue.object([("checkpoint", .string(checkpoint.path)), ("steps", .integer(divergence.keptStep)),
                                               ("reason", .string("diverged")), ("error", .string(divergence.description))]).text)
            }
            throw ExitCode(3)
        }
        progress.closeLine()
        report(summary, task: task, checkpoint: checkpoint)
        if summary.reason == "interrupted" {
            Terminal.err("interrupted at step \(summary.steps) of \(runSpec.steps) by \(Interrupt.signalName ?? "a signal"); checkpoint saved. Continue with: recurrent train --resume \(checkpoint.path)")
            throw ExitCode(Interrupt.exitStatus)
        }
    }

    func report(_ s: TrainingSummary, task: any TrainingTask, checkpoint: URL) {
        let baseline = task.baseline
        if json {
            Terminal.out(JSONValue.object([
                ("checkpoint", .string(checkpoint.path)), ("steps", .integer(s.steps)), ("seconds", .number(s.seconds)),
                ("reason", .string(s.reason)), ("task", .string(task.name)), ("metric", .string(task.metricName)),
                ("train", s.train?.json(metricName: task.metricName) ?? .null),
                ("val", s.validation?.json ?? .null), ("test", s.test?.json ?? .null),
                ("baseline", baseline.map { .object([("value", .number($0.value)), ("description", .string($0.description))]) } ?? .null),
                ("target_reached_step", s.targetReachedStep.map { .integer($0) } ?? .null),
            ]).text)
            return
        }
        Terminal.out("\(s.reason): \(s.steps) steps in \(duration(s.seconds))")
        if let r = s.train { Terminal.out("  train (last batch)  loss \(number(r.loss))  \(task.metricName) \(number(r.metric))") }
        let last = s.test ?? s.validation
        for r in [s.validation, s.test].compactMap({ $0 }) {
            let beside = r.split == last?.split ? baseline.map { "   baseline \(number($0.value)): \($0.description)" } ?? "" : ""
            Terminal.out("  \(r.split == .validation ? "val " : "test")  loss \(number(r.loss))  \(r.metricName) \(number(r.metric))\(beside)")
        }
        Terminal.out("checkpoint: \(checkpoint.path)")
    }

    /// Which options shrink a part of the memory estimate of `train` on task `t`.
    static func memoryAdvice(_ kind: MemoryEstimate.Kind, task t: TaskSpec) -> String {
        let length = ["adding": "--length", "copy": "--length", "charlm": "--bptt"][t.name]
        switch kind {
        case .weights, .analysis: return "lower --hidden or --layers"
        case .trace: return length.map { "lower --batch, --hidden or \($0)" } ?? "lower --batch or --hidden"
        case .batches, .outputs: return "lower --batch" + (length.map { " or \($0)" } ?? "")
        case .evaluation:
            return t.name == "adding" || t.name == "copy" ? "lower --limit (the test set's size)" : "lower --limit or --hidden"
        }
    }

    static func describe(_ t: TaskSpec) -> String {
        var parts = [t.name]
        if let l = t.length { parts.append("T=\(l)") }
        if let d = t.data { parts.append(d) }
        if let b = t.bptt { parts.append("bptt \(b)") }
        if let f = t.validationFraction, f > 0 { parts.append("val \(f)") }
        if let n = t.limit { parts.append("limit \(n)") }
        return parts.joined(separator: ", ")
    }

    static func describe(_ o: OptimizerSpec, rate: Double) -> String {
        var s = o.optimizer.rawValue + " lr \(rate)"
        if let m = o.momentum { s += " momentum \(m)" }
        if let c = o.clipNorm { s += ", clip-norm \(c)" }
        if let c = o.clipValue { s += ", clip-value \(c)" }
        if o.schedule != "constant" { s += ", schedule \(o.schedule)" }
        return s
    }
}
