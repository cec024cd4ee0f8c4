/// A closed set of names that are stored as text (in checkpoints, logs, reports) and typed on
/// command lines: task kinds, optimizers, metrics, stop reasons. The raw value is the stored
/// spelling, so files keep their strings; parsing says which names exist when it fails; and
/// each case carries its own one-line help, so that help texts and messages are made from the
/// same list the parser accepts.
public protocol NamedCase: RawRepresentable, CaseIterable, Sendable, CustomStringConvertible where RawValue == String {
    /// What the names are of, for messages: "task", "optimizer", ...
    static var noun: String { get }
    /// One line about this case, for help texts ("" when the name says it all).
    var summary: String { get }
}

extension NamedCase {
    public var description: String { rawValue }
    public var summary: String { "" }

    /// Every name, in declaration order.
    public static var names: [String] { allCases.map(\.rawValue) }

    /// "a, b, c": the accepted names, for messages and help.
    public static var accepted: String { names.joined(separator: ", ") }

    /// "a (what a is), b, c (what c is)": the names with their summaries, for help texts.
    public static var help: String {
        allCases.map { $0.summary.isEmpty ? $0.rawValue : "\($0.rawValue) (\($0.summary))" }.joined(separator: ", ")
    }

    /// The case named `text` (letter case ignored); an unknown name is an error that lists
    /// the accepted ones.
    public init(parsing text: String) throws(ConfigurationError) {
        guard let value = Self(rawValue: text) ?? Self(rawValue: text.lowercased()) else {
            try ConfigurationError.checkLength(text, of: Self.noun)
            throw ConfigurationError("unknown \(Self.noun) '\(text)'. Accepted: \(Self.accepted).")
        }
        self = value
    }
}
