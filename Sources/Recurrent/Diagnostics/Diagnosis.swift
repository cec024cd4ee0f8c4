// MARK: - The seed's argument, measured: settings, one run, the whole diagnosis

/// One (activation, recurrent initialiser) pair of the comparison, with the sizes shared
/// by all pairs. Everything random comes from `seed`, drawn in a fixed order: W [H, H],
/// U [H, I], b_ih [1, H] (b_hh = 0), the inputs x_t ~ N(0, 1) [T*B, I], then the loss
/// readout r ~ N(0, I_H). Pairs with the same initialiser and seed therefore share W, U
/// and the inputs: only f differs.
public struct DiagnosisSetting: Sendable, Hashable {
    public var activation: Activation
    /// W = `weight_hh`.
    public var recurrentInit: Initializer
    /// U = `weight_ih`.
    public var inputInit: Initializer
    /// b = `bias_ih` (`bias_hh` is 0).
    public var biasInit: Initializer
    /// H
    public var hiddenSize: Int
    /// I
    public var inputSize: Int
    /// T
    public var length: Int
    /// B
    public var batch: Int
    public var seed: UInt64
    /// How many sequences of the batch the Jacobian averages over (log10, geometric mean).
    public var jacobianSequences: Int

    public init(activation: Activation, recurrentInit: Initializer, inputInit: Initializer = DiagnosisSetting.defaultInputInit,
                biasInit: Initializer = .zeros, hiddenSize: Int = 100, inputSize: Int = 2, length: Int = 200,
                batch: Int = 32, seed: UInt64 = 1, jacobianSequences: Int = 1) {
        self.activation = activation
        self.recurrentInit = recurrentInit
        self.inputInit = inputInit
        self.biasInit = biasInit
        self.hiddenSize = hiddenSize
        self.inputSize = inputSize
        self.length = length
        self.batch = batch
        self.seed = seed
        self.jacobianSequences = jacobianSequences
    }

    // MARK: - The seed's comparison

    /// The entry standard deviation of the default Gaussian W. At H = 100 it gives
    /// s sqrt(H) = 3, so rho(W) is near 3 (circular law) and a ReLU state, with about half
    /// of its units active, grows by about s sqrt(H/2) = 2.1 per step: from ||h_1|| ~ 1e-2
    /// it overflows Float32 (3.4e38) near t = 125, well inside T = 200, while tanh saturates.
    /// (0.1, the example of issue 3, puts rho(W) at about 1, the edge, where the ReLU state
    /// decays slowly; 0.2 grows x1.36 per step and stays below Float32's limit for 200 steps;
    /// 0.001, Le et al.'s baseline, shows only vanishing: run it with `--recurrent-init`.)
    public static let defaultGaussianStd = 0.3
    /// U ~ N(0, 0.001^2), as in Le et al. (2015).
    public static let defaultInputInit = Initializer.gaussian(std: 0.001)
    /// The seed's comparison: relu and tanh, each with W = I and with a Gaussian W.
    public static let seedComparison: [(activation: Activation, recurrentInit: Initializer)] = [
        (.relu, .identity(scale: 1)), (.relu, .gaussian(std: defaultGaussianStd)),
        (.tanh, .identity(scale: 1)), (.tanh, .gaussian(std: defaultGaussianStd)),
    ]

    /// Throws when a size is impossible.
    public func validate() throws(ConfigurationError) {
        if hiddenSize < 1 { throw ConfigurationError("hidden size must be at least 1, got \(hiddenSize)") }
        if inputSize < 1 { throw ConfigurationError("input size must be at least 1, got \(inputSize)") }
        if length < 2 { throw ConfigurationError("length must be at least 2 (a lag needs two steps), got \(length)") }
        if batch < 1 { throw ConfigurationError("batch must be at least 1, got \(batch)") }
        if jacobianSequences < 1 { throw ConfigurationError("the Jacobian needs at least 1 sequence, got \(jacobianSequences)") }
        try activation.validate()
        for initializer in [recurrentInit, inputInit, biasInit] { try initializer.validate() }
    }

    /// The generator positioned at the start of this setting's draws.
    public var generator: SeededGenerator { SeededGenerator(seed: seed) }

    /// Draws W, U and b (in that order) as a Float32 RNN cell, as `train` would.
    public func cell(using rng: inout some RandomNumberGenerator) -> RNNCell<Float> {
        let h = hiddenSize
        let w: Matrix<Float> = recurrentInit.matrix(rows: h, cols: h, using: &rng)
        let u: Matrix<Float> = inputInit.matrix(rows: h, cols: inputSize, using: &rng)
        let b: Matrix<Float> = biasInit.matrix(rows: 1, cols: h, using: &rng)
        return RNNCell(weightIH: u, weightHH: w, biasIH: b, biasHH: Matrix(rows: 1, cols: h), activation: activation)
    }
}

/// Every measurement of one RNN cell: the spectrum of its W (claim 3), its forward growth
/// on random inputs and on a single input followed by zeros (10.11, claim 1), and the
/// Jacobian and gradient series along the random-input trajectory (10.12, claim 2).
public struct DiagnosisRun: Sendable {
    public var activation: Activation
    /// The initialiser's text form, or where W came from (e.g. `checkpoint:model.safetensors`).
    public var recurrentInit: String
    /// H
    public var hiddenSize: Int
    /// I
    public var inputSize: Int
    /// T
    public var length: Int
    /// B
    public var batch: Int
    public var spectrum: Spectrum
    /// x_t ~ N(0, 1) at every step.
    public var forward: ForwardGrowth
    /// x_1 as in `forward`, x_t = 0 for t >= 2: the pure recurrence h_t = f(W h_{t-1} + b).
    public var zeroInput: ForwardGrowth
    /// Along the first `jacobian.sequences` random-input trajectories, recomputed in Double.
    public var jacobian: JacobianGrowth

