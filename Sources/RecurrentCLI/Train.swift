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
    @OptionGroup(title: "Run") var runOptions: RunOptions

    @Option(help: "Stop once the evaluation metric reaches X (mse and bpc at or below, accuracy at or above).")
    var target: Double?

    @Option(name: .customLong("checkpoint-dir"), help: "Where checkpoints go. (default: checkpoints; with --resume: beside the resumed file)")
    var checkpointDir: String?

    @Option(help: "Checkpoint file name, without extension. (default: TASK-CELL, e.g. adding-irnn)")
    var name: String?

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
        if resume != nil && initFrom != nil { throw ValidationError("pass --resume (continue a run) or --init-from (new run from weights), not both") }
        if resume != nil || initFrom != nil, let option = modelOptions.recurrentInit != nil ? "--recurrent-init" : modelOptions.inputInit != nil ? "--input-init" : nil {
            throw ValidationError("\(option) sets initial weights, but \(resume != nil ? "--resume" : "--init-from") takes them from the checkpoint; drop \(option)")
        }
        if tensorboard?.isEmpty == true { throw ValidationError("--tensorboard needs a folder, e.g. --tensorboard runs") }
        if let n = name, n.isEmpty || n.contains("/") { throw ValidationError("--name must be a file name without '/', got '\(n)'") }
        if let t = target, !t.isFinite { throw ValidationError("--target must be a finite number, got \(t)") }
    }

    func run() throws {
        try Compute.$threads.withValue(runOptions.resolvedThreads) { try train() }
    }

    func train() throws {
        Interrupt.install()
        // 1. What a checkpoint we start from says (its own errors name its path). A resumed
        // checkpoint is first made whole (a kill may have cut its last save short).
        var stored: TrainSpec?
        var storedConfiguration: ModelConfiguration?
        var start = TrainingStart.fresh
        var storedLog: String?
        if let path = resume {
            let recovery = try TrainingCheckpoint.recover(URL(fileURLWithPath: path))
            for note in recovery.notes { Terminal.err("note: \(note)") }
            start = .resume
        }
        if let path = resume ?? initFrom {
            let file = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: path))
            try file.requireFinite(.loading, path: path)
            do { storedConfiguration = try Checkpoint.configuration(of: file) } catch var error as CheckpointError {
                error.path = path
                throw error
            }
            if resume != nil {
                stored = TrainSpec.stored(in: file.metadata)
                storedLog = file.metadata[Self.logKey]
            } else {
                start = .weights(file, path: path)
            }
        }

        // 2. The spec: explicit options over the checkpoint's over the defaults. The session
        // loads the data and resolves the optimizer and the options; then the model.
        var runSpec = runOptions.spec(over: stored?.run, evalEvery: TrainingDefaults.evalEvery)
        if let t = target { runSpec.target = t }
        var askedTask = try taskOptions.spec(over: stored?.task)
        if initFrom != nil, askedTask.name == .tensors, let c = storedConfiguration {
            askedTask.classes = c.outputs           // fine-tuning: the model's classes, when the labels fit in them
        }
        let spec = TrainSpec(task: askedTask, optimizer: optimizerOptions.spec(over: stored?.optimizer), run: runSpec)
        var session: TrainingSession
        do { session = try TrainingSession(spec) } catch let error as ConfigurationError {
            throw ValidationError(error.worded)
        }
        let task = session.task
        let configuration = try modelOptions.configuration(inputSize: task.inputSize, outputs: task.outputSize, readout: task.readout,
                                                           stored: storedConfiguration)
        let (taskSpec, optimizerSpec, run) = (session.spec.task, session.spec.optimizer, session.spec.run)
        // Refuse what would not fit in memory, before the model and its buffers exist.
        try session.memoryEstimate(configuration).checkForCommandLine { kind in Self.memoryAdvice(kind, task: taskSpec) }

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
        session.start = start
        session.reportsSpectralRadii = tensorboard != nil
        // A resumed run keeps writing the log it was started with unless --log names another.
        let logPath = log.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? storedLog
        if let logPath { session.metadata[Self.logKey] = logPath }
        let files = RunFiles(checkpoint: checkpoint, log: logPath.map { URL(fileURLWithPath: $0) })

        // 4. Train.
        let progress = TrainingProgress(mode: json ? .silent : Terminal.isTTY ? .live : .lines, totalSteps: run.steps,
                                        batchSize: run.batch, metricName: task.metricName, logEvery: run.logEvery)
        let outcome: TrainingOutcome
        do {
            outcome = try session.run(configuration, files: files, started: { started in
                for note in started.notes { Terminal.err("note: \(note)") }
                if let reason = started.finishedBecause { throw Self.alreadyFinished(at: started.step, because: reason, checkpoint: checkpoint, run: run) }
                progress.startStep = started.step
                if let dir = tensorboard {
                    let folder = URL(fileURLWithPath: dir).appendingPathComponent(checkpoint.deletingPathExtension().lastPathComponent)
                    progress.tensorboard = try TensorBoardTrainingLog(directory: folder, metricName: task.metricName,
                                                                      batchSize: run.batch, startStep: started.step)
                }
                guard !json else { return }
                Terminal.out("\(started.step > 0 ? "resuming at step \(started.step): " : "training ")\(configuration.summary) on \(Self.describe(taskSpec))")
                Terminal.out("  \(run.steps) steps of \(run.batch), \(Self.describe(optimizerSpec, rate: session.optimizer.learningRate)), seed \(run.seed); checkpoint \(checkpoint.path)")
                let stopping = [run.patience.map { "stops after \($0) evaluations without improvement of the \(task.evaluationSplits.contains(.validation) ? "validation" : "test") \(task.metricName)" },
                                run.keepBest == true ? "best weights in \(TrainingCheckpoint.bestURL(for: checkpoint).path)" : nil].compactMap { $0 }
                if !stopping.isEmpty { Terminal.out("  " + stopping.joined(separator: "; ")) }
                if let tb = progress.tensorboard, let dir = tensorboard {
                    Terminal.out("  tensorboard: \(tb.writer.url.path) (view: tensorboard --logdir \(dir))")
                }
            }, observer: progress.handle, shouldStop: { Interrupt.isRequested })
        } catch var error as CheckpointError where initFrom != nil && error.path == initFrom {
            error.message += " (or drop --init-from and the options that differ from it)"
            throw error
        }
        progress.closeLine()
        if let divergence = outcome.divergence {
            Terminal.err("error: \(divergence.worded)")
            Terminal.err("to continue from step \(divergence.keptStep) with other settings: recurrent train --resume \(checkpoint.path) --lr LOWER (options you pass override the checkpoint's)")
            if json {
                var summary = outcome.summary
                summary.steps = divergence.keptStep
                Terminal.out(Self.json(summary, task: task, checkpoint: checkpoint, error: divergence.worded).text)
            }
            throw ExitCode(3)
        }
        report(outcome.summary, task: task, checkpoint: checkpoint)
        if outcome.summary.reason == .interrupted {
            Terminal.err("interrupted at step \(outcome.summary.steps) of \(run.steps) by \(Interrupt.signalName ?? "a signal"); checkpoint saved. Continue with: recurrent train --resume \(checkpoint.path)")
            throw ExitCode(Interrupt.exitStatus)
        }
    }

    /// The checkpoint metadata key of the run's `--log` file (absolute), which `--resume` reuses.
    static let logKey = "recurrent.log"

    /// A resumed checkpoint that has nothing left to train: at its last step, or stopped at
    /// its target (as its log says).
    static func alreadyFinished(at step: Int, because reason: StopReason, checkpoint: URL, run: RunSpec) -> CLIError {
        if reason == .completed {
            return CLIError("\(checkpoint.path): the checkpoint is already at step \(step) of --steps \(run.steps)",
                            fix: "pass a larger total, e.g. --steps \(step + run.steps)")
        }
        if reason == .earlyStopped {
            return CLIError("\(checkpoint.path): the run stopped early at step \(step): \(run.patience ?? 0) evaluations in a row without improvement (--patience \(run.patience ?? 0))",
                            fix: "pass a larger --patience to train on")
        }
        return CLIError("\(checkpoint.path): the run stopped at step \(step) with --target \(run.target.map { "\($0)" } ?? "?") reached (its --log says so)",
                        fix: "pass a stricter --target to train on")
    }

    func report(_ s: TrainingSummary, task: any TrainingTask, checkpoint: URL) {
        let baseline = task.baseline
        if json {
            Terminal.out(Self.json(s, task: task, checkpoint: checkpoint).text)
            return
        }
        Terminal.out("\(s.reason): \(s.steps) steps in \(duration(s.seconds))")
        if let r = s.train { Terminal.out("  train (last batch)  loss \(number(r.loss))  \(task.metricName) \(number(r.metric))") }
        let last = s.test ?? s.validation
        for r in [s.validation, s.test].compactMap({ $0 }) {
            let beside = r.split == last?.split ? baseline.map { "   baseline \(number($0.value)): \($0.description)" } ?? "" : ""
            Terminal.out("  \(r.split == .validation ? "val " : "test")  loss \(number(r.loss))  \(r.metricName) \(number(r.metric))\(beside)")
        }
        if let b = s.best {
            Terminal.out("  best  step \(b.step)  \(b.split == .validation ? "val" : "test") loss \(number(b.loss))  \(b.metricName) \(number(b.metric))\(s.bestCheckpoint.map { ": \($0)" } ?? "")")
        }
        Terminal.out("checkpoint: \(checkpoint.path)")
    }

    /// The object `--json` prints, the same keys however the run ended (a diverged run adds
    /// "error"): {"checkpoint", "steps", "seconds", "reason", "task", "metric", "train", "val",
    /// "test", "baseline", "target_reached_step", "best"}.
    static func json(_ s: TrainingSummary, task: any TrainingTask, checkpoint: URL, error: String? = nil) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("checkpoint", .string(checkpoint.path)), ("steps", .int(s.steps)), ("seconds", .number(s.seconds)),
            ("reason", .string(s.reason.rawValue)), ("task", .string(task.name.rawValue)), ("metric", .string(task.metricName.rawValue)),
            ("train", s.train?.json(metricName: task.metricName) ?? .null),
            ("val", s.validation?.json ?? .null), ("test", s.test?.json ?? .null),
            ("baseline", task.baselineJSON),
            ("target_reached_step", s.targetReachedStep.map { .int($0) } ?? .null),
            ("best", s.best.map { b in
                .object([("split", .string(b.split.rawValue)), ("loss", .number(b.loss)), (b.metricName.rawValue, .number(b.metric)),
                         ("step", .int(b.step)), ("checkpoint", s.bestCheckpoint.map { .string($0) } ?? .null)])
            } ?? .null),
        ]
        if let error { fields.append(("error", .string(error))) }
        return .object(fields)
    }

    /// Which options shrink a part of the memory estimate of `train` on task `t`.
    static func memoryAdvice(_ kind: MemoryEstimate.Kind, task t: TaskSpec) -> String {
        let length = t.name.isSynthetic ? "--length" : t.name == .charlm ? "--bptt" : nil
        switch kind {
        case .weights, .analysis: return "lower --hidden or --layers"
        case .trace: return length.map { "lower --batch, --hidden or \($0)" } ?? "lower --batch or --hidden"
        case .batches, .outputs: return "lower --batch" + (length.map { " or \($0)" } ?? "")
        case .evaluation:
            return t.name.isSynthetic ? "lower --limit (the test set's size)" : "lower --limit or --hidden"
        }
    }

    static func describe(_ t: TaskSpec) -> String {
        var parts = [t.name.rawValue]
        if let l = t.length { parts.append("T=\(l)") }
        if let d = t.data { parts.append(d) }
        if let b = t.bptt { parts.append("bptt \(b)") }
        if t.standardize == true { parts.append("pixels standardized") }
        if let f = t.validationFraction, f > 0 { parts.append("val \(f)") }
        if let n = t.limit { parts.append("limit \(n)") }
        return parts.joined(separator: ", ")
    }

    static func describe(_ o: OptimizerSpec, rate: Double) -> String {
        var s = o.kind.rawValue + " lr \(rate)"
        if let m = o.momentum { s += " momentum \(m)" }
        if let c = o.clipNorm { s += ", clip-norm \(c)" }
        if let c = o.clipValue { s += ", clip-value \(c)" }
        if o.schedule != "constant" { s += ", schedule \(o.schedule)" }
        return s
    }
}
