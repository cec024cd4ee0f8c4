// MARK: - User sequence data from .npy files
//
// A user's own data set as two `.npy` files (see `NumPy.swift`):
//
// - `inputs`: floating-point (or integer) array `[N, T, I]`: N sequences of T steps of I features.
// - `targets`, one of (by dtype and rank):
//     integer `[N]`        → `Targets.classes`         (class id ≥ 0 per sequence)
//     integer `[N, T]`     → `Targets.classesPerStep`  (class id ≥ 0, or −1 = no loss at the step)
//     float   `[N]`        → `Targets.values(columns: 1)`
//     float   `[N, O]`     → `Targets.values(columns: O)`
//     float   `[N, T, O]`  → `Targets.valuesPerStep(columns: O)`
//
// N must agree, T must agree for per-step targets, all floating-point values must be finite, and
// class ids must lie in 0..<`SequenceDataset.classLimit` (2^20 = 1048576 classes; -1 also allowed
// per step); every violation is an error naming the file and the record (sequence) index, and for
// class ids the index of the first bad value and the value. The checks run before anything sized
// by the values (the model's outputs) is allocated.

/// Sequences and targets held in memory, e.g. loaded from `.npy` files; a source for
/// ``ShuffledBatches``.
public struct SequenceDataset<Scalar: NeuralScalar>: IndexedSequenceSource {
    /// Number of sequences N.
    public let count: Int
    /// Steps per sequence T.
    public let steps: Int
    /// Features per step I.
    public let features: Int
    /// Inputs `[N, T, I]`, row-major.
    public let inputs: [Scalar]
    /// Targets for all N sequences.
    public let targets: Targets<Scalar>
    /// [N]: the steps of each sequence when they differ (see `SequenceLengths`), else nil.
    public let lengths: [Int]?

    /// The most classes integer targets may name: ids must be below 2^20 (1048576). A larger id
    /// is almost certainly not a class (a corrupt file, or a regression target saved as
    /// integers), and would size the model's output layer (O = max id + 1) beyond reason.
    public static var classLimit: Int { 1 << 20 }

    /// Loads `inputs` `[N, T, I]` and `targets` (see the table above) from `.npy` files.
    /// With `lengthsPath` (a `.npy` of [N] integers) or `padValue`, the sequences have
    /// their own lengths (see `SequenceLengths`).
    public static func load(inputs inputsPath: String, targets targetsPath: String, lengths lengthsPath: String? = nil,
                            padValue: Double? = nil) throws(DataError) -> SequenceDataset {
        try SequenceDataset(
            inputs: NumPy.read(path: inputsPath), targets: NumPy.read(path: targetsPath),
            inputsPath: inputsPath, targetsPath: targetsPath,
            lengths: lengthsPath.map { p throws(DataError) in try NumPy.read(path: p) }, lengthsPath: lengthsPath ?? "<lengths>",
            padValue: padValue)
    }

    /// A data set holding exactly this batch and its targets.
    public init(batch: SequenceBatch<Scalar>, targets: Targets<Scalar>) {
        count = batch.batch
        steps = batch.steps
        features = batch.features
        inputs = batch.values
        self.targets = targets
        lengths = batch.unevenLengths
    }

