/// A task over a fixed data set of labelled sequences (pixel MNIST and its variants, a
/// user's tensors): shuffled mini-batches each epoch, evaluation on fixed splits.
///
/// The shuffle seed is drawn from the run's generator at the first batch; from then on
/// the order of every epoch follows from it (see `ShuffledBatches`), and the position
/// (epoch, batch, seed) is what a checkpoint saves.
public struct DatasetTask<Source: IndexedSequenceSource>: TrainingTask where Source.Scalar == Float {
    public let name: TaskKind
    public let train: Source
    public let validation: Source?
    public let test: Source?
    public let inputSize: Int
    public let outputSize: Int
    public let readout: Readout
    public let loss: Loss
    public let metricName: TaskMetric
    public let baseline: (value: Double, description: String)?
    /// Steps T of every sequence.
    public let sequenceLength: Int
    var batches: ShuffledBatches<Source>?

    /// Throws when the training split is empty, or when a validation or test split is
    /// given but empty (a run would train and then have nothing to evaluate).
    public init(name: TaskKind, train: Source, validation: Source?, test: Source?, inputSize: Int, sequenceLength: Int,
                outputSize: Int, readout: Readout, loss: Loss, baseline: (value: Double, description: String)? = nil) throws(DataError) {
        for (split, source) in [("training", train as Source?), ("validation", validation), ("test", test)] where source?.count == 0 {
            throw DataError(.malformed, "the \(split) split would be empty (training \(train.count), validation \(validation.map { "\($0.count)" } ?? "none"), test \(test.map { "\($0.count)" } ?? "none") sequences)",
                            path: name.rawValue, fix: "provide more data, or hold out a larger fraction")
        }
        self.name = name
        self.sequenceLength = sequenceLength
        self.train = train
        self.validation = validation
        self.test = test
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.readout = readout
        self.loss = loss
        self.metricName = loss == .crossEntropy ? .accuracy : .mse
        self.baseline = baseline
    }

    public var evaluationSplits: [EvaluationSplit] {
        (validation.map { $0.count > 0 } ?? false ? [.validation] : []) + (test.map { $0.count > 0 } ?? false ? [.test] : [])
    }

    public var evaluationSequences: Int { Swift.max(validation?.count ?? 0, test?.count ?? 0) }
    public var allEvaluationSequences: Int { (validation?.count ?? 0) + (test?.count ?? 0) }

    /// The last partial batch is dropped when there is at least one full one.
    public func batchesPerEpoch(batchSize: Int) throws -> Int? { train.count >= batchSize ? train.count / batchSize : 1 }

    public mutating func nextTrainingBatch(size: Int, using rng: inout SeededGenerator) throws -> TaskBatch {
        if batches == nil || batches?.position.batchSize != size {
            batches = try ShuffledBatches(source: train, batchSize: size, dropLast: train.count >= size, using: &rng)
        }
        if let (x, y) = batches!.next() { return TaskBatch(inputs: x, targets: y) }
        let (x, y) = try batches!.next().unwrapOrThrow(DataError(.malformed, "the training split is empty", path: name.rawValue,
                                                                  fix: "provide at least one training sequence"))
        return TaskBatch(inputs: x, targets: y)
    }

