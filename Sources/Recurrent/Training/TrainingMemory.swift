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
        let kept = trainingKeepingEvaluationSets(configuration, task: task, options: options, optimizer: optimizer)
        guard kept.bytes > MemoryLimit.current else { return kept }
        var e = model(configuration, steps: task.sequenceLength, batch: options.batchSize, training: true,
                      optimizerBuffers: optimizer.buffersPerParameter)
        e.parts += evaluationParts(configuration, task: task, batchSize: options.evaluationBatchSize)
        return e
    }

    /// True when `Trainer.run` keeps every evaluation split laid out as its passes for the
    /// whole run (`Trainer.keepEvaluationSets`) instead of building a split at every
    /// evaluation: when the run fits in `MemoryLimit.current` with them. A run that would not
    /// fit with them builds each split as before (and its estimate counts that instead).
    public static func keepsEvaluationSets(_ configuration: ModelConfiguration, task: any TrainingTask, options: TrainingOptions,
                                           optimizer: OptimizerChoice<Float>) -> Bool {
        task.evaluationSequences > 0
            && trainingKeepingEvaluationSets(configuration, task: task, options: options, optimizer: optimizer).bytes <= MemoryLimit.current
    }

    /// `training`'s parts with the evaluation sets kept for the run: every split's inputs
    /// time-major (`EvaluationPasses`), on top of the split built at once.
    static func trainingKeepingEvaluationSets(_ c: ModelConfiguration, task: any TrainingTask, options: TrainingOptions,
                                              optimizer: OptimizerChoice<Float>) -> MemoryEstimate {
        var e = model(c, steps: task.sequenceLength, batch: options.batchSize, training: true, optimizerBuffers: optimizer.buffersPerParameter)
        e.parts += evaluationParts(c, task: task, batchSize: options.evaluationBatchSize)
        let sequences = task.allEvaluationSequences, t = task.sequenceLength
        if task.evaluationSequences > 0 {
            e.add(.evaluation, elements: Double(sequences) * Double(t) * Double(c.inputSize + (c.readout == .everyStep ? 1 : 0)),
                  "the evaluation sets kept for the run (\(sequences) sequences x \(t) steps x \(c.inputSize) inputs)")
        }
        return e
    }

    /// The memory evaluating `configuration` on every split of `task` needs, in batches of
    /// `batchSize` sequences (`recurrent eval`).
    public static func evaluation(_ configuration: ModelConfiguration, task: any TrainingTask, batchSize: Int) -> MemoryEstimate {
        MemoryEstimate(parts: weightParts(configuration, training: false) + evaluationParts(configuration, task: task, batchSize: batchSize))
    }

    /// The fixed evaluation split (inputs built at once) and one forward-only pass over a batch of it.
    static func evaluationParts(_ c: ModelConfiguration, task: any TrainingTask, batchSize: Int) -> [Part] {
        let sequences = task.evaluationSequences
        guard sequences > 0 else { return [] }
        let t = task.sequenceLength
        let set = Part(kind: .evaluation, bytes: 4 * Double(sequences) * Double(t) * Double(c.inputSize + (c.readout == .everyStep ? 1 : 0)),
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
