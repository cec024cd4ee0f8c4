import Foundation
import Testing
import Recurrent

// MARK: - LinearAlgebra norms

@Suite("LinearAlgebra norms")
struct LinearAlgebraNormsTests {
    typealias F = LinearAlgebraFixtures

    @Test("Frobenius closed forms")
    func frobeniusClosedForms() {
        #expect(LinearAlgebra.frobeniusNorm([3, 4], rows: 1, cols: 2) == 5)
        #expect(abs(LinearAlgebra.frobeniusNorm(F.identity(9), rows: 9, cols: 9) - 3) < 1e-15)
        #expect(LinearAlgebra.frobeniusNorm([], rows: 0, cols: 4) == 0)
        #expect(LinearAlgebra.frobeniusNorm([0, 0], rows: 2, cols: 1) == 0)
        let huge = LinearAlgebra.frobeniusNorm([1e200, 1e200], rows: 1, cols: 2)
        #expect(abs(huge / 1e200 - 2.0.squareRoot()) < 1e-15)
        let tiny = LinearAlgebra.frobeniusNorm([3e-200, 4e-200], rows: 2, cols: 1)
        #expect(abs(tiny / 5e-200 - 1) < 1e-15)
        #expect(LinearAlgebra.frobeniusNorm([1, .nan], rows: 1, cols: 2).isNaN)
        #expect(LinearAlgebra.frobeniusNorm([1, -.infinity], rows: 1, cols: 2) == .infinity)
    }

    @Test("spectral norm closed forms", arguments: [-2.5, 0.0, 1.0, 3.0])
    func spectralClosedForms(s: Double) {
        // ‖s·R(θ)‖₂ = |s| and ‖s·Q‖₂ = |s| for orthogonal Q.
        let r = F.rotation(0.7).map { $0 * s }
        #expect(abs(LinearAlgebra.spectralNorm(r, rows: 2, cols: 2) - abs(s)) < 1e-14)
        let q = F.randomOrthogonal(12, seed: 5).map { $0 * s }
        #expect(abs(LinearAlgebra.spectralNorm(q, rows: 12, cols: 12) - abs(s)) < 1e-13)
        #expect(abs(LinearAlgebra.spectralNormEstimate(q, rows: 12, cols: 12) - abs(s)) < 1e-13)
    }

    @Test("spectral norm = largest singular value ≤ Frobenius", arguments: [(7, 3), (3, 7), (10, 10)])
    func spectralVersusSingular(rows: Int, cols: Int) {
        let a = F.gaussian(count: rows * cols, seed: UInt64(rows * cols))
        let norm = LinearAlgebra.spectralNorm(a, rows: rows, cols: cols)
        #expect(norm == LinearAlgebra.singularValues(a, rows: rows, cols: cols)[0])
        // ‖A‖₂ ≤ ‖A‖_F ≤ √rank ‖A‖₂ (GVL 2.3.7).
        let frobenius = LinearAlgebra.frobeniusNorm(a, rows: rows, cols: cols)
        #expect(norm <= frobenius && frobenius <= Double(min(rows, cols)).squareRoot() * norm)
        #expect(LinearAlgebra.spectralNorm([], rows: 0, cols: 3) == 0)
    }

    @Test("power-iteration estimate within 1e-6 relative of Jacobi", arguments: [
        (50, 50, 11), (50, 50, 12), (50, 50, 13), (50, 50, 14), (30, 50, 15), (50, 30, 16),
    ] as [(Int, Int, UInt64)])
    func estimate(rows: Int, cols: Int, seed: UInt64) {
        let a = F.gaussian(count: rows * cols, seed: seed)
        let exact = LinearAlgebra.spectralNorm(a, rows: rows, cols: cols)
        let estimate = LinearAlgebra.spectralNormEstimate(a, rows: rows, cols: cols)
        #expect(abs(estimate - exact) <= 1e-6 * exact)
        #expect(estimate <= exact * (1 + 1e-12))   // a Rayleigh quotient never overshoots
    }

    @Test("estimate edge cases")
    func estimateEdgeCases() {
        #expect(LinearAlgebra.spectralNormEstimate([], rows: 0, cols: 5) == 0)
        #expect(LinearAlgebra.spectralNormEstimate([0, 0, 0, 0], rows: 2, cols: 2) == 0)
        #expect(abs(LinearAlgebra.spectralNormEstimate(F.diagonal([1, -3, 2]), rows: 3, cols: 3) - 3) < 1e-10)
        #expect(LinearAlgebra.spectralNormEstimate([-4], rows: 1, cols: 1) == 4)
        #expect(LinearAlgebra.spectralNormEstimate([1, .nan], rows: 1, cols: 2).isNaN)
        // Rank one u vᵀ: ‖A‖₂ = ‖u‖‖v‖ = 5 · √2.
        let rankOne = [3.0, -3.0, 4.0, -4.0]
        #expect(abs(LinearAlgebra.spectralNormEstimate(rankOne, rows: 2, cols: 2) - 5 * 2.0.squareRoot()) < 1e-12)
    }
}