    /// Measures `cell`, drawing the inputs and the readout r from `rng`.
    ///
    /// - Throws: `LinearAlgebraError` when W holds NaN/inf or its eigenvalues do not converge.
    public init(cell: RNNCell<Float>, recurrentInit: String, length: Int, batch: Int, jacobianSequences: Int = 1,
                using rng: inout some RandomNumberGenerator) throws {
        let h = cell.hiddenSize, i = cell.inputSize
        activation = cell.activation
        self.recurrentInit = recurrentInit
        hiddenSize = h; inputSize = i; self.length = length; self.batch = batch
        spectrum = try Spectrum(cell.weightHH)

        // x_t ~ N(0, 1): [T*B, I] time-major
        let x = Matrix<Float>(rows: length * batch, cols: i, (0..<(length * batch * i)).map { _ in Float(Draw.gaussian(&rng)) })
        let readout = (0..<h).map { _ in Draw.gaussian(&rng) }
        forward = ForwardGrowth(cell: cell, inputs: x, steps: length, batch: batch)
        var impulse = x
        for k in (batch * i)..<impulse.count { impulse.storage[k] = 0 }
        zeroInput = ForwardGrowth(cell: cell, inputs: impulse, steps: length, batch: batch)

        // The same trajectories in Double for the first k sequences.
        let k = Swift.max(1, Swift.min(jacobianSequences, batch))
        var xk = Matrix<Double>(rows: length * k, cols: i)
        for t in 0..<length { for s in 0..<k { for c in 0..<i { xk[t * k + s, c] = Double(x[t * batch + s, c]) } } }
        let exact = RNNCell<Double>(weightIH: cell.weightIH.converted(), weightHH: cell.weightHH.converted(),
                                    biasIH: cell.biasIH.converted(), biasHH: cell.biasHH.converted(), activation: cell.activation)
        let trace = exact.forward(xk, steps: length, batch: k, initial: .zeros(batch: k, hiddenSize: h, hasMemory: false))
        jacobian = JacobianGrowth(cell: exact, trace: trace, sequences: k, readout: readout)
    }

    /// Draws the cell of `setting` and measures it.
    public init(setting: DiagnosisSetting) throws {
        try setting.validate()
        try MemoryEstimate.diagnosis(hiddenSize: setting.hiddenSize, inputSize: setting.inputSize, length: setting.length,
                                     batch: setting.batch, jacobianSequences: setting.jacobianSequences).check()
        var rng = setting.generator
        let cell = setting.cell(using: &rng)
        try self.init(cell: cell, recurrentInit: setting.recurrentInit.name, length: setting.length, batch: setting.batch,
                      jacobianSequences: setting.jacobianSequences, using: &rng)
    }

    /// "relu, identity"
    public var label: String { "\(activation.name), \(recurrentInit)" }
}

/// The whole comparison: one run per (activation, initialiser) pair, the feed-forward
/// contrast for every distinct initialiser, and notes on what could not be measured.
public struct Diagnosis: Sendable {
    public var runs: [DiagnosisRun]
    /// One per distinct recurrent initialiser, in order of first appearance (none for a checkpoint).
    public var feedforward: [FeedForwardContrast]
    /// LSTM/GRU checkpoints: the spectrum of each gate block of W_hh.
    public var gateSpectra: [GateSpectrum]
    /// Shared settings in words (sizes, inputs, seed, source).
    public var context: [String: String]
    /// What was not diagnosed, and why.
    public var notes: [String]

    public init(runs: [DiagnosisRun], feedforward: [FeedForwardContrast], gateSpectra: [GateSpectrum] = [],
                context: [String: String] = [:], notes: [String] = []) {
        self.runs = runs
        self.feedforward = feedforward
        self.gateSpectra = gateSpectra
        self.context = context
        self.notes = notes
    }

    /// Runs every setting, then the feed-forward contrast of each distinct recurrent
    /// initialiser over `feedforwardSeeds` seeds (seed, seed + 1, ...; n = 1 ... T).
    public init(settings: [DiagnosisSetting], feedforwardSeeds: Int = 5) throws {
        precondition(!settings.isEmpty, "Diagnosis needs at least one setting")
        let runs = try settings.map { try DiagnosisRun(setting: $0) }
        var seen: [Initializer] = []
        for s in settings where !seen.contains(s.recurrentInit) { seen.append(s.recurrentInit) }
        let first = settings[0]
        let seeds = (0..<UInt64(Swift.max(feedforwardSeeds, 0))).map { first.seed &+ $0 }
        let contrasts = feedforwardSeeds > 0
            ? seen.map { FeedForwardContrast(initializer: $0, hiddenSize: first.hiddenSize, layers: first.length, seeds: seeds) }
            : []
        self.init(runs: runs, feedforward: contrasts, context: [
            "source": "fresh initialisation",
            "hidden": "\(first.hiddenSize)", "length": "\(first.length)", "batch": "\(first.batch)",
            "inputSize": "\(first.inputSize)", "inputInit": first.inputInit.name, "biasInit": first.biasInit.name,
            "seed": "\(first.seed)",
        ])
    }
}
