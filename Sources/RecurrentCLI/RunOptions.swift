import ArgumentParser
import Foundation
import Recurrent

/// The run's length, batch, seed and cadences: the same options, with the same defaults
/// (`TrainingDefaults`), for `train` and `compare`.
struct RunOptions: ParsableArguments {
    @Option(help: "Total optimizer steps; a resumed run continues to this total. (default: \(TrainingDefaults.steps), or the checkpoint's)")
    var steps: Int?

    @Option(help: "Passes over the training data instead of --steps (data set tasks).")
    var epochs: Int?

    @Option(help: "Sequences per batch (charlm: parallel streams). (default: \(TrainingDefaults.batch))")
    var batch: Int?

    @Option(help: "Seed of the initial weights and of the batch stream (compare: of the first run of each model). (default: \(TrainingDefaults.seed))")
    var seed: UInt64?

    @Option(help: "Threads: each batch is split among them for the time loop, and large products are split too; results are bit-identical for any count. --threads 1 leaves the other cores free. (default: every core, \(RunOptions.coreCount) here)")
    var threads: Int?

    /// The machine's cores (the threads a run uses unless `--threads` says otherwise).
    static var coreCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// `--threads`, or every core.
    var resolvedThreads: Int { threads ?? Self.coreCount }

    @Option(help: ArgumentHelp("Stop early after N evaluations in a row without improvement of the validation metric (the test metric for tasks without a validation split); needs --eval-every.", valueName: "n"))
    var patience: Int?

    @Flag(name: .customLong("keep-best"), help: "Also keep the weights of the best evaluation (validation metric, else test) in NAME.best.safetensors.")
    var keepBest = false

    @Flag(name: .customLong("keep-denormals"), help: "Keep denormal numbers (IEEE gradual underflow) instead of flushing them to zero, as PyTorch does by default; slower on many CPUs, and results may differ in the last bits. Pass it again with --resume.")
    var keepDenormals = false

    @Option(name: .customLong("eval-every"), help: "Evaluate every N steps; 0 = only at the end. (default: train \(TrainingDefaults.evalEvery), compare \(TrainingDefaults.comparisonEvalEvery))")
    var evalEvery: Int?

    @Option(name: .customLong("log-every"), help: "Log (and refresh the progress line) every N steps. (default: \(TrainingDefaults.logEvery))")
    var logEvery: Int?

    @Option(name: .customLong("checkpoint-every"), help: "Also save every N steps; 0 = only at the end (and when stopped). (default: \(TrainingDefaults.checkpointEvery))")
    var checkpointEvery: Int?

    func validate() throws {
        if steps != nil && epochs != nil { throw ValidationError("pass --steps or --epochs, not both") }
        for (option, value, minimum) in [("--batch", batch, 1), ("--steps", steps, 1), ("--epochs", epochs, 1), ("--eval-every", evalEvery, 0),
                                         ("--log-every", logEvery, 1), ("--checkpoint-every", checkpointEvery, 0), ("--threads", threads, 1),
                                         ("--patience", patience, 1)] {
            if let v = value, v < minimum { throw ValidationError("\(option) must be at least \(minimum), got \(v)") }
        }
    }

    /// Explicit options over `stored` (a resumed checkpoint's) over the defaults; `evalEvery`
    /// is the command's default cadence. Explicit `--steps` replaces stored epochs.
    func spec(over stored: RunSpec?, evalEvery defaultEvalEvery: Int) -> RunSpec {
        var s = stored ?? RunSpec(evalEvery: defaultEvalEvery)
        if let v = steps { s.steps = v; s.epochs = nil }
        if let v = epochs { s.epochs = v }
        if let v = batch { s.batch = v }
        if let v = seed { s.seed = v }
        if let v = evalEvery { s.evalEvery = v }
        if let v = logEvery { s.logEvery = v }
        if let v = checkpointEvery { s.checkpointEvery = v }
        if let v = patience { s.patience = v }
        if keepBest { s.keepBest = true }
        return s
    }
}
