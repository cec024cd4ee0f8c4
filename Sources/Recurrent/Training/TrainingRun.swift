import Foundation

/// What a run reports as it goes; the command line turns these into progress lines,
/// the JSON Lines log and warnings.
public enum TrainingEvent: Sendable {
    case step(StepRecord)
    case evaluation(EvaluationRecord)
    /// Every layer's spectral radius, at the start of a fresh run and after each evaluation;
    /// only when `Trainer.reportsSpectralRadii` is on (an eigenvalue problem per layer).
    case spectralRadii(SpectralRadiusRecord)
    case checkpoint(URL)
    case warning(TrainingWarning)
}

/// Something that predicts trouble (a spectral radius far from 1, a growing state, dead
/// units), with what to change; given once per run.
public struct TrainingWarning: Sendable, Equatable, CustomStringConvertible {
    /// What was seen, e.g. "the spectral radius of W is 1.500 > 1: ...".
    public var message: String
    /// What to change, worded by the front end (empty when there is nothing to change).
    public var remedies: [Remedy]

    public init(message: String, remedies: [Remedy] = []) {
        self.message = message
        self.remedies = remedies
    }

    /// The message and the remedies in the library's words: "...; consider a or b".
    public var description: String {
        remedies.isEmpty ? message : message + "; consider " + Remedy.list(remedies)
    }
}

/// Why a run stopped; stored by these names in `--json` output and reports.
public enum StopReason: String, NamedCase, Codable {
    /// Every step of `TrainingOptions.steps` was taken.
    case completed
    /// The evaluation metric reached `TrainingOptions.target`.
    case targetReached = "target reached"
    /// A stop request (`shouldStop`: Ctrl-C, SIGTERM) ended it after a step; a checkpoint was saved.
    case interrupted
    /// A step produced NaN or infinity (`TrainingDivergence`); the last finite state was saved.
    case diverged
    /// `TrainingOptions.patience` evaluations in a row did not improve on the best (early stopping).
    case earlyStopped = "early stopped"

    public static let noun = "stop reason"
}

/// How a run ended.
public struct TrainingSummary: Sendable, Codable {
    public var checkpoint: String?
    public var steps: Int
    public var seconds: Double
    public var train: StepRecord?
    public var validation: EvaluationRecord?
    public var test: EvaluationRecord?
    /// Why the run stopped.
    public var reason: StopReason
    /// The first step at which the evaluation metric reached the target, and its time.
    public var targetReachedStep: Int?
    public var targetReachedSeconds: Double?
    /// The best evaluation of the deciding split (validation, else test) when the run tracks
    /// it (`TrainingOptions.tracksEvaluations`), and the best checkpoint's path when one is kept.
    public var best: EvaluationRecord?
    public var bestCheckpoint: String?
}

extension Trainer {
    /// Trains until `options.steps`, the target, a stop request or divergence.
    ///
    /// - Parameters:
    ///   - checkpoint: where checkpoints go (`NAME.safetensors` + sidecar), or nil.
    ///   - shouldStop: polled after every step (Ctrl-C): the step finishes, a checkpoint
    ///     is written, and the run returns with reason `.interrupted`.
    ///   - clock: seconds since some origin (injected so tests stay deterministic).
    /// - Throws: `TrainingDivergence` after saving the last finite state (weights, optimizer
    ///   state, generator, data position: all from the step before the one that diverged)
    ///   to `checkpoint`, whose path it then names. A run never ends otherwise with a NaN
    ///   or infinity in its state: every step is checked (`trainStep`).
    public mutating func run(checkpoint: URL?, observer: (TrainingEvent) -> Void = { _ in },
                             shouldStop: () -> Bool = { false },
                             clock: () -> Double = { Date().timeIntervalSinceReferenceDate }) throws -> TrainingSummary {
        let start = clock()
        var summary = TrainingSummary(checkpoint: checkpoint?.path, steps: step, seconds: 0, reason: .completed)
        func save() throws {
            guard let url = checkpoint else { return }
            try TrainingCheckpoint.save(self, to: url)
            observer(.checkpoint(url))
        }
        if options.tracksEvaluations {
            summary.best = progress.best
            if options.keepBest, let url = checkpoint { summary.bestCheckpoint = TrainingCheckpoint.bestURL(for: url).path }
        }
        /// Evaluates every split; returns `.targetReached` or `.earlyStopped` when the run
        /// should stop here, else nil.
        func evaluateAll() throws -> StopReason? {
            var reached = false
            for split in task.evaluationSplits {
                var record = try evaluate(split)
                record.seconds = clock() - start
                observer(.evaluation(record))
                if split == .validation { summary.validation = record } else { summary.test = record }
                guard split == decidingSplit else { continue }
                if let target = options.target, task.reaches(record.metric, target: target) { reached = true }
                if observe(record) && options.tracksEvaluations {
                    summary.best = record
                    if options.keepBest, let url = checkpoint { try TrainingCheckpoint.saveBest(self, besideCheckpoint: url) }
                }
            }
            if reportsSpectralRadii { observer(.spectralRadii(SpectralRadiusRecord(step: step, layers: recurrentSpectralRadii()))) }
            if reached && summary.targetReachedStep == nil {
                summary.targetReachedStep = step
                summary.targetReachedSeconds = clock() - start
            }
            if reached { return .targetReached }
            if let p = options.patience, progress.sinceBest >= p { return .earlyStopped }
            return nil
        }
        try keepEvaluationSets()                         // for this run only
        defer { evaluationSets = [] }
        for w in warnings(after: nil) { observer(.warning(w)) }
        if reportsSpectralRadii && step == 0 { observer(.spectralRadii(SpectralRadiusRecord(step: 0, layers: recurrentSpectralRadii()))) }
        var evaluatedAtEnd = false
        while step < options.steps {
            let logNow = logsNextStep
            var record: StepRecord
            do {
                record = try trainStep(detailed: logNow)
            } catch var divergence as TrainingDivergence {
                summary.reason = .diverged
                summary.steps = step
                summary.seconds = clock() - start
                try save()
                divergence.checkpoint = checkpoint?.path
                divergence.summary = summary
                throw divergence
            }
            record.seconds = clock() - start
            summary.train = record
            if logNow {
                observer(.step(record))
                for w in warnings(after: record) { observer(.warning(w)) }
            }
            let evalNow = options.evaluateEvery > 0 && step % options.evaluateEvery == 0
            if evalNow || step == options.steps {
                evaluatedAtEnd = step == options.steps
                // A target or the patience stops a run early; at its last step it simply completed.
                if let reason = try evaluateAll(), step < options.steps {
                    summary.reason = reason
                    evaluatedAtEnd = true
                    break
                }
            }
            if options.checkpointEvery > 0 && step % options.checkpointEvery == 0 && step < options.steps { try save() }
            if shouldStop() {
                summary.reason = .interrupted
                break
            }
        }
        if !evaluatedAtEnd && summary.reason != .interrupted { _ = try evaluateAll() }
        summary.steps = step
        summary.seconds = clock() - start
        try save()
        return summary
    }
}
