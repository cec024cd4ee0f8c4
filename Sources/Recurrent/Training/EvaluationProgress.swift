import Foundation

// MARK: - What the evaluations decided: early stopping, the best checkpoint, plateau

/// What a run's evaluations of the deciding split (validation, else test) have decided so far:
/// the best one (`--patience`, the best checkpoint), how many came after it without improving,
/// and the plateau schedule's state. Saved in the training state when the run uses any of
/// them, so that a resumed run continues them.
public struct EvaluationProgress: Sendable, Codable, Equatable {
    /// The best evaluation of the deciding split so far (strictly better than every earlier
    /// one: lower mse or bpc, higher accuracy; a NaN never is), or nil before the first.
    public var best: EvaluationRecord?
    /// Evaluations of the deciding split since `best` that did not improve on it.
    public var sinceBest = 0
    /// ReduceLROnPlateau's memory (`LearningRateSchedule.plateau`).
    public var plateau = PlateauState()

    public init() {}

    /// Records an evaluation of the deciding split; true when it is a new best.
    /// `plateau`: the plateau schedule's patience and factor, and the current rate, when the
    /// run has one.
    public mutating func observe(_ record: EvaluationRecord, plateau schedule: (patience: Int, factor: Double, rate: Double)?) -> Bool {
        let higher = record.metricName.higherIsBetter
        if let p = schedule { plateau.observe(record.metric, higherIsBetter: higher, patience: p.patience, factor: p.factor, rate: p.rate) }
        let improved = best.map { higher ? record.metric > $0.metric : record.metric < $0.metric } ?? !record.metric.isNaN
        if improved {
            best = record
            sinceBest = 0
        } else {
            sinceBest += 1
        }
        return improved
    }
}

extension TrainingOptions {
    /// True when the run needs `EvaluationProgress` (early stopping, the best checkpoint or a
    /// plateau schedule); only then is it saved with the training state.
    public var tracksEvaluations: Bool { patience != nil || keepBest || schedule.plateau != nil }
}

extension TrainingCheckpoint {
    /// The best checkpoint beside a model checkpoint: `NAME.best.safetensors`.
    public static func bestURL(for url: URL) -> URL {
        url.deletingPathExtension().appendingPathExtension("best.safetensors")
    }

    /// Writes the trainer's model, as it is now, to `NAME.best.safetensors` beside `url`,
    /// atomically and only when finite (as every checkpoint); its metadata is the model
    /// file's (configuration, `recurrent.train`, step, task).
    public static func saveBest<Cell>(_ trainer: Trainer<Cell>, besideCheckpoint url: URL) throws {
        let best = bestURL(for: url)
        let file = Checkpoint.stateDict(trainer.model, configuration: trainer.configuration,
                                        metadata: trainer.checkpointMetadata.merging(["step": String(trainer.step), "task": trainer.task.name.rawValue]) { $1 })
        try file.requireFinite(.saving, path: best.path)
        try file.write(to: best)
    }
}
