// MARK: - A comparison's settings, checked before the first run

extension ComparisonSettings {
    /// The optimizer and training options of one model's runs: its overrides (`lr=`,
    /// `momentum=`, `optimizer=`, `clip-norm=`) over the comparison's settings.
    public func training(_ spec: ModelSpec) throws(ConfigurationError) -> (OptimizerChoice<Float>, TrainingOptions) {
        let run = try self.spec(for: spec, seed: firstSeed)
        let optimizer: OptimizerChoice<Float>
        do { optimizer = try run.optimizer.choice() } catch {
            throw ConfigurationError("model '\(spec)': \(error.message)", remedies: error.remedies)
        }
        return (optimizer, try run.trainingOptions())
    }

    /// Throws before anything trains when a model's configuration or optimizer is
    /// impossible for the task, or its run would not fit in memory (`MemoryError` naming
    /// the model). Loads the task's data to learn its sizes unless `task` is given.
    public func check(task: (any TrainingTask)? = nil) throws {
        if let t = target { try ParameterValue.finite(t, "the target") }
        if let r = learningRate { try ParameterValue.finite(r, "the learning rate") }
        let task = try task ?? self.task.makeTask()
        for spec in models {
            let configuration = try spec.configuration(for: task, hidden: hidden, layers: layers)
            let session: TrainingSession
            do { session = try TrainingSession(try self.spec(for: spec, seed: firstSeed), task: task) } catch let error as ConfigurationError {
                throw ConfigurationError("model '\(spec)': \(error.message)", remedies: error.remedies)
            }
            try session.memoryEstimate(configuration).check(subject: "model '\(spec)'")
        }
    }
}
