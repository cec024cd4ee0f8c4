/// Independently recurrent cell (Li, Li, Cook, Zhu & Gao, 2018, "Independently
/// Recurrent Neural Network (IndRNN)"): each unit sees only its own past,
///
///     h_t = f(U x_t + b_ih + u ⊙ h_{t-1} + b_hh)
///
/// with u = `weight_hh` a vector [1, H] (saved as `weight_hh_l{k}` of shape [H]).
/// `recurrentBound` keeps |u_j| <= u_max after every update (the paper uses
/// u_max = 2^(1/T) for ReLU so that no unit grows more than 2x over T steps).
public struct IndRNNCell<Scalar: NeuralScalar>: RecurrentCell {
    public static var kind: CellKind { .indrnn }
    public static var gateCount: Int { 1 }

    public var parameters: CellParameters<Scalar>
    public var activation: Activation
    /// u_max, or nil for no bound.
    public var recurrentBound: Double?

    public init(parameters: CellParameters<Scalar>, activation: Activation, recurrentBound: Double? = nil) {
        self.parameters = parameters
        self.activation = activation
        self.recurrentBound = recurrentBound
    }

    // MARK: - Forward

    public func forwardStep(_ t: Int, _ trace: SequenceTrace<Scalar>, rows: Range<Int>) {
        let b = trace.batch, hs = hiddenSize, f = activation
        parameters.weightHH.storage.withUnsafeBufferPointer { u in
            parameters.biasHH.storage.withUnsafeBufferPointer { bias in
                for row in rows {
                    let x = trace.preInput.row(t * b + row), rec = trace.preHidden.row(t * b + row)
                    let net = trace.gates.row(t * b + row)
                    let hPrev = trace.hidden.row(t * b + row), h = trace.hidden.row((t + 1) * b + row)
                    if case .relu = f {                          // no switch per element
                        for j in 0..<hs {
                            rec[j] = u[j] * hPrev[j] + bias[j]
                            let v = x[j] + rec[j]
                            net[j] = v
                            h[j] = v < 0 ? 0 : v           // Activation.relu: NaN stays NaN
                        }
                        continue
                    }
                    for j in 0..<hs {
                        rec[j] = u[j] * hPrev[j] + bias[j]
                        let v = x[j] + rec[j]
                        net[j] = v
                        h[j] = f.value(v)
                    }
                }
            }
        }
    }

    // MARK: - Backward (mirror order)

    public func backwardStep(_ t: Int, _ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>, rows: Range<Int>) {
        let b = trace.batch, hs = hiddenSize, f = activation
        parameters.weightHH.storage.withUnsafeBufferPointer { u in
            for row in rows {
                let net = trace.gates.row(t * b + row), h = trace.hidden.row((t + 1) * b + row)
                let dh = grad.dHidden.row(row), dnet = grad.dPreInput.row(t * b + row)
                if case .relu = f {
                    for j in 0..<hs {
                        dnet[j] = net[j] <= 0 ? 0 : dh[j]
                        dh[j] = dnet[j] * u[j]                   // dL/dh_{t-1}
                    }
                    continue
                }
                for j in 0..<hs {
                    dnet[j] = dh[j] * f.derivative(input: net[j], output: h[j])
                    dh[j] = dnet[j] * u[j]                       // dL/dh_{t-1}
                }
            }
        }
    }

    /// du = Σ_t Σ_b dnet ⊙ h_{t-1}, db_hh = Σ_t Σ_b dnet.
    public func recurrentWeightGradients(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                         into gradients: inout CellParameters<Scalar>) {
        let rows = trace.steps * trace.batch, hs = hiddenSize
        for r in 0..<rows {
            let d = grad.dPreHidden.row(r), hPrev = trace.hidden.row(r)
            for j in 0..<hs {
                gradients.weightHH.storage[j] += d[j] * hPrev[j]
                gradients.biasHH.storage[j] += d[j]
            }
        }
    }

    /// Clamps u to [-u_max, u_max].
    public mutating func applyConstraints() {
        guard let bound = recurrentBound else { return }
        let m = Scalar(bound)
        for j in parameters.weightHH.storage.indices {
            parameters.weightHH.storage[j] = Swift.min(Swift.max(parameters.weightHH.storage[j], -m), m)
        }
    }
}
