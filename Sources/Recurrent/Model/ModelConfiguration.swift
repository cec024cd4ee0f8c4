/// Where the readout head reads the recurrent stack.
public enum Readout: String, Sendable, Codable, CaseIterable {
    /// Many-to-one: the head sees h_T only; outputs [B, O].
    case lastStep = "last"
    /// Many-to-many: the head sees every h_t; outputs [B, T, O].
    case everyStep = "every"
}

/// Everything needed to build a model: the architecture and how its weights start.
/// Stored as JSON in a checkpoint's safetensors `__metadata__`: the fields below by name,
/// then the cell's hyper-parameters, each under its own key at the top level (LSTM's
/// `forgetGateBias`, IndRNN's `recurrentBound`, coRNN's `dt`, ...), present when set.
///
/// Nothing here names a cell: what a cell accepts, how its tensors are shaped and which
/// presets exist come from the cell type (`cellType`, `CellRegistry`).
public struct ModelConfiguration: Sendable, Equatable {
    public var cell: CellKind
    /// f for RNN and IndRNN; cells with their own activation (LSTM and GRU: tanh) need it here.
    public var activation: Activation
    public var inputSize: Int
    public var hiddenSize: Int
    public var layers: Int
    public var outputs: Int
    public var readout: Readout
    /// Initialiser of U = `weight_ih`.
    public var inputInit: Initializer
    /// Initialiser of the recurrent weights (per gate block for LSTM and GRU).
    public var recurrentInit: Initializer
    /// Initialiser of the biases.
    public var biasInit: Initializer
    /// The cell's hyper-parameters by key (`CellHyperparameter.key`); see `subscript(_:)`.
    public var hyperparameters: [String: Double]
    /// Two directions per layer (PyTorch's `bidirectional=True`): a second cell reads each
    /// sequence from its last step back, the layer outputs [h_fwd | h_rev] (2H), layer l+1
    /// reads 2H, the head reads 2H; tensors `..._l{k}_reverse`, h_n [L*2, B, H].
    public var bidirectional: Bool = false
    /// False for layers without biases (PyTorch's `bias=False`): b_ih and b_hh are 0, not
    /// trained and not in the file. The head keeps its bias.
    public var bias: Bool = true
    /// PyTorch's `dropout=p`: in training, each output of every layer but the last is zeroed
    /// with probability p and the rest scaled by 1/(1-p) (one mask per element and step,
    /// drawn from the run's seeded generator); off in evaluation and prediction. 0: none.
    public var dropout: Double = 0
    /// Variational dropout (Gal & Ghahramani 2016) on each layer's input, Keras's `dropout=`:
    /// in training, one mask per sequence and layer, the same at every step, 0 with
    /// probability p, else 1/(1-p) (`VariationalMasks`). 0: none.
    public var inputDropout: Double = 0
    /// The same on the state h_{t-1} every step reads, Keras's `recurrent_dropout=` (LSTM's c
    /// and coRNN's z are not masked). 0: none.
    public var recurrentDropout: Double = 0

    /// `hyperparameters` nil gives the cell's defaults (e.g. coRNN's dt, gamma, epsilon).
    public init(cell: CellKind, activation: Activation, inputSize: Int, hiddenSize: Int, layers: Int = 1,
                outputs: Int, readout: Readout = .lastStep, inputInit: Initializer = .pytorchDefault,
                recurrentInit: Initializer = .pytorchDefault, biasInit: Initializer = .pytorchDefault,
                hyperparameters: [String: Double]? = nil) {
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
        self.hyperparameters = hyperparameters ?? CellRegistry.cell(cell).defaultSettings.hyperparameters
    }

    /// The cell type of `cell`.
    public var cellType: any RecurrentCell<Float>.Type { CellRegistry.cell(cell) }

    /// What the cell is set up with: activation, initialisers, hyper-parameters.
    public var settings: CellSettings {
        get {
            CellSettings(activation: activation, inputInit: inputInit, recurrentInit: recurrentInit, biasInit: biasInit,
                         hyperparameters: hyperparameters)
        }
        set {
            activation = newValue.activation
            inputInit = newValue.inputInit
            recurrentInit = newValue.recurrentInit
            biasInit = newValue.biasInit
            hyperparameters = newValue.hyperparameters
        }
    }

