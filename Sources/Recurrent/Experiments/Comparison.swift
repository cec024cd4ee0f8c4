import Foundation

/// Settings of a comparison: one task, several models, several seeds each.
public struct ComparisonSettings: Sendable, Codable, Equatable {
    public var task: TaskSpec
    public var models: [ModelSpec]
    public var steps: Int
    public var seeds: Int
    public var batchSize: Int = 50
    public var hidden: Int = 100
    public var optimizer: String = "adam"
    /// nil: the optimizer's default (Adam 1e-3, RMSProp 1e-2); SGD needs one.
    public var learningRate: Double?
    public var clipNorm: Double? = 1
    public var evaluateEvery: Int = 100
    /// Save each run's checkpoint every this many steps (0: only at its end and when
    /// stopped), so that a killed comparison loses at most this many steps of one run.
    public var checkpointEvery: Int = 1000
    /// The threshold "solved" is measured against (nil: the task's default).
    public var target: Double?
    /// Stop a run once it reaches the target (saves time; the curve ends there).
    public var stopAtTarget: Bool = false
    /// The first seed; runs use seeds firstSeed ..< firstSeed + seeds.
    public var firstSeed: UInt64 = 1

    public init(task: TaskSpec, models: [ModelSpec], steps: Int, seeds: Int) {
        self.task = task
        self.models = models
        self.steps = steps
        self.seeds = seeds
    }

    /// "Solved": MSE < 0.01 for adding, 99% accuracy for copy; none for other tasks
    /// unless `target` is given.
    public var effectiveTarget: Double? {
        if let t = target { return t }
        switch task.name {
        case "adding": return 0.01
        case "copy": return 0.99
        default: return nil
        }
    }
}

/// One point of a learning curve.
public struct CurvePoint: Sendable, Codable, Equatable {
    public var step: Int
    public var seconds: Double
    public var metric: Double
    public var loss: Double
}

/// The outcome of one model trained with one seed.
public struct RunResult: Sendable, Codable, Equatable {
    public var model: String
    public var seed: UInt64
    public var parameters: Int
    public var steps: Int
    public var seconds: Double
    public var secondsPerStep: Double
    public var finalMetric: Double?
    public var finalLoss: Double?
    public var metricName: String
    public var diverged: Bool
    public var divergence: String?
    public var targetStep: Int?
    public var targetSeconds: Double?
    public var curve: [CurvePoint]
    /// Spectral radius of the first layer's W (or max |u| for IndRNN) before and after.
    public var initialSpectralRadius: Double?
    public var finalSpectralRadius: Double?
    /// Eigenvalues of the first layer's W before and after ([re, im]), for the report's plots.
    public var initialEigenvalues: [[Double]]?
    public var finalEigenvalues: [[Double]]?
}

/// Trains every model with every seed on one task, each run in its own folder under
/// `directory/runs/` with its log, checkpoint and result, so that an interrupted
/// comparison resumes the runs it has not finished.
public struct Comparison: Sendable {
    public var settings: ComparisonSettings
    public var directory: URL
    /// Each run sends `TrainingEvent.spectralRadii` (see `Trainer.reportsSpectralRadii`).
    public var reportsSpectralRadii = false

    public init(settings: ComparisonSettings, directory: URL) throws(ConfigurationError) {
        guard settings.steps >= 1, settings.seeds >= 1, !settings.models.isEmpty else {
            throw ConfigurationError("a comparison needs at least one model, one seed and one step")
        }
        self.settings = settings
        self.directory = directory
    }

    public func runDirectory(_ model: ModelSpec, seed: UInt64) -> URL {
        directory.appendingPathComponent("runs").appendingPathComponent("\(model.slug)-seed\(seed)")
    }

    /// What a comparison reports while it runs.
    public enum Event: Sendable {
        case runStarted(model: String, seed: UInt64, resumedAt: Int?)
        case runSkipped(model: String, seed: UInt64)
        /// A run's checkpoint was repaired before resuming (a save cut short by a kill): one line.
        case runRecovered(model: String, seed: UInt64, note: String)
        case training(model: String, seed: UInt64, TrainingEvent)
        case runFinished(RunResult)
    }

    /// Runs (or resumes) every model x seed, returning their results in order. Every model's
    /// configuration, optimizer and memory estimate are checked before the first run starts.
    public func run(observer: (Event) -> Void = { _ in }, shouldStop: () -> Bool = { false }) throws -> [RunResult] {
        try settings.check()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var results: [RunResult] = []
        for spec in settings.models {
            for offset in 0..<settings.seeds {
                if shouldStop() { return results }
                let seed = settings.firstSeed + UInt64(offset)
                let dir = runDirectory(spec, seed: seed)
                let resultURL = dir.appendingPathComponent("result.json")
                if let data = try? Data(FileIO.read(resultURL.path, limit: 1 << 30, what: "run results", fix: "")), let done = try? JSONDecoder().decode(RunResult.self, from: data) {
                    observer(.runSkipped(model: spec.description, seed: seed))
                    results.append(done)
                    continue
                }
                let result = try runOne(spec, seed: seed, directory: dir, observer: observer, shouldStop: shouldStop)
                guard let result else { return results }   // interrupted
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try FileIO.write(Array(encoder.encode(result)), to: resultURL.path)
                observer(.runFinished(result))
                results.append(result)
            }
        }
        return results
    }