    /// Builds the data set from arrays; the paths only label errors.
    ///
    /// Variable lengths: `lengths` [N] (integers in 1...T) or a `padValue` (not both). Steps
    /// past a sequence's length are not read: they may hold anything (NaN too), and per-step
    /// targets there are ignored (class ids become -1, values 0).
    public init(
        inputs: NDArray, targets: NDArray, inputsPath: String = "<inputs>", targetsPath: String = "<targets>",
        lengths lengthsArray: NDArray? = nil, lengthsPath: String = "<lengths>", padValue: Double? = nil
    ) throws(DataError) {
        guard inputs.shape.count == 3 else {
            throw DataError(
                .malformed, "inputs must have shape [N, T, I], found \(inputs.shape)", path: inputsPath,
                fix: "reshape to [sequences, steps, features], e.g. x[:, :, None] for one feature per step")
        }
        let (n, t, i) = (inputs.shape[0], inputs.shape[1], inputs.shape[2])
        guard n > 0, t > 0, i > 0 else {
            throw DataError(
                .malformed, "inputs shape \(inputs.shape) has an empty dimension", path: inputsPath,
                fix: "save at least one sequence of at least one step and one feature")
        }
        let inputValues: [Scalar] = inputs.scalars()
        let given = try SequenceLengths.resolve(lengths: lengthsArray, lengthsPath: lengthsPath, padValue: padValue, values: inputValues,
                                                count: n, steps: t, features: i, path: inputsPath)
        let lengths = given ?? [Int](repeating: t, count: n)
        func isStep(_ k: Int, width: Int) -> Bool { (k / width) % t < lengths[k / (width * t)] }   // flat index into [N, T, width]
        if let bad = inputValues.indices.first(where: { !inputValues[$0].isFinite && isStep($0, width: i) }) {
            throw DataError(
                .malformed,
                "inputs contain a non-finite value (step \((bad / i) % t), feature \(bad % i))", path: inputsPath,
                recordIndex: bad / (t * i), fix: given == nil ? "replace NaN/infinite values before saving"
                    : "replace NaN/infinite values within each sequence's length (the padding after it is not read)")
        }
        guard targets.shape.first == n else {
            throw DataError(
                .mismatch,
                "targets have shape \(targets.shape) but inputs hold \(n) sequences (\(inputsPath))",
                path: targetsPath, fix: "save one target row per input sequence, in the same order")
        }
        let targetShape = targets.shape
        if var ids = targets.integers() {
            switch targetShape.count {
            case 1:
                if let bad = ids.firstIndex(where: { $0 < 0 || $0 >= Self.classLimit }) {
                    throw DataError(
                        .malformed, "class id \(ids[bad]) at index \(bad) is outside 0..<\(Self.classLimit)", path: targetsPath, recordIndex: bad,
                        fix: "use class ids 0..<classes (at most \(Self.classLimit) classes); save regression targets as floats")
                }
                self.targets = .classes(ids)
            case 2:
                guard targetShape[1] == t else {
                    throw DataError(
                        .mismatch, "per-step class targets have \(targetShape[1]) steps, inputs have \(t)",
                        path: targetsPath, fix: "save targets of shape [N, T] with the inputs' T")
                }
                for k in ids.indices where !isStep(k, width: 1) { ids[k] = -1 }     // past a sequence's end: no loss
                if let bad = ids.firstIndex(where: { $0 < -1 || $0 >= Self.classLimit }) {
                    throw DataError(
                        .malformed, "class id \(ids[bad]) at index \(bad) (step \(bad % t)) is outside -1..<\(Self.classLimit)", path: targetsPath,
                        recordIndex: bad / t, fix: "use class ids 0..<classes (at most \(Self.classLimit) classes), or -1 for steps without loss")
                }
                guard ids.contains(where: { $0 >= 0 }) else {
                    throw DataError(
                        .malformed, "every per-step class id is -1: no step has a target", path: targetsPath,
                        fix: "give at least one step a class id 0..<classes")
                }
                self.targets = .classesPerStep(ids)
            default:
                throw DataError(
                    .malformed, "integer targets must have shape [N] or [N, T], found \(targetShape)",
                    path: targetsPath, fix: "save class ids per sequence [N] or per step [N, T]; regression targets as floats")
            }
        } else {
            var values: [Scalar] = targets.scalars()
            let perRecord = values.count / n
            if targetShape.count == 3 && targetShape[1] == t {                 // past a sequence's end: not read
                for k in values.indices where !isStep(k, width: targetShape[2]) { values[k] = 0 }
            }
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw DataError(
                    .malformed, "targets contain a non-finite value", path: targetsPath,
                    recordIndex: perRecord > 0 ? bad / perRecord : nil, fix: "replace NaN/infinite values before saving")
            }
            switch targetShape.count {
            case 1: self.targets = .values(values, columns: 1)
            case 2: self.targets = .values(values, columns: targetShape[1])
            case 3:
                guard targetShape[1] == t else {
                    throw DataError(
                        .mismatch, "per-step value targets have \(targetShape[1]) steps, inputs have \(t)",
                        path: targetsPath, fix: "save targets of shape [N, T, O] with the inputs' T")
                }
                self.targets = .valuesPerStep(values, columns: targetShape[2])
            default:
                throw DataError(
                    .malformed, "float targets must have shape [N], [N, O] or [N, T, O], found \(targetShape)",
                    path: targetsPath, fix: "reshape the targets")
            }
        }
        self.count = n
        self.steps = t
        self.features = i
        self.inputs = inputValues
        self.lengths = lengths.contains { $0 != t } ? lengths : nil
    }

    /// Sequences `indices`, in that order, with their targets.
    public func batch(indices: [Int]) -> (SequenceBatch<Scalar>, Targets<Scalar>) {
        let width = steps * features
        var values: [Scalar] = []
        values.reserveCapacity(indices.count * width)
        for index in indices { values += inputs[(index * width)..<((index + 1) * width)] }
        let batch = SequenceBatch(batch: indices.count, steps: steps, features: features, values: values,
                                  lengths: lengths.map { all in indices.map { all[$0] } })
        func rows<T>(_ all: [T], _ rowWidth: Int) -> [T] {
            var result: [T] = []
            result.reserveCapacity(indices.count * rowWidth)
            for index in indices { result += all[(index * rowWidth)..<((index + 1) * rowWidth)] }
            return result
        }
        switch targets {
        case .classes(let ids): return (batch, .classes(rows(ids, 1)))
        case .classesPerStep(let ids): return (batch, .classesPerStep(rows(ids, steps)))
        case .values(let v, let columns): return (batch, .values(rows(v, columns), columns: columns))
        case .valuesPerStep(let v, let columns):
            return (batch, .valuesPerStep(rows(v, steps * columns), columns: columns))
        }
    }

    /// Mini-batches reshuffled every epoch (see ``ShuffledBatches``); the seed is drawn from `rng`.
    public func batches(
        batchSize: Int, dropLast: Bool = false, using rng: inout some RandomNumberGenerator
    ) throws(DataError) -> ShuffledBatches<SequenceDataset> {
        try ShuffledBatches(source: self, batchSize: batchSize, dropLast: dropLast, using: &rng)
    }
}
