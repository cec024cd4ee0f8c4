/// A task over a fixed data set of labelled sequences (pixel MNIST and its variants, a
/// user's tensors): shuffled mini-batches each epoch, evaluation on fixed splits.
///
/// The shuffle seed is drawn from the run's generator at the first batch; from then on
/// the order of every epoch follows from it (see `ShuffledBatches`), and the position
/// (epoch, batch, seed) is what a checkpoint saves.
public struct DatasetTask<Source: IndexedSequenceSource>: TrainingTask where Source.Scalar == Float {
    public let name: String
    public let train: Source
    public let validation: Source?
    public let test: Source?
    public let inputSize: Int
    public let outputSize: Int
    public let readout: Readout
    public let loss: Loss
    public let metricName: String
    public let baseline: (value: Double, description: String)?
    var batches: ShuffledBatches<Source>?

    public init(name: String, train: Source, validation: Source?, test: Source?, inputSize: Int, outputSize: Int,
                readout: Readout, loss: Loss, baseline: (value: Double, description: String)? = nil) {
        self.name = name
        self.train = train
        self.validation = validation
        self.test = test
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.readout = readout
        self.loss = loss
        self.metricName = loss == .crossEntropy ? "accuracy" : "mse"
        self.baseline = baseline
    }

    public var evaluationSplits: [EvaluationSplit] {
        (validation.map { $0.count > 0 } ?? false ? [.validation] : []) + (test.map { $0.count > 0 } ?? false ? [.test] : [])
    }

    /// The last partial batch is dropped when there is at least one full one.
    public func batchesPerEpoch(batchSize: Int) throws -> Int? { train.count >= batchSize ? train.count / batchSize : 1 }

    public mutating func nextTrainingBatch(size: Int, using rng: inout SeededGenerator) throws -> TaskBatch {
        if batches == nil || batches?.position.batchSize != size {
            batches = try ShuffledBatches(source: train, batchSize: size, dropLast: train.count >= size, using: &rng)
        }
        if let (x, y) = batches!.next() { return TaskBatch(inputs: x, targets: y) }
        let (x, y) = try batches!.next().unwrapOrThrow(DataError(.malformed, "the training split is empty", path: name,
                                                                  fix: "provide at least one training sequence"))
        return TaskBatch(inputs: x, targets: y)
    }

    public func evaluationBatches(_ split: EvaluationSplit, batchSize: Int) throws -> [TaskBatch] {
        guard let source = split == .validation ? validation : test else { return [] }
        return stride(from: 0, to: source.count, by: max(1, batchSize)).map { start in
            let (x, y) = source.batch(indices: Array(start..<min(source.count, start + max(1, batchSize))))
            return TaskBatch(inputs: x, targets: y)
        }
    }

    public var position: [String: Int] {
        guard let p = batches?.position else { return [:] }
        return ["epoch": p.epoch, "batchIndex": p.batchIndex, "shuffleSeed": Int(bitPattern: UInt(p.shuffleSeed)),
                "sampleCount": p.sampleCount, "batchSize": p.batchSize, "dropLast": p.dropLast ? 1 : 0]
    }

    public mutating func restore(position: [String: Int]) throws {
        guard let epoch = position["epoch"], let index = position["batchIndex"], let seed = position["shuffleSeed"],
              let count = position["sampleCount"], let size = position["batchSize"], let drop = position["dropLast"] else {
            batches = nil
            return
        }
        let saved = BatchPosition(epoch: epoch, batchIndex: index, shuffleSeed: UInt64(UInt(bitPattern: seed)), sampleCount: count,
                                  batchSize: size, dropLast: drop != 0)
        var b = try ShuffledBatches(source: train, batchSize: size, dropLast: drop != 0, shuffleSeed: saved.shuffleSeed)
        try b.restore(saved)
        batches = b
    }
}

extension Optional {
    func unwrapOrThrow(_ error: @autoclosure () -> some Error) throws -> Wrapped {
        guard let value = self else { throw error() }
        return value
    }
}

// MARK: - Pixel MNIST

extension DatasetTask where Source == MNISTSequences {
    /// Pixel-by-pixel MNIST (`smnist`: 784 steps of 1 pixel, scanline order), the same with
    /// a fixed permutation (`pmnist`), or row by row (`rowmnist`: 28 steps of 28 pixels),
    /// read from IDX files in `directory` (MNIST or Fashion-MNIST; raw or .gz). The last
    /// `validationFraction` of the training files is held out; the test set is t10k.
    /// Baseline: 10% accuracy (chance).
    public static func mnist(_ variant: MNISTVariant, directory: String, validationFraction: Double,
                             limit: Int? = nil) throws -> DatasetTask {
        let data = try MNIST(directory: directory, validationFraction: validationFraction)
        func cap(_ s: MNISTSplit) -> MNISTSplit { limit.map { s.slice(0..<min(s.count, $0)) } ?? s }
        let train = cap(data.train).sequences(variant)
        let name: String
        switch variant {
        case .sequential: name = "smnist"
        case .permuted: name = "pmnist"
        case .rows: name = "rowmnist"
        }
        return DatasetTask(name: name, train: train, validation: cap(data.validation).sequences(variant),
                           test: cap(data.test).sequences(variant), inputSize: train.features, outputSize: MNIST.classCount,
                           readout: .lastStep, loss: .crossEntropy, baseline: (0.1, "chance (10 classes)"))
    }
}

// MARK: - A user's tensors

extension DatasetTask where Source == SequenceDataset<Float> {
    /// A user's data: `inputs` [N, T, I] and `targets` ([N] class ids, [N, O] values, or
    /// [N, T] / [N, T, O] per step). No validation split unless `validationFraction` > 0
    /// (the last part of the data, in file order); the test split is the same held-out part.
    public static func tensors(_ data: SequenceDataset<Float>, validationFraction: Double) throws -> DatasetTask {
        let held = Int((Double(data.count) * validationFraction).rounded())
        let trainCount = data.count - held
        let train = data.subset(0..<trainCount)
        let validation = held > 0 ? data.subset(trainCount..<data.count) : nil
        let (loss, readout, outputs) = data.taskShape
        return DatasetTask(name: "tensors", train: train, validation: validation, test: nil, inputSize: data.features,
                           outputSize: outputs, readout: readout, loss: loss)
    }
}

extension SequenceDataset where Scalar == Float {
    /// The loss, readout and output count the targets imply.
    var taskShape: (Loss, Readout, Int) {
        switch targets {
        case .classes(let ids): return (.crossEntropy, .lastStep, (ids.max() ?? 0) + 1)
        case .classesPerStep(let ids): return (.crossEntropy, .everyStep, (ids.max() ?? 0) + 1)
        case .values(_, let c): return (.meanSquaredError, .lastStep, c)
        case .valuesPerStep(_, let c): return (.meanSquaredError, .everyStep, c)
        }
    }

    /// Sequences `range` as their own data set.
    func subset(_ range: Range<Int>) -> SequenceDataset {
        let (x, y) = batch(indices: Array(range))
        return SequenceDataset(batch: x, targets: y)
    }
}