    /// One run; nil when interrupted (its checkpoint lets the next call resume it).
    func runOne(_ spec: ModelSpec, seed: UInt64, directory dir: URL, observer: (Event) -> Void,
                shouldStop: () -> Bool) throws -> RunResult? {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let task = try settings.task.makeTask()
        let config = try spec.configuration(for: task, hidden: settings.hidden)
        var rng = SeededGenerator(seed: seed)
        let model = try AnyRecurrentModel(config, using: &rng)
        return try withoutActuallyEscaping(observer) { observer in
            try withoutActuallyEscaping(shouldStop) { shouldStop in
                try model.visit(Runner(settings: settings, spec: spec, seed: seed, task: task, configuration: config,
                                       directory: dir, observer: observer, shouldStop: shouldStop,
                                       reportsSpectralRadii: reportsSpectralRadii))
            }
        }
    }

    /// Trains a concrete model (reached through `AnyRecurrentModel.visit`).
    struct Runner: ModelVisitor {
        let settings: ComparisonSettings
        let spec: ModelSpec
        let seed: UInt64
        let task: any TrainingTask
        let configuration: ModelConfiguration
        let directory: URL
        let observer: (Event) -> Void
        let shouldStop: () -> Bool
        var reportsSpectralRadii = false

        func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> RunResult? where Cell.Scalar == Float {
            let (optimizer, options) = try settings.training(spec)
            var trainer = try Trainer(model: model, optimizer: optimizer, task: task, options: options,
                                      configuration: configuration, seed: seed)
            trainer.reportsSpectralRadii = reportsSpectralRadii
            let initialEigen = Self.eigenvalues(trainer)
            let initialRadius = trainer.recurrentSpectralRadius()
            let checkpoint = directory.appendingPathComponent("checkpoint.safetensors")
            let logURL = directory.appendingPathComponent("log.jsonl")
            var resumedAt: Int?
            var secondsBefore = 0.0
            if FileManager.default.fileExists(atPath: TrainingCheckpoint.sidecarURL(for: checkpoint).path) {
                for note in try TrainingCheckpoint.recover(checkpoint).notes {   // a save cut short by a kill
                    observer(.runRecovered(model: spec.description, seed: seed, note: note))
                }
                try TrainingCheckpoint.restore(&trainer, from: checkpoint)
                resumedAt = trainer.step
                try TrainingCheckpoint.discardLogRecords(after: trainer.step, in: logURL)   // steps logged after the last save
                secondsBefore = MetricsLog.evaluations(in: logURL).last?.seconds ?? 0
            } else {
                TrainingCheckpoint.removeLeftoverTemporaries(of: checkpoint)   // a first save cut short
            }
            let log = try MetricsLog(url: logURL, truncate: resumedAt == nil)
            observer(.runStarted(model: spec.description, seed: seed, resumedAt: resumedAt))
            let start = Date()
            var divergence: TrainingDivergence?
            var summary: TrainingSummary?
            // A run killed after its final save but before its result was written has nothing left to train.
            if !(resumedAt.map { finished(at: $0, log: logURL) } ?? false) {
                do {
                    summary = try trainer.run(checkpoint: checkpoint, observer: { event in
                        switch event {
                        case .step(var r): r.seconds += secondsBefore; try? log.append(r)
                        case .evaluation(var r): r.seconds += secondsBefore; try? log.append(r)
                        default: break
                        }
                        observer(.training(model: spec.description, seed: seed, event))
                    }, shouldStop: shouldStop)
                } catch let d as TrainingDivergence {
                    divergence = d
                }
            }
            if summary?.reason == "interrupted" { return nil }
            let seconds = secondsBefore + Date().timeIntervalSince(start)
            let evaluations = MetricsLog.evaluations(in: logURL).filter { $0.split == (task.evaluationSplits.last ?? .test) }
            let curve = evaluations.map { CurvePoint(step: $0.step, seconds: $0.seconds, metric: $0.metric, loss: $0.loss) }
            var targetStep: Int?, targetSeconds: Double?
            if let target = settings.effectiveTarget, let hit = evaluations.first(where: { task.reaches($0.metric, target: target) }) {
                targetStep = hit.step
                targetSeconds = hit.seconds
            }
            let final = divergence == nil ? evaluations.last : nil
            return RunResult(model: spec.description, seed: seed, parameters: trainer.model.parameterCount, steps: trainer.step,
                             seconds: seconds, secondsPerStep: trainer.step > 0 ? seconds / Double(trainer.step) : 0,
                             finalMetric: final?.metric, finalLoss: final?.loss, metricName: task.metricName,
                             diverged: divergence != nil, divergence: divergence?.description,
                             targetStep: targetStep, targetSeconds: targetSeconds, curve: curve,
                             initialSpectralRadius: initialRadius, finalSpectralRadius: trainer.recurrentSpectralRadius(),
                             initialEigenvalues: initialEigen, finalEigenvalues: Self.eigenvalues(trainer))
        }

        /// Whether a run resumed at `step` had already ended there: its last step, or (when
        /// runs stop at the target) an evaluation at `step` that reached it. Its final
        /// checkpoint is then written and only its result is missing.
        func finished(at step: Int, log: URL) -> Bool {
            if step >= settings.steps { return true }
            guard settings.stopAtTarget, let target = settings.effectiveTarget else { return false }
            let decisive: EvaluationSplit = task.evaluationSplits.contains(.validation) ? .validation : .test
            return MetricsLog.evaluations(in: log).contains { $0.step == step && $0.split == decisive && task.reaches($0.metric, target: target) }
        }

        /// The eigenvalues of the first layer's W for a full Elman recurrence (RNN); nil otherwise.
        static func eigenvalues<C>(_ trainer: Trainer<C>) -> [[Double]]? {
            guard case .elman(let e) = trainer.model.layers[0].recurrentStructure, !e.isDiagonal else { return nil }
            let w = e.recurrentWeight
            return (try? LinearAlgebra.eigenvalues(w.storage.map(Double.init), n: w.rows))?.map { [$0.re, $0.im] }
        }
    }
}
