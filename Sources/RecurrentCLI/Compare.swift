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
        for one model (options: \(ModelSpec.options.joined(separator: ", "))), e.g. irnn:lr=1e-4.

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

    func validate() throws {
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1, got \(seeds)") }
        if let t = target, !t.isFinite { throw ValidationError("--target must be a finite number, got \(t)") }
        do { _ = try parsedModels() } catch { throw ValidationError("\(error)") }
        if tensorboard?.isEmpty == true { throw ValidationError("--tensorboard needs a folder, e.g. --tensorboard runs") }
    }

    func parsedModels() throws -> [ModelSpec] {
        try models.split(separator: ",").map { try ModelSpec(parsing: String($0).trimmingCharacters(in: .whitespaces)) }
    }

    func settings() throws -> ComparisonSettings {
        var s = ComparisonSettings(task: try taskOptions.spec(over: nil), models: try parsedModels(), seeds: seeds)
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
        try Compute.$threads.withValue(runOptions.resolvedThreads) {
            _ = try runComparison(settings, directory: directory, command: CommandLine.arguments.joined(separator: " "), quiet: false,
                                  tensorboard: tensorboard.map { URL(fileURLWithPath: $0) })
        }
    }
}

/// Runs a comparison with progress lines on stderr and writes its report; shared by
/// `compare` and `demo`. Returns the results (empty when interrupted before any finished).
/// With `tensorboard`, every run also writes TensorBoard scalars to `tensorboard/<model>-seed<k>/`.
@discardableResult
func runComparison(_ settings: ComparisonSettings, directory: URL, command: String, quiet: Bool,
                   tensorboard: URL? = nil) throws -> [RunResult] {
    var comparison = try Comparison(settings: settings, directory: directory)
    comparison.reportsSpectralRadii = tensorboard != nil
    let task = try settings.task.makeTask()
    let baseline = task.baseline
    var lastLine = Date.distantPast
    let runs = tensorboard.map { ComparisonTensorBoard(root: $0, settings: settings, metricName: task.metricName, warn: printError) }
    try runs?.createRoot()
    let results = try comparison.run(observer: { event in
        runs?.record(event)
        switch event {
        case .runStarted(let model, let seed, let resumedAt):
            printError("\(model) seed \(seed): " + (resumedAt.map { "resuming at step \($0)" } ?? "training \(settings.steps) steps"))
        case .runSkipped(let model, let seed):
            printError("\(model) seed \(seed): already finished, reusing its result")
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
    try ComparisonReport.write(results, settings: settings, baseline: baseline, to: directory, machine: machineDescription(), command: command)
    Terminal.out("report: \(directory.appendingPathComponent("report.md").path) and report.html")
    if Interrupt.isRequested { throw ExitCode(Interrupt.exitStatus) }
    return results
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
