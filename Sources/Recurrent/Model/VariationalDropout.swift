/// Variational dropout (Gal & Ghahramani 2016, "A Theoretically Grounded Application of
/// Dropout in Recurrent Neural Networks"; Keras's `dropout=` and `recurrent_dropout=`): one
/// mask per sequence, the same at every step, on each layer's input x_t and on the previous
/// state h_{t-1} that the step reads:
///
///     h_t = cell(x_t ⊙ m_x, h_{t-1} ⊙ m_h)      m ∈ {0, 1/(1-p)} per sequence and unit
///
/// Each cell of the stack (each direction of a bidirectional layer, as Keras's
/// `Bidirectional` holds two layers) has its own masks. Only h is masked, where it enters a
/// weight (the unroller masks it in place for the step): RNN, LSTM and GRU's W_hh h_{t-1},
/// IndRNN's u ⊙ h_{t-1}, coRNN's W y_{t-1}, as Keras's `recurrent_dropout`; what carries the
/// state itself stays unmasked: LSTM's c, GRU's z ⊙ h_{t-1}, coRNN's z and its y_{t-1} outside
/// W (`RecurrentCell.carriesUnmaskedState`).
/// Training only: evaluation, prediction and the diagnostics run without masks.
public struct VariationalMasks<Scalar: NeuralScalar>: Sendable, Equatable {
    /// Per cell in the stack's order (l0, l0 reverse, l1, ...): [B, I_k], the factor on the
    /// cell's input, in the batch's own order; nil where the input dropout is 0.
    public var inputs: [Matrix<Scalar>?]
    /// Per cell: [B, H], the factor on h_{t-1}, in the batch's own order; nil where the
    /// recurrent dropout is 0.
    public var states: [Matrix<Scalar>?]

    public init(inputs: [Matrix<Scalar>?], states: [Matrix<Scalar>?]) {
        self.inputs = inputs
        self.states = states
    }

    /// The masks' rows in the order a packed batch runs (longest first), or as they are.
    func sorted(by packing: PackedOrder?) -> VariationalMasks {
        guard let packing, !packing.isIdentity else { return self }
        return VariationalMasks(inputs: inputs.map { $0.map { packing.sorted($0, steps: 1) } },
                                states: states.map { $0.map { packing.sorted($0, steps: 1) } })
    }
}

extension RecurrentModel {
    /// True when a training step draws masks: any of `dropout`, `inputDropout`,
    /// `recurrentDropout` above 0.
    public var usesDropout: Bool { dropout > 0 || inputDropout > 0 || recurrentDropout > 0 }

    /// Masks for variational dropout of a batch of B sequences, drawn cell by cell (the
    /// input's mask, then the state's), each element 0 with probability p, else 1/(1-p);
    /// nil when `inputDropout` and `recurrentDropout` are 0 (then nothing is drawn).
    public func variationalMasks(batch: Int, using rng: inout some RandomNumberGenerator) -> VariationalMasks<Scalar>? {
        guard inputDropout > 0 || recurrentDropout > 0 else { return nil }
        var masks = VariationalMasks<Scalar>(inputs: [], states: [])
        for cell in layers {
            masks.inputs.append(inputDropout > 0 ? Self.bernoulliMask(rows: batch, cols: cell.inputSize, drop: inputDropout, using: &rng) : nil)
            masks.states.append(recurrentDropout > 0 ? Self.bernoulliMask(rows: batch, cols: hiddenSize, drop: recurrentDropout, using: &rng) : nil)
        }
        return masks
    }

    /// [rows, cols], each element 0 with probability `p`, else 1/(1-p) (inverted dropout),
    /// drawn in storage order.
    static func bernoulliMask(rows: Int, cols: Int, drop p: Double, using rng: inout some RandomNumberGenerator) -> Matrix<Scalar> {
        let keep = Scalar(1 / (1 - p))
        var m = Matrix<Scalar>(rows: rows, cols: cols)
        for i in m.storage.indices { m.storage[i] = Draw.uniform(0, 1, &rng) < p ? 0 : keep }
        return m
    }

    /// x [T*B, C] ⊙ mask [B, C] at every step (x itself without a mask, or when x has no
    /// columns: a skipped dL/dx).
    static func droppedPerSequence(_ x: Matrix<Scalar>, _ mask: Matrix<Scalar>?) -> Matrix<Scalar> {
        guard let mask, x.cols > 0 else { return x }
        precondition(mask.cols == x.cols && mask.rows > 0 && x.rows % mask.rows == 0,
                     "variational dropout mask \(mask.shape) for rows \(x.shape)")
        var out = x
        let width = mask.count
        out.storage.withUnsafeMutableBufferPointer { o in
            mask.storage.withUnsafeBufferPointer { m in
                for start in stride(from: 0, to: o.count, by: width) {
                    for i in 0..<width { o[start + i] *= m[i] }
                }
            }
        }
        return out
    }
}

extension RecurrentModel {
    /// A training step's masks from its seed: between the layers (`dropoutMasks`), then the
    /// variational ones (`variationalMasks`); each nil where its p is 0, and nothing is drawn
    /// for it (so a run without variational dropout draws exactly what it drew before).
    public func trainingMasks(batch: Int, steps: Int, seed: UInt64)
        -> (between: [Matrix<Scalar>]?, variational: VariationalMasks<Scalar>?) {
        var rng = SeededGenerator(seed: seed)
        let between = dropoutMasks(batch: batch, steps: steps, using: &rng)
        return (between, variationalMasks(batch: batch, using: &rng))
    }
}
