/// The coupled oscillatory RNN of Rusch & Mishra (ICLR 2021), "Coupled Oscillatory Recurrent
/// Neural Network (coRNN): An accurate and (gradient) stable architecture for learning long
/// time dependencies": a network of damped, driven oscillators,
///
///     y'' = σ(W y + 𝒲 y' + V u + b) − γ y − ε y',
///
/// written as y' = z, z' = σ(W y + 𝒲 z + V u + b) − γ y − ε z and stepped with Δt as the
/// authors' code does (`coRNNCell.forward` in github.com/tk-rusch/coRNN, e.g. psMNIST/network.py):
///
///     z_t = z_{t-1} + Δt (tanh(V u_t + b + W y_{t-1} + 𝒲 z_{t-1}) − γ y_{t-1} − ε z_{t-1})
///     y_t = y_{t-1} + Δt z_t
///
/// y is the state the next layer and the readout read (`hidden`, like h); z is carried beside
/// it like the LSTM's c (`memory`). The activation is tanh, as in the authors' code.
///
/// Tensors (`state_dict` order, PyTorch-style names; I inputs, H units):
///
///     rnn.weight_ih_l{k}  V [H, I]    on the input u_t
///     rnn.weight_hh_l{k}  W [H, H]    on y_{t-1}
///     rnn.weight_hz_l{k}  𝒲 [H, H]    on z_{t-1}
///     rnn.bias_ih_l{k}    b [H]
///
/// The authors hold them as one `i2h = nn.Linear(I + 2H, H)` applied to cat(u, z, y):
/// `i2h.weight` = [weight_ih | weight_hz | weight_hh] (columns I, H, H), `i2h.bias` = bias_ih.
/// Their default initialisation is that Linear's, U(-1/sqrt(I + 2H), 1/sqrt(I + 2H)) for every
/// tensor, which `pytorchDefault` gives here. Hyper-parameters `dt`, `gamma`, `epsilon` default
/// to the authors' psMNIST settings (0.076, 0.4, 8.0) and are kept in checkpoint metadata;
/// for their adding-problem settings see README.
public struct CoRNNCell<Scalar: NeuralScalar>: RecurrentCell {
    public static var kind: CellKind { .cornn }
    public static var gateCount: Int { 1 }
    public static var hasMemory: Bool { true }
    /// Variational dropout masks y_{t-1} in W y_{t-1} only; γ y_{t-1} and y_{t-1} + Δt z_t carry
    /// it unmasked (the scratch holds that part of dL/dy_{t-1} while the mask scales the product's).
    public static var carriesUnmaskedState: Bool { true }
    public static var usesBackwardScratch: Bool { true }
    public static var fixedActivation: Activation? { .tanh }
    public static var hyperparameters: [CellHyperparameter] { [.cornnStep, .cornnGamma, .cornnEpsilon] }

    public static var tensors: [CellTensor] {
        [CellTensor("weight_ih", rows: .gates, cols: .inputs, role: .inputWeight),
         CellTensor("weight_hh", rows: .hidden, cols: .hidden, role: .recurrentWeight),
         CellTensor("weight_hz", rows: .hidden, cols: .hidden, role: .recurrentWeight),
         CellTensor("bias_ih", rows: .one, cols: .gates, role: .inputBias)]
    }

    public static var presets: [CellPreset] {
        [CellPreset("cornn", summary: "coupled oscillators, dt 0.076, gamma 0.4, epsilon 8, the authors' initialisation",
                    settings: defaultSettings)]
    }

    /// `pytorchDefault` is the authors' `nn.Linear(I + 2H, H)`: U(-1/sqrt(I + 2H), 1/sqrt(I + 2H))
    /// for the weights and the bias alike.
    public static func initializer(for tensor: CellTensor, settings: CellSettings, inputSize: Int, hiddenSize: Int) -> Initializer {
        let given = tensor.role == .inputBias ? settings.biasInit : tensor.role == .inputWeight ? settings.inputInit : settings.recurrentInit
        if case .pytorchDefault = given { return .uniform(bound: 1 / Double(inputSize + 2 * hiddenSize).squareRoot()) }
        return given
    }

    public var parameters: CellParameters<Scalar>
    public var activation: Activation { .tanh }
    /// Δt, the step of the discretisation.
    public var dt: Double
    /// γ, the oscillators' stiffness (restoring force on y).
    public var gamma: Double
    /// ε, the damping (on z = y').
    public var epsilon: Double

    /// V = `weight_ih` [H, I]
    public var weightIH: Matrix<Scalar> { get { parameters[0] } _modify { yield &parameters[0] } }
    /// W = `weight_hh` [H, H], on y
    public var weightHH: Matrix<Scalar> { get { parameters[1] } _modify { yield &parameters[1] } }
    /// 𝒲 = `weight_hz` [H, H], on z
    public var weightHZ: Matrix<Scalar> { get { parameters[2] } _modify { yield &parameters[2] } }
    /// b = `bias_ih` [1, H]
    public var biasIH: Matrix<Scalar> { get { parameters[3] } _modify { yield &parameters[3] } }

