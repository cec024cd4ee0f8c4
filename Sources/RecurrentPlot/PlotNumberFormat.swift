import Foundation

// MARK: - PlotNumberFormat

/// Compact, deterministic number formatting for chart labels and SVG coordinates.
///
/// Results never depend on the locale and never show binary round-off such as
/// `0.30000000000000004`.
enum PlotNumberFormat {
    /// The shortest readable text for `value` after rounding to `significantDigits`:
    /// `0.1 + 0.2` → `"0.3"`, `1e-30` → `"1e-30"`, `2_500_000` → `"2.5e6"`, `-0.0` → `"0"`.
    /// Magnitudes in [1e-4, 1e6) are written positionally, others in e-notation.
    static func compact(_ value: Double, significantDigits: Int = 12) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if value == 0 { return "0" }
        let (negative, digits, exponent) = decimalDigits(value, significantDigits: significantDigits)
        let sign = negative ? "-" : ""
        if exponent >= -4 && exponent < 6 {
            return sign + positional(digits: digits, exponent: exponent)
        }
        return exponential(value, significantDigits: significantDigits)
    }

    /// Like `compact`, but always in e-notation for non-zero values: `1e-4`, `2.5e6`, `0`.
    static func exponential(_ value: Double, significantDigits: Int = 12) -> String {
        guard value.isFinite, value != 0 else { return compact(value) }
        let (negative, digits, exponent) = decimalDigits(value, significantDigits: significantDigits)
        var mantissa = String(digits.first!)
        if digits.count > 1 { mantissa += "." + digits.dropFirst() }
        return (negative ? "-" : "") + mantissa + "e" + String(exponent)
    }

    /// `value` with exactly `decimals` digits after the point (0…15), without a `-` on zero.
    static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return compact(value) }
        let places = max(0, min(15, decimals))
        var text = String(format: "%.\(places)f", value)
        if text.hasPrefix("-"), text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) {
            text.removeFirst()
        }
        return text
    }

    /// An SVG coordinate rounded to 0.01 px with trailing zeros removed (`"12"`, `"12.5"`,
    /// `"-3.25"`). Non-finite input gives `"0"`; magnitudes are clamped to 1e9.
    static func coordinate(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let hundredths = Int64((min(max(value, -1e9), 1e9) * 100).rounded())
        if hundredths == 0 { return "0" }
        let magnitude = hundredths.magnitude
        let whole = magnitude / 100, fraction = magnitude % 100
        var text = hundredths < 0 ? "-" : ""
        text += String(whole)
        if fraction != 0 {
            text += fraction % 10 == 0 ? "." + String(fraction / 10) : (fraction < 10 ? ".0" : ".") + String(fraction)
        }
        return text
    }

    // MARK: - Helpers

    /// Sign, significant decimal digits without trailing zeros, and decimal exponent of the
    /// first digit, e.g. 0.0025 → (false, "25", -3).
    private static func decimalDigits(_ value: Double, significantDigits: Int) -> (Bool, String, Int) {
        let precision = max(1, min(17, significantDigits)) - 1
        let text = String(format: "%.\(precision)e", value)   // e.g. "-2.50000000000e+06"
        let parts = text.split(separator: "e")
        let mantissa = parts[0]
        let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let negative = mantissa.hasPrefix("-")
        var digits = String(mantissa.filter { $0.isNumber })
        while digits.count > 1 && digits.hasSuffix("0") { digits.removeLast() }
        return (negative, digits, exponent)
    }

    /// Places the decimal point into `digits` whose first digit has decimal exponent `exponent`.
    private static func positional(digits: String, exponent: Int) -> String {
        if exponent < 0 {
            return "0." + String(repeating: "0", count: -exponent - 1) + digits
        }
        let integerCount = exponent + 1
        if digits.count <= integerCount {
            return digits + String(repeating: "0", count: integerCount - digits.count)
        }
        let split = digits.index(digits.startIndex, offsetBy: integerCount)
        return String(digits[..<split]) + "." + String(digits[split...])
    }
}
