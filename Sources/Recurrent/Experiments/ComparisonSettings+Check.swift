// MARK: - A comparison's settings, checked before the first run

extension ComparisonSettings {
    /// The optimizer and training options of one model: its overrides (`lr=`, `momentum=`,
    /// `optimizer=`, `clip-norm=`) over the comparison's settings.
    public func training(_ spec: ModelSpec) throws(ConfigurationError) -> (OptimizerChoice<Float>, TrainingOptions) {
        let optimizer: OptimizerChoice<Float>
        do { optimizer = try spec.optimizer(defaultName: self.optimizer, defaultRate: learningRate) } catch {
            throw ConfigurationError("model '\(spec)': \(error.message)")
        }
        var options = TrainingOptions(steps: steps, batchSize: batchSize)
        options.clipNorm = try spec.clipNorm(default: clipNorm)
        options.evaluateEvery = evaluateEvery
        options.logEvery = Swift.max(1, evaluateEvery)
        options.checkpointEvery = checkpointEvery
        options.target = stopAtTarget ? effectiveTarget : nil
        try options.validate()
        return (optimizer, options)
    }

    /// Throws before anything trains when a model's configuration or optimizer is
    /// impossible for the task, or its run would not fit in memory (`MemoryError` naming
    /// the model). Loads the task's data once to learn its sizes.
    public func check() throws {
        if let t = target { try ParameterValue.finite(t, "the target") }
        if let r = learningRate { try ParameterValue.finite(r, "the learning rate") }
        let task = try self.task.makeTask()
        for spec in models {
            let configuration = try spec.configuration(for: task, hidden: hidden)
            let (optimizer, options) = try training(spec)
            try MemoryEstimate.training(configuration, task: task, options: options, optimizer: optimizer)
                .check(subject: "model '\(spec)'")
        }
    }
}
