/// A batch of sequences, batch-first like PyTorch's `batch_first=True`: [B, T, I], with
/// optional per-sequence lengths [B] (PyTorch's packed sequences: sequence b is steps
/// 0 ..< lengths[b]; the rest is padding, which nothing reads).
public struct SequenceBatch<Scalar: NeuralScalar>: Sendable, Equatable {
    public var batch: Int
    public var steps: Int
    public var features: Int
    /// [B, T, I] row-major: element (b, t, i) is `values[(b * T + t) * I + i]`.
    public var values: [Scalar]
    /// [B]: the steps of each sequence, each in 1 ... T (0 only in a truncated-BPTT window past
    /// a sequence's end), in any order (PyTorch's
    /// `pack_padded_sequence(..., enforce_sorted=False)`); nil when every sequence has T.
    public var lengths: [Int]?

    public init(batch: Int, steps: Int, features: Int, values: [Scalar], lengths: [Int]? = nil) {
        precondition(values.count == batch * steps * features,
                     "SequenceBatch [\(batch), \(steps), \(features)] needs \(batch * steps * features) values, got \(values.count)")
        if let lengths {
            precondition(lengths.count == batch && lengths.allSatisfy { (0...max(1, steps)).contains($0) },
                         "SequenceBatch lengths must be \(batch) values in 0...\(steps), got \(lengths)")
        }
        self.batch = batch
        self.steps = steps
        self.features = features
        self.values = values
        self.lengths = lengths
    }

    /// The length of sequence b (T when the batch has no lengths).
    public func length(_ b: Int) -> Int { lengths?[b] ?? steps }

    /// The lengths when some sequence is shorter than T, else nil: what the model runs on.
    public var unevenLengths: [Int]? {
        guard let lengths, lengths.contains(where: { $0 != steps }) else { return nil }
        return lengths
    }

    public subscript(b: Int, t: Int, i: Int) -> Scalar {
        get { values[(b * steps + t) * features + i] }
        set { values[(b * steps + t) * features + i] = newValue }
    }

    /// The same values time-major, [T*B, I]: row t*B + b holds x_t of sequence b.
    public var timeMajor: Matrix<Scalar> { timeMajorCopy(0..<batch) }

