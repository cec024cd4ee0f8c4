/// The simple (Elman) recurrent cell of the seed note, equations (10.9)-(10.10):
///
///     net_t = U x_t + W h_{t-1} + b,    h_t = f(net_t)
///
/// with U = `weight_ih` [H, I], W = `weight_hh` [H, H] and b = `bias_ih + bias_hh`
/// (PyTorch's `nn.RNN` keeps two bias vectors; so do we). Any `Activation` may be f.
///
/// The IRNN of Le, Jaitly & Hinton (2015), "A Simple Way to Initialize Recurrent
/// Networks of Rectified Linear Units", is a configuration of this cell, not a type:
/// its preset `irnn` = relu, W = I, U ~ N(0, 0.001^2), b = 0.
public struct RNNCell<Scalar: NeuralScalar>: RecurrentCell {
    public static var kind: CellKind { .rnn }
    public static var gateCount: Int { 1 }
    public static var pytorchModule: String { "RNN" }

    /// irnn first (the library's default model), then PyTorch's tanh RNN and the baselines.
    public static var presets: [CellPreset] {
        let small = Initializer.gaussian(std: 0.001)
        return [
            CellPreset("irnn", summary: "relu, W = identity, U ~ N(0, 0.001^2), zero biases",
                       settings: CellSettings(activation: .relu, inputInit: small, recurrentInit: .identity(scale: 1), biasInit: .zeros)),
            CellPreset("rnn", summary: "tanh", settings: CellSettings(activation: .tanh)),
            CellPreset("rnn-tanh", summary: "tanh, as rnn", settings: CellSettings(activation: .tanh)),
            CellPreset("rnn-relu-gaussian", aliases: ["rnn-relu"], summary: "relu, W, U ~ N(0, 0.001^2), zero biases",
                       settings: CellSettings(activation: .relu, inputInit: small, recurrentInit: small, biasInit: .zeros)),
            CellPreset("nprnn", summary: "relu, W = npRNN, U ~ N(0, 0.001^2), zero biases",
                       settings: CellSettings(activation: .relu, inputInit: small, recurrentInit: .npRNN, biasInit: .zeros)),
        ]
    }

    public var parameters: CellParameters<Scalar>
    public var activation: Activation

    /// U = `weight_ih` [H, I]
    public var weightIH: Matrix<Scalar> { get { parameters[0] } _modify { yield &parameters[0] } }
    /// W = `weight_hh` [H, H]
    public var weightHH: Matrix<Scalar> { get { parameters[1] } _modify { yield &parameters[1] } }
    /// `bias_ih` [1, H]
    public var biasIH: Matrix<Scalar> { get { parameters[2] } _modify { yield &parameters[2] } }
    /// `bias_hh` [1, H]
    public var biasHH: Matrix<Scalar> { get { parameters[3] } _modify { yield &parameters[3] } }

    /// `parameters` in PyTorch's order: `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`.
    public init(parameters: CellParameters<Scalar>, activation: Activation) {
        precondition(parameters.count == 4, "an RNN layer has 4 tensors (weight_ih, weight_hh, bias_ih, bias_hh), got \(parameters.count)")
        self.parameters = parameters
        self.activation = activation
    }

    public init(weightIH: Matrix<Scalar>, weightHH: Matrix<Scalar>, biasIH: Matrix<Scalar>, biasHH: Matrix<Scalar>,
                activation: Activation) {
        self.init(parameters: CellParameters([weightIH, weightHH, biasIH, biasHH]), activation: activation)
    }

    public init(parameters: CellParameters<Scalar>, settings: CellSettings) {
        self.init(parameters: parameters, activation: settings.activation)
    }

    /// net_t = U x_t + W h_{t-1} + b as it is.
    public var recurrentStructure: RecurrentStructure<Scalar> {
        .elman(ElmanRecurrence(inputWeight: weightIH, recurrentWeight: weightHH, inputBias: biasIH, recurrentBias: biasHH,
                               activation: activation))
    }

