import Recurrent

// The records in the objects `--json` prints (the library's `JSONValue`).

extension EvaluationRecord {
    /// {"loss": ..., "<mse|accuracy|bpc>": ..., "step": ...}
    var json: JSONValue { .object([("loss", .number(loss)), (metricName.rawValue, .number(metric)), ("step", .int(step))]) }
}

extension StepRecord {
    /// The last training batch: {"loss", "<metric>", "grad_norm", "lr", "step"}.
    func json(metricName: TaskMetric) -> JSONValue {
        .object([("loss", .number(loss)), (metricName.rawValue, .number(metric)), ("grad_norm", .number(gradientNorm)),
                 ("lr", .number(learningRate)), ("step", .int(step))])
    }
}

extension TrainingTask {
    /// {"value", "description"} of the task's baseline, or null.
    var baselineJSON: JSONValue {
        baseline.map { .object([("value", .number($0.value)), ("description", .string($0.description))]) } ?? .null
    }
}

extension TrainingWarning {
    /// The warning with its remedies in flags: "...; consider --recurrent-init identity (or --cell irnn)".
    var worded: String { remedies.isEmpty ? message : message + "; consider " + Remedy.joined(remedies.map(\.flags)) }
}
