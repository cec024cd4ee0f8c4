/// How a run trains: its length, batch, optimizer step size schedule, clipping,
/// evaluation, logging and checkpoint cadence, and when to stop early.
public struct TrainingOptions: Sendable, Codable, Equatable {
    /// Total optimizer steps (a resumed run continues to this total).
    public var steps: Int
    public var batchSize: Int
    /// Sequences per evaluation batch.
    public var evaluationBatchSize: Int = 500
    /// Evaluate every this many steps; 0 = only at the end.
    public var evaluateEvery: Int = 0
    /// Record a training line every this many steps.
    public var logEvery: Int = 100
    /// Write a checkpoint every this many steps; 0 = only at the end.
    public var checkpointEvery: Int = 0
    /// Global-norm clipping threshold (Pascanu et al. 2013), or nil.
    public var clipNorm: Double?
    /// Element-wise clipping threshold, or nil.
    public var clipValue: Double?
    /// Stop once the evaluation metric reaches this (MSE/bpc at or below, accuracy at or above).
    public var target: Double?
    /// The base learning rate's schedule over `steps`.
    public var schedule: LearningRateSchedule = .constant

    public init(steps: Int, batchSize: Int) {
        self.steps = steps
        self.batchSize = batchSize
    }

    public func validate() throws(ConfigurationError) {
        if steps < 1 { throw ConfigurationError("the total of steps must be at least 1, got \(steps)") }
        if batchSize < 1 { throw ConfigurationError("the batch size must be at least 1, got \(batchSize)") }
        if evaluationBatchSize < 1 { throw ConfigurationError("the evaluation batch must be at least 1") }
        if evaluateEvery < 0 || logEvery < 1 || checkpointEvery < 0 {
            throw ConfigurationError("the evaluation and checkpoint cadences must be >= 0 (0: only at the end) and the log cadence >= 1, got \(evaluateEvery), \(checkpointEvery) and \(logEvery)")
        }
        if let c = clipNorm, !(c > 0) || !c.isFinite { throw ConfigurationError("the clipping norm must be a finite positive number, got \(c)") }
        if let c = clipValue, !(c > 0) || !c.isFinite { throw ConfigurationError("the clipping value must be a finite positive number, got \(c)") }
        if let t = target { try ParameterValue.finite(t, "the target metric") }
    }
}

/// One logged training step (a line of the JSON Lines metrics log).
public struct StepRecord: Sendable, Codable, Equatable {
    public var step: Int
    public var loss: Double
    /// The task's metric on this batch (MSE, accuracy or bpc).
    public var metric: Double
    /// ‖g‖ before clipping.
    public var gradientNorm: Double
    public var clipped: Bool
    public var learningRate: Double
    /// max |h_t| over every layer, step and sequence of the batch.
    public var maxAbsHidden: Double
    /// Fraction of hidden units that were zero for every step and sequence of the batch.
    public var deadFraction: Double
    /// Wall-clock seconds since the run (or the resumed run) started.
    public var seconds: Double
}

/// One evaluation of the model on a fixed split.
public struct EvaluationRecord: Sendable, Codable, Equatable {
    public var step: Int
    public var split: EvaluationSplit
    public var loss: Double
    public var metric: Double
    /// What `metric` is (stored as its name: "mse", "accuracy", "bpc").
    public var metricName: TaskMetric
    public var seconds: Double
}
