import Foundation
import Testing
@testable import Recurrent

/// The library's one power method (`LinearAlgebra.powerIteration`) serves both the spectral norm
/// estimate and the long products of the diagnostics. The bit patterns below were recorded from the
/// two separate implementations it replaced (commit 9966136), so merging them changed no result;
/// POWER_PRINT=1 prints the current values.
@Suite struct PowerIterationTests {
    static let printing = ProcessInfo.processInfo.environment["POWER_PRINT"] != nil

    static func gaussian(_ rows: Int, _ cols: Int, seed: UInt64, scale: Double = 1) -> [Double] {
        var rng = SeededGenerator(seed: seed)
        return (0..<(rows * cols)).map { _ in scale * Draw.gaussian(&rng) }
    }

    static func hex(_ values: [Double]) -> [String] { values.map { String($0.bitPattern, radix: 16) } }

    /// The estimate on rectangular and square Gaussian matrices, with the default and a loose
    /// tolerance, and with a budget of 3 iterations.
    @Test func spectralNormEstimateKeepsItsBits() {
        let values = [
            LinearAlgebra.spectralNormEstimate(Self.gaussian(7, 5, seed: 1), rows: 7, cols: 5),
            LinearAlgebra.spectralNormEstimate(Self.gaussian(40, 40, seed: 2), rows: 40, cols: 40),
            LinearAlgebra.spectralNormEstimate(Self.gaussian(3, 9, seed: 3), rows: 3, cols: 9, tolerance: 1e-3),
            LinearAlgebra.spectralNormEstimate(Self.gaussian(30, 30, seed: 4), rows: 30, cols: 30, iterations: 3),
        ]
        if Self.printing { print("estimate", Self.hex(values)) }
        #expect(Self.hex(values) == ["401126dbc2cc1c21", "40276b0ac2ce0845", "400ee1cd228f61a7", "4022813909939cc4"])
    }

    /// A start vector in the null space: A = [v₁, −v₀] for the fixed start v makes Av exactly 0,
    /// so the method restarts from the column of largest norm and finds ‖A‖₂ = ‖v‖ = 1.
    @Test func restartsWhenTheStartIsInTheNullSpace() {
        var generator = SplitMix64(seed: SplitMix64.increment)
        var v = (0..<2).map { _ in Draw.uniform(-1, 1, &generator) }
        let norm = LinearAlgebra.euclideanNorm(v)
        v = v.map { $0 / norm }
        let estimate = LinearAlgebra.spectralNormEstimate([v[1], -v[0]], rows: 1, cols: 2)
        if Self.printing { print("restart", Self.hex([estimate])) }
        #expect(abs(estimate - 1) < 1e-15)
        #expect(Self.hex([estimate]) == ["3ff0000000000001"])
    }

    /// A product series of 48 x 48 matrices (above the exact-SVD size), whose norms use the warm-started
    /// power method: every value of the series keeps its bits.
    @Test func scaledProductSeriesKeepsItsBits() {
        let n = 48
        var product = ScaledProduct(identity: n)
        var norms: [Double] = []
        for k in 0..<6 {
            product.multiply(left: Self.gaussian(n, n, seed: 10 + UInt64(k), scale: 1 / Double(n).squareRoot()))
            norms.append(product.log10SpectralNorm())
        }
        if Self.printing { print("series", Self.hex(norms)) }
        #expect(Self.hex(norms) == ["3fd1a20a24a32941", "3fd8739cc898e5bc", "3fde78dd05df8609", "3fe299c36aabe36d",
                                   "3fe20b6e7cf3bc66", "3fe4376678bc4ece"])
    }
}
