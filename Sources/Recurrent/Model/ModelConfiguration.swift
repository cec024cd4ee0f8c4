/// Where the readout head reads the recurrent stack.
public enum Readout: String, Sendable, Codable, CaseIterable {
    /// Many-to-one: the head sees h_T only; outputs [B, O].
    case lastStep = "last"
    /// Many-to-many: the head sees every h_t; outputs [B, T, O].
    case everyStep = "every"
}

/// Everything needed to build a model: the architecture and how its weights start.
/// Stored as JSON in a checkpoint's safetensors `__metadata__`.
public struct ModelConfiguration: Sendable, Codable, Equatable {
    public var cell: CellKind
    /// f for RNN and IndRNN; LSTM and GRU are tanh by definition.
    public var activation: Activation
    public var inputSize: Int
    public var hiddenSize: Int
    public var layers: Int
    public var outputs: Int
    public var readout: Readout
    /// Initialiser of U = `weight_ih`.
    public var inputInit: Initializer
    /// Initialiser of W = `weight_hh` (per gate block for LSTM and GRU).
    public var recurrentInit: Initializer
    /// Initialiser of both bias vectors.
    public var biasInit: Initializer
    /// LSTM only: the forget-gate block of `bias_ih` starts at this value (and that of
    /// `bias_hh` at 0), as Jozefowicz et al. (2015) recommend with 1.
    public var forgetGateBias: Double?
    /// IndRNN only: |u| <= recurrentBound after every update (e.g. 2^(1/T)).
    public var recurrentBound: Double?

    public init(cell: CellKind, activation: Activation, inputSize: Int, hiddenSize: Int, layers: Int = 1,
                outputs: Int, readout: Readout = .lastStep, inputInit: Initializer = .pytorchDefault,
                recurrentInit: Initializer = .pytorchDefault, biasInit: Initializer = .pytorchDefault,
                forgetGateBias: Double? = nil, recurrentBound: Double? = nil) {
        self.cell = cell
        self.activation = activation
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.outputs = outputs
        self.readout = readout
        self.inputInit = inputInit
        self.recurrentInit = recurrentInit
        self.biasInit = biasInit
        self.forgetGateBias = forgetGateBias
        self.recurrentBound = recurrentBound
    }

    /// G for this cell kind.
    public var gateCount: Int {
        switch cell {
        case .rnn, .indrnn: return 1
        case .lstm: return 4
        case .gru: return 3
        }
    }

    /// Every parameter's `state_dict` name and matrix shape [rows, cols], in `state_dict`
    /// order, without building the model: `weight_ih_l{k}` [G*H, I or H], `weight_hh_l{k}`
    /// [G*H, H] (IndRNN: [1, H]), `bias_ih_l{k}` and `bias_hh_l{k}` [1, G*H], `head.weight`
    /// [O, H], `head.bias` [1, O]. Checkpoint checks and memory estimates read it.
    public var parameterShapes: [(name: String, rows: Int, cols: Int)] {
        let g = gateCount, h = hiddenSize
        var shapes: [(name: String, rows: Int, cols: Int)] = []
        for l in 0..<Swift.max(0, layers) {
            shapes.append(("rnn.weight_ih_l\(l)", g * h, l == 0 ? inputSize : h))
            shapes.append(cell == .indrnn ? ("rnn.weight_hh_l\(l)", 1, h) : ("rnn.weight_hh_l\(l)", g * h, h))
            shapes.append(("rnn.bias_ih_l\(l)", 1, g * h))
            shapes.append(("rnn.bias_hh_l\(l)", 1, g * h))
        }
        return shapes + [("head.weight", outputs, h), ("head.bias", 1, outputs)]
    }

    /// The number of trainable scalars, as a Double so that absurd sizes cannot overflow.
    public var parameterCount: Double {
        let g = Double(gateCount), h = Double(hiddenSize), i = Double(inputSize), l = Double(layers), o = Double(outputs)
        let recurrent = cell == .indrnn ? h : g * h * h
        return g * h * i + (l - 1) * g * h * h + l * (recurrent + 2 * g * h) + o * h + o
    }