    /// `parameters` in the order `weight_ih`, `weight_hh`, `weight_hz`, `bias_ih`.
    public init(parameters: CellParameters<Scalar>, dt: Double, gamma: Double, epsilon: Double) {
        precondition(parameters.count == 4, "a coRNN layer has 4 tensors (weight_ih, weight_hh, weight_hz, bias_ih), got \(parameters.count)")
        self.parameters = parameters
        self.dt = dt
        self.gamma = gamma
        self.epsilon = epsilon
    }

    public init(parameters: CellParameters<Scalar>, settings: CellSettings) {
        self.init(parameters: parameters, dt: settings[.cornnStep] ?? 0.076, gamma: settings[.cornnGamma] ?? 0.4,
                  epsilon: settings[.cornnEpsilon] ?? 8)
    }

    public var hyperparameterValues: [String: Double] {
        [CellHyperparameter.cornnStep.key: dt, CellHyperparameter.cornnGamma.key: gamma, CellHyperparameter.cornnEpsilon.key: epsilon]
    }

    /// A second-order update, not net_t = U x_t + W h_{t-1}: the spectra of W (on y) and 𝒲 (on z).
    public var recurrentStructure: RecurrentStructure<Scalar> {
        .blocks([RecurrentBlock(name: "y", weight: weightHH), RecurrentBlock(name: "z", weight: weightHZ)],
                note: "coRNN: z_t = z_{t-1} + dt (tanh(V u_t + b + W y_{t-1} + 𝒲 z_{t-1}) - γ y_{t-1} - ε z_{t-1}), y_t = y_{t-1} + dt z_t is a second-order oscillator, not net_t = U x_t + W h_{t-1}; forward growth (10.11) and the Jacobian (10.12) are not diagnosed, only the spectra of W (block y, on y) and 𝒲 (block z, on z)")
    }

    /// Wᵀ and 𝒲ᵀ, stacked [2H, H], so that both per-step products read unit-stride rows.
    public func prepare(_ trace: SequenceTrace<Scalar>) {
        let h = hiddenSize
        let wt = trace.transposedRecurrentWeight.flatMap { $0.rows == 2 * h && $0.cols == h ? $0 : nil }
            ?? RowBuffer<Scalar>(rows: 2 * h, cols: h)
        for (k, w) in [weightHH, weightHZ].enumerated() {
            w.storage.withUnsafeBufferPointer { src in
                let dst = wt.row(k * h)
                for r in 0..<h { for c in 0..<h { dst[c * h + r] = src[r * h + c] } }
            }
        }
        trace.transposedRecurrentWeight = wt
    }

    // MARK: - Forward

    /// preHidden[t] = W y_{t-1} + 𝒲 z_{t-1}, then a = preInput[t] + preHidden[t] (kept in
    /// preHidden), gates[t] = s = tanh(a), memory[t+1] = z_t, hidden[t+1] = y_t.
    public func forwardStep(_ t: Int, _ trace: SequenceTrace<Scalar>, rows: Range<Int>) {
        let b = trace.batch, h = hiddenSize, m = rows.count, n = m * h, first = t * b + rows.lowerBound
        let y = trace.hidden.row(first), z = trace.memory.row(first)                 // [R, H]  y_{t-1}, z_{t-1}
        let a = trace.preHidden.row(first)                                            // [R, H]
        products(y, z, into: a, rows: m, trace)
        let x = trace.stepInput(t, row: rows.lowerBound), s = trace.gates.row(first)                // [R, H]  V u_t + b; σ(a)
        if !Kernels.tanhStep(count: n, x: x, r: a, net: a, h: s) {
            for i in 0..<n {
                let v = x[i] + a[i]
                a[i] = v
                s[i] = Scalar.tanh(v)
            }
        }
        let yNew = trace.hidden.row(b + first), zNew = trace.memory.row(b + first)   // [R, H]  y_t, z_t
        let yc = trace.unmaskedPrevious(row: first)                                   // y_{t-1} outside W (y itself without dropout)
        let dt = Scalar(self.dt), gamma = Scalar(self.gamma), epsilon = Scalar(self.epsilon)
        for i in 0..<n {
            let zt = z[i] + dt * (s[i] - gamma * yc[i] - epsilon * z[i])
            zNew[i] = zt
            yNew[i] = yc[i] + dt * zt
        }
    }

    /// out = y Wᵀ + z 𝒲ᵀ for `rows` rows ([R, H] x [H, H], twice).
    func products(_ y: UnsafeMutablePointer<Scalar>, _ z: UnsafeMutablePointer<Scalar>, into out: UnsafeMutablePointer<Scalar>,
                  rows m: Int, _ trace: SequenceTrace<Scalar>) {
        let h = hiddenSize
        if let wt = trace.transposedRecurrentWeight, wt.rows == 2 * h {
            Kernels.gemm(transA: false, transB: false, m: m, n: h, k: h, a: y, lda: h, b: wt.base, ldb: h, c: out, ldc: h, accumulate: false)
            Kernels.gemm(transA: false, transB: false, m: m, n: h, k: h, a: z, lda: h, b: wt.row(h), ldb: h, c: out, ldc: h, accumulate: true)
            return
        }
        for (k, w) in [weightHH, weightHZ].enumerated() {
            w.storage.withUnsafeBufferPointer { w in
                Kernels.gemm(transA: false, transB: true, m: m, n: h, k: h, a: k == 0 ? y : z, lda: h, b: w.baseAddress!, ldb: h,
                             c: out, ldc: h, accumulate: k == 1)
            }
        }
    }

