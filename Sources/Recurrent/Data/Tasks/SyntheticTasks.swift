// MARK: - Synthetic tasks: fresh sequences from a generator

/// A generator of synthetic sequences that ``SyntheticTask`` turns into a training task: the
/// task's name, shapes, loss, metric and trivial baseline, fresh batches from the run's
/// generator, and a fixed seeded test set.
public protocol SequenceGenerator: Sendable {
    /// The task's short name (`adding`, `copy`).
    static var taskName: TaskKind { get }
    /// The seed of the fixed test set.
    static var defaultTestSeed: UInt64 { get }
    /// The generator of sequences of `length`, the task's `--length` (adding: T; copy: the delay T).
    init(length: Int) throws
    var inputSize: Int { get }
    var outputSize: Int { get }
    var readout: Readout { get }
    var loss: Loss { get }
    /// What the task's metric reports.
    var metricName: TaskMetric { get }
    /// The trivial baseline's metric and how it is obtained.
    var baseline: (value: Double, description: String) { get }
    /// Steps of one sequence.
    var steps: Int { get }
    /// `size` fresh sequences drawn from `rng`.
    func batch(size: Int, using rng: inout some RandomNumberGenerator) -> (SequenceBatch<Float>, Targets<Float>)
    /// `size` sequences drawn from a generator seeded with `seed`.
    func testSet(size: Int, seed: UInt64) -> (SequenceBatch<Float>, Targets<Float>)
}

/// A synthetic task: fresh sequences every batch from the run's generator, and a fixed test
/// set of `testSize` sequences seeded with the generator's `defaultTestSeed`.
public struct SyntheticTask<Generator: SequenceGenerator>: TrainingTask {
    public let problem: Generator
    public let testSize: Int
    public var name: TaskKind { Generator.taskName }
    public var inputSize: Int { problem.inputSize }
    public var outputSize: Int { problem.outputSize }
    public var readout: Readout { problem.readout }
    public var loss: Loss { problem.loss }
    public var metricName: TaskMetric { problem.metricName }
    public var baseline: (value: Double, description: String)? { problem.baseline }
    public var sequenceLength: Int { problem.steps }
    public var evaluationSequences: Int { testSize }

    public init(length: Int, testSize: Int = 1000) throws {
        problem = try Generator(length: length)
        self.testSize = try checkedTestSize(testSize)
    }

    public mutating func nextTrainingBatch(size: Int, using rng: inout SeededGenerator) throws -> TaskBatch {
        let (x, y) = problem.batch(size: size, using: &rng)
        return TaskBatch(inputs: x, targets: y)
    }

    public func evaluationBatches(_ split: EvaluationSplit, batchSize: Int) throws -> [TaskBatch] {
        let (x, y) = problem.testSet(size: testSize, seed: Generator.defaultTestSeed)
        return chunked(x, y, batchSize: batchSize)
    }
}

/// The adding problem as a training task (Le et al. 2015; Hochreiter & Schmidhuber
/// 1997): fresh sequences every batch from the run's generator, a fixed seeded test set
/// of 1000 sequences. Metric: test MSE; baseline 1/6 (always predicting 1).
public typealias AddingTask = SyntheticTask<AddingProblem>

extension AddingProblem: SequenceGenerator {
    public static var taskName: TaskKind { .adding }
    public init(length: Int) throws { try self.init(steps: length) }
    public var inputSize: Int { Self.features }
    public var outputSize: Int { 1 }
    public var readout: Readout { .lastStep }
    public var loss: Loss { .meanSquaredError }
    public var metricName: TaskMetric { .mse }
    public var baseline: (value: Double, description: String) { (Self.baselineMSE, "predict 1 (MSE 1/6)") }
}

/// The copy-memory task as a training task (Arjovsky, Shah & Bengio 2016): 10 symbols,
/// a delay of `length` blanks, then the symbols to recall. Metric: accuracy over every
/// step; baseline cross-entropy 10 ln 8 / (T + 20).
public typealias CopyTask = SyntheticTask<CopyMemory>

extension CopyMemory: SequenceGenerator {
    public static var taskName: TaskKind { .copy }
    public init(length: Int) throws { try self.init(delay: length) }
    public var inputSize: Int { Self.alphabetSize }
    public var outputSize: Int { Self.alphabetSize }
    public var readout: Readout { .everyStep }
    public var loss: Loss { .crossEntropy }
    public var metricName: TaskMetric { .accuracy }
    public var baseline: (value: Double, description: String) {
        (baselineCrossEntropy, "blanks, then a uniform guess over 8 symbols (cross-entropy 10 ln 8 / (T + 20))")
    }
}

/// A generated test set must hold at least one sequence, or the run would train and then
/// have nothing to report.
func checkedTestSize(_ size: Int) throws(ConfigurationError) -> Int {
    guard size >= 1 else { throw ConfigurationError("the test split would be empty: a test set of \(size) sequences; ask for at least 1") }
    return size
}

/// A fixed set split into batches of at most `batchSize` sequences, in order.
func chunked(_ x: SequenceBatch<Float>, _ y: Targets<Float>, batchSize: Int) -> [TaskBatch] {
    stride(from: 0, to: x.batch, by: max(1, batchSize)).map { start in
        let range = start..<min(x.batch, start + max(1, batchSize))
        return TaskBatch(inputs: x.sequences(range), targets: y.sequences(range, steps: x.steps))
    }
}

extension Targets {
    /// The targets of sequences `range`.
    public func sequences(_ range: Range<Int>, steps: Int) -> Targets {
        switch self {
        case .classes(let ids): return .classes(Array(ids[range]))
        case .classesPerStep(let ids): return .classesPerStep(Array(ids[(range.lowerBound * steps)..<(range.upperBound * steps)]))
        case .values(let v, let c): return .values(Array(v[(range.lowerBound * c)..<(range.upperBound * c)]), columns: c)
        case .valuesPerStep(let v, let c):
            return .valuesPerStep(Array(v[(range.lowerBound * steps * c)..<(range.upperBound * steps * c)]), columns: c)
        }
    }
}
