import Foundation

/// Checks for the numbers written inside settings (an initialiser's scale, an activation's
/// slope, a learning rate, a forget-gate bias), shared by every parser so that a value that
/// cannot train (NaN, infinity, or a Double that overflows Float32 weights) is refused where
/// it is read instead of surfacing later as NaN weights or an unwritable checkpoint.
public enum ParameterValue {
    /// The largest magnitude a weight-shaping parameter may have: Float32's largest finite
    /// value / 16 (about 2.1e37). A Gaussian draw from `Draw.gaussian` is at most about 8.6
    /// standard deviations (53-bit uniforms), so weights drawn or set from such a value stay
    /// finite in Float32; `gaussian:1e300` (finite as a Double) does not.
    public static let float32Limit = Double(Float.greatestFiniteMagnitude) / 16

    /// `value` when it is finite; otherwise a `ConfigurationError` naming `what`.
    @discardableResult
    public static func finite(_ value: Double, _ what: String) throws(ConfigurationError) -> Double {
        guard value.isFinite else { throw ConfigurationError("\(what) must be a finite number, got \(value)") }
        return value
    }

    /// `value` when it is finite and at most `float32Limit` in magnitude (weights made from it
    /// stay finite in Float32); otherwise a `ConfigurationError` naming `what`.
    @discardableResult
    public static func float32(_ value: Double, _ what: String) throws(ConfigurationError) -> Double {
        try finite(value, what)
        guard Swift.abs(value) <= float32Limit else {
            throw ConfigurationError("\(what) = \(value) is too large for Float32 weights (|value| must be at most \(NumberText.scientific(float32Limit, digits: 1)))")
        }
        return value
    }
}