    /// Sequences `range` time-major, [T*R, I]: row t*R + r holds x_t of sequence
    /// `range.lowerBound + r` (`timeMajor` of `sequences(range)`, without its copy). One pass
    /// over raw buffers, specialised for Float (a training step makes one per batch, often
    /// from generic code); the sequences split among the threads (`Compute.threads`) for at
    /// least `Compute.copyValuesPerThread` values (a copy: the same values either way).
    @_specialize(where Scalar == Float)
    func timeMajorCopy(_ range: Range<Int>) -> Matrix<Scalar> {
        precondition(range.lowerBound >= 0 && range.upperBound <= batch, "sequences \(range) of a batch of \(batch)")
        let (r, n, f) = (range.count, steps, features)
        var out = Matrix<Scalar>(rows: n * r, cols: f)
        out.storage.withUnsafeMutableBufferPointer { dst in
            values.withUnsafeBufferPointer { src in
                Compute.forEachSlice(of: r, parts: n * r * f >= Compute.copyValuesPerThread ? Compute.threads : 1) { sequences in
                    for s in sequences {
                        for t in 0..<n {
                            let from = ((range.lowerBound + s) * n + t) * f, to = (t * r + s) * f
                            for i in 0..<f { dst[to + i] = src[from + i] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Builds a batch-first batch from time-major rows [T*B, I] (the backward pass's
    /// dL/dx, every step): one pass over raw buffers, specialised for Float.
    @_specialize(where Scalar == Float)
    public init(timeMajor m: Matrix<Scalar>, batch: Int, steps: Int) {
        precondition(m.rows == batch * steps, "time-major matrix has \(m.rows) rows, expected T*B = \(batch * steps)")
        var values = [Scalar](repeating: 0, count: m.count)
        let f = m.cols
        values.withUnsafeMutableBufferPointer { dst in
            m.storage.withUnsafeBufferPointer { src in
                for t in 0..<steps {
                    for b in 0..<batch {
                        let from = (t * batch + b) * f, to = (b * steps + t) * f
                        for i in 0..<f { dst[to + i] = src[from + i] }
                    }
                }
            }
        }
        self.init(batch: batch, steps: steps, features: f, values: values)
    }

    /// Sequences `range` of the batch.
    public func sequences(_ range: Range<Int>) -> SequenceBatch {
        let stride = steps * features
        return SequenceBatch(batch: range.count, steps: steps, features: features,
                             values: Array(values[(range.lowerBound * stride)..<(range.upperBound * stride)]),
                             lengths: lengths.map { Array($0[range]) })
    }

    public func converted<Other: NeuralScalar>(to: Other.Type = Other.self) -> SequenceBatch<Other> {
        SequenceBatch<Other>(batch: batch, steps: steps, features: features, values: values.map { Other($0) }, lengths: lengths)
    }
}

/// The targets of a batch, batch-first like its inputs.
public enum Targets<Scalar: NeuralScalar>: Sendable, Equatable {
    /// [B]: one class id per sequence (many-to-one classification).
    case classes([Int])
    /// [B, T] row-major: a class id per step; -1 means no loss at that step.
    case classesPerStep([Int])
    /// [B, O]: one target vector per sequence (many-to-one regression).
    case values([Scalar], columns: Int)
    /// [B, T, O]: a target vector per step.
    case valuesPerStep([Scalar], columns: Int)

    /// True for the per-step (many-to-many) forms.
    public var isPerStep: Bool {
        switch self {
        case .classesPerStep, .valuesPerStep: return true
        case .classes, .values: return false
        }
    }

    /// The loss target in the row order of the model's outputs: per sequence for
    /// many-to-one, time-major (row t*B + b) for many-to-many.
    ///
    /// With `lengths` [B] (variable-length sequences), the steps past a sequence's length
    /// carry no loss: class ids there become -1, value rows are left out of the mean.
    public func lossTarget(batch: Int, steps: Int, lengths: [Int]? = nil) throws(ConfigurationError) -> LossTarget<Scalar> {
        let target = try lossTarget(batch: batch, steps: steps)
        guard let lengths, isPerStep else { return target }
        // time-major row t*B + b counts when t < lengths[b]
        let counted = (0..<(batch * steps)).map { r in r / batch < lengths[r % batch] }
        switch target {
        case .classes(var ids):
            for r in ids.indices where !counted[r] { ids[r] = -1 }
            return .classes(ids)
        case .values(let m), .valuesOnRows(let m, _):
            return .valuesOnRows(m, counted: counted)
        }
    }

    func lossTarget(batch: Int, steps: Int) throws(ConfigurationError) -> LossTarget<Scalar> {
        switch self {
        case .classes(let ids):
            guard ids.count == batch else { throw ConfigurationError("targets: \(ids.count) class ids for a batch of \(batch)") }
            return .classes(ids)
        case .values(let v, let columns):
            guard v.count == batch * columns else { throw ConfigurationError("targets: \(v.count) values, expected [\(batch), \(columns)]") }
            return .values(Matrix(rows: batch, cols: columns, v))
        case .classesPerStep(let ids):
            guard ids.count == batch * steps else { throw ConfigurationError("targets: \(ids.count) class ids, expected [B, T] = [\(batch), \(steps)]") }
            var out = [Int](repeating: -1, count: ids.count)
            for b in 0..<batch { for t in 0..<steps { out[t * batch + b] = ids[b * steps + t] } }
            return .classes(out)
        case .valuesPerStep(let v, let columns):
            guard v.count == batch * steps * columns else {
                throw ConfigurationError("targets: \(v.count) values, expected [B, T, O] = [\(batch), \(steps), \(columns)]")
            }
            let m = SequenceBatch(batch: batch, steps: steps, features: columns, values: v).timeMajor
            return .values(m)
        }
    }
}
