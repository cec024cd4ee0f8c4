import ArgumentParser
import Foundation
import Recurrent

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train several models on one task and write a report (markdown, HTML, SVG curves, JSON Lines).",
        discussion: """
        Each model/seed is a separate run under REPORT/runs/ with its own log and checkpoint (saved every \
        --checkpoint-every steps). Ctrl-C, SIGTERM or SIGHUP finishes the current step, saves, writes the report of \
        the finished runs and exits with status 130 (a second signal quits at once); the same command resumes the \
        runs it has not finished, also after a kill -9.

        Models: \(ModelPreset.accepted); `name:option=value` overrides a setting \
        for one model (options: \(ModelSpec.options.joined(separator: ", "))), e.g. irnn:lr=1e-4; \
        `irnn:lr=1e-3|3e-4|1e-4` is three models (a grid), as --length 50,100 is two lengths.

        Sweeps: --plan writes the grid (one run per line: model, seed, every option that changes its result, \
        folder) to REPORT/manifest.jsonl without training; --shard i/n (or a Slurm array task, or a Kubernetes \
        Indexed Job with --shard-count) trains only its share, each run under a lock file; --merge writes the \
        report of what has finished; --slurm and --kubernetes write the job files (--submit also submits to \
        Slurm). A run folder of other options is never reused: the command says what differs.

        Task, optimizer and run options are train's, with the same defaults, except that a \
        comparison evaluates every \(TrainingDefaults.comparisonEvalEvery) steps (its report is the curves). \
        Each run is trained as `recurrent train` trains: its checkpoint holds the same \
        metadata, so `recurrent eval` and `recurrent train --resume` take it.
        """)

    @OptionGroup(title: "Task") var taskOptions: TaskOptions
    @Option(help: "Comma-separated models.") var models = TrainingDefaults.comparisonModels.joined(separator: ",")
    @OptionGroup(title: "Models (a model's hidden= and layers= override)") var size: ModelSizeOptions
    @OptionGroup(title: "Optimizer (a model's optimizer=, lr=, momentum= and clip-norm= override)") var optimizerOptions: OptimizerOptions
    @OptionGroup(title: "Run") var runOptions: RunOptions
    @Option(help: "Seeds per model.") var seeds = 1
    @Option(help: "Where the report goes.") var report = "out/compare"
    @Option(help: "The \"solved\" threshold (default: MSE \(Remedy.number(TaskKind.adding.solvedThreshold!)) for adding, accuracy \(Remedy.number(TaskKind.copy.solvedThreshold!)) for copy).") var target: Double?
    @Flag(help: "Stop each run once it reaches the threshold.") var stopAtTarget = false
    @Option(help: ArgumentHelp("Write TensorBoard scalars of every run to DIR/MODEL-seedK/ (a resumed run adds an event file there). View all runs overlaid with: tensorboard --logdir DIR", valueName: "dir")) var tensorboard: String?
    @OptionGroup(title: "Sweeps (a grid split over a cluster)") var sweep: SweepOptions

    func validate() throws {
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1, got \(seeds)") }
        if let t = target, !t.isFinite { throw ValidationError("--target must be a finite number, got \(t)") }
        do { _ = try parsedModels() } catch { throw ValidationError("\(error)") }
        if tensorboard?.isEmpty == true { throw ValidationError("--tensorboard needs a folder, e.g. --tensorboard runs") }
    }

    func parsedModels() throws -> [ModelSpec] {
        try models.split(separator: ",").flatMap { try ModelSpec.alternatives(parsing: String($0).trimmingCharacters(in: .whitespaces)) }
    }

    func settings() throws -> ComparisonSettings {
        var s = ComparisonSettings(task: try taskOptions.spec(over: nil, severalLengths: true), models: try parsedModels(), seeds: seeds)
        if let lengths = taskOptions.length?.values, lengths.count > 1 { s.lengths = lengths }
        s.optimizer = optimizerOptions.spec(over: nil)
        s.run = runOptions.spec(over: nil, evalEvery: TrainingDefaults.comparisonEvalEvery)
        s.hidden = size.hidden ?? TrainingDefaults.hidden
        s.layers = size.layers ?? TrainingDefaults.layers
        s.target = target
        s.stopAtTarget = stopAtTarget
        return s
    }

    func run() throws {
        Interrupt.install()
        let settings = try settings()
        let directory = URL(fileURLWithPath: report)
        do {
            try settings.check()
        } catch let error as MemoryError {
            throw error.refusal { $0 == .weights ? "lower --hidden (or the model's hidden=, layers=)" : "lower --batch or --hidden (or the model's hidden=)" }
        } catch let error as ConfigurationError {
            throw ValidationError(error.worded)
        }
        let comparison = try Comparison(settings: settings, directory: directory)
        let plan: [PlannedRun]
        do { plan = try settings.plan() } catch { throw ValidationError(error.worded) }
        if sweep.plansOnly {
            try sweep.writePlan(comparison, plan: plan, settings: settings)
            return
        }
        if sweep.merge {
            try writeReport(comparison, command: CommandLine.arguments.joined(separator: " "))
            return
        }
        let shard = try sweep.shard(environment: ProcessInfo.processInfo.environment)
        try Compute.$threads.withValue(runOptions.resolvedThreads) {
            _ = try runComparison(settings, directory: directory, command: CommandLine.arguments.joined(separator: " "), quiet: false,
                                  tensorboard: tensorboard.map { URL(fileURLWithPath: $0) }, shard: shard)
        }
    }
}

