/// A run that produced a non-finite loss or gradient: what happened, where, and what
/// to try. The weights were not updated with it; the trainer's model is the last good one.
public struct TrainingDivergence: Error, CustomStringConvertible, Sendable {
    public var step: Int
    /// The parameter whose gradient first went non-finite, or nil when the loss did.
    public var parameter: String?
    /// The first time step (1-based) at which max |h_t| exceeded 1e6 or stopped being
    /// finite in that batch, or nil when the state stayed bounded.
    public var explodedAtTimeStep: Int?
    public var maxAbsHidden: Double
    /// The recurrent matrix's spectral radius at that moment (first layer), when known.
    public var spectralRadius: Double?

    public var description: String {
        var s = "training diverged at step \(step): "
        s += parameter.map { "the gradient of \($0) is not finite" } ?? "the loss is not finite"
        if let t = explodedAtTimeStep {
            s += "; the hidden state exploded at time step \(t) (max |h| = \(formatScientific(maxAbsHidden)))"
        } else {
            s += "; the hidden state stayed bounded (max |h| = \(formatScientific(maxAbsHidden))), so the blow-up is in the gradient"
        }
        if let r = spectralRadius { s += "; spectral radius of W is \(formatFixed(r, digits: 3))" }
        s += ". The last good weights were kept. Try: a lower learning rate (e.g. 10x lower), gradient clipping (--clip-norm 1), "
            + "an identity-initialised W (--recurrent-init identity, or --cell irnn), or a bounded activation (--activation clipped_relu:6)."
        return s
    }
}

/// "1.23e+05"-style text for a Double (no Foundation needed).
func formatScientific(_ x: Double) -> String {
    guard x.isFinite else { return "\(x)" }
    if x == 0 { return "0" }
    var exponent = Int((Swift.abs(x)).exponentBase10)
    var mantissa = x / Double.power(10, Double(exponent))
    if Swift.abs(mantissa) >= 9.995 { mantissa /= 10; exponent += 1 }
    return "\(formatFixed(mantissa, digits: 2))e\(exponent >= 0 ? "+" : "-")\(Swift.abs(exponent) < 10 ? "0" : "")\(Swift.abs(exponent))"
}

/// A number with a fixed count of decimals.
func formatFixed(_ x: Double, digits: Int) -> String {
    guard x.isFinite else { return "\(x)" }
    let scale = Double.power(10, Double(digits))
    let rounded = (Swift.abs(x) * scale).rounded()
    let whole = Int(rounded / scale)
    var fraction = String(Int(rounded - Double(whole) * scale))
    while fraction.count < digits { fraction = "0" + fraction }
    return (x < 0 && rounded != 0 ? "-" : "") + "\(whole)" + (digits > 0 ? "." + fraction : "")
}

extension Double {
    /// floor(log10(|x|)) for finite non-zero x.
    var exponentBase10: Double { (Double.log(self) / Double.log(10)).rounded(.down) }
}