    /// The split in order, in batches of `batchSize` (the last may be smaller), built at once
    /// on the kernel pool (`Compute.threads`): each batch is a copy of its own sequences, the
    /// same values whichever thread builds it.
    public func evaluationBatches(_ split: EvaluationSplit, batchSize: Int) throws -> [TaskBatch] {
        guard let source = split == .validation ? validation : test else { return [] }
        let size = max(1, batchSize), count = (source.count + size - 1) / size
        var batches = [TaskBatch?](repeating: nil, count: count)
        batches.withUnsafeMutableBufferPointer { batches in
            Compute.forEachSlice(of: count, parts: Compute.threads) { run in
                for i in run {
                    let (x, y) = source.batch(indices: Array((i * size)..<min(source.count, (i + 1) * size)))
                    batches[i] = TaskBatch(inputs: x, targets: y)
                }
            }
        }
        return batches.map { $0! }
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
    /// Pixels are p / 255, or with `standardize` (p / 255 - mean) / std with the mean and
    /// standard deviation of the training split's pixels (the images trained on), for every split.
    /// Baseline: 10% accuracy (chance).
    public static func mnist(_ variant: MNISTVariant, directory: String, validationFraction: Double,
                             limit: Int? = nil, standardize: Bool = false) throws -> DatasetTask {
        let data = try MNIST(directory: directory, validationFraction: validationFraction)
        func cap(_ s: MNISTSplit) -> MNISTSplit { limit.map { s.slice(0..<min(s.count, $0)) } ?? s }
        let scale = standardize ? PixelScale.standardized(over: cap(data.train)) : .unit
        let train = cap(data.train).sequences(variant, scale: scale)
        let heldOut = data.validation.count
        if validationFraction > 0 && heldOut == 0 || train.count == 0 {
            let images = data.train.count + heldOut
            throw DataError(.malformed, "the \(train.count == 0 ? "training" : "validation") split would be empty: a validation fraction of \(validationFraction) of \(images) training images holds out \(heldOut) and leaves \(data.train.count) for training\(limit.map { " (limit \($0))" } ?? "")",
                            path: directory, fix: "use more images, or a validation fraction that holds out at least one image and keeps one for training (0 for no validation split)")
        }
        if data.test.count == 0 {
            throw DataError(.malformed, "the test split would be empty: the t10k files hold 0 images", path: directory,
                            fix: "use t10k-images/labels files with at least one image")
        }
        let name: TaskKind
        switch variant {
        case .sequential: name = .smnist
        case .permuted: name = .pmnist
        case .rows: name = .rowmnist
        }
        let validation = cap(data.validation).sequences(variant, scale: scale)
        return try DatasetTask(name: name, train: train, validation: validation.count > 0 ? validation : nil,
                               test: cap(data.test).sequences(variant, scale: scale), inputSize: train.features, sequenceLength: train.steps,
                               outputSize: MNIST.classCount, readout: .lastStep, loss: .crossEntropy, baseline: (0.1, "chance (10 classes)"))
    }
}

// MARK: - A user's tensors

extension DatasetTask where Source == SequenceDataset<Float> {
    /// A user's data: `inputs` [N, T, I] and `targets` ([N] class ids, [N, O] values, or
    /// [N, T] / [N, T, O] per step). No validation split unless `validationFraction` > 0
    /// (the last part of the data, in file order); the test split is the same held-out part.
    ///
    /// Throws, naming the split and the sizes, when a positive `validationFraction` holds
    /// out no sequence or leaves none for training.
    ///
    /// - Parameters:
    ///   - test: a test set of its own (`--test-data`): the same features per step, targets of
    ///     the same kind; nil for none.
    ///   - classes: for class targets, the class count O (the model's, when fine-tuning or
    ///     evaluating it): every label must be below it. nil: max label + 1 over the data.
    public static func tensors(_ data: SequenceDataset<Float>, validationFraction: Double, test: SequenceDataset<Float>? = nil,
                               classes: Int? = nil, source: String = "tensors", testSource: String = "test tensors") throws -> DatasetTask {
        guard validationFraction >= 0 && validationFraction < 1 else {
            throw ConfigurationError("the validation fraction must be in [0, 1), got \(validationFraction)")
        }
        let held = Int((Double(data.count) * validationFraction).rounded())
        let trainCount = data.count - held
        if validationFraction > 0 && (held == 0 || trainCount == 0) {
            throw DataError(.malformed, "the \(held == 0 ? "validation" : "training") split would be empty: a validation fraction of \(validationFraction) of \(data.count) sequences holds out \(held) and leaves \(trainCount) for training",
                            path: source, fix: "use more sequences, or a validation fraction that holds out at least one sequence and keeps one for training (0 for no validation split)")
        }
        let train = data.subset(0..<trainCount)
        let validation = held > 0 ? data.subset(trainCount..<data.count) : nil
        var (loss, readout, outputs) = data.taskShape
        if let test {
            let (testLoss, testReadout, testOutputs) = test.taskShape
            guard test.features == data.features, testLoss == loss, testReadout == readout, loss == .crossEntropy || testOutputs == outputs else {
                throw DataError(.malformed, "the test data do not match the training data: \(test.features) features per step and \(Self.describe(testLoss, testReadout, testOutputs)), where the training data have \(data.features) and \(Self.describe(loss, readout, outputs))",
                                path: testSource, fix: "give test inputs [N, T, \(data.features)] and targets of the same kind as the training targets")
            }
            outputs = max(outputs, testOutputs)
        }
        if let classes, loss == .crossEntropy {
            guard outputs <= classes else {
                throw DataError(.malformed, "a label is \(outputs - 1), but the model has \(classes) classes (0..<\(classes))", path: test != nil ? "\(source), \(testSource)" : source,
                                fix: "give data whose labels lie in 0..<\(classes), or train a new model")
            }
            outputs = classes
        }
        return try DatasetTask(name: .tensors, train: train, validation: validation, test: test, inputSize: data.features,
                               sequenceLength: max(data.steps, test?.steps ?? 0), outputSize: outputs, readout: readout, loss: loss)
    }

    /// "class targets at the last step", "3 values per step".
    static func describe(_ loss: Loss, _ readout: Readout, _ outputs: Int) -> String {
        (loss == .crossEntropy ? "class targets" : "\(outputs) values") + (readout == .everyStep ? " at every step" : " per sequence")
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