/// Runs a comparison with progress lines on stderr and writes its report; shared by
/// `compare` and `demo`. Returns the results (empty when interrupted before any finished).
/// With `tensorboard`, every run also writes TensorBoard scalars to `tensorboard/<model>-seed<k>/`.
@discardableResult
func runComparison(_ settings: ComparisonSettings, directory: URL, command: String, quiet: Bool,
                   tensorboard: URL? = nil, shard: Shard? = nil) throws -> [RunResult] {
    var comparison = try Comparison(settings: settings, directory: directory)
    comparison.reportsSpectralRadii = tensorboard != nil
    let task = try settings.task.makeTask()
    var lastLine = Date.distantPast
    let runs = tensorboard.map { ComparisonTensorBoard(root: $0, settings: settings, metricName: task.metricName, warn: printError) }
    try runs?.createRoot()
    let plan = try settings.plan()
    if let shard { printError("shard \(shard): \(plan.filter { shard.contains($0.index) }.count) of the grid's runs") }
    var lockedElsewhere: [String] = []
    let results = try comparison.run(shard: shard, observer: { event in
        runs?.record(event)
        switch event {
        case .runStarted(let model, let seed, let resumedAt):
            printError("\(model) seed \(seed): " + (resumedAt.map { "resuming at step \($0)" } ?? "training \(settings.steps) steps"))
        case .runSkipped(let model, let seed):
            printError("\(model) seed \(seed): already finished, reusing its result")
        case .runLocked(let model, let seed, let owner):
            printError("\(model) seed \(seed): trained by another process (\(owner)), left to it")
            let folder = plan.first { $0.label == model && $0.seed == seed }.map { directory.appendingPathComponent($0.folder).path } ?? model
            lockedElsewhere.append("\(folder)/\(RunLock.fileName) (\(owner))")
        case .staleLockReplaced(let model, let seed, let owner):
            printError("\(model) seed \(seed): its lock was left by a process that is gone (\(owner)); taking it over")
        case .runRecovered(let model, let seed, let note):
            printError("\(model) seed \(seed): note: \(note)")
        case .training(let model, _, .evaluation(let r)):
            if !quiet && Date().timeIntervalSince(lastLine) > 2 {
                printError("  \(model) step \(r.step): \(r.split.rawValue) \(r.metricName) \(formatMetric(r.metric)) (\(fixed(r.seconds, 1)) s)")
                lastLine = Date()
            }
        case .training(let model, _, .warning(let w)):
            if !quiet { printError("  \(model): warning: \(w.worded)") }
        case .runFinished(let r):
            let outcome = r.diverged ? "diverged" : "final \(r.metricName) \(formatMetric(r.finalMetric ?? .nan))"
                + (r.best.map { " (best \(formatMetric($0.metric)) at step \($0.step))" } ?? "")
            printError("  done: \(outcome), \(r.targetStep.map { "solved at step \($0)" } ?? "not solved") in \(fixed(r.seconds, 1)) s")
        default:
            break
        }
    }, shouldStop: { Interrupt.isRequested })
    if Interrupt.isRequested {
        printError("interrupted by \(Interrupt.signalName ?? "a signal"): finished runs are kept and the current one is saved; run the same command again to resume the rest")
    }
    if let shard {
        // Shards leave the report to --merge (several writing it at once would each miss the others' runs).
        if Interrupt.isRequested { throw ExitCode(Interrupt.exitStatus) }
        Terminal.out("shard \(shard): \(results.count) run(s) finished. Report of the whole grid: the same command with --merge instead of --shard")
        if !lockedElsewhere.isEmpty {
            throw CLIError("shard \(shard) left \(lockedElsewhere.count) run(s) to other processes that hold their locks: \(lockedElsewhere.joined(separator: ", "))",
                           fix: "if those processes are gone (another host's lock cannot be checked from here), remove those lock files and run this shard again")
        }
        return results
    }
    try writeReport(comparison, command: command)
    if Interrupt.isRequested { throw ExitCode(Interrupt.exitStatus) }
    return results
}

/// Writes the report of every finished run of the grid, listing the unfinished ones with
/// their state (running where, stopped at which step, not started).
func writeReport(_ comparison: Comparison, command: String) throws {
    let states = try comparison.states()
    let results = states.compactMap { if case .finished(let r) = $0.state { r } else { nil } }
    let unfinished = states.compactMap { s -> UnfinishedRun? in
        if case .finished = s.state { return nil }
        return UnfinishedRun(key: s.run.key, label: s.run.label, seed: s.run.seed, state: s.state)
    }
    let baseline = try comparison.baseline()
    try ComparisonReport.write(results, settings: comparison.settings, baseline: baseline, to: comparison.directory, machine: machineDescription(),
                               command: command, unfinished: unfinished)
    Terminal.out("report: \(comparison.directory.appendingPathComponent("report.md").path) and report.html"
          + (unfinished.isEmpty ? "" : " (\(results.count) of \(states.count) runs finished; the others are listed there)"))
}

func formatMetric(_ x: Double) -> String { abs(x) < 1e-3 && x != 0 ? NumberText.scientific(x, digits: 3) : fixed(x, 4) }

/// A line on stderr; a failed write (the terminal went away: SIGHUP) is ignored, not a crash.
func printError(_ text: String) {
    try? FileHandle.standardError.write(contentsOf: Data((text + "\n").utf8))
}

/// "2 cores, <CPU model>" from /proc/cpuinfo where available.
func machineDescription() -> String {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let model = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
        .split(separator: "\n").first { $0.hasPrefix("model name") }?
        .split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }
    return "\(cores) cores" + (model.map { ", \($0)" } ?? "")
}
