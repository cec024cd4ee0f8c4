// MARK: - What a training or evaluation run needs, before it allocates

extension MemoryEstimate {
    /// The memory `Trainer.run` needs for `configuration` on `task` with `options` and
    /// `optimizer`: weights, gradients and optimizer state, the BPTT trace and batch of
    /// `options.batchSize` sequences of `task.sequenceLength` steps, and the evaluation (a
    /// split built at once, and one forward pass over `options.evaluationBatchSize` of it,
    /// while the training trace is still held; and every split's passes kept for the run
    /// when they fit, `keepsEvaluationSets`). Check it with `check()` before building the model.
    public static func training(_ configuration: ModelConfiguration, task: any TrainingTask, options: TrainingOptions,
                                optimizer: OptimizerChoice<Float>) -> MemoryEstimate {
        let (built, kept) = evaluationSetsIfTheyFit(configuration, task: task, options: options, optimizer: optimizer)
        return kept.map { MemoryEstimate(parts: built.parts + [$0]) } ?? built
    }

    /// True when `Trainer.run` keeps every evaluation split laid out as its passes for the
    /// whole run (`Trainer.keepEvaluationSets`) instead of building a split at every
    /// evaluation: when the run fits in `MemoryLimit.current` with them. A run that would not
    /// fit with them builds each split as before (and its estimate counts that instead).
    public static func keepsEvaluationSets(_ configuration: ModelConfiguration, task: any TrainingTask, options: TrainingOptions,
                                           optimizer: OptimizerChoice<Float>) -> Bool {
        evaluationSetsIfTheyFit(configuration, task: task, options: options, optimizer: optimizer).kept != nil
    }

    /// The run's estimate when each split is built at every evaluation, and the evaluation sets
    /// kept for the run where the task has them and the two fit in `MemoryLimit.current` together.
    static func evaluationSetsIfTheyFit(_ c: ModelConfiguration, task: any TrainingTask, options: TrainingOptions,
                                        optimizer: OptimizerChoice<Float>) -> (built: MemoryEstimate, kept: Part?) {
        let built = trainingBuildingEvaluationSets(c, task: task, options: options, optimizer: optimizer)
        guard let kept = keptEvaluationSets(c, task: task), built.bytes + kept.bytes <= MemoryLimit.current else { return (built, nil) }
        return (built, kept)
    }

    /// `training`'s parts when each split is built at every evaluation: weights, gradients,
    /// optimizer state, the BPTT trace and batch, the split built at once and one pass over it.
    static func trainingBuildingEvaluationSets(_ c: ModelConfiguration, task: any TrainingTask, options: TrainingOptions,
                                               optimizer: OptimizerChoice<Float>) -> MemoryEstimate {
        var e = model(c, steps: task.sequenceLength, batch: options.batchSize, training: true, optimizerBuffers: optimizer.buffersPerParameter)
        e.parts += evaluationParts(c, task: task, batchSize: options.evaluationBatchSize)
        return e
    }

    /// Every split's inputs kept time-major for the run (`EvaluationPasses`), on top of what
    /// `trainingBuildingEvaluationSets` counts; nil for a task without evaluation sets.
    static func keptEvaluationSets(_ c: ModelConfiguration, task: any TrainingTask) -> Part? {
        guard task.evaluationSequences > 0 else { return nil }
        let sequences = task.allEvaluationSequences, t = task.sequenceLength
        return Part(kind: .evaluation, bytes: evaluationBytes(c, sequences: sequences, steps: t),
                    what: "the evaluation sets kept for the run (\(sequences) sequences x \(t) steps x \(c.inputSize) inputs)")
    }

    /// The memory evaluating `configuration` on every split of `task` needs, in batches of
    /// `batchSize` sequences (`recurrent eval`).
    public static func evaluation(_ configuration: ModelConfiguration, task: any TrainingTask, batchSize: Int) -> MemoryEstimate {
        MemoryEstimate(parts: weightParts(configuration, training: false) + evaluationParts(configuration, task: task, batchSize: batchSize))
    }

    /// The bytes of `sequences` evaluation sequences of `steps` steps: their inputs, and a
    /// target per step when the readout is at every step (4-byte floats).
    static func evaluationBytes(_ c: ModelConfiguration, sequences: Int, steps: Int) -> Double {
        4 * Double(sequences) * Double(steps) * Double(c.inputSize + (c.readout == .everyStep ? 1 : 0))
    }

    /// The fixed evaluation split (inputs built at once) and one forward-only pass over a batch of it.
    static func evaluationParts(_ c: ModelConfiguration, task: any TrainingTask, batchSize: Int) -> [Part] {
        let sequences = task.evaluationSequences
        guard sequences > 0 else { return [] }
        let t = task.sequenceLength
        let set = Part(kind: .evaluation, bytes: evaluationBytes(c, sequences: sequences, steps: t),
                       what: "the evaluation set (\(sequences) sequences x \(t) steps x \(c.inputSize) inputs)")
        return [set] + forwardOnlyParts(c, steps: t, batch: Swift.min(batchSize, sequences), label: "evaluation ")
    }
}

extension OptimizerChoice {
    /// Buffers the optimizer keeps per parameter: Adam and AdamW 2 (exp_avg, exp_avg_sq),
    /// SGD 1 with momentum, RMSProp 1 (square_avg) + 1 with momentum + 1 when centered.
    public var buffersPerParameter: Int {
        switch self {
        case .sgd(let o): return o.momentum > 0 ? 1 : 0
        case .rmsprop(let o): return 1 + (o.momentum > 0 ? 1 : 0) + (o.centered ? 1 : 0)
        case .adam: return 2
        }
    }
}
