import Foundation

/// Settings of a comparison: one task, several models, several seeds each. Every run is
/// a `TrainSpec` (`spec(for:seed:)`): the comparison's task, optimizer and run settings,
/// with the model's own overrides, trained by `TrainingSession` like `train`'s runs. The
/// defaults are the one table's (`TrainingDefaults`), except that a comparison evaluates
/// every `TrainingDefaults.comparisonEvalEvery` steps (its report is the curves).
public struct ComparisonSettings: Sendable, Codable, Equatable {
    public var task: TaskSpec
    public var models: [ModelSpec]
    public var seeds: Int
    /// Every run's optimizer, before a model's `optimizer=`, `lr=`, `momentum=`, `clip-norm=`.
    public var optimizer = OptimizerSpec()
    /// Every run's length, batch and cadences. `run.seed` is the first seed: runs use seeds
    /// `run.seed ..< run.seed + seeds`. `run.target` is unused: see `target` and `stopAtTarget`.
    public var run = RunSpec(evalEvery: TrainingDefaults.comparisonEvalEvery)
    /// H and L of every model unless its `hidden=` / `layers=` says otherwise.
    public var hidden = TrainingDefaults.hidden
    public var layers = TrainingDefaults.layers
    /// The threshold "solved" is measured against (nil: the task's, `TaskKind.solvedThreshold`).
    public var target: Double?
    /// Stop a run once it reaches the target (saves time; the curve ends there).
    public var stopAtTarget: Bool = false

    public init(task: TaskSpec, models: [ModelSpec], steps: Int = TrainingDefaults.steps, seeds: Int = 1) {
        self.task = task
        self.models = models
        self.seeds = seeds
        self.run.steps = steps
    }

    /// "Solved": MSE < 0.01 for adding, 99% accuracy for copy; none for other tasks
    /// unless `target` is given.
    public var effectiveTarget: Double? { target ?? task.name.solvedThreshold }

    /// The spec of one run: the task, the optimizer with the model's overrides, the run
    /// settings with `seed`, and the target when runs stop at it.
    public func spec(for model: ModelSpec, seed: UInt64) throws(ConfigurationError) -> TrainSpec {
        let optimizer: OptimizerSpec
        do { optimizer = try model.optimizerSpec(over: self.optimizer) } catch {
            throw ConfigurationError("model '\(model)': \(error.message)", remedies: error.remedies)
        }
        var run = self.run
        run.seed = seed
        run.target = stopAtTarget ? effectiveTarget : nil
        return TrainSpec(task: task, optimizer: optimizer, run: run)
    }

    // MARK: - The run settings by their former names

    public var steps: Int {
        get { run.steps }
        set { run.steps = newValue }
    }
    public var batchSize: Int {
        get { run.batch }
        set { run.batch = newValue }
    }
    public var evaluateEvery: Int {
        get { run.evalEvery }
        set { run.evalEvery = newValue }
    }
    /// Save each run's checkpoint every this many steps (0: only at its end and when
    /// stopped), so that a killed comparison loses at most this many steps of one run.
    public var checkpointEvery: Int {
        get { run.checkpointEvery }
        set { run.checkpointEvery = newValue }
    }
    /// The first seed.
    public var firstSeed: UInt64 {
        get { run.seed }
        set { run.seed = newValue }
    }
    /// nil: the optimizer's default (Adam 1e-3, RMSProp 1e-2); SGD needs one.
    public var learningRate: Double? {
        get { optimizer.learningRate }
        set { optimizer.learningRate = newValue }
    }
    public var clipNorm: Double? {
        get { optimizer.clipNorm }
        set { optimizer.clipNorm = newValue }
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
    public var metricName: TaskMetric
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
    /// The best evaluation of the deciding split, when the run tracked it (`--patience`,
    /// `--keep-best`, a plateau schedule); absent otherwise.
    public var best: CurvePoint?
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
    /// `shouldStop` is polled before each run and after each step.
    public func run(observer: (Event) -> Void = { _ in }, shouldStop: () -> Bool = { false }) throws -> [RunResult] {
        let task = try settings.task.makeTask()
        try settings.check(task: task)
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
                let result = try runOne(spec, seed: seed, task: task, directory: dir, observer: observer, shouldStop: shouldStop)
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

    /// One run, started or resumed by `TrainingSession` in its folder; nil when interrupted
    /// (its checkpoint lets the next call resume it).
    func runOne(_ spec: ModelSpec, seed: UInt64, task: any TrainingTask, directory dir: URL, observer: (Event) -> Void,
                shouldStop: () -> Bool) throws -> RunResult? {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let request = TrainingRequest(spec: try settings.spec(for: spec, seed: seed), model: spec, hidden: settings.hidden, layers: settings.layers)
        var (session, configuration) = try request.session(task: task)
        session.start = .resumeIfPresent
        session.reportsSpectralRadii = reportsSpectralRadii
        session.measuresSpectra = true
        let files = RunFiles(folder: dir)
        let start = Date()
        let outcome = try session.run(configuration, files: files, started: { start in
            for note in start.notes { observer(.runRecovered(model: spec.description, seed: seed, note: note)) }
            observer(.runStarted(model: spec.description, seed: seed, resumedAt: start.resumed ? start.step : nil))
        }, observer: { event in
            observer(.training(model: spec.description, seed: seed, event))
        }, shouldStop: shouldStop)
        if outcome.summary.reason == .interrupted { return nil }
        let seconds = outcome.previousSeconds + Date().timeIntervalSince(start)
        let evaluations = MetricsLog.evaluations(in: files.log!).filter { $0.split == (task.evaluationSplits.last ?? .test) }
        let curve = evaluations.map { CurvePoint(step: $0.step, seconds: $0.seconds, metric: $0.metric, loss: $0.loss) }
        var targetStep: Int?, targetSeconds: Double?
        if let target = settings.effectiveTarget, let hit = evaluations.first(where: { task.reaches($0.metric, target: target) }) {
            targetStep = hit.step
            targetSeconds = hit.seconds
        }
        let steps = outcome.summary.steps
        let final = outcome.divergence == nil ? evaluations.last : nil
        return RunResult(model: spec.description, seed: seed, parameters: outcome.parameterCount, steps: steps,
                         seconds: seconds, secondsPerStep: steps > 0 ? seconds / Double(steps) : 0,
                         finalMetric: final?.metric, finalLoss: final?.loss, metricName: task.metricName,
                         diverged: outcome.divergence != nil, divergence: outcome.divergence?.description,
                         targetStep: targetStep, targetSeconds: targetSeconds, curve: curve,
                         initialSpectralRadius: outcome.initialSpectrum?.spectralRadius,
                         finalSpectralRadius: outcome.finalSpectrum?.spectralRadius,
                         initialEigenvalues: outcome.initialSpectrum?.eigenvalues, finalEigenvalues: outcome.finalSpectrum?.eigenvalues,
                         best: outcome.summary.best.map { CurvePoint(step: $0.step, seconds: $0.seconds, metric: $0.metric, loss: $0.loss) })
    }
}