    // MARK: - Forward

    public func forwardStep(_ t: Int, _ trace: SequenceTrace<Scalar>, rows: Range<Int>) {
        let n = rows.count * hiddenSize, first = t * trace.batch + rows.lowerBound
        // Product, bias, input and f in one pass where that applies (relu, tanh; H <= 256).
        if let fused = activation.fusedStep,
           fusedRecurrentStep(t, trace, rows: rows, bias: biasHH, hNew: trace.hidden.row(trace.batch + first),
                              activation: fused) { return }
        recurrentProjection(t, trace, rows: rows, weight: weightHH, bias: biasHH)   // preHidden[t] = W h_{t-1} + b_hh
        let x = trace.stepInput(t, row: rows.lowerBound)       // [R, H]  U x_t + b_ih
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

    // MARK: - The whole time loop

    /// Steps 0 ..< `steps` for the batch rows `rows` in one C call, relu and tanh (Float, fast
    /// kernels; else false and `forwardStep` per step). At batch 1 (`predict` and evaluation of
    /// single sequences, `Kernels.rnnForwardRow`) W_hh h_{t-1} is a matrix-vector product of H²
    /// multiply-adds (10,000 at H = 100, about a microsecond), where a Swift call per step costs
    /// as much as the product; above, `Kernels.rnnForwardRows` runs `forwardStep`'s fused step
    /// per t. The same chain per value as `forwardStep`, so the same bits.
    public func forwardSequence(_ trace: SequenceTrace<Scalar>, steps: Int, rows: Range<Int>) -> Bool {
        guard steps <= trace.steps, let fused = activation.fusedStep, let w = fusedStepWeight(trace) else { return false }
        let (weight, packed) = w
        return biasHH.storage.withUnsafeBufferPointer { bias in
            if trace.batch == 1 {
                return rows == 0..<1
                    && Kernels.rnnForwardRow(steps: steps, hidden: hiddenSize, transposedWeight: weight, packed: packed,
                                             bias: bias.baseAddress!, x: trace.preInput.base, net: keptNet(trace),
                                             states: trace.hidden.base, activation: fused)
            }
            return Kernels.rnnForwardRows(steps: steps, batch: trace.batch, rows: rows, hidden: hiddenSize,
                                          transposedWeight: weight, packed: packed, bias: bias.baseAddress!,
                                          preInput: trace.preInput.base, gates: keptNet(trace),
                                          states: trace.hidden.base, activation: fused)
        }
    }

    /// Where the C time loops write net_t: `gates`, or nil (not written) for relu when the trace
    /// does not keep it (`SequenceTrace.keepsNet`): relu's backward reads h_t alone.
    func keptNet(_ trace: SequenceTrace<Scalar>) -> UnsafeMutablePointer<Scalar>? {
        if case .relu = activation, !trace.keepsNet { return nil }
        return trace.gates.base
    }

    /// True for relu and tanh in Float on the fast backend with I >= 1 and more than one sequence
    /// (one sequence runs `forwardSequence`'s row loop): the C loop then forms U x_t + b_ih step by
    /// step (`forwardSequenceProjecting`), for 1 <= I <= `Kernels.fusedInputLimit` in the AVX2
    /// step's epilogue, beyond it as a product of the step's rows just before the step (W_ihᵀ packed
    /// once per pass). Each thread's slice of the batch then forms its own rows, in its own cache,
    /// where one product for all T*B rows first split them by time, not by the threads' rows.
    public func projectsInputsInSequence(_ trace: SequenceTrace<Scalar>) -> Bool {
        activation.fusedStep != nil && trace.batch > 1 && inputSize > 0 && Scalar.self == Float.self
            && Compute.backend == .fast
    }

    /// `forwardSequence` with step t's rows of `preInput` = U x_t + b_ih formed just before step t
    /// reads them (`Kernels.rnnForwardRows(projecting:)`, `inputProjection`'s chain: the same bits)
    /// instead of in a pass over all T*B rows first, which wrote [T*B, H] to memory and read it back
    /// (on AVX2 without AVX-512 the step's epilogue forms them and `preInput` is left unwritten).
    public func forwardSequenceProjecting(_ trace: SequenceTrace<Scalar>, rows: Range<Int>) {
        let done = activation.fusedStep.flatMap { fused in
            fusedStepWeight(trace).map { weight, packed in
                weightIH.storage.withUnsafeBufferPointer { u in
                    biasIH.storage.withUnsafeBufferPointer { bi in
                        biasHH.storage.withUnsafeBufferPointer { bias in
                            Kernels.rnnForwardRows(
                                steps: trace.steps, batch: trace.batch, rows: rows, hidden: hiddenSize, transposedWeight: weight,
                                packed: packed, bias: bias.baseAddress!,
                                projecting: (UnsafePointer(trace.inputs.base), inputSize, u.baseAddress!, bi.baseAddress!),
                                preInput: trace.preInput.base, gates: keptNet(trace), states: trace.hidden.base,
                                activation: fused)
                        }
                    }
                }
            }
        } ?? false
        precondition(done, "RNN: forwardSequenceProjecting called where projectsInputsInSequence is false")
    }

    /// The relu RNN's backward time loop for the batch rows `rows` in one C call
    /// (`Kernels.reluRNNBackwardRows`): per step dh += dOut[t], then `backwardStep`'s relu branch,
    /// for t = T-1 ... 0, the same bits; with AVX-512 or AVX2, on one thread and H <= 256 (AVX2: any H), the relu
    /// selection of step t-1 runs in the epilogue of step t's product dnet_t W_hh. Other activations: false, step by step.
    public func backwardSequence(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                 outputGradient: Matrix<Scalar>?, rows: Range<Int>) -> Bool {
        backwardSequence(trace, grad, outputGradient: outputGradient, steps: 0..<trace.steps, rows: rows)
    }

    /// The same loop for the steps `steps` only (the unroller's chunks, last first), with the bits
    /// of one call over all T: where the relu selection is fused (above) a chunk's last product also
    /// forms the next chunk's first dnet in its epilogue, elsewhere dHidden carries dL/dh_{t0-1} across.
    public func backwardSequence(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                 outputGradient: Matrix<Scalar>?, steps: Range<Int>, rows: Range<Int>) -> Bool {
        guard case .relu = activation else { return false }
        let packed = trace.packedRecurrentWeights?.plain          // panels of W_hh, from prepare(_:), H > 256
        return weightHH.storage.withUnsafeBufferPointer { w in
            func run(_ dOut: UnsafePointer<Scalar>?) -> Bool {
                Kernels.reluRNNBackwardRows(steps: trace.steps, only: steps, batch: trace.batch, rows: rows, hidden: hiddenSize,
                                            weight: packed.map { UnsafePointer($0.base) } ?? w.baseAddress!,
                                            packed: packed != nil, states: trace.hidden.base, outputGradient: dOut,
                                            dHidden: grad.dHidden.base, dPreInput: grad.dPreInput.base)
            }
            guard let outputGradient else { return run(nil) }
            return outputGradient.storage.withUnsafeBufferPointer { run($0.baseAddress!) }
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
        if case .relu = f {   // relu'(net) from h = max(0, net): h <= 0 exactly where net <= 0, NaN where net is
            if !Kernels.reluBackward(count: n, net: h, dh: dh, into: dnet) {
                for i in 0..<n { dnet[i] = h[i] <= 0 ? 0 : dh[i] }
            }
        } else {
            for i in 0..<n { dnet[i] = dh[i] * f.derivative(input: net[i], output: h[i]) }
        }
        recurrentProjectionBackward(t, trace, grad, rows: rows, weight: weightHH, accumulate: false)   // dh_{t-1} = dnet W
    }
}

extension CellKind {
    /// The simple (Elman) RNN, `RNNCell`.
    public static let rnn = CellKind(declaring: "rnn")
}