    /// A hyper-parameter's value: the one set, else its default (nil: off).
    public subscript(_ parameter: CellHyperparameter) -> Double? {
        get { hyperparameters[parameter.key] ?? parameter.defaultValue }
        set { hyperparameters[parameter.key] = newValue }
    }

    /// G for this cell kind.
    public var gateCount: Int { cellType.gateCount }

    /// D: 2 when bidirectional, else 1.
    public var directions: Int { bidirectional ? 2 : 1 }

    /// Every parameter's `state_dict` name, matrix shape [rows, cols] and whether a file
    /// holds it 1-D, in `state_dict` order, without building the model: the cell's tensors
    /// per layer (RNN: `weight_ih_l{k}` [G*H, I or H], `weight_hh_l{k}` [G*H, H] (IndRNN:
    /// [1, H], 1-D), `bias_ih_l{k}` and `bias_hh_l{k}` [1, G*H], 1-D), then `head.weight`
    /// [O, H] and `head.bias` [1, O] (1-D). Checkpoint checks and memory estimates read it.
    public var parameterShapes: [(name: String, rows: Int, cols: Int, vector: Bool)] {
        let type = cellType, g = type.gateCount, h = hiddenSize, tensors = type.tensors
        var shapes: [(name: String, rows: Int, cols: Int, vector: Bool)] = []
        let d = directions
        for k in 0..<(Swift.max(0, layers) * d) {
            for t in tensors where bias || !t.isBias {
                let (r, c) = t.shape(inputSize: k < d ? inputSize : d * h, hiddenSize: h, gateCount: g)
                shapes.append(("rnn.\(t.name)_\(layerSuffix(k, directions: d))", r, c, t.savedAsVector))
            }
        }
        return shapes + [("head.weight", outputs, d * h, false), ("head.bias", 1, outputs, true)]
    }

    /// The number of trainable scalars, as a Double so that absurd sizes cannot overflow.
    public var parameterCount: Double {
        let type = cellType, g = type.gateCount
        let h = Double(hiddenSize), i = Double(inputSize), l = Double(layers), o = Double(outputs)
        func size(_ e: CellTensor.Extent, inputs: Double) -> Double {
            switch e {
            case .one: return 1
            case .inputs: return inputs
            case .hidden: return h
            case .gates: return Double(g) * h
            }
        }
        let d = Double(directions)
        var first = 0.0, other = 0.0
        for t in type.tensors where bias || !t.isBias {
            first += size(t.rows, inputs: i) * size(t.cols, inputs: i)
            other += size(t.rows, inputs: d * h) * size(t.cols, inputs: d * h)
        }
        return d * (first + (l - 1) * other) + o * d * h + o
    }

    /// Throws when a size or option is impossible, saying which and what would work.
    public func validate() throws(ConfigurationError) {
        if inputSize < 1 { throw ConfigurationError("input size must be at least 1, got \(inputSize)") }
        if hiddenSize < 1 { throw ConfigurationError("hidden size must be at least 1, got \(hiddenSize)") }
        if layers < 1 { throw ConfigurationError("layers must be at least 1, got \(layers)") }
        if outputs < 1 { throw ConfigurationError("outputs must be at least 1, got \(outputs)") }
        if !(dropout >= 0 && dropout < 1) { throw ConfigurationError("dropout must be in [0, 1), got \(dropout)") }
        if !(inputDropout >= 0 && inputDropout < 1) { throw ConfigurationError("input dropout must be in [0, 1), got \(inputDropout)") }
        if !(recurrentDropout >= 0 && recurrentDropout < 1) {
            throw ConfigurationError("recurrent dropout must be in [0, 1), got \(recurrentDropout)")
        }
        if dropout > 0 && layers < 2 {
            throw ConfigurationError("dropout \(dropout) acts between stacked layers, and this model has one layer: use at least 2 layers, or no dropout")
        }
        // Sizes whose products overflow Int (or a Float array's byte count) cannot be built at all.
        if parameterCount * Double(MemoryLayout<Double>.size) >= Double(Int.max) {
            throw ConfigurationError("\(layers) layers of \(hiddenSize) units with \(inputSize) inputs and \(outputs) outputs would have \(parameterCount) parameters, more than can be addressed")
        }
        // The cell checks the rest: its activation, its hyper-parameters, the initialisers'
        // numbers (from a parser, a checkpoint's JSON or code) that must make finite Float32 weights.
        try cellType.validate(settings)
    }

    // MARK: - Presets