    // MARK: - Backward (mirror order)

    /// With g_z = dL/dz_t + Δt dL/dy_t (z_t reaches the loss also through y_t):
    /// dL/da = Δt g_z (1 − s²), dL/dy_{t-1} = dL/dy_t − Δt γ g_z + dL/da W,
    /// dL/dz_{t-1} = (1 − Δt ε) g_z + dL/da 𝒲.
    public func backwardStep(_ t: Int, _ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>, rows: Range<Int>) {
        let b = trace.batch, h = hiddenSize, m = rows.count, n = m * h, first = t * b + rows.lowerBound
        let s = trace.gates.row(first)                                                // [R, H]
        let dy = grad.dHidden.row(rows.lowerBound), dz = grad.dMemory.row(rows.lowerBound)   // [R, H]  in: dL/dy_t, dL/dz_t
        let da = grad.dPreInput.row(first)                                            // [R, H]  dL/da = dPreHidden[t]
        let dt = Scalar(self.dt), gamma = Scalar(self.gamma), epsilon = Scalar(self.epsilon)
        for i in 0..<n {
            let gz = dz[i] + dt * dy[i]
            da[i] = dt * gz * (1 - s[i] * s[i])
            dy[i] = dy[i] - dt * gamma * gz
            dz[i] = gz - dt * epsilon * gz
        }
        if let mask = trace.stateMask?.row(rows.lowerBound) {                       // variational dropout: only W y saw the mask
            let product = grad.scratch.row(rows.lowerBound)                           // dL/dy_{t-1} += mask ⊙ (da W)
            weightHH.storage.withUnsafeBufferPointer { w in
                Kernels.gemm(transA: false, transB: false, m: m, n: h, k: h, a: da, lda: h, b: w.baseAddress!, ldb: h,
                             c: product, ldc: h, accumulate: false)
            }
            for i in 0..<n { dy[i] += product[i] * mask[i] }
        } else {
            weightHH.storage.withUnsafeBufferPointer { w in                          // dL/dy_{t-1} += da W
                Kernels.gemm(transA: false, transB: false, m: m, n: h, k: h, a: da, lda: h, b: w.baseAddress!, ldb: h,
                             c: dy, ldc: h, accumulate: true)
            }
        }
        weightHZ.storage.withUnsafeBufferPointer { w in                              // dL/dz_{t-1} += da 𝒲
            Kernels.gemm(transA: false, transB: false, m: m, n: h, k: h, a: da, lda: h, b: w.baseAddress!, ldb: h,
                         c: dz, ldc: h, accumulate: true)
        }
    }

    /// dW = daᵀ [y_0 ... y_{T-1}], d𝒲 = daᵀ [z_0 ... z_{T-1}], one product each over all steps.
    public func recurrentWeightGradients(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                         into gradients: inout CellParameters<Scalar>) {
        let rows = trace.steps * trace.batch, h = hiddenSize
        for (k, states) in [(1, trace.hidden), (2, trace.memory)] {
            gradients[k].storage.withUnsafeMutableBufferPointer { dW in
                Kernels.gemm(transA: true, transB: false, m: h, n: h, k: rows, a: grad.dPreHidden.base, lda: h,
                             b: states.base, ldb: h, c: dW.baseAddress!, ldc: h, accumulate: true)
            }
        }
    }
}

extension CellKind {
    /// The coupled oscillatory RNN, `CoRNNCell`.
    public static let cornn = CellKind(declaring: "cornn")
}

extension CellHyperparameter {
    /// coRNN: Δt, the step of the discretisation (authors' psMNIST default 0.076).
    public static let cornnStep = CellHyperparameter(
        key: "dt", option: "dt", noun: "coRNN step dt", summary: "the time step", defaultValue: 0.076,
        domain: .positive, inMetadata: true)
    /// coRNN: γ, the restoring force on y (authors' psMNIST default 0.4).
    public static let cornnGamma = CellHyperparameter(
        key: "gamma", option: "gamma", noun: "coRNN stiffness gamma", summary: "the restoring force on y", defaultValue: 0.4,
        domain: .positive, inMetadata: true)
    /// coRNN: ε, the damping of z (authors' psMNIST default 8.0).
    public static let cornnEpsilon = CellHyperparameter(
        key: "epsilon", option: "epsilon", noun: "coRNN damping epsilon", summary: "the damping of z", defaultValue: 8,
        domain: .positive, inMetadata: true)
}
