import Foundation
import Testing
@testable import Recurrent

/// The library's one number formatter: printf conversions with one spelling of the special values,
/// no sign on zero and e-notation for huge fixed-point values.
@Suite struct NumberTextTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var x: Double, fixed2: String, scientific: String, significant3: String
        var testDescription: String { "\(x)" }
    }

    static let cases: [Case] = [
        Case(x: 0.16667, fixed2: "0.17", scientific: "1.67e-01", significant3: "0.167"),
        Case(x: 123456, fixed2: "123456.00", scientific: "1.23e+05", significant3: "1.23e+05"),
        Case(x: 0.125, fixed2: "0.12", scientific: "1.25e-01", significant3: "0.125"),       // a tie: to even
        Case(x: 0.375, fixed2: "0.38", scientific: "3.75e-01", significant3: "0.375"),
        Case(x: -0.001, fixed2: "0.00", scientific: "-1.00e-03", significant3: "-0.001"),    // no "-0.00"
        Case(x: -0.0, fixed2: "0.00", scientific: "0", significant3: "0"),
        Case(x: 0, fixed2: "0.00", scientific: "0", significant3: "0"),
        Case(x: 7.61e35, fixed2: "7.61e+35", scientific: "7.61e+35", significant3: "7.61e+35"),
        Case(x: 1e15, fixed2: "1.00e+15", scientific: "1.00e+15", significant3: "1e+15"),
        Case(x: .leastNonzeroMagnitude, fixed2: "0.00", scientific: "4.94e-324", significant3: "4.94e-324"),
        Case(x: .nan, fixed2: "nan", scientific: "nan", significant3: "nan"),
        Case(x: -.nan, fixed2: "nan", scientific: "nan", significant3: "nan"),
        Case(x: .infinity, fixed2: "inf", scientific: "inf", significant3: "inf"),
        Case(x: -.infinity, fixed2: "-inf", scientific: "-inf", significant3: "-inf"),
    ]

    @Test(arguments: cases)
    func conversions(_ c: Case) {
        #expect(NumberText.fixed(c.x, digits: 2) == c.fixed2)
        #expect(NumberText.scientific(c.x) == c.scientific)
        #expect(NumberText.significant(c.x, digits: 3) == c.significant3)
    }

    /// Below 1e15 and away from zero, each conversion is exactly C's printf.
    @Test func agreesWithPrintf() {
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<20_000 {
            let x = (Draw.uniform(-1, 1, &rng)) * Double.power(10, Draw.uniform(-8, 14.9, &rng))
            let digits = Draw.index(below: 6, &rng)
            let f = String(format: "%.\(digits)f", x)
            if !(f.hasPrefix("-") && Double(f) == 0) { #expect(NumberText.fixed(x, digits: digits) == f) }
            #expect(NumberText.scientific(x, digits: digits) == String(format: "%.\(digits)e", x))
            #expect(NumberText.significant(x, digits: digits + 1) == String(format: "%.\(digits + 1)g", x))
        }
    }

    /// 10^x from its logarithm, beyond Double's range.
    @Test(arguments: [(-400.5, "3.16e-401"), (2, "1.00e+02"), (0.301029995663981, "2.00e+00"), (-31.49, "3.24e-32"),
                      (4.99999, "1.00e+05"), (1234, "1.00e+1234"), (-.infinity, "0"), (.infinity, "inf"), (.nan, "nan")] as [(Double, String)])
    func scientificFromTheLogarithm(_ x: Double, _ text: String) {
        #expect(NumberText.scientific(log10: x) == text)
    }
}
