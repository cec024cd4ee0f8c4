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
    public static var hyperparameters: [CellHyperparameter] { [.recurrentBound] }

    /// PyTorch's layout with u = `weight_hh` a vector [1, H], saved as [H].
    public static var tensors: [CellTensor] {
        [CellTensor("weight_ih", rows: .gates, cols: .inputs, role: .inputWeight),
         CellTensor("weight_hh", rows: .one, cols: .hidden, role: .recurrentWeight),
         CellTensor("bias_ih", rows: .one, cols: .gates, role: .inputBias),
         CellTensor("bias_hh", rows: .one, cols: .gates, role: .recurrentBias)]
    }

    /// relu, u = 1, U with PyTorch's default, zero biases (Li et al. 2018).
    public static var presets: [CellPreset] {
        [CellPreset("indrnn", summary: "relu, u = 1, zero biases",
                    settings: CellSettings(activation: .relu, recurrentInit: .constant(1), biasInit: .zeros))]
    }

    /// u is a vector: `identity(s)` means u = s.
    public static func initializer(for tensor: CellTensor, settings: CellSettings, inputSize: Int, hiddenSize: Int) -> Initializer {
        if tensor.role == .recurrentWeight, case .identity(let s) = settings.recurrentInit { return .constant(s) }
        return roleInitializer(for: tensor, settings: settings, hiddenSize: hiddenSize)
    }

    public var parameters: CellParameters<Scalar>
    public var activation: Activation
    /// u_max, or nil for no bound.
    public var recurrentBound: Double?

    /// U = `weight_ih` [H, I]
    public var weightIH: Matrix<Scalar> { get { parameters[0] } _modify { yield &parameters[0] } }
    /// u = `weight_hh` [1, H]
    public var weightHH: Matrix<Scalar> { get { parameters[1] } _modify { yield &parameters[1] } }
    /// `bias_ih` [1, H]
    public var biasIH: Matrix<Scalar> { get { parameters[2] } _modify { yield &parameters[2] } }
    /// `bias_hh` [1, H]
    public var biasHH: Matrix<Scalar> { get { parameters[3] } _modify { yield &parameters[3] } }

    /// `parameters` in PyTorch's order: `weight_ih`, `weight_hh` (u, [1, H]), `bias_ih`, `bias_hh`.
    public init(parameters: CellParameters<Scalar>, activation: Activation, recurrentBound: Double? = nil) {
        precondition(parameters.count == 4, "an IndRNN layer has 4 tensors (weight_ih, weight_hh, bias_ih, bias_hh), got \(parameters.count)")
        self.parameters = parameters
        self.activation = activation
        self.recurrentBound = recurrentBound
    }

    public init(parameters: CellParameters<Scalar>, settings: CellSettings) {
        self.init(parameters: parameters, activation: settings.activation, recurrentBound: settings[.recurrentBound])
    }

    public var hyperparameterValues: [String: Double] {
        recurrentBound.map { [CellHyperparameter.recurrentBound.key: $0] } ?? [:]
    }

    /// net_t = U x_t + u ⊙ h_{t-1} + b is the RNN with W = diag(u).
    public var recurrentStructure: RecurrentStructure<Scalar> {
        let h = hiddenSize
        var w = Matrix<Scalar>(rows: h, cols: h)
        for j in 0..<h { w[j, j] = weightHH.storage[j] }
        return .elman(ElmanRecurrence(inputWeight: weightIH, recurrentWeight: w, inputBias: biasIH, recurrentBias: biasHH,
                                      activation: activation, isDiagonal: true,
                                      note: "IndRNN: u diagnosed as the diagonal recurrent matrix W = diag(u)"))
    }

    // MARK: - Forward

    public func forwardStep(_ t: Int, _ trace: SequenceTrace<Scalar>, rows: Range<Int>) {
        let b = trace.batch, hs = hiddenSize, f = activation
        weightHH.storage.withUnsafeBufferPointer { u in
            biasHH.storage.withUnsafeBufferPointer { bias in
                for row in rows {
                    let x = trace.stepInput(t, row: row), rec = trace.preHidden.row(t * b + row)
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
        weightHH.storage.withUnsafeBufferPointer { u in
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

    // MARK: - The whole time loop (Float, relu)

    /// All T steps for the batch rows `rows` in one C call (`Kernels.indRNNForward`): the
    /// operations of `forwardStep` per element in the same order, so the same bits, without
    /// the unroller's call per step (a step is only B*H multiply-adds). `gates` (net) and
    /// `hidden` as `forwardStep` writes them; `preHidden` (u ⊙ h_{t-1} + b_hh) is not stored:
    /// nothing reads it.
    public func forwardSequence(_ trace: SequenceTrace<Scalar>, rows: Range<Int>) -> Bool {
        guard case .relu = activation else { return false }
        return weightHH.storage.withUnsafeBufferPointer { u in
            biasHH.storage.withUnsafeBufferPointer { bias in
                Kernels.indRNNForward(steps: trace.steps, batch: trace.batch, rows: rows, hidden: hiddenSize,
                                      u: u.baseAddress!, bias: bias.baseAddress!, preInput: trace.preInput.base,
                                      preHidden: nil, gates: trace.gates.base, states: trace.hidden.base)
            }
        }
    }

    /// The mirror of `forwardSequence` (`Kernels.indRNNBackward`): per step dh += dOut[t],
    /// then `backwardStep`'s relu branch, for t = T-1 ... 0; the same bits.
    public func backwardSequence(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                 outputGradient: Matrix<Scalar>?, rows: Range<Int>) -> Bool {
        guard case .relu = activation else { return false }
        return weightHH.storage.withUnsafeBufferPointer { u in
            func run(_ dOut: UnsafePointer<Scalar>?) -> Bool {
                Kernels.indRNNBackward(steps: trace.steps, batch: trace.batch, rows: rows, hidden: hiddenSize,
                                       u: u.baseAddress!, gates: trace.gates.base, outputGradient: dOut,
                                       dHidden: grad.dHidden.base, dPreInput: grad.dPreInput.base)
            }
            guard let outputGradient else { return run(nil) }
            return outputGradient.storage.withUnsafeBufferPointer { run($0.baseAddress!) }
        }
    }

    /// du = Σ_t Σ_b dnet ⊙ h_{t-1}, db_hh = Σ_t Σ_b dnet, rows t*B + b in order (vectorised
    /// across units in C where it applies: the same additions).
    public func recurrentWeightGradients(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                         into gradients: inout CellParameters<Scalar>) {
        let rows = trace.steps * trace.batch, hs = hiddenSize
        var du: [Scalar] = [], db: [Scalar] = []
        swap(&du, &gradients[1].storage)                        // out and back in: no copy
        swap(&db, &gradients[3].storage)
        defer { swap(&du, &gradients[1].storage); swap(&db, &gradients[3].storage) }
        du.withUnsafeMutableBufferPointer { du in
            db.withUnsafeMutableBufferPointer { db in
                if Kernels.indRNNWeightGradients(rows: rows, hidden: hs, dnet: grad.dPreHidden.base, states: trace.hidden.base,
                                                 du: du.baseAddress!, db: db.baseAddress!) { return }
                for r in 0..<rows {
                    let d = grad.dPreHidden.row(r), hPrev = trace.hidden.row(r)
                    for j in 0..<hs {
                        du[j] += d[j] * hPrev[j]
                        db[j] += d[j]
                    }
                }
            }
        }
    }

    // MARK: - The input product inside the loop (Float, relu, 1 <= I <= 8)

    /// True for relu in Float on the fast backend with 1 <= I <= `Kernels.fusedInputLimit`:
    /// U x_t + b_ih costs I fused multiply-adds per element, less than a pass over a [T*B, H]
    /// buffer written by a product and read back by the loop.
    public func projectsInputsInSequence(_ trace: SequenceTrace<Scalar>) -> Bool {
        guard case .relu = activation else { return false }
        return Kernels.fusesInputs(Scalar.self, inputSize: inputSize)
    }

    /// `forwardSequence` with U x_t + b_ih formed per element from `trace.inputs` as the
    /// unroller's product forms it (b_ih, then one fma per input: the same bits,
    /// `Kernels.indRNNForwardProjecting`); writes `gates` (net) and `hidden`, not `preInput`.
    public func forwardSequenceProjecting(_ trace: SequenceTrace<Scalar>, rows: Range<Int>) {
        let ut = inputSize == 1 ? weightIH.storage : weightIH.transposed.storage       // W_ihᵀ [I, H]
        let done = ut.withUnsafeBufferPointer { ut in
            biasIH.storage.withUnsafeBufferPointer { bi in
                weightHH.storage.withUnsafeBufferPointer { u in
                    biasHH.storage.withUnsafeBufferPointer { bias in
                        Kernels.indRNNForwardProjecting(
                            steps: trace.steps, batch: trace.batch, rows: rows, hidden: hiddenSize, inputSize: inputSize,
                            inputs: trace.inputs.base, inputWeightT: ut.baseAddress!, inputBias: bi.baseAddress!,
                            u: u.baseAddress!, bias: bias.baseAddress!, gates: trace.gates.base, states: trace.hidden.base)
                    }
                }
            }
        }
        precondition(done, "IndRNN: forwardSequenceProjecting called where projectsInputsInSequence is false")
    }

    /// dW_ih, db_ih, du and db_hh in one pass over dnet [T*B, H], X and h_{t-1}
    /// (`Kernels.indRNNGradients`) instead of four, with the bits of the unroller's products
    /// and `recurrentWeightGradients` (each sum over rows t*B + b in order); the units split
    /// among the threads in blocks of 16 (a unit's sums never depend on the split). Any
    /// activation (it reads only dnet); Float on the fast backend with 1 <= I <= 8. Runs for
    /// uneven lengths (equal ones take `backwardSequenceSummingGradients`).
    public func weightGradientsInOnePass(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                         into gradients: inout CellParameters<Scalar>) -> Bool {
        let i = inputSize, h = hiddenSize, rows = trace.steps * trace.batch
        guard trace.stateMask == nil, Kernels.fusesInputs(Scalar.self, inputSize: i) else { return false }
        let parts = rows * h >= 65_536 ? Compute.threads : 1, blocks = (h + 15) / 16
        Self.withWeightGradients(&gradients, inputSize: i, hidden: h) { dwt, dbi, du, dbh in
            Compute.forEachSlice(of: blocks, parts: parts) { slice in
                let units = slice.lowerBound * 16 ..< Swift.min(h, slice.upperBound * 16)
                _ = Kernels.indRNNGradients(rows: rows, hidden: h, units: units, inputSize: i,
                                            dnet: grad.dPreInput.base, inputs: trace.inputs.base, states: trace.hidden.base,
                                            inputWeightT: dwt, inputBias: dbi, du: du, db: dbh)
            }
        }
        return true
    }

    /// The backward loop with the weight gradients summed inside it (relu, Float on the fast
    /// backend, 1 <= I <= 8): per batch row, while t runs down, dW_ih += dnet x_tᵀ (fma),
    /// db += dnet, du += dnet ⊙ h_{t-1} into the row's own partial sums, then the rows' partials
    /// added in order (`Kernels.indRNNBackwardSumming`, `indRNNSumPartials`). dnet is stored
    /// only for dL/dx, and the [T*B, H] buffers are read once instead of three times (dnet written
    /// and read back, h_{t-1} read again). **Other bits than the products'** (each unit's sum
    /// runs over t descending within a row, then over rows, instead of over rows t*B + b in
    /// order); the same bits for any thread count (a row's sums belong to that row).
    public func backwardSequenceSummingGradients(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                                 outputGradient: Matrix<Scalar>?, storeInputGradient: Bool,
                                                 into gradients: inout CellParameters<Scalar>) -> Bool {
        let i = inputSize, h = hiddenSize, b = trace.batch
        guard case .relu = activation, Kernels.fusesInputs(Scalar.self, inputSize: i) else { return false }
        var partials = [Scalar](repeating: 0, count: b * (i + 2) * h)      // [B][I+2][H]: each row's own sums
        let split = batchSplit(trace)
        weightHH.storage.withUnsafeBufferPointer { u in
            partials.withUnsafeMutableBufferPointer { p in
                func run(_ dOut: UnsafePointer<Scalar>?) {
                    Compute.forEachSlice(of: b, parts: split.parts, threadsPerSlice: split.inner) { rows in
                        _ = Kernels.indRNNBackwardSumming(
                            steps: trace.steps, batch: b, rows: rows, hidden: h, inputSize: i, u: u.baseAddress!,
                            gates: trace.gates.base, outputGradient: dOut, inputs: trace.inputs.base, states: trace.hidden.base,
                            dHidden: grad.dHidden.base, dPreInput: storeInputGradient ? grad.dPreInput.base : nil,
                            partials: p.baseAddress!)
                    }
                }
                guard let outputGradient else { return run(nil) }
                outputGradient.storage.withUnsafeBufferPointer { run($0.baseAddress!) }
            }
        }
        partials.withUnsafeBufferPointer { p in
            Self.withWeightGradients(&gradients, inputSize: i, hidden: h) { dwt, dbi, du, dbh in
                _ = Kernels.indRNNSumPartials(batch: b, hidden: h, inputSize: i, partials: p.baseAddress!,
                                              inputWeightT: dwt, inputBias: dbi, du: du, db: dbh)
            }
        }
        return true
    }

    /// Runs `body` on the four gradients' storage: dW_ih as its transpose [I, H] (so that the
    /// passes run along units; I = 1: the same), db_ih, du, db_hh; taken out of `gradients`
    /// and put back (no copy-on-write check per element).
    static func withWeightGradients(_ gradients: inout CellParameters<Scalar>, inputSize i: Int, hidden h: Int,
                                    _ body: (UnsafeMutablePointer<Scalar>, UnsafeMutablePointer<Scalar>,
                                             UnsafeMutablePointer<Scalar>, UnsafeMutablePointer<Scalar>) -> Void) {
        var dw: [Scalar] = [], dbi: [Scalar] = [], du: [Scalar] = [], dbh: [Scalar] = []
        swap(&dw, &gradients[0].storage)                        // out and back in: no copy
        swap(&du, &gradients[1].storage)
        swap(&dbi, &gradients[2].storage)
        swap(&dbh, &gradients[3].storage)
        defer {
            swap(&dw, &gradients[0].storage); swap(&du, &gradients[1].storage)
            swap(&dbi, &gradients[2].storage); swap(&dbh, &gradients[3].storage)
        }
        var dwt = i == 1 ? dw : Matrix(rows: h, cols: i, dw).transposed.storage     // [I, H]
        dwt.withUnsafeMutableBufferPointer { dwt in
            dbi.withUnsafeMutableBufferPointer { dbi in
                du.withUnsafeMutableBufferPointer { du in
                    dbh.withUnsafeMutableBufferPointer { dbh in
                        body(dwt.baseAddress!, dbi.baseAddress!, du.baseAddress!, dbh.baseAddress!)
                    }
                }
            }
        }
        dw = i == 1 ? dwt : Matrix(rows: i, cols: h, dwt).transposed.storage
    }

    /// No matrix to transpose: u ⊙ h_{t-1} is elementwise.
    public func prepare(_ trace: SequenceTrace<Scalar>) {}

    /// Clamps u to [-u_max, u_max].
    public mutating func applyConstraints() {
        guard let bound = recurrentBound else { return }
        let m = Scalar(bound)
        weightHH.storage.withUnsafeMutableBufferPointer { u in
            for j in u.indices { u[j] = Swift.min(Swift.max(u[j], -m), m) }
        }
    }
}

extension CellKind {
    /// The independently recurrent network, `IndRNNCell`.
    public static let indrnn = CellKind(declaring: "indrnn")
}

extension CellHyperparameter {
    /// IndRNN: |u_j| <= this bound after every update (e.g. 2^(1/T) for relu); off by default.
    public static let recurrentBound = CellHyperparameter(
        key: "recurrentBound", option: "bound", noun: "recurrent bound",
        summary: "|u| <= bound after every update", domain: .positive)
}
