/// Long short-term memory with PyTorch's equations and gate order (i, f, g, o):
///
///     i = σ(W_ii x + b_ii + W_hi h + b_hi)     f = σ(W_if x + b_if + W_hf h + b_hf)
///     g = tanh(W_ig x + b_ig + W_hg h + b_hg)  o = σ(W_io x + b_io + W_ho h + b_ho)
///     c' = f ⊙ c + i ⊙ g                       h' = o ⊙ tanh(c')
///
/// Hochreiter & Schmidhuber (1997); PyTorch `nn.LSTM`.
public struct LSTMCell<Scalar: NeuralScalar>: RecurrentCell {
    public static var kind: CellKind { .lstm }
    public static var gateCount: Int { 4 }
    public static var hasMemory: Bool { true }
    public static var fixedActivation: Activation? { .tanh }
    public static var gateNames: [String] { ["i", "f", "g", "o"] }
    public static var hyperparameters: [CellHyperparameter] { [.forgetGateBias] }
    public static var keepsOneChunkOfGradients: Bool { true }

    public var parameters: CellParameters<Scalar>
    public var activation: Activation { .tanh }

    /// `weight_ih` [4H, I]
    public var weightIH: Matrix<Scalar> { get { parameters[0] } _modify { yield &parameters[0] } }
    /// `weight_hh` [4H, H]
    public var weightHH: Matrix<Scalar> { get { parameters[1] } _modify { yield &parameters[1] } }
    /// `bias_ih` [1, 4H]
    public var biasIH: Matrix<Scalar> { get { parameters[2] } _modify { yield &parameters[2] } }
    /// `bias_hh` [1, 4H]
    public var biasHH: Matrix<Scalar> { get { parameters[3] } _modify { yield &parameters[3] } }

    /// `parameters` in PyTorch's order: `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`.
    public init(parameters: CellParameters<Scalar>) {
        precondition(parameters.count == 4, "an LSTM layer has 4 tensors (weight_ih, weight_hh, bias_ih, bias_hh), got \(parameters.count)")
        self.parameters = parameters
    }

    public init(parameters: CellParameters<Scalar>, settings: CellSettings) {
        self.init(parameters: parameters)
    }

    /// PyTorch's draws, then the forget-gate block of `bias_ih` at `forgetGateBias` and that of
    /// `bias_hh` at 0 when one is set (Jozefowicz et al. 2015 recommend 1).
    public static func initialParameters<G: RandomNumberGenerator>(inputSize: Int, hiddenSize: Int, settings: CellSettings,
                                                                   using rng: inout G) -> CellParameters<Scalar> {
        var p = drawParameters(inputSize: inputSize, hiddenSize: hiddenSize, settings: settings, using: &rng)
        if let forget = settings[.forgetGateBias] {
            for j in hiddenSize..<(2 * hiddenSize) { p[2].storage[j] = Scalar(forget); p[3].storage[j] = 0 }
        }
        return p
    }

    /// c_t = f ⊙ c_{t-1} + i ⊙ g is not net_t = U x_t + W h_{t-1}: only the gate blocks' spectra.
    public var recurrentStructure: RecurrentStructure<Scalar> {
        .gateBlocks(of: weightHH, names: Self.gateNames,
                    note: "LSTM: c_t = f ⊙ c_{t-1} + i ⊙ g is not net_t = U x_t + W h_{t-1}; forward growth (10.11) and the Jacobian (10.12) are not diagnosed, only the spectrum of each gate block of W_hh")
    }

    // MARK: - Forward

    /// Besides the protocol's outputs, step t keeps tanh(c_t) in the first H columns of
    /// `preHidden[t]`'s rows (row stride 4H): the LSTM's h_{t-1} W_hhᵀ + b_hh is consumed
    /// by the step (or never stored, with the fused product), and backward needs tanh(c_t).
    public func forwardStep(_ t: Int, _ trace: SequenceTrace<Scalar>, rows: Range<Int>) {
        let b = trace.batch, hs = hiddenSize, w = 4 * hs, first = t * b + rows.lowerBound
        let x0 = trace.stepInput(t, row: rows.lowerBound), gate0 = trace.gates.row(first)
        // gates = x + (b_hh + h_{t-1} W_hhᵀ), [R, 4H]: in one pass where that applies, else in two.
        if !fusedRecurrentStep(t, trace, rows: rows, bias: biasHH) {
            recurrentProjection(t, trace, rows: rows, weight: weightHH, bias: biasHH)
            let hh0 = trace.preHidden.row(first)
            for j in 0..<(rows.count * w) { gate0[j] = x0[j] + hh0[j] }
        }
        if Kernels.lstmForward(rows: rows.count, hidden: hs, gates: gate0, cPrev: trace.memory.row(first),
                               cNew: trace.memory.row(b + first), hNew: trace.hidden.row(b + first),
                               tanhC: trace.preHidden.row(first), tanhCStride: w) { return }
        for r in rows {
            let gate = trace.gates.row(t * b + r)                // [4H]: i, f, g, o (pre-activations)
            let cPrev = trace.memory.row(t * b + r), c = trace.memory.row((t + 1) * b + r)
            let h = trace.hidden.row((t + 1) * b + r), tanhC = trace.preHidden.row(t * b + r)   // [H] of [4H]
            for j in 0..<hs {
                let i = sigmoidValue(gate[j])
                let f = sigmoidValue(gate[hs + j])
                let g = Scalar.tanh(gate[2 * hs + j])
                let o = sigmoidValue(gate[3 * hs + j])
                gate[j] = i; gate[hs + j] = f; gate[2 * hs + j] = g; gate[3 * hs + j] = o
                let cNew = f * cPrev[j] + i * g
                c[j] = cNew
                tanhC[j] = Scalar.tanh(cNew)
                h[j] = o * tanhC[j]
            }
        }
    }

