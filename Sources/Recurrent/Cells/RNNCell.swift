/// The simple (Elman) recurrent cell of the seed note, equations (10.9)-(10.10):
///
///     net_t = U x_t + W h_{t-1} + b,    h_t = f(net_t)
///
/// with U = `weight_ih` [H, I], W = `weight_hh` [H, H] and b = `bias_ih + bias_hh`
/// (PyTorch's `nn.RNN` keeps two bias vectors; so do we). Any `Activation` may be f.
///
/// The IRNN of Le, Jaitly & Hinton (2015), "A Simple Way to Initialize Recurrent
/// Networks of Rectified Linear Units", is a configuration of this cell, not a type:
/// `RNNCell.irnn(inputSize:hiddenSize:using:)` = relu, W = I, U ~ N(0, 0.001^2), b = 0.
public struct RNNCell<Scalar: NeuralScalar>: RecurrentCell {
    public static var kind: CellKind { .rnn }
    public static var gateCount: Int { 1 }

    public var parameters: CellParameters<Scalar>
    public var activation: Activation

    public init(parameters: CellParameters<Scalar>, activation: Activation) {
        self.parameters = parameters
        self.activation = activation
    }

    public init(parameters: CellParameters<Scalar>, activation: Activation, recurrentBound: Double?) {
        self.init(parameters: parameters, activation: activation)
    }

    // MARK: - Forward

    public func forwardStep(_ t: Int, _ trace: SequenceTrace<Scalar>, rows: Range<Int>) {
        let n = rows.count * hiddenSize, first = t * trace.batch + rows.lowerBound
        // Product, bias, input and f in one pass where that applies (relu, tanh; H <= 256).
        if fusedRecurrentStep(t, trace, rows: rows, hNew: trace.hidden.row(trace.batch + first),
                              activation: activation) { return }
        recurrentProjection(t, trace, rows: rows)              // preHidden[t] = W h_{t-1} + b_hh
        let x = trace.preInput.row(first)                      // [R, H]  U x_t + b_ih
        let r = trace.preHidden.row(first)                     // [R, H]
        let net = trace.gates.row(first)                       // [R, H]  net_t
        let h = trace.hidden.row(trace.batch + first)          // [R, H]  h_t
        let f = activation
        if case .relu = f {                                    // the IRNN: no switch per element
            for i in 0..<n {
                let v = x[i] + r[i]
                net[i] = v
                h[i] = v < 0 ? 0 : v                          // Activation.relu: NaN stays NaN
            }
            return
        }
        if case .tanh = f, Kernels.tanhStep(count: n, x: x, r: r, net: net, h: h) { return }
        for i in 0..<n {
            let v = x[i] + r[i]
            net[i] = v
            h[i] = f.value(v)
        }
    }

    // MARK: - Backward (mirror order)

    public func backwardStep(_ t: Int, _ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>, rows: Range<Int>) {
        let n = rows.count * hiddenSize, first = t * trace.batch + rows.lowerBound
        let net = trace.gates.row(first)                       // [R, H]
        let h = trace.hidden.row(trace.batch + first)          // [R, H]
        let dh = grad.dHidden.row(rows.lowerBound)             // [R, H]  dL/dh_t
        let dnet = grad.dPreInput.row(first)                   // [R, H]  = dPreHidden[t]
        let f = activation
        if case .relu = f {
            if !Kernels.reluBackward(count: n, net: net, dh: dh, into: dnet) {
                for i in 0..<n { dnet[i] = net[i] <= 0 ? 0 : dh[i] }
            }
        } else {
            for i in 0..<n { dnet[i] = dh[i] * f.derivative(input: net[i], output: h[i]) }
        }
        recurrentProjectionBackward(t, trace, grad, rows: rows, accumulate: false)   // dh_{t-1} = dnet W
    }
}