    /// The preset `name` (see `presetNames`; each cell declares its own, e.g. `irnn`: relu,
    /// W = I, U ~ N(0, 0.001^2), b = 0, Le et al. 2015) with these sizes.
    public static func preset(_ name: String, inputSize: Int, hiddenSize: Int, layers: Int = 1,
                              outputs: Int, readout: Readout = .lastStep) throws(ConfigurationError) -> ModelConfiguration {
        guard let (cell, preset) = CellRegistry.preset(named: name.lowercased()) else {
            throw ConfigurationError("unknown model '\(name)'. Accepted: \(presetNames.joined(separator: ", ")).")
        }
        var c = ModelConfiguration(cell: cell.kind, activation: preset.settings.activation, inputSize: inputSize,
                                   hiddenSize: hiddenSize, layers: layers, outputs: outputs, readout: readout)
        c.settings = preset.settings
        return c
    }

    /// Every cell's presets, in registry order: irnn, rnn, rnn-tanh, rnn-relu-gaussian, nprnn,
    /// lstm, gru, indrnn, ...
    public static var presetNames: [String] { CellRegistry.presetNames }

    /// The name a run of this configuration goes by: the first preset of its cell with its
    /// activation (an RNN with relu is `irnn`), else the cell's name.
    public var presetName: String {
        cellType.presets.first { $0.settings.activation == activation }?.name ?? cell.rawValue
    }
}

// MARK: - JSON

extension ModelConfiguration: Codable {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        cell = try c.decode(CellKind.self, forKey: Key("cell"))
        activation = try c.decode(Activation.self, forKey: Key("activation"))
        inputSize = try c.decode(Int.self, forKey: Key("inputSize"))
        hiddenSize = try c.decode(Int.self, forKey: Key("hiddenSize"))
        layers = try c.decode(Int.self, forKey: Key("layers"))
        outputs = try c.decode(Int.self, forKey: Key("outputs"))
        readout = try c.decode(Readout.self, forKey: Key("readout"))
        inputInit = try c.decode(Initializer.self, forKey: Key("inputInit"))
        recurrentInit = try c.decode(Initializer.self, forKey: Key("recurrentInit"))
        biasInit = try c.decode(Initializer.self, forKey: Key("biasInit"))
        // Any cell's hyper-parameter is read (so that validation can say it does not apply);
        // other unknown keys are ignored.
        hyperparameters = [:]
        for key in c.allKeys where CellRegistry.hyperparameter(key: key.stringValue) != nil {
            if let v = try c.decodeIfPresent(Double.self, forKey: key) { hyperparameters[key.stringValue] = v }
        }
        bidirectional = try c.decodeIfPresent(Bool.self, forKey: Key("bidirectional")) ?? false
        bias = try c.decodeIfPresent(Bool.self, forKey: Key("bias")) ?? true
        dropout = try c.decodeIfPresent(Double.self, forKey: Key("dropout")) ?? 0
        inputDropout = try c.decodeIfPresent(Double.self, forKey: Key("inputDropout")) ?? 0
        recurrentDropout = try c.decodeIfPresent(Double.self, forKey: Key("recurrentDropout")) ?? 0
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(cell, forKey: Key("cell"))
        try c.encode(activation, forKey: Key("activation"))
        try c.encode(inputSize, forKey: Key("inputSize"))
        try c.encode(hiddenSize, forKey: Key("hiddenSize"))
        try c.encode(layers, forKey: Key("layers"))
        try c.encode(outputs, forKey: Key("outputs"))
        try c.encode(readout, forKey: Key("readout"))
        try c.encode(inputInit, forKey: Key("inputInit"))
        try c.encode(recurrentInit, forKey: Key("recurrentInit"))
        try c.encode(biasInit, forKey: Key("biasInit"))
        for key in hyperparameters.keys.sorted() { try c.encode(hyperparameters[key]!, forKey: Key(key)) }
        if bidirectional { try c.encode(true, forKey: Key("bidirectional")) }     // absent: one direction (older files)
        if !bias { try c.encode(false, forKey: Key("bias")) }                      // absent: with biases
        if dropout != 0 { try c.encode(dropout, forKey: Key("dropout")) }          // absent: none
        if inputDropout != 0 { try c.encode(inputDropout, forKey: Key("inputDropout")) }
        if recurrentDropout != 0 { try c.encode(recurrentDropout, forKey: Key("recurrentDropout")) }
    }
}
