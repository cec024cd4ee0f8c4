import Foundation
import Testing
import Recurrent

// MARK: - LinearAlgebra.singularValues

/// References: closed-form spectra (rotations, orthogonal and diagonal
/// matrices, `U diag(σ) Vᵀ` built from orthonormal factors) and, as an
/// independent algorithm, `√λ(AᵀA)` from the symmetric Jacobi solver.
@Suite("LinearAlgebra.singularValues")
struct LinearAlgebraSingularValuesTests {
    typealias F = LinearAlgebraFixtures

    struct Shape: Sendable, CustomTestStringConvertible {
        var rows: Int
        var cols: Int
        var testDescription: String { "\(rows)×\(cols)" }
    }

    static let rectangularShapes = [
        Shape(rows: 8, cols: 5), Shape(rows: 5, cols: 8), Shape(rows: 6, cols: 6),
        Shape(rows: 1, cols: 4), Shape(rows: 4, cols: 1), Shape(rows: 30, cols: 12), Shape(rows: 12, cols: 30),
    ]

    @Test("rotation: singular values all 1", arguments: [0.0, 0.3, 1.0, 2.0, Double.pi])
    func rotation(theta: Double) {
        let sigma = LinearAlgebra.singularValues(F.rotation(theta), rows: 2, cols: 2)
        #expect(F.maxAbsDifference(sigma, [1, 1]) < 1e-14)
    }

    @Test("random orthogonal: singular values all 1", arguments: [1, 2, 7, 40])
    func orthogonal(n: Int) {
        let sigma = LinearAlgebra.singularValues(F.randomOrthogonal(n, seed: UInt64(n + 77)), rows: n, cols: n)
        #expect(F.maxAbsDifference(sigma, [Double](repeating: 1, count: n)) < 1e-13)
    }

    @Test("diagonal (embedded in rectangles): |d| sorted", arguments: [
        Shape(rows: 3, cols: 3), Shape(rows: 5, cols: 3), Shape(rows: 3, cols: 5),
    ])
    func diagonal(shape: Shape) {
        let d = [3.0, -5.0, 0.5]
        var a = [Double](repeating: 0, count: shape.rows * shape.cols)
        for i in 0..<3 { a[i * shape.cols + i] = d[i] }
        #expect(LinearAlgebra.singularValues(a, rows: shape.rows, cols: shape.cols) == [5, 3, 0.5])
    }

    @Test("U·diag(σ)·Vᵀ recovers the prescribed σ (both orientations)", arguments: rectangularShapes)
    func prescribed(shape: Shape) {
        let (m, n) = (shape.rows, shape.cols)
        let k = min(m, n)
        let sigma = (0..<k).map { 10 * pow(0.3, Double($0)) }          // 10, 3, 0.9, …
        let u = LinearAlgebra.orthogonal(rows: m, cols: k, gaussian: F.gaussian(count: m * k, seed: 1))
        let v = LinearAlgebra.orthogonal(rows: n, cols: k, gaussian: F.gaussian(count: n * k, seed: 2))
        var us = u
        for i in 0..<m { for j in 0..<k { us[i * k + j] *= sigma[j] } }
        let a = LinearAlgebra.matmul(us, LinearAlgebra.transpose(v, rows: n, cols: k), m: m, k: k, n: n)
        let computed = LinearAlgebra.singularValues(a, rows: m, cols: n)
        #expect(F.maxAbsDifference(computed, sigma) < 1e-13 * sigma[0])
    }

    @Test("matches √λ(AᵀA) (Gram of the short side) on random rectangles", arguments: rectangularShapes)
    func versusGram(shape: Shape) {
        let (m, n) = (shape.rows, shape.cols)
        let a = F.gaussian(count: m * n, seed: UInt64(m * 100 + n))
        let at = LinearAlgebra.transpose(a, rows: m, cols: n)
        let gram = m >= n
            ? LinearAlgebra.matmul(at, a, m: n, k: m, n: n)     // AᵀA, n × n
            : LinearAlgebra.matmul(a, at, m: m, k: n, n: m)     // AAᵀ, m × m
        let reference = LinearAlgebra.symmetricEigenvalues(gram, n: min(m, n)).map { max($0, 0).squareRoot() }
        let sigma = LinearAlgebra.singularValues(a, rows: m, cols: n)
        #expect(sigma.count == min(m, n))
        // λ(AᵀA) carries absolute error ≈ ε σ₁², i.e. ≈ ε σ₁²/σ_i on σ_i.
        #expect(F.maxAbsDifference(sigma, reference) < 1e-8 * sigma[0])
        #expect(zip(sigma, sigma.dropFirst()).allSatisfy { $0 >= $1 })
        let frobenius = LinearAlgebra.frobeniusNorm(a, rows: m, cols: n)
        #expect(abs(sigma.map { $0 * $0 }.reduce(0, +).squareRoot() - frobenius) < 1e-12 * frobenius)
    }

    @Test("scale invariance without overflow or underflow", arguments: [1e-200, 1e-20, 1e20, 1e200])
    func extremeScales(scale: Double) {
        let a = F.gaussian(count: 20, seed: 3)
        let base = LinearAlgebra.singularValues(a, rows: 5, cols: 4)
        let scaled = LinearAlgebra.singularValues(a.map { $0 * scale }, rows: 5, cols: 4)
        for (x, y) in zip(base, scaled) { #expect(abs(y / scale - x) < 1e-13 * base[0]) }
    }

    @Test("empty, 1 × 1, zero and rank-deficient inputs")
    func edgeCases() {
        #expect(LinearAlgebra.singularValues([], rows: 0, cols: 3) == [])
        #expect(LinearAlgebra.singularValues([], rows: 3, cols: 0) == [])
        #expect(LinearAlgebra.singularValues([], rows: 0, cols: 0) == [])
        #expect(LinearAlgebra.singularValues([-2], rows: 1, cols: 1) == [2])
        #expect(LinearAlgebra.singularValues([0, 0, 0, 0, 0, 0], rows: 2, cols: 3) == [0, 0])
        // Rank 1: [1 2; 2 4] has σ = (5, 0).
        let rankOne = LinearAlgebra.singularValues([1, 2, 2, 4], rows: 2, cols: 2)
        #expect(abs(rankOne[0] - 5) < 1e-14 && abs(rankOne[1]) < 1e-14)
    }

    @Test("NaN or ±∞ gives NaN singular values (documented), never hangs", arguments: [Double.nan, .infinity])
    func nonFinite(bad: Double) {
        var a = F.gaussian(count: 12, seed: 4)
        a[5] = bad
        let sigma = LinearAlgebra.singularValues(a, rows: 3, cols: 4)
        #expect(sigma.count == 3 && sigma.allSatisfy(\.isNaN))
    }
}
