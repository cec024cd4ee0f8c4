/// The adding problem as a training task (Le et al. 2015; Hochreiter & Schmidhuber
/// 1997): fresh sequences every batch from the run's generator, a fixed seeded test set
/// of 1000 sequences. Metric: test MSE; baseline 1/6 (always predicting 1).
public struct AddingTask: TrainingTask {
    public let problem: AddingProblem
    public let testSize: Int
    public var name: TaskKind { .adding }
    public var inputSize: Int { AddingProblem.features }
    public var outputSize: Int { 1 }
    public var readout: Readout { .lastStep }
    public var loss: Loss { .meanSquaredError }
    public var metricName: TaskMetric { .mse }
    public var baseline: (value: Double, description: String)? { (AddingProblem.baselineMSE, "predict 1 (MSE 1/6)") }
    public var sequenceLength: Int { problem.steps }
    public var evaluationSequences: Int { testSize }

    public init(length: Int, testSize: Int = 1000) throws {
        problem = try AddingProblem(steps: length)
        self.testSize = try checkedTestSize(testSize)
    }

    public mutating func nextTrainingBatch(size: Int, using rng: inout SeededGenerator) throws -> TaskBatch {
        let (x, y) = problem.batch(size: size, using: &rng)
        return TaskBatch(inputs: x, targets: y)
    }

    public func evaluationBatches(_ split: EvaluationSplit, batchSize: Int) throws -> [TaskBatch] {
        let (x, y) = problem.testSet(size: testSize)
        return chunked(x, y, batchSize: batchSize)
    }
}

/// The copy-memory task as a training task (Arjovsky, Shah & Bengio 2016): 10 symbols,
/// a delay of `length` blanks, then the symbols to recall. Metric: accuracy over every
/// step; baseline cross-entropy 10 ln 8 / (T + 20).
public struct CopyTask: TrainingTask {
    public let problem: CopyMemory
    public let testSize: Int
    public var name: TaskKind { .copy }
    public var inputSize: Int { CopyMemory.alphabetSize }
    public var outputSize: Int { CopyMemory.alphabetSize }
    public var readout: Readout { .everyStep }
    public var loss: Loss { .crossEntropy }
    public var metricName: TaskMetric { .accuracy }
    public var baseline: (value: Double, description: String)? {
        (problem.baselineCrossEntropy, "blanks, then a uniform guess over 8 symbols (cross-entropy 10 ln 8 / (T + 20))")
    }
    public var sequenceLength: Int { problem.steps }
    public var evaluationSequences: Int { testSize }

    public init(length: Int, testSize: Int = 1000) throws {
        problem = try CopyMemory(delay: length)
        self.testSize = try checkedTestSize(testSize)
    }

    public mutating func nextTrainingBatch(size: Int, using rng: inout SeededGenerator) throws -> TaskBatch {
        let (x, y) = problem.batch(size: size, using: &rng)
        return TaskBatch(inputs: x, targets: y)
    }

    public func evaluationBatches(_ split: EvaluationSplit, batchSize: Int) throws -> [TaskBatch] {
        let (x, y) = problem.testSet(size: testSize)
        return chunked(x, y, batchSize: batchSize)
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
