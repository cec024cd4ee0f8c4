/// A Float model of any registered cell: what a checkpoint holds and the command line
/// trains. Generic code reaches the concrete `RecurrentModel<Cell>` through `visit(_:)`.
///
/// It lists no cells: `visit` walks `CellRegistry.forEachCell` and calls the visitor with
/// the model of the matching cell. Because that walk is code over concrete types (inlined
/// where `visit` is called), the visitor's generic body runs specialised for the cell, as
/// with a `switch` over an enum of models; opening an existential at run time would run the
/// training loop unspecialised.
public struct AnyRecurrentModel: Sendable {
    /// The `RecurrentModel<Cell>` of a registered Float cell.
    @usableFromInline let model: any Sendable
    /// The cell of the model held.
    public let cellKind: CellKind

    /// A freshly initialised model of the configuration's cell kind. Throws, before
    /// allocating, when the configuration is impossible or its weights alone would not fit
    /// in memory (`MemoryLimit.current`).
    public init(_ configuration: ModelConfiguration, using rng: inout some RandomNumberGenerator) throws(ConfigurationError) {
        try configuration.validate()
        do { try MemoryEstimate(parts: MemoryEstimate.weightParts(configuration, training: false)).check() } catch {
            throw ConfigurationError("the model \(error)")
        }
        var build = Builder(configuration: configuration, rng: rng)
        do { try CellRegistry.forEachCell(&build) } catch {
            throw error as? ConfigurationError ?? ConfigurationError("\(error)")
        }
        rng = build.rng
        guard let model = build.result else { preconditionFailure("the cell '\(configuration.cell)' is not in CellRegistry") }
        self = model
    }

    /// Builds the model of the configuration's cell, drawing from `rng`.
    struct Builder<G: RandomNumberGenerator>: CellTypeVisitor {
        let configuration: ModelConfiguration
        var rng: G
        var result: AnyRecurrentModel?

        mutating func visit<Cell: RecurrentCell>(_ cell: Cell.Type) throws where Cell.Scalar == Float {
            guard result == nil, Cell.kind == configuration.cell else { return }
            result = AnyRecurrentModel(try RecurrentModel<Cell>(configuration, using: &rng))
        }
    }

    /// Wraps a concrete Float model of a registered cell.
    public init<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) where Cell.Scalar == Float {
        precondition(CellRegistry.cells.contains { $0 == Cell.self },
                     "AnyRecurrentModel holds models of the cells in CellRegistry; \(Cell.self) is not one of them")
        self.model = model
        cellKind = Cell.kind
    }

    /// Calls the visitor with the concrete model.
    @inlinable
    public func visit<V: ModelVisitor>(_ visitor: V) throws -> V.Result {
        var open = ModelOpener(model: model, visitor: visitor)
        try CellRegistry.forEachCell(&open)
        guard let result = open.result else { preconditionFailure("AnyRecurrentModel holds a model of an unregistered cell") }
        return result
    }

    /// The concrete model when it is one of `Cell`, else nil.
    public func model<Cell: RecurrentCell>(as _: Cell.Type) -> RecurrentModel<Cell>? where Cell.Scalar == Float {
        model as? RecurrentModel<Cell>
    }
}

/// Finds the registered cell whose model `AnyRecurrentModel` holds and calls the visitor with it.
@usableFromInline
struct ModelOpener<V: ModelVisitor>: CellTypeVisitor {
    @usableFromInline let model: any Sendable
    @usableFromInline let visitor: V
    @usableFromInline var result: V.Result?

    @inlinable
    init(model: any Sendable, visitor: V) {
        self.model = model
        self.visitor = visitor
    }

    @inlinable
    mutating func visit<Cell: RecurrentCell>(_ cell: Cell.Type) throws where Cell.Scalar == Float {
        guard result == nil, let m = model as? RecurrentModel<Cell> else { return }
        result = try visitor.visit(m)
    }
}

/// Generic code over every cell kind, called by `AnyRecurrentModel.visit(_:)`.
public protocol ModelVisitor {
    associatedtype Result
    func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> Result where Cell.Scalar == Float
}

extension RecurrentModel {
    /// The architecture of this model (initialisers are not recoverable from weights and
    /// are reported as `pytorchDefault`; hyper-parameters are the first layer's).
    public var architecture: ModelConfiguration {
        var c = ModelConfiguration(cell: Cell.kind, activation: layers[0].activation, inputSize: inputSize,
                                   hiddenSize: hiddenSize, layers: layers.count / directions, outputs: outputSize, readout: readout,
                                   hyperparameters: layers[0].hyperparameterValues)
        c.bidirectional = directions == 2
        c.bias = bias
        c.dropout = dropout
        c.inputDropout = inputDropout
        c.recurrentDropout = recurrentDropout
        return c
    }
}
