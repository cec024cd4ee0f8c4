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

        Models: \(ModelConfiguration.presetNames.joined(separator: ", ")); `name:option=value` overrides a setting \
        for one model (options: \(ModelSpec.options.joined(separator: ", "))), e.g. irnn:lr=1e-4.
        """)

    @Option(help: "The task: \(TaskSpec.names.joined(separator: ", ")).") var task = "adding"
    @Option(help: "Sequence length T (adding) or delay (copy).") var length = 150
    @Option(help: "Data folder or file for MNIST, charlm and tensors tasks.") var data: String?
    @Option(help: "Comma-separated models.") var models = "irnn,lstm,rnn-tanh,rnn-relu-gaussian"
    @Option(help: "Optimizer steps per run.") var steps = 2000
    @Option(help: "Seeds per model.") var seeds = 1
    @Option(help: "The first seed.") var seed: UInt64 = 1
    @Option(help: "Where the report goes.") var report = "out/compare"
    @Option(help: "Batch size.") var batch = 50
    @Option(help: "Hidden units (a model's hidden= overrides).") var hidden = 100
    @Option(help: "sgd, rmsprop, adam or adamw.") var optimizer = "adam"
    @Option(help: "Learning rate (default: the optimizer's).") var lr: Double?
    @Option(help: "Global gradient-norm clipping; 0 turns it off.") var clipNorm: Double = 1
    @Option(help: "Evaluate every this many steps.") var evalEvery = 100
    @Option(help: "Save each run's checkpoint every this many steps; 0 = only at its end (a kill then loses the run's progress).") var checkpointEvery = 1000
    @Option(help: "The \"solved\" threshold (default: MSE 0.01 for adding, accuracy 0.99 for copy).") var target: Double?
    @Flag(help: "Stop each run once it reaches the threshold.") var stopAtTarget = false
    @Option(help: "Use only the first N examples of each data split.") var limit: Int?
    @Option(help: "Validation fraction for MNIST.") var valFraction: Double?
    @Option(help: "Truncated BPTT length for charlm.") var bptt = 100
    @Option(help: ArgumentHelp("Write TensorBoard scalars of every run to DIR/MODEL-seedK/ (a resumed run adds an event file there). View all runs overlaid with: tensorboard --logdir DIR", valueName: "dir")) var tensorboard: String?
    @Option(help: "Threads: each batch is split among them for the time loop, and large products are split too (results are bit-identical for any count).") var threads = 1

    func validate() throws {
        guard steps >= 1, seeds >= 1, batch >= 1, hidden >= 1, evalEvery >= 1, threads >= 1 else {
            throw ValidationError("--steps, --seeds, --batch, --hidden, --eval-every and --threads must be at least 1")
        }
        guard checkpointEvery >= 0 else { throw ValidationError("--checkpoint-every must be at least 0, got \(checkpointEvery)") }
        guard TaskSpec.names.contains(task) else { throw ValidationError("unknown --task '\(task)'. Accepted: \(TaskSpec.names.joined(separator: ", "))") }
        if let r = lr, !(r > 0 && r.isFinite) { throw ValidationError("--lr must be a finite positive number, got \(r)") }
        if !(clipNorm >= 0 && clipNorm.isFinite) { throw ValidationError("--clip-norm must be a finite number >= 0 (0 = off), got \(clipNorm)") }
        if let t = target, !t.isFinite { throw ValidationError("--target must be a finite number, got \(t)") }
        if let f = valFraction, !(f >= 0 && f < 1) { throw ValidationError("--val-fraction must be in [0, 1), got \(f)") }
        if let n = limit, n < 1 { throw ValidationError("--limit must be at least 1, got \(n)") }
        if length < 1 || bptt < 1 { throw ValidationError("--length and --bptt must be at least 1") }
        do { _ = try parsedModels() } catch { throw ValidationError("\(error)") }
        if tensorboard?.isEmpty == true { throw ValidationError("--tensorboard needs a folder, e.g. --tensorboard runs") }
    }

    func parsedModels() throws -> [ModelSpec] {
        try models.split(separator: ",").map { try ModelSpec(parsing: String($0).trimmingCharacters(in: .whitespaces)) }
    }

    func settings() throws -> ComparisonSettings {
        var s = ComparisonSettings(task: TaskSpec(name: task, length: length, data: data, validationFraction: valFraction, bptt: bptt, limit: limit),
                                   models: try parsedModels(), steps: steps, seeds: seeds)
        s.batchSize = batch
        s.hidden = hidden
        s.optimizer = optimizer
        s.learningRate = lr
        s.clipNorm = clipNorm > 0 ? clipNorm : nil
        s.evaluateEvery = evalEvery
        s.checkpointEvery = checkpointEvery
        s.target = target
        s.stopAtTarget = stopAtTarget
        s.firstSeed = seed
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
            throw ValidationError(error.message)
        }
        try Compute.$threads.withValue(threads) {
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
    let runs = tensorboard.map { TensorBoardRuns(root: $0, settings: settings, metricName: task.metricName) }
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
            if !quiet { printError("  \(model): warning: \(w)") }
        case .runFinished(let r):
            let outcome = r.diverged ? "diverged" : "final \(r.metricName) \(formatMetric(r.finalMetric ?? .nan))"
            printError("  done: \(outcome), \(r.targetStep.map { "solved at step \($0)" } ?? "not solved") in \(fixed(r.seconds, 1)) s")
        default:
            break
        }
    }, shouldStop: { Interrupt.isRequested })
    if Interrupt.isRequested {
        printError("interrupted by \(Interrupt.signalName ?? "a signal"): finished runs are kept and the current one is saved; run the same command again to resume the rest")
    }
    try ComparisonReport.write(results, settings: settings, baseline: baseline, to: directory, machine: machineDescription(), command: command)
    print("report: \(directory.appendingPathComponent("report.md").path) and report.html")
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

/// `compare --tensorboard DIR`: one TensorBoard run folder per model and seed,
/// `DIR/<model>-seed<k>/` (the model's folder name as in REPORT/runs/), so that
/// `tensorboard --logdir DIR` overlays every run. A run whose log cannot be written warns once
/// and trains on without it.
final class TensorBoardRuns {
    let root: URL
    let settings: ComparisonSettings
    let metricName: String
    private var current: TensorBoardTrainingLog?

    init(root: URL, settings: ComparisonSettings, metricName: String) {
        self.root = root
        self.settings = settings
        self.metricName = metricName
    }

    /// Creates DIR before any run starts, so that an unwritable folder stops the command at once.
    func createRoot() throws {
        try TensorBoardEventWriter.createFolder(root)
    }

    func record(_ event: Comparison.Event) {
        switch event {
        case .runStarted(let model, let seed, let resumedAt):
            let slug = settings.models.first { $0.description == model }?.slug ?? model
            do {
                current = try TensorBoardTrainingLog(directory: root.appendingPathComponent("\(slug)-seed\(seed)"), metricName: metricName,
                                                     batchSize: settings.batchSize, startStep: resumedAt ?? 0)
            } catch {
                printError("  \(model): warning: no TensorBoard log for this run: \(error)")
            }
        case .training(let model, _, let trainingEvent):
            guard let log = current else { return }
            do { try log.record(trainingEvent) } catch {
                printError("  \(model): warning: the TensorBoard log stopped: \(error)")
                current = nil
            }
        case .runFinished, .runSkipped:
            current = nil
        case .runRecovered:
            break
        }
    }
}
