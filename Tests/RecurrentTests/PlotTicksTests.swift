import Testing
@testable import Recurrent
@testable import RecurrentPlot

// MARK: - Linear ticks

@Suite("Linear ticks")
struct PlotLinearTickTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var range: ClosedRange<Double>
        var target: Int
        var values: [Double]
        var labels: [String]
        var testDescription: String { "\(range) / \(target)" }
    }

    static let cases: [Case] = [
        Case(range: 0...1, target: 5, values: [0, 0.2, 0.4, 0.6, 0.8, 1.0],
             labels: ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]),
        Case(range: 0...200, target: 5, values: [0, 50, 100, 150, 200],
             labels: ["0", "50", "100", "150", "200"]),
        Case(range: -1...1, target: 4, values: [-1, -0.5, 0, 0.5, 1],
             labels: ["-1.0", "-0.5", "0.0", "0.5", "1.0"]),
        Case(range: 0...0.3, target: 3, values: [0, 0.1, 0.2, 0.3],
             labels: ["0.0", "0.1", "0.2", "0.3"]),
        Case(range: 1...4, target: 3, values: [1, 2, 3, 4], labels: ["1", "2", "3", "4"]),
        Case(range: 0...3e6, target: 3, values: [0, 1e6, 2e6, 3e6], labels: ["0", "1e6", "2e6", "3e6"]),
        Case(range: 2e-5...1e-4, target: 4, values: [2e-5, 4e-5, 6e-5, 8e-5, 1e-4],
             labels: ["2e-5", "4e-5", "6e-5", "8e-5", "1e-4"]),
        Case(range: 0.13...0.87, target: 4, values: [0.2, 0.4, 0.6, 0.8], labels: ["0.2", "0.4", "0.6", "0.8"]),
        Case(range: -1e300...1e300, target: 4, values: [-1e300, -5e299, 0, 5e299, 1e300],
             labels: ["-1e300", "-5e299", "0", "5e299", "1e300"]),
    ]

    @Test(arguments: cases)
    func ticks(_ c: Case) {
        let ticks = PlotTicks.linear(in: c.range, targetCount: c.target)
        #expect(ticks.count == c.values.count)
        for (tick, value) in zip(ticks, c.values) {
            // Exact for ordinary decimals (0.3 is 0.3); within an ulp where powers of ten are inexact.
            if abs(value) < 1e15 { #expect(tick.value == value) } else { #expect(abs(tick.value / value - 1) < 1e-15) }
        }
        #expect(ticks.map(\.label) == c.labels)
        #expect(ticks.allSatisfy { $0.isMajor })
    }

    @Test(arguments: [(10.0, 5, 2, 0), (1.0, 5, 2, -1), (199.0, 5, 5, 1), (0.7, 7, 1, -1), (3.0, 1, 5, 0), (9.0, 1, 1, 1)])
    func niceStep(span: Double, target: Int, mantissa: Int, exponent: Int) {
        let step = PlotTicks.niceStep(span: span, targetCount: target)
        #expect(step?.mantissa == mantissa)
        #expect(step?.exponent == exponent)
    }

    @Test func niceStepRejectsDegenerateSpans() {
        #expect(PlotTicks.niceStep(span: 0, targetCount: 5) == nil)
        #expect(PlotTicks.niceStep(span: .nan, targetCount: 5) == nil)
        #expect(PlotTicks.niceStep(span: .infinity, targetCount: 5) == nil)
    }

    @Test func niceRangeRoundsOutward() {
        #expect(PlotTicks.niceRange(0.13, 0.87, targetCount: 5) == 0...1)
        #expect(PlotTicks.niceRange(1, 200, targetCount: 5) == 0...200)
        #expect(PlotTicks.niceRange(-0.3, 2.2, targetCount: 5) == -0.5...2.5)
    }

    @Test func niceRangeWidensEqualValues() {
        #expect(PlotTicks.niceRange(5, 5, targetCount: 5) == 4.4...5.6)
        #expect(PlotTicks.niceRange(0, 0, targetCount: 4) == -1...1)
        let huge = PlotTicks.niceRange(-1e308, 1e308, targetCount: 5)
        #expect(huge.lowerBound.isFinite && huge.upperBound.isFinite)
    }

    @Test func noRoundOffInLabels() {
        for target in 2...12 {
            for tick in PlotTicks.linear(in: 0...0.9, targetCount: target) {
                #expect(tick.label.count <= 4, "label \(tick.label)")
            }
        }
    }
}

