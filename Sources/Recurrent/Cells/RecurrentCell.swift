/// The kinds of recurrent layer; the checkpoint metadata and the CLI name them.
public enum CellKind: String, Sendable, Codable, CaseIterable {
    case rnn, lstm, gru, indrnn
}

/// One recurrent layer's step, forward and backward. The unroller over time
/// (`forward(_:initial:)`, `backward(...)` in BPTT.swift) is written once for all
/// conforming cells: a new cell is a new conformance.
///
/// A cell sees one time step t of a `SequenceTrace` (see its shape legend): the
/// input projection `preInput[t]` has already been computed for all steps in one
/// product, and the input gradients are formed after the backward loop in one product.
/// The cell owns only the recurrent part.
public protocol RecurrentCell: Sendable {
    associatedtype Scalar: NeuralScalar

    static var kind: CellKind { get }
    /// G: gate blocks in the fused weights (RNN 1, LSTM 4, GRU 3, IndRNN 1).
    static var gateCount: Int { get }
    /// True for LSTM: the state has a cell c besides h.
    static var hasMemory: Bool { get }
    /// True when dL/d preHidden differs from dL/d preInput (GRU's reset gate).
    static var separateHiddenGradient: Bool { get }

    /// Wraps parameters; `activation` and `recurrentBound` are used by the cells that have them
    /// (RNN and IndRNN take any activation; LSTM and GRU are tanh by definition).
    init(parameters: CellParameters<Scalar>, activation: Activation, recurrentBound: Double?)

    var parameters: CellParameters<Scalar> { get set }
    /// The nonlinearity f of h_t = f(net_t) for RNN and IndRNN; tanh for LSTM and GRU.
    var activation: Activation { get }

    /// Step t for the batch rows `rows` (a slice of 0 ..< B): reads `preInput[t]`,
    /// `hidden[t]` (h_{t-1}) and `memory[t]`; writes `preHidden[t]`, `gates[t]`,
    /// `hidden[t+1]` (h_t) and `memory[t+1]`, each only in those rows. Batch rows never
    /// interact, so the unroller may run disjoint slices on different threads.
    func forwardStep(_ t: Int, _ trace: SequenceTrace<Scalar>, rows: Range<Int>)

    /// Step t in reverse for the batch rows `rows`: reads `dHidden` = dL/dh_t (and
    /// `dMemory` = dL/dc_t), writes step t of `dPreInput` and `dPreHidden`, and leaves
    /// dL/dh_{t-1} (dL/dc_{t-1}) in `dHidden` (`dMemory`), each only in those rows.
    func backwardStep(_ t: Int, _ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>, rows: Range<Int>)

    /// After the loop: the gradients of `weight_hh` and `bias_hh` from all rows of
    /// `dPreHidden` [T*B, G*H] and h_0 ... h_{T-1} (`trace.hidden` rows 0 ..< T*B).
    func recurrentWeightGradients(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                  into gradients: inout CellParameters<Scalar>)

    /// Projects the parameters back onto their allowed set after an update
    /// (IndRNN's bound |u| <= u_max); nothing for the other cells.
    mutating func applyConstraints()
}

extension RecurrentCell {
    public var inputSize: Int { parameters.weightIH.cols }
    public var hiddenSize: Int { parameters.weightIH.rows / Self.gateCount }
    public static var separateHiddenGradient: Bool { false }
    public static var hasMemory: Bool { false }
    public mutating func applyConstraints() {}

    /// The gradients of a full recurrent matrix: dW_hh = dPreHiddenᵀ [h_0 ... h_{T-1}],
    /// db_hh = column sums of dPreHidden, each one product over all steps.
    public func recurrentWeightGradients(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                         into gradients: inout CellParameters<Scalar>) {
        let rows = trace.steps * trace.batch, width = Self.gateCount * hiddenSize, h = hiddenSize
        gradients.weightHH.storage.withUnsafeMutableBufferPointer { dW in
            Kernels.gemm(transA: true, transB: false, m: width, n: h, k: rows,
                         a: grad.dPreHidden.base, lda: width, b: trace.hidden.base, ldb: h,
                         c: dW.baseAddress!, ldc: h, accumulate: true)
        }
        gradients.biasHH.storage.withUnsafeMutableBufferPointer { db in
            Kernels.columnSums(grad.dPreHidden.base, rows: rows, cols: width, into: db.baseAddress!, accumulate: true)
        }
    }

