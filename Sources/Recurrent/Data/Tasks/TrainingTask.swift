/// One batch of a task: inputs [B, T, I] and their targets.
public struct TaskBatch: Sendable {
    public var inputs: SequenceBatch<Float>
    public var targets: Targets<Float>
    /// For truncated-BPTT tasks: start this batch from the zero state (a new epoch).
    public var resetState: Bool
    /// Truncated BPTT of a task with one target per sequence: a window before the one that
    /// holds the target. It runs forward only, carrying the state: no loss, no optimizer step.
    public var forwardOnly = false
    public init(inputs: SequenceBatch<Float>, targets: Targets<Float>, resetState: Bool = false) {
        self.inputs = inputs
        self.targets = targets
        self.resetState = resetState
    }
}

/// The evaluation split a metric is computed on.
public enum EvaluationSplit: String, Sendable, Codable, CaseIterable {
    case validation = "val"
    case test
}

/// A source of training batches and fixed evaluation sets: the adding problem, copy
/// memory, pixel MNIST, character text, a user's tensors.
///
/// Determinism: a task draws only from the generator it is handed, and what it keeps
/// between batches (an epoch's order, a position in a text) is its `position`, saved
/// with checkpoints so that a resumed run sees exactly the batches it would have seen.
public protocol TrainingTask: Sendable {
    /// Which task this is (`adding`, `copy`, `smnist`, ...).
    var name: TaskKind { get }
    var inputSize: Int { get }
    var outputSize: Int { get }
    var readout: Readout { get }
    var loss: Loss { get }
    /// What `metric` reports: mse, accuracy or bpc.
    var metricName: TaskMetric { get }
    /// The trivial baseline's metric and how it is obtained, when there is one.
    var baseline: (value: Double, description: String)? { get }
    /// True when the state is carried from one batch to the next (truncated BPTT).
    var carriesState: Bool { get }
    /// The splits this task can evaluate on.
    var evaluationSplits: [EvaluationSplit] { get }
    /// Steps T of one training or evaluation sequence (charlm: the truncated-BPTT window),
    /// for memory estimates made before anything is allocated.
    var sequenceLength: Int { get }
    /// Sequences in the largest evaluation split, which `evaluationBatches` builds all at
    /// once (charlm: the split's tokens / T); 0 when there is none. For memory estimates.
    var evaluationSequences: Int { get }
    /// Sequences in all evaluation splits together (at most `evaluationSequences` times the
    /// splits; the default): what keeping every split for a run holds. For memory estimates.
    var allEvaluationSequences: Int { get }

    /// The next training batch.
    mutating func nextTrainingBatch(size: Int, using rng: inout SeededGenerator) throws -> TaskBatch
    /// A fixed evaluation set, in batches of at most `batchSize` sequences.
    func evaluationBatches(_ split: EvaluationSplit, batchSize: Int) throws -> [TaskBatch]
    /// Optimizer steps in one pass over the training data for batches of `batchSize`
    /// (nil for tasks that draw fresh data every batch).
    func batchesPerEpoch(batchSize: Int) throws -> Int?
    /// What must be saved to resume exactly (JSON-encodable numbers).
    var position: [String: Int] { get }
    mutating func restore(position: [String: Int]) throws
}

extension TrainingTask {
    public var carriesState: Bool { false }
    public var position: [String: Int] { [:] }
    public mutating func restore(position: [String: Int]) throws {}
    public var evaluationSplits: [EvaluationSplit] { [.test] }
    public var allEvaluationSequences: Int { evaluationSequences * evaluationSplits.count }
    public func batchesPerEpoch(batchSize: Int) throws -> Int? { nil }

    /// The task's metric from a loss value and an accuracy: MSE is the loss itself,
    /// bits per character is the cross-entropy / ln 2.
    public func metric(loss value: Double, accuracy: Double?) -> Double {
        metricName.value(loss: value, accuracy: accuracy)
    }

    /// True when `metric` meets `target`: accuracy at or above, any loss at or below.
    public func reaches(_ metric: Double, target: Double) -> Bool {
        metricName.reaches(metric, target: target)
    }
}
