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
    /// Early stopping: stop after this many evaluations in a row whose deciding metric
    /// (validation, else test) does not improve on the best (`EvaluationProgress`), or nil.
    public var patience: Int?
    /// Keep the weights of the best evaluation in `NAME.best.safetensors`
    /// (`TrainingCheckpoint.saveBest`).
    public var keepBest = false

    public init(steps: Int, batchSize: Int) {
        self.steps = steps
        self.batchSize = batchSize
    }

    enum CodingKeys: String, CodingKey {
        case steps, batchSize, evaluationBatchSize, evaluateEvery, logEvery, checkpointEvery, clipNorm, clipValue, target, schedule
        case patience, keepBest
    }

    // Written by hand so that training states from before `patience` and `keepBest` still
    // decode, and runs that use neither store the same JSON as before.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        steps = try c.decode(Int.self, forKey: .steps)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        evaluationBatchSize = try c.decode(Int.self, forKey: .evaluationBatchSize)
        evaluateEvery = try c.decode(Int.self, forKey: .evaluateEvery)
        logEvery = try c.decode(Int.self, forKey: .logEvery)
        checkpointEvery = try c.decode(Int.self, forKey: .checkpointEvery)
        clipNorm = try c.decodeIfPresent(Double.self, forKey: .clipNorm)
        clipValue = try c.decodeIfPresent(Double.self, forKey: .clipValue)
        target = try c.decodeIfPresent(Double.self, forKey: .target)
        schedule = try c.decode(LearningRateSchedule.self, forKey: .schedule)
        patience = try c.decodeIfPresent(Int.self, forKey: .patience)
        keepBest = try c.decodeIfPresent(Bool.self, forKey: .keepBest) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(steps, forKey: .steps)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(evaluationBatchSize, forKey: .evaluationBatchSize)
        try c.encode(evaluateEvery, forKey: .evaluateEvery)
        try c.encode(logEvery, forKey: .logEvery)
        try c.encode(checkpointEvery, forKey: .checkpointEvery)
        try c.encodeIfPresent(clipNorm, forKey: .clipNorm)
        try c.encodeIfPresent(clipValue, forKey: .clipValue)
        try c.encodeIfPresent(target, forKey: .target)
        try c.encode(schedule, forKey: .schedule)
        try c.encodeIfPresent(patience, forKey: .patience)
        if keepBest { try c.encode(keepBest, forKey: .keepBest) }
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
        if let p = patience, p < 1 { throw ConfigurationError("the patience must be at least 1 evaluation, got \(p)") }
        if (patience != nil || schedule.plateau != nil) && evaluateEvery == 0 {
            throw ConfigurationError("\(patience != nil ? "early stopping" : "the plateau schedule") counts evaluations without improvement, but this run evaluates only at the end",
                                     remedies: [.evaluatePeriodically(every: max(1, steps / 20))])
        }
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
