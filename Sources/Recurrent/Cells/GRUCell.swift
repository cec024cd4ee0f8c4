/// Gated recurrent unit with PyTorch's equations and gate order (r, z, n), the reset
/// gate applied to (W_hn h + b_hn):
///
///     r = σ(W_ir x + b_ir + W_hr h + b_hr)     z = σ(W_iz x + b_iz + W_hz h + b_hz)
///     n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
///     h' = (1 - z) ⊙ n + z ⊙ h
///
/// Cho et al. (2014); PyTorch `nn.GRU`.
public struct GRUCell<Scalar: NeuralScalar>: RecurrentCell {
    public static var kind: CellKind { .gru }
    public static var gateCount: Int { 3 }
    public static var separateHiddenGradient: Bool { true }
    public static var usesBackwardScratch: Bool { true }
    /// Variational dropout masks h_{t-1} in the products only; z ⊙ h_{t-1} carries it unmasked (Keras's GRU).
    public static var carriesUnmaskedState: Bool { true }
    public static var fixedActivation: Activation? { .tanh }
    public static var gateNames: [String] { ["r", "z", "n"] }

    public var parameters: CellParameters<Scalar>
    public var activation: Activation { .tanh }

    /// `weight_ih` [3H, I]
    public var weightIH: Matrix<Scalar> { get { parameters[0] } _modify { yield &parameters[0] } }
    /// `weight_hh` [3H, H]
    public var weightHH: Matrix<Scalar> { get { parameters[1] } _modify { yield &parameters[1] } }
    /// `bias_ih` [1, 3H]
    public var biasIH: Matrix<Scalar> { get { parameters[2] } _modify { yield &parameters[2] } }
    /// `bias_hh` [1, 3H]
    public var biasHH: Matrix<Scalar> { get { parameters[3] } _modify { yield &parameters[3] } }

    /// `parameters` in PyTorch's order: `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`.
    public init(parameters: CellParameters<Scalar>) {
        precondition(parameters.count == 4, "a GRU layer has 4 tensors (weight_ih, weight_hh, bias_ih, bias_hh), got \(parameters.count)")
        self.parameters = parameters
    }

    public init(parameters: CellParameters<Scalar>, settings: CellSettings) {
        self.init(parameters: parameters)
    }

    /// h_t = (1 - z) ⊙ n + z ⊙ h_{t-1} is not net_t = U x_t + W h_{t-1}: only the gate blocks' spectra.
    public var recurrentStructure: RecurrentStructure<Scalar> {
        .gateBlocks(of: weightHH, names: Self.gateNames,
                    note: "GRU: h_t = (1 - z) ⊙ n + z ⊙ h_{t-1} is not net_t = U x_t + W h_{t-1}; forward growth (10.11) and the Jacobian (10.12) are not diagnosed, only the spectrum of each gate block of W_hh")
    }

    // MARK: - Forward

    public func forwardStep(_ t: Int, _ trace: SequenceTrace<Scalar>, rows: Range<Int>) {
        recurrentProjection(t, trace, rows: rows, weight: weightHH, bias: biasHH)   // preHidden[t] = [hr, hz, hn]
        let b = trace.batch, hs = hiddenSize, first = t * b + rows.lowerBound
        if Kernels.gruForward(rows: rows.count, hidden: hs, x: trace.stepInput(t, row: rows.lowerBound), hh: trace.preHidden.row(first),
                              hPrev: trace.unmaskedPrevious(row: first), gates: trace.gates.row(first),
                              hNew: trace.hidden.row(b + first)) { return }
        for row in rows {
            let x = trace.stepInput(t, row: row), hh = trace.preHidden.row(t * b + row)
            let gate = trace.gates.row(t * b + row)             // [3H]: r, z, n
            let hPrev = trace.unmaskedPrevious(row: t * b + row), h = trace.hidden.row((t + 1) * b + row)
            for j in 0..<hs {
                let r = sigmoidValue(x[j] + hh[j])
                let z = sigmoidValue(x[hs + j] + hh[hs + j])
                let n = Scalar.tanh(x[2 * hs + j] + r * hh[2 * hs + j])
                gate[j] = r; gate[hs + j] = z; gate[2 * hs + j] = n
                h[j] = (1 - z) * n + z * hPrev[j]
            }
        }
    }

    // MARK: - Backward (mirror order)

    public func backwardStep(_ t: Int, _ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>, rows: Range<Int>) {
        let b = trace.batch, hs = hiddenSize
        // The direct path h' = ... + z ⊙ h is added after the product below overwrites dHidden,
        // so keep z ⊙ dh' aside in the scratch buffer.
        let first = t * b + rows.lowerBound
        let fused = Kernels.gruBackward(rows: rows.count, hidden: hs, hh: trace.preHidden.row(first),
                                        gates: trace.gates.row(first), hPrev: trace.unmaskedPrevious(row: first),
                                        dh: grad.dHidden.row(rows.lowerBound), dIn: grad.dPreInput.row(first),
                                        dHh: grad.dPreHidden.row(first), direct: grad.scratch.row(rows.lowerBound))
        for row in rows where !fused {
            let hh = trace.preHidden.row(t * b + row), gate = trace.gates.row(t * b + row)
            let hPrev = trace.unmaskedPrevious(row: t * b + row)
            let dh = grad.dHidden.row(row), direct = grad.scratch.row(row)
            let dIn = grad.dPreInput.row(t * b + row), dHh = grad.dPreHidden.row(t * b + row)
            for j in 0..<hs {
                let r = gate[j], z = gate[hs + j], n = gate[2 * hs + j]
                let dn = dh[j] * (1 - z)
                let dz = dh[j] * (hPrev[j] - n)
                direct[j] = dh[j] * z
                let dnPre = dn * (1 - n * n)
                let drPre = dnPre * hh[2 * hs + j] * r * (1 - r)
                let dzPre = dz * z * (1 - z)
                dIn[j] = drPre; dIn[hs + j] = dzPre; dIn[2 * hs + j] = dnPre
                dHh[j] = drPre; dHh[hs + j] = dzPre; dHh[2 * hs + j] = dnPre * r
            }
        }
        recurrentProjectionBackward(t, trace, grad, rows: rows, weight: weightHH, accumulate: false)
        let n = rows.count * hs
        let dh = grad.dHidden.row(rows.lowerBound), direct = grad.scratch.row(rows.lowerBound)
        if let mask = trace.stateMask?.row(rows.lowerBound) {  // variational dropout: only the products saw the mask
            for i in 0..<n { dh[i] = dh[i] * mask[i] + direct[i] }
        } else {
            for i in 0..<n { dh[i] += direct[i] }
        }
    }
}

extension CellKind {
    /// The gated recurrent unit, `GRUCell`.
    public static let gru = CellKind(declaring: "gru")
}
