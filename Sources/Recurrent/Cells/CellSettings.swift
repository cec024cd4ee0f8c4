// MARK: - How a cell is set up

/// Everything that sets up one layer's cell besides its sizes: the activation, the
/// initialisers and the cell's own hyper-parameters. `ModelConfiguration.settings` holds
/// them; a cell reads what applies to it (`RecurrentCell.init(parameters:settings:)`) and
/// says what it accepts (`RecurrentCell.validate(_:)`).
public struct CellSettings: Sendable, Equatable {
    /// f of h_t = f(net_t) where the cell takes one (RNN, IndRNN); the cell's own otherwise.
    public var activation: Activation
    /// Initialiser of the input weight U = `weight_ih`.
    public var inputInit: Initializer
    /// Initialiser of the recurrent weights (per gate block for LSTM and GRU).
    public var recurrentInit: Initializer
    /// Initialiser of the biases (`pytorchDefault`: U(-1/sqrt(H), 1/sqrt(H))).
    public var biasInit: Initializer
    /// The cell's hyper-parameters by `CellHyperparameter.key` (coRNN's `dt`, LSTM's
    /// `forgetGateBias`, ...); a missing one takes its default.
    public var hyperparameters: [String: Double]

    public init(activation: Activation = .tanh, inputInit: Initializer = .pytorchDefault,
                recurrentInit: Initializer = .pytorchDefault, biasInit: Initializer = .pytorchDefault,
                hyperparameters: [String: Double] = [:]) {
        self.activation = activation
        self.inputInit = inputInit
        self.recurrentInit = recurrentInit
        self.biasInit = biasInit
        self.hyperparameters = hyperparameters
    }

    /// The value of `parameter`: the one set, else its default (nil: off).
    public subscript(_ parameter: CellHyperparameter) -> Double? {
        get { hyperparameters[parameter.key] ?? parameter.defaultValue }
        set { hyperparameters[parameter.key] = newValue }
    }
}

// MARK: - Hyper-parameters

/// A number that sets up a cell beyond its sizes and initialisers, declared by the cell
/// (`RecurrentCell.hyperparameters`): coRNN's step dt, IndRNN's bound on |u|, LSTM's
/// initial forget-gate bias. Configurations store it under `key` (also the key in the
/// checkpoint's configuration JSON); commands and comparisons spell it `option`.
public struct CellHyperparameter: Sendable, Hashable {
    /// The values a hyper-parameter may take.
    public enum Domain: Sendable, Hashable {
        /// Finite and > 0.
        case positive
        /// Finite and within `ParameterValue.float32Limit` (it becomes a Float32 weight).
        case float32
    }

    /// The key in `CellSettings.hyperparameters` and in the configuration JSON.
    public var key: String
    /// The command line's spelling (`--cell-option OPTION=VALUE`, compare's `name:OPTION=VALUE`).
    public var option: String
    /// What it is, for messages: "a \(noun) applies to ...", "the \(noun) must be ...".
    public var noun: String
    /// One line for help texts.
    public var summary: String
    /// The value when none is set; nil: off.
    public var defaultValue: Double?
    public var domain: Domain
    /// Also written to the checkpoint's safetensors metadata under `key` and read from it,
    /// so that a file without the configuration JSON (saved from PyTorch) can carry it.
    public var inMetadata: Bool

    public init(key: String, option: String, noun: String, summary: String, defaultValue: Double? = nil,
                domain: Domain, inMetadata: Bool = false) {
        self.key = key
        self.option = option
        self.noun = noun
        self.summary = summary
        self.defaultValue = defaultValue
        self.domain = domain
        self.inMetadata = inMetadata
    }

    /// Throws unless `value` lies in the domain, naming the hyper-parameter.
    public func validate(_ value: Double) throws(ConfigurationError) {
        switch domain {
        case .positive:
            if !(value > 0) || !value.isFinite {
                throw ConfigurationError("the \(noun) must be a finite positive number, got \(value)")
            }
        case .float32:
            try ParameterValue.float32(value, "the \(noun)")
        }
    }
}

// MARK: - Presets

/// A named way to set up a cell: `irnn` is an RNN with relu, W = I, U ~ N(0, 0.001²) and
/// zero biases. Each cell lists its presets (`RecurrentCell.presets`); their names are the
/// model names of `train --cell` and `compare --models`, unique across the registry.
public struct CellPreset: Sendable {
    public var name: String
    /// Other accepted spellings, not listed in help texts.
    public var aliases: [String]
    /// One line for help texts, e.g. "relu, W = I, U ~ N(0, 0.001²), b = 0"; nil for
    /// PyTorch's defaults.
    public var summary: String?
    public var settings: CellSettings

    public init(_ name: String, aliases: [String] = [], summary: String? = nil, settings: CellSettings) {
        self.name = name
        self.aliases = aliases
        self.summary = summary
        self.settings = settings
    }
}