    /// Throws when a size or option is impossible, saying which and what would work.
    public func validate() throws(ConfigurationError) {
        if inputSize < 1 { throw ConfigurationError("input size must be at least 1, got \(inputSize)") }
        if hiddenSize < 1 { throw ConfigurationError("hidden size must be at least 1, got \(hiddenSize)") }
        if layers < 1 { throw ConfigurationError("layers must be at least 1, got \(layers)") }
        if outputs < 1 { throw ConfigurationError("outputs must be at least 1, got \(outputs)") }
        // Sizes whose products overflow Int (or a Float array's byte count) cannot be built at all.
        if parameterCount * Double(MemoryLayout<Double>.size) >= Double(Int.max) {
            throw ConfigurationError("\(layers) layers of \(hiddenSize) units with \(inputSize) inputs and \(outputs) outputs would have \(parameterCount) parameters, more than can be addressed")
        }
        if (cell == .lstm || cell == .gru) && activation != .tanh {
            throw ConfigurationError("\(cell.rawValue) uses tanh by definition; the activation \(activation.name) applies to rnn, irnn and indrnn only")
        }
        if forgetGateBias != nil && cell != .lstm {
            throw ConfigurationError("a forget-gate bias applies to lstm only, not \(cell.rawValue)")
        }
        if let bound = recurrentBound, !(bound > 0) || !bound.isFinite || cell != .indrnn {
            throw ConfigurationError(cell != .indrnn ? "a recurrent bound applies to indrnn only, not \(cell.rawValue)"
                                                     : "the recurrent bound must be a finite positive number, got \(bound)")
        }
        // The numbers inside (from a parser, a checkpoint's JSON or code) must make finite Float32 weights.
        try activation.validate()
        try inputInit.validate()
        try recurrentInit.validate()
        try biasInit.validate()
        if let forget = forgetGateBias { try ParameterValue.float32(forget, "the forget-gate bias") }
    }

    // MARK: - Presets

    /// Named presets. `irnn`: relu, W = I, U ~ N(0, 0.001^2), b = 0 (Le et al. 2015).
    /// `rnn` / `rnn-tanh`: tanh with PyTorch's defaults. `rnn-relu-gaussian`: relu with
    /// W, U ~ N(0, 0.001^2), b = 0 (Le et al.'s "RNN + ReLU" baseline). `lstm`, `gru`:
    /// PyTorch's defaults. `indrnn`: relu, u = 1, U with PyTorch's default, b = 0.
    /// `nprnn`: relu with W = npRNN, U ~ N(0, 0.001^2), b = 0 (Talathi & Vartak 2016).
    public static func preset(_ name: String, inputSize: Int, hiddenSize: Int, layers: Int = 1,
                              outputs: Int, readout: Readout = .lastStep) throws(ConfigurationError) -> ModelConfiguration {
        var c = ModelConfiguration(cell: .rnn, activation: .tanh, inputSize: inputSize, hiddenSize: hiddenSize,
                                   layers: layers, outputs: outputs, readout: readout)
        switch name.lowercased() {
        case "irnn":
            c.activation = .relu
            c.recurrentInit = .identity(scale: 1)
            c.inputInit = .gaussian(std: 0.001)
            c.biasInit = .zeros
        case "rnn", "rnn-tanh":
            break
        case "rnn-relu", "rnn-relu-gaussian":
            c.activation = .relu
            c.recurrentInit = .gaussian(std: 0.001)
            c.inputInit = .gaussian(std: 0.001)
            c.biasInit = .zeros
        case "lstm":
            c.cell = .lstm
        case "gru":
            c.cell = .gru
        case "indrnn":
            c.cell = .indrnn
            c.activation = .relu
            c.recurrentInit = .constant(1)
            c.biasInit = .zeros
        case "nprnn":
            c.activation = .relu
            c.recurrentInit = .npRNN
            c.inputInit = .gaussian(std: 0.001)
            c.biasInit = .zeros
        default:
            throw ConfigurationError("unknown model '\(name)'. Accepted: \(presetNames.joined(separator: ", ")).")
        }
        return c
    }

    public static let presetNames = ["irnn", "rnn", "rnn-tanh", "rnn-relu-gaussian", "lstm", "gru", "indrnn", "nprnn"]
}