// MARK: - Log ticks

@Suite("Log ticks")
struct PlotLogTickTests {
    @Test func decadesThinnedToMultiplesOfTen() {
        let ticks = PlotTicks.log10(in: 1e-40...1e40, maxLabels: 9, maxMinor: 0)
        #expect(ticks.map(\.superscript) == ["-40", "-30", "-20", "-10", "0", "10", "20", "30", "40"])
        #expect(ticks.allSatisfy { $0.label == "10" && $0.isMajor })
        for (tick, k) in zip(ticks, stride(from: -40, through: 40, by: 10)) {
            #expect(abs(tick.value / PlotTicks.decimal(1, exponent: k) - 1) < 1e-15)
        }
    }

    @Test func minorTicksAtUnlabelledDecades() {
        let ticks = PlotTicks.log10(in: 1e-40...1e40, maxLabels: 9, maxMinor: 20)
        let minor = ticks.filter { !$0.isMajor }
        #expect(minor.count == 8)     // ±35, ±25, ±15, ±5
        #expect(minor.allSatisfy { $0.label.isEmpty })
        #expect(ticks.filter(\.isMajor).count == 9)
    }

    @Test func everyDecadeWhenThereIsRoom() {
        let ticks = PlotTicks.log10(in: 1e-3...1e3, maxLabels: 10, maxMinor: 0)
        #expect(ticks.compactMap(\.superscript) == ["-3", "-2", "-1", "0", "1", "2", "3"])
        #expect(ticks.map(\.plainLabel).first == "10^-3")
    }

    @Test func labelsAtTwoAndFiveForShortRanges() {
        let ticks = PlotTicks.log10(in: 0.1...10, maxLabels: 8, maxMinor: 100)
        #expect(ticks.filter(\.isMajor).map(\.label) == ["0.1", "0.2", "0.5", "1", "2", "5", "10"])
        #expect(ticks.filter(\.isMajor).map(\.value) == [0.1, 0.2, 0.5, 1, 2, 5, 10])
        #expect(ticks.filter { !$0.isMajor }.count == 12)   // 0.3 … 0.9 and 3 … 9 without 0.5 / 5
    }

    @Test func narrowRangeFallsBackToLinearPositiveTicks() {
        let ticks = PlotTicks.log10(in: 2.5...4, maxLabels: 6, maxMinor: 10)
        #expect(ticks.count >= 2)
        #expect(ticks.allSatisfy { $0.value >= 2.5 && $0.value <= 4 })
    }

    @Test(arguments: [2, 3, 4, 6, 8, 12])
    func labelCountRespectsLimit(maxLabels: Int) {
        for (lo, hi) in [(-45, 39), (-323, 308), (-5, 5), (0, 30), (-12, -1)] {
            let range = PlotTicks.decimal(1, exponent: lo)...PlotTicks.decimal(1, exponent: hi)
            let major = PlotTicks.log10(in: range, maxLabels: maxLabels, maxMinor: 40).filter(\.isMajor)
            #expect(major.count >= 2 && major.count <= max(maxLabels, 2), "\(lo)…\(hi): \(major.count)")
        }
    }

    @Test func logTicksArePositiveAndFinite() {
        let ranges: [ClosedRange<Double>] = [
            PlotTicks.decimal(1, exponent: -323)...1e308, Double.leastNonzeroMagnitude...1, 1...1.0000001, 0.5...0.6, 1e-10...2e-10, 3...3000,
        ]
        for range in ranges {
            for tick in PlotTicks.log10(in: range, maxLabels: 8, maxMinor: 50) {
                #expect(tick.value > 0 && tick.value.isFinite, "\(range): \(tick.value)")
            }
        }
    }
}
