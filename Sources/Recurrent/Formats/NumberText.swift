import Foundation

// MARK: - Numbers as text for people

/// Numbers as text for people: messages, reports, tables and progress lines.
///
/// The library's one number formatter (the command line uses it too). Each function is a C
/// printf conversion (`%.*f`, `%.*e`, `%.*g`), which rounds the exact binary value correctly
/// (ties to even, as Python and NumPy do) and never depends on the locale, with three rules on
/// top: one spelling for the special values (`nan`, `inf`, `-inf`), no minus sign on a value that
/// rounds to zero (`fixed(-0.001, digits: 2)` is `"0.00"`), and e-notation in ``fixed(_:digits:)``
/// from 1e15 on, where a sixteen-digit whole part is no longer readable.
///
/// Which form a report uses for which range (e.g. the diagnosis's 3 significant digits inside
/// [1e-3, 1e4)) stays with that report; the conversions are here. Charts label their axes with
/// RecurrentPlot's `PlotNumberFormat`, which has another job (the shortest text at a precision,
/// e-notation without padding such as `2.5e6`, SVG coordinates) in a module below this one.
/// JSON numbers are not text for people: they use Swift's shortest round-trip form, `"\(x)"`.
public enum NumberText {
    /// `x` with `digits` decimals: `fixed(0.16667, digits: 4)` is `"0.1667"`; from 1e15 on,
    /// ``scientific(_:digits:)`` with two decimals (`"1.00e+20"`).
    public static func fixed(_ x: Double, digits: Int) -> String {
        if Swift.abs(x) >= 1e15 { return scientific(x) }
        return printf(x, "%.\(Swift.max(0, digits))f")
    }

    /// `x` in e-notation with `digits` decimals and at least two exponent digits:
    /// `scientific(123456)` is `"1.23e+05"`, `scientific(0.00042, digits: 1)` is `"4.2e-04"`; 0 is `"0"`.
    public static func scientific(_ x: Double, digits: Int = 2) -> String {
        x == 0 ? "0" : printf(x, "%.\(Swift.max(0, digits))e")
    }

    /// `x` with `digits` significant digits, positional or in e-notation as printf's `%g` chooses,
    /// trailing zeros removed: `significant(0.1666667, digits: 4)` is `"0.1667"`,
    /// `significant(123456, digits: 3)` is `"1.23e+05"`.
    public static func significant(_ x: Double, digits: Int) -> String {
        printf(x, "%.\(Swift.max(1, digits))g")
    }

    /// 10^`log10` as `"3.16e-31"` (two decimals, at least two exponent digits), valid far beyond
    /// Double's range because the argument is the logarithm: `scientific(log10: -400.5)` is
    /// `"3.16e-401"`. `-inf` (the value 0) is `"0"`, `inf` is `"inf"`, NaN is `"nan"`.
    public static func scientific(log10 x: Double) -> String {
        if x.isNaN { return "nan" }
        if x == -.infinity { return "0" }
        if x == .infinity { return "inf" }
        var exponent = x.rounded(.down)
        var mantissa = Double.power(10, x - exponent)
        if mantissa >= 9.995 { mantissa /= 10; exponent += 1 }    // "10.00e+04" is "1.00e+05"
        let digits = printf(Swift.abs(exponent), "%.0f")
        return fixed(mantissa, digits: 2) + "e" + (exponent < 0 ? "-" : "+") + (digits.count < 2 ? "0" : "") + digits
    }

    /// One printf conversion of a finite `x`; the special values and the sign of zero as above.
    private static func printf(_ x: Double, _ format: String) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        let text = String(format: format, x)
        // "-0.00", "-0": a value that rounds to zero has no sign (the mantissa of "-0.00e+00" too).
        if text.hasPrefix("-"), text.dropFirst().prefix(while: { $0 != "e" }).allSatisfy({ $0 == "0" || $0 == "." }) {
            return String(text.dropFirst())
        }
        return text
    }
}
