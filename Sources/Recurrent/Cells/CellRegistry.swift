/// Generic code run for a registered cell type (Float), called by `CellRegistry.forEachCell`.
public protocol CellTypeVisitor {
    mutating func visit<Cell: RecurrentCell>(_ cell: Cell.Type) throws where Cell.Scalar == Float
}

/// The cells the library knows: one line per cell in `forEachCell`, the only place besides
/// a cell's own file that names it. Checkpoints, configurations, presets, the command line,
/// `AnyRecurrentModel` and the benchmark find cells here.
///
/// The list is code rather than an array of types so that a visitor runs specialised for
/// each concrete cell: `AnyRecurrentModel.visit` opens a model through it, and the
/// compiler specialises the visitor's generic body (the training loop, the cells' steps)
/// for every cell listed, as it would for a `switch` over concrete types. An array of
/// `any RecurrentCell.Type` opened at run time would run the whole loop unspecialised.
public enum CellRegistry {
    /// Calls `visitor` with every registered cell type, in this order (the order of help
    /// texts and of `CellKind.allCases`).
    @inlinable
    public static func forEachCell<V: CellTypeVisitor>(_ visitor: inout V) throws {
        try visitor.visit(RNNCell<Float>.self)
        try visitor.visit(LSTMCell<Float>.self)
        try visitor.visit(GRUCell<Float>.self)
        try visitor.visit(IndRNNCell<Float>.self)
        try visitor.visit(CoRNNCell<Float>.self)
    }

    /// The registered cell types, in registry order.
    public static let cells: [any RecurrentCell<Float>.Type] = {
        struct Collect: CellTypeVisitor {
            var types: [any RecurrentCell<Float>.Type] = []
            mutating func visit<Cell: RecurrentCell>(_ cell: Cell.Type) where Cell.Scalar == Float { types.append(cell) }
        }
        var collect = Collect()
        try? forEachCell(&collect)
        return collect.types
    }()

    /// The cell type of `kind` (every `CellKind` is registered).
    public static func cell(_ kind: CellKind) -> any RecurrentCell<Float>.Type {
        guard let type = cells.first(where: { $0.kind == kind }) else {
            preconditionFailure("the cell '\(kind)' is not in CellRegistry")
        }
        return type
    }

    /// Every preset of every cell, in registry order.
    public static var presets: [(cell: any RecurrentCell<Float>.Type, preset: CellPreset)] {
        cells.flatMap { cell in cell.presets.map { (cell, $0) } }
    }

    /// The preset called `name` (or one of its aliases), and its cell.
    public static func preset(named name: String) -> (cell: any RecurrentCell<Float>.Type, preset: CellPreset)? {
        presets.first { $0.preset.name == name || $0.preset.aliases.contains(name) }
    }

    /// The presets' names (no aliases), in registry order.
    public static var presetNames: [String] { presets.map(\.preset.name) }

    /// Every cell's hyper-parameters, each key once, in registry order.
    public static var hyperparameters: [CellHyperparameter] {
        var seen = Set<String>()
        return cells.flatMap { $0.hyperparameters }.filter { seen.insert($0.key).inserted }
    }

    /// The hyper-parameter stored under `key`, whichever cell declares it.
    public static func hyperparameter(key: String) -> CellHyperparameter? {
        hyperparameters.first { $0.key == key }
    }

    /// The hyper-parameter spelled `option` on the command line.
    public static func hyperparameter(option: String) -> CellHyperparameter? {
        hyperparameters.first { $0.option == option }
    }

    /// The cells that declare the hyper-parameter `key`.
    public static func cells(declaring key: String) -> [CellKind] {
        cells.filter { $0.hyperparameters.contains { $0.key == key } }.map { $0.kind }
    }
}
