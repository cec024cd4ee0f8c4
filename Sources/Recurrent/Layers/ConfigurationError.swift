/// An impossible or malformed setting (an unknown activation name, a shape that does
/// not fit, a negative size). The message says what is wrong and what is accepted;
/// `remedies`, when there are any, what to set (a front end words them).
public struct ConfigurationError: AdvisedError, Equatable, Sendable {
    public var message: String
    public var remedies: [Remedy]
    public init(_ message: String, remedies: [Remedy] = []) {
        self.message = message
        self.remedies = remedies
    }
    public var problem: String { message }
}

// MARK: - Bounds shared by the spec parsers

extension ConfigurationError {
    /// Longest text the small spec parsers accept (``Activation/init(parsing:)``,
    /// ``Initializer/init(parsing:)``, ``LearningRateSchedule/init(parsing:totalSteps:)``,
    /// ``ModelSpec/init(parsing:)``): real specs are a few dozen characters, and their errors
    /// quote the text, so a bound keeps the messages readable.
    public static let maximumSpecLength = 200

    /// Refuses `text` if it is longer than ``maximumSpecLength`` characters, quoting its start.
    /// - Parameter what: the kind of spec, e.g. "activation".
    static func checkLength(_ text: String, of what: String) throws(ConfigurationError) {
        guard text.count > maximumSpecLength else { return }
        throw ConfigurationError(
            "\(what) '\(text.prefix(40))…' is \(text.count) characters long, more than the \(maximumSpecLength) accepted; pass a short form such as the documented examples")
    }
}
