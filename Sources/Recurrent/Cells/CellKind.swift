/// The name of a cell type as checkpoints, configurations and the command line spell it
/// (`rnn`, `lstm`, ...).
///
/// Only registered names exist: `init(rawValue:)` and decoding refuse any other, so a
/// `CellKind` always leads to a cell type (`CellRegistry.cell(_:)`). Each cell declares its
/// own constant beside its code (`CellKind.rnn` in RNNCell.swift) and returns it as its
/// `kind`; `CellRegistry` lists the cells. Encoded as the bare name, e.g. `"lstm"`.
public struct CellKind: RawRepresentable, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    public let rawValue: String

    /// The registered cell of that name, or nil.
    public init?(rawValue: String) {
        guard CellRegistry.cells.contains(where: { $0.kind.rawValue == rawValue }) else { return nil }
        self.rawValue = rawValue
    }

    /// A cell's own name, for the constant its file declares.
    init(declaring name: String) { rawValue = name }

    /// Every registered cell, in registry order.
    public static var allCases: [CellKind] { CellRegistry.cells.map { $0.kind } }

    public var description: String { rawValue }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let kind = CellKind(rawValue: name) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "unknown cell '\(name)'; known: \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = kind
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
