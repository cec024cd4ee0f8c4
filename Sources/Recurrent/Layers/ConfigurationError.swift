/// An impossible or malformed setting (an unknown activation name, a shape that does
/// not fit, a negative size). The message says what is wrong and what is accepted.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