    // MARK: - Backward (mirror order)

    public func backwardStep(_ t: Int, _ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>, rows: Range<Int>) {
        let b = trace.batch, hs = hiddenSize, first = t * b + rows.lowerBound
        // The gates and dh = dgates W_hh in one pass where that applies (W_hh in place, not packed).
        if trace.packedRecurrentWeights == nil, weightHH.storage.withUnsafeBufferPointer({ w in
            Kernels.lstmBackwardStep(rows: rows.count, hidden: hs, gates: trace.gates.row(first), cPrev: trace.memory.row(first),
                                     tanhC: trace.preHidden.row(first), tanhCStride: 4 * hs, dh: grad.dHidden.row(rows.lowerBound),
                                     dc: grad.dMemory.row(rows.lowerBound), dPre: grad.stepGradient(t, row: rows.lowerBound),
                                     weight: w.baseAddress!,
                                     next: t > 0 ? (UnsafePointer(trace.gates.row(first - b)), UnsafePointer(trace.memory.row(first - b)),
                                                   UnsafePointer(trace.preHidden.row(first - b))) : nil)
        }) { return }
        // The fast body reads tanh(c_t) kept by the forward step; the loops below (the oracle) recompute it.
        if Kernels.lstmBackward(rows: rows.count, hidden: hs, gates: trace.gates.row(first), cPrev: trace.memory.row(first),
                                tanhC: trace.preHidden.row(first), tanhCStride: 4 * hs, dh: grad.dHidden.row(rows.lowerBound),
                                dc: grad.dMemory.row(rows.lowerBound), dPre: grad.stepGradient(t, row: rows.lowerBound)) {
            recurrentProjectionBackward(t, trace, grad, rows: rows, weight: weightHH, accumulate: false)
            return
        }
        for r in rows {
            let gate = trace.gates.row(t * b + r)
            let cPrev = trace.memory.row(t * b + r), c = trace.memory.row((t + 1) * b + r)
            let dh = grad.dHidden.row(r), dc = grad.dMemory.row(r)
            let dPre = grad.stepGradient(t, row: r)               // [4H] = dPreHidden[t]
            for j in 0..<hs {
                let i = gate[j], f = gate[hs + j], g = gate[2 * hs + j], o = gate[3 * hs + j]
                let tc = Scalar.tanh(c[j])
                let dcTotal = dc[j] + dh[j] * o * (1 - tc * tc)
                let dO = dh[j] * tc
                let dI = dcTotal * g, dF = dcTotal * cPrev[j], dG = dcTotal * i
                dc[j] = dcTotal * f                               // dL/dc_{t-1}
                dPre[j] = dI * i * (1 - i)
                dPre[hs + j] = dF * f * (1 - f)
                dPre[2 * hs + j] = dG * (1 - g * g)
                dPre[3 * hs + j] = dO * o * (1 - o)
            }
        }
        recurrentProjectionBackward(t, trace, grad, rows: rows, weight: weightHH, accumulate: false)
    }
}

extension CellKind {
    /// Long short-term memory, `LSTMCell`.
    public static let lstm = CellKind(declaring: "lstm")
}

extension CellHyperparameter {
    /// LSTM: the initial value of the forget-gate block of `bias_ih` (that of `bias_hh` starts
    /// at 0); off by default (PyTorch's draw).
    public static let forgetGateBias = CellHyperparameter(
        key: "forgetGateBias", option: "forget-bias", noun: "forget-gate bias",
        summary: "initial forget-gate bias (bias_ih; bias_hh's block starts at 0)", domain: .float32)
}