    /// preHidden[t] = h_{t-1} W_hhᵀ + b_hh for the batch rows `rows`: the recurrent
    /// product of step t ([R, H] x [H, G*H] with R = rows.count).
    @inlinable
    func recurrentProjection(_ t: Int, _ trace: SequenceTrace<Scalar>, rows: Range<Int>) {
        let b = trace.batch, h = hiddenSize, width = Self.gateCount * h, m = rows.count
        let out = trace.preHidden.row(t * b + rows.lowerBound)
        let hPrev = trace.hidden.row(t * b + rows.lowerBound)
        parameters.biasHH.storage.withUnsafeBufferPointer { bias in
            for r in 0..<m { (out + r * width).update(from: bias.baseAddress!, count: width) }
        }
        if let wt = trace.transposedRecurrentWeight {           // [H, G*H], from forward(_:)
            Kernels.gemm(transA: false, transB: false, m: m, n: width, k: h,
                         a: hPrev, lda: h, b: wt.base, ldb: width,
                         c: out, ldc: width, accumulate: true)
            return
        }
        parameters.weightHH.storage.withUnsafeBufferPointer { w in
            Kernels.gemm(transA: false, transB: true, m: m, n: width, k: h,
                         a: hPrev, lda: h, b: w.baseAddress!, ldb: h,
                         c: out, ldc: width, accumulate: true)
        }
    }

    /// The fused form of `recurrentProjection` plus the input: gates[t] = preInput[t] +
    /// (b_hh + h_{t-1} W_hhᵀ) for the batch rows `rows` in one pass, preHidden never
    /// written; with `hNew` and `activation` (relu or tanh) also h_t = f(gates[t]). Returns
    /// false, doing nothing, where it does not apply (H > 256, where W_hhᵀ no longer stays
    /// in cache; no W_hhᵀ; Double; another activation): the caller runs the two passes.
    @inlinable
    func fusedRecurrentStep(_ t: Int, _ trace: SequenceTrace<Scalar>, rows: Range<Int>,
                            hNew: UnsafeMutablePointer<Scalar>? = nil, activation: Activation? = nil) -> Bool {
        guard hiddenSize <= 256, let wt = trace.transposedRecurrentWeight else { return false }
        let fused: Kernels.StepActivation?
        switch activation {
        case nil: fused = nil
        case .relu?: fused = .relu
        case .tanh?: fused = .tanh
        default: return false
        }
        let first = t * trace.batch + rows.lowerBound
        return parameters.biasHH.storage.withUnsafeBufferPointer { bias in
            Kernels.recurrentStep(rows: rows.count, width: Self.gateCount * hiddenSize, hidden: hiddenSize,
                                  hPrev: trace.hidden.row(first), transposedWeight: wt.base, bias: bias.baseAddress!,
                                  x: trace.preInput.row(first), net: trace.gates.row(first),
                                  hNew: hNew, activation: fused)
        }
    }

    /// dHidden = dPreHidden[t] W_hh for the batch rows `rows`: the recurrent product of
    /// step t, reversed ([R, G*H] x [G*H, H]).
    @inlinable
    func recurrentProjectionBackward(_ t: Int, _ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                     rows: Range<Int>, accumulate: Bool) {
        let b = trace.batch, h = hiddenSize, width = Self.gateCount * h
        parameters.weightHH.storage.withUnsafeBufferPointer { w in
            Kernels.gemm(transA: false, transB: false, m: rows.count, n: h, k: width,
                         a: grad.dPreHidden.row(t * b + rows.lowerBound), lda: width, b: w.baseAddress!, ldb: h,
                         c: grad.dHidden.row(rows.lowerBound), ldc: h, accumulate: accumulate)
        }
    }
}
