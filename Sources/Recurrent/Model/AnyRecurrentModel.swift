/// A Float model of any cell kind: what a checkpoint holds and the command line trains.
/// Generic code reaches the concrete model through `visit(_:)`.
public enum AnyRecurrentModel: Sendable {
    case rnn(RecurrentModel<RNNCell<Float>>)
    case lstm(RecurrentModel<LSTMCell<Float>>)
    case gru(RecurrentModel<GRUCell<Float>>)
    case indrnn(RecurrentModel<IndRNNCell<Float>>)

    /// A freshly initialised model of the configuration's cell kind. Throws, before
    /// allocating, when the configuration is impossible or its weights alone would not fit
    /// in memory (`MemoryLimit.current`).
    public init(_ configuration: ModelConfiguration, using rng: inout some RandomNumberGenerator) throws(ConfigurationError) {
        try configuration.validate()
        do { try MemoryEstimate(parts: MemoryEstimate.weightParts(configuration, training: false)).check() } catch {
            throw ConfigurationError("the model \(error)")
        }
        switch configuration.cell {
        case .rnn: self = .rnn(try RecurrentModel(configuration, using: &rng))
        case .lstm: self = .lstm(try RecurrentModel(configuration, using: &rng))
        case .gru: self = .gru(try RecurrentModel(configuration, using: &rng))
        case .indrnn: self = .indrnn(try RecurrentModel(configuration, using: &rng))
        }
    }

    /// Wraps a concrete Float model.
    public init<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) where Cell.Scalar == Float {
        switch model {
        case let m as RecurrentModel<RNNCell<Float>>: self = .rnn(m)
        case let m as RecurrentModel<LSTMCell<Float>>: self = .lstm(m)
        case let m as RecurrentModel<GRUCell<Float>>: self = .gru(m)
        case let m as RecurrentModel<IndRNNCell<Float>>: self = .indrnn(m)
        default: preconditionFailure("AnyRecurrentModel holds the four built-in cells; \(Cell.self) is not one of them")
        }
    }

    /// Calls the visitor with the concrete model.
    public func visit<V: ModelVisitor>(_ visitor: V) throws -> V.Result {
        switch self {
        case .rnn(let m): return try visitor.visit(m)
        case .lstm(let m): return try visitor.visit(m)
        case .gru(let m): return try visitor.visit(m)
        case .indrnn(let m): return try visitor.visit(m)
        }
    }

    public var cellKind: CellKind {
        switch self {
        case .rnn: return .rnn
        case .lstm: return .lstm
        case .gru: return .gru
        case .indrnn: return .indrnn
        }
    }
}

/// Generic code over every cell kind, called by `AnyRecurrentModel.visit(_:)`.
public protocol ModelVisitor {
    associatedtype Result
    func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> Result where Cell.Scalar == Float
}

extension RecurrentModel {
    /// The architecture of this model (initialisers are not recoverable from weights and
    /// are reported as `pytorchDefault`).
    public var architecture: ModelConfiguration {
        var c = ModelConfiguration(cell: Cell.kind, activation: layers[0].activation, inputSize: inputSize,
                                   hiddenSize: hiddenSize, layers: layers.count, outputs: outputSize, readout: readout)
        if let ind = layers[0] as? IndRNNCell<Scalar> { c.recurrentBound = ind.recurrentBound }
        return c
    }
}
