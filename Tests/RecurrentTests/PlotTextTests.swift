import Testing
@testable import Recurrent
@testable import RecurrentPlot

// MARK: - Number formatting and escaping

@Suite("Plot text")
struct PlotTextTests {
    @Test(arguments: [
        (0.1 + 0.2, "0.3"), (1e-30, "1e-30"), (2.5e6, "2.5e6"), (-0.0, "0"), (0, "0"), (123456, "123456"),
        (0.0001, "0.0001"), (0.00001, "1e-5"), (1e40, "1e40"), (-3.25, "-3.25"), (1.0 / 3, "0.333333333333"),
        (999_999.9999999999, "1e6"), (Double.nan, "NaN"), (Double.infinity, "inf"), (-Double.infinity, "-inf"),
        (Double.greatestFiniteMagnitude, "1.79769313486e308"), (Double.leastNonzeroMagnitude, "4.94065645841e-324"),
    ] as [(Double, String)])
    func compact(_ value: Double, _ expected: String) {
        #expect(PlotNumberFormat.compact(value) == expected)
    }

    @Test(arguments: [
        (12.0, "12"), (12.5, "12.5"), (-3.254, "-3.25"), (0.004, "0"), (-0.004, "0"), (1.05, "1.05"),
        (0.07, "0.07"), (-0.5, "-0.5"), (Double.nan, "0"), (1e20, "1000000000"),
    ] as [(Double, String)])
    func coordinate(_ value: Double, _ expected: String) {
        #expect(PlotNumberFormat.coordinate(value) == expected)
    }

    @Test func fixedDropsSignOfZero() {
        #expect(PlotNumberFormat.fixed(-0.0001, decimals: 2) == "0.00")
        #expect(PlotNumberFormat.fixed(0.25, decimals: 1) == "0.2" || PlotNumberFormat.fixed(0.25, decimals: 1) == "0.3")
        #expect(PlotNumberFormat.fixed(-1.5, decimals: 1) == "-1.5")
    }

    @Test func escapesMarkupCharacters() {
        #expect(SVGEscaping.escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;")
        #expect(SVGEscaping.escape("&amp;") == "&amp;amp;")
        #expect(SVGEscaping.escape("σ ≤ 1 → ∞") == "σ ≤ 1 → ∞")
    }

    @Test func dropsCharactersXMLForbids() {
        #expect(SVGEscaping.escape("a\u{0}b\u{1B}c\u{FFFF}") == "abc")
        #expect(SVGEscaping.escape("line\nbreak\ttab") == "line break tab")
    }

    @Test func truncatesLongLabels() {
        let long = String(repeating: "abcdef", count: 20)
        let short = PlotTextMetrics.truncate(long, fontSize: 11, maxWidth: 100)
        #expect(short.hasSuffix("…"))
        #expect(PlotTextMetrics.width(short, fontSize: 11) <= 100)
        #expect(PlotTextMetrics.truncate("ok", fontSize: 11, maxWidth: 100) == "ok")
    }

    @Test func paletteIsOkabeIto() {
        #expect(PlotColor.palette(0).hex == "#0072B2")
        #expect(PlotColor.palette(8) == PlotColor.palette(0))
        #expect(PlotColor.palette(-1) == PlotColor.yellow)
        #expect(PlotColor(hex: "#d55e00") == .vermillion)
        #expect(PlotColor(hex: "#12345") == nil)
        #expect(PlotColor(hex: "zzzzzz") == nil)
    }
}
