import Foundation
import Testing
import Recurrent

// MARK: - LinearAlgebra.eigenvalues / spectralRadius

/// References are closed-form spectra. Tolerances are absolute on the complex
/// plane unless stated; well-conditioned eigenvalues are checked at
/// `1e-10`–`1e-12` (backward error ≈ ε‖A‖ ≈ 1e-15 times a modest condition
/// number), defective ones at `(ε‖A‖)^{1/k}` scale.
@Suite("LinearAlgebra.eigenvalues")
struct LinearAlgebraEigenvaluesTests {
    typealias F = LinearAlgebraFixtures

    // MARK: - Closed-form spectra

    @Test("rotation by θ has eigenvalues e^{±iθ}", arguments: [0.0, 0.1, 0.5, 1.0, Double.pi / 2, 2.5, Double.pi - 0.01, Double.pi])
    func rotation(theta: Double) throws {
        let values = try LinearAlgebra.eigenvalues(F.rotation(theta), n: 2)
        let expected = [ComplexValue(re: cos(theta), im: sin(theta)), ComplexValue(re: cos(theta), im: -sin(theta))]
        #expect(F.spectrumDistance(values, expected) < 1e-12)
        for value in values { #expect(abs(value.magnitude - 1) < 1e-12) }
        #expect(abs(try LinearAlgebra.spectralRadius(F.rotation(theta), n: 2) - 1) < 1e-12)
        if values[0].im != 0 {
            // Conjugate pair is exact, and +im comes first.
            #expect(values[0] == values[1].conjugate)
            #expect(values[0].im > 0)
        }
    }

    @Test("2 × 2 with a known complex pair", arguments: [
        // (matrix, re, im): λ = re ± i·im from tr/2 ± √(tr²/4 − det)
        ([1.0, -5.0, 1.0, -1.0], 0.0, 2.0),            // tr 0, det 4
        ([2.0, -3.0, 1.0, 0.0], 1.0, 2.0.squareRoot()), // tr 2, det 3
        ([0.0, 1.0, -1.0, 0.0], 0.0, 1.0),              // tr 0, det 1
        ([3.0, 1.0, -2.0, 1.0], 2.0, 1.0),              // tr 4, det 5
        ([-1.0, 4.0, -4.0, -1.0], -1.0, 4.0),           // tr −2, det 17
    ])
    func twoByTwoComplexPair(matrix: [Double], re: Double, im: Double) throws {
        let values = try LinearAlgebra.eigenvalues(matrix, n: 2)
        #expect(values.count == 2)
        #expect(abs(values[0].re - re) < 1e-12 && abs(values[0].im - im) < 1e-12)
        #expect(values[1] == values[0].conjugate)
    }

    @Test("triangular matrices have their diagonal as spectrum", arguments: [(3, false), (5, false), (8, false), (3, true), (5, true), (8, true)])
    func triangular(n: Int, lower: Bool) throws {
        let draws = F.gaussian(count: n * n, seed: UInt64(100 + n))
        var a = [Double](repeating: 0, count: n * n)
        var diagonal: [Double] = []
        for i in 0..<n {
            for j in 0..<n where lower ? j < i : j > i { a[i * n + j] = draws[i * n + j] }
            let d = Double(i + 1) * (i.isMultiple(of: 2) ? 1 : -1)   // distinct: 1, −2, 3, …
            a[i * n + i] = d
            diagonal.append(d)
        }
        let values = try LinearAlgebra.eigenvalues(a, n: n)
        #expect(F.spectrumDistance(values, diagonal.map { ComplexValue(re: $0) }) < 1e-10)
        #expect(values.allSatisfy { $0.im == 0 })
    }

    @Test("diagonal matrices, including the sort order", arguments: [
        ([3.0, -1.0, 2.0, 0.5], [3.0, 2.0, -1.0, 0.5]),
        ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
        ([-2.0, 2.0], [2.0, -2.0]),            // equal modulus: larger re first
        ([1e-8, -1e8, 5.0], [-1e8, 5.0, 1e-8]),
    ])
    func diagonal(entries: [Double], sorted: [Double]) throws {
        let values = try LinearAlgebra.eigenvalues(F.diagonal(entries), n: entries.count)
        #expect(values == sorted.map { ComplexValue(re: $0, im: 0) })
    }

    @Test("scaled identity s·I: all eigenvalues s, radius |s|", arguments: [-3.0, 0.0, 0.5, 1.0, 7.0])
    func scaledIdentity(s: Double) throws {
        let n = 6
        let a = F.identity(n).map { $0 * s }
        let values = try LinearAlgebra.eigenvalues(a, n: n)
        #expect(values == [ComplexValue](repeating: ComplexValue(re: s, im: 0), count: n))
        #expect(try LinearAlgebra.spectralRadius(a, n: n) == abs(s))
    }

    @Test("random orthogonal: all |λ| = 1", arguments: [2, 3, 10, 50])
    func randomOrthogonal(n: Int) throws {
        let q = F.randomOrthogonal(n, seed: UInt64(7 * n))
        let values = try LinearAlgebra.eigenvalues(q, n: n)
        #expect(values.count == n)
        for value in values { #expect(abs(value.magnitude - 1) < 1e-10) }
        #expect(abs(try LinearAlgebra.spectralRadius(q, n: n) - 1) < 1e-10)
    }

    @Test("cyclic permutation (a classic hqr stall case): n-th roots of unity", arguments: [2, 3, 4, 5, 8, 16])
    func cyclicPermutation(n: Int) throws {
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { a[((i + 1) % n) * n + i] = 1 }
        let expected = (0..<n).map { k in
            ComplexValue(re: cos(2 * Double.pi * Double(k) / Double(n)), im: sin(2 * Double.pi * Double(k) / Double(n)))
        }
        let values = try LinearAlgebra.eigenvalues(a, n: n)
        #expect(F.spectrumDistance(values, expected) < 1e-10)
    }

    @Test("companion matrix of a polynomial with known roots", arguments: [
        [ComplexValue(re: 1), ComplexValue(re: 2), ComplexValue(re: 3), ComplexValue(re: 1, im: 2), ComplexValue(re: 1, im: -2)],
        [ComplexValue(re: -1), ComplexValue(re: 0.5), ComplexValue(re: 2, im: 1), ComplexValue(re: 2, im: -1)],
        [ComplexValue(re: 4), ComplexValue(re: -4), ComplexValue(re: 0, im: 3), ComplexValue(re: 0, im: -3)],
        [ComplexValue(re: 0.5, im: 0.5), ComplexValue(re: 0.5, im: -0.5), ComplexValue(re: -0.25)],
    ])
    func companion(roots: [ComplexValue]) throws {
        let a = F.companion(F.monicPolynomial(roots: roots))
        let values = try LinearAlgebra.eigenvalues(a, n: roots.count)
        #expect(F.spectrumDistance(values, roots) < 1e-9)
        let radius = roots.map(\.magnitude).max()!
        #expect(abs(try LinearAlgebra.spectralRadius(a, n: roots.count) - radius) < 1e-9)
    }

    /// A `k × k` Jordan block `λI + N`, hidden by an orthogonal similarity, is
    /// defective: a perturbation of size `ε‖A‖` moves its eigenvalue by about
    /// `(ε‖A‖)^{1/k}` (GVL §7.2.2), so the per-eigenvalue tolerance is
    /// `100·(ε(|λ|+1))^{1/k}` (≈ 2e-6 for k = 2, 6e-3 for k = 4). Their mean,
    /// `trace/k`, is well conditioned and is checked at 1e-12.
    @Test("defective Jordan block (looser tolerance, see doc)", arguments: [(2, 2.0), (3, 2.0), (4, 2.0), (3, -0.5), (4, 0.0)])
    func jordanBlock(k: Int, lambda: Double) throws {
        var j = F.identity(k).map { $0 * lambda }
        for i in 0..<(k - 1) { j[i * k + i + 1] = 1 }
        let a = F.similarity(F.randomOrthogonal(k, seed: UInt64(31 * k)), j, n: k)
        let values = try LinearAlgebra.eigenvalues(a, n: k)
        let tolerance = 100 * pow(Double.ulpOfOne * (abs(lambda) + 1), 1 / Double(k))
        for value in values {
            #expect(F.distance(value, ComplexValue(re: lambda)) < tolerance, "λ = \(value)")
        }
        let meanRe = values.map(\.re).reduce(0, +) / Double(k)
        let sumIm = values.map(\.im).reduce(0, +)
        #expect(abs(meanRe - lambda) < 1e-12)
        #expect(abs(sumIm) < 1e-12)
    }

    /// `A = Q B Qᵀ` where `B` is block upper triangular with 2 × 2 diagonal
    /// blocks `[[a, b], [−b, a]]` (eigenvalues `a ± ib`) and 1 × 1 blocks, plus
    /// random coupling above the blocks: a non-normal matrix with a known spectrum.
    @Test("non-normal matrix with a prescribed spectrum", arguments: [7, 20, 64, 128])
    func prescribedSpectrum(n: Int) throws {
        let draws = F.gaussian(count: n * n, seed: UInt64(1000 + n))
        var b = [Double](repeating: 0, count: n * n)
        var expected: [ComplexValue] = []
        var i = 0
        var blockStarts: [Int] = []
        while i < n {
            blockStarts.append(i)
            let re = 1.5 * sin(Double(i) + 0.3), im = 0.8 * cos(0.7 * Double(i)) + 0.9
            if i + 1 < n && i % 3 != 2 {
                b[i * n + i] = re; b[i * n + i + 1] = im
                b[(i + 1) * n + i] = -im; b[(i + 1) * n + i + 1] = re
                expected += [ComplexValue(re: re, im: im), ComplexValue(re: re, im: -im)]
                i += 2
            } else {
                b[i * n + i] = re
                expected.append(ComplexValue(re: re))
                i += 1
            }
        }
        // Coupling strictly above the diagonal blocks keeps the spectrum.
        for (index, start) in blockStarts.enumerated() {
            let end = index + 1 < blockStarts.count ? blockStarts[index + 1] : n
            for r in start..<end {
                for c in end..<n { b[r * n + c] = 0.3 * draws[r * n + c] }
            }
        }
        let a = F.similarity(F.randomOrthogonal(n, seed: UInt64(n)), b, n: n)
        let values = try LinearAlgebra.eigenvalues(a, n: n)
        #expect(F.spectrumDistance(values, expected) < 1e-8)
    }

    // MARK: - Invariants on random matrices

    @Test("Σλ = trace and Πλ = det on random 6 × 6", arguments: [1, 2, 3, 4, 5] as [UInt64])
    func traceAndDeterminant(seed: UInt64) throws {
        let n = 6
        let a = F.gaussian(count: n * n, seed: seed)
        let values = try LinearAlgebra.eigenvalues(a, n: n)
        let trace = (0..<n).reduce(0) { $0 + a[$1 * n + $1] }
        #expect(abs(values.map(\.re).reduce(0, +) - trace) < 1e-12 * max(1, abs(trace)) * Double(n))
        #expect(abs(values.map(\.im).reduce(0, +)) < 1e-12)
        var productRe = 1.0, productIm = 0.0
        for value in values {
            (productRe, productIm) = (productRe * value.re - productIm * value.im,
                                      productRe * value.im + productIm * value.re)
        }
        let det = F.determinant(a, n: n)
        #expect(abs(productRe - det) < 1e-10 * max(1, abs(det)))
        #expect(abs(productIm) < 1e-10 * max(1, abs(det)))
    }

    @Test("random Gaussian: exact conjugate pairs, sorted, trace preserved", arguments: [10, 100])
    func randomStructure(n: Int) throws {
        let a = F.gaussian(count: n * n, seed: UInt64(5000 + n))
        let values = try LinearAlgebra.eigenvalues(a, n: n)
        #expect(values.count == n)
        for (x, y) in zip(values, values.dropFirst()) {
            // Documented order: |λ| descending, then re descending, then im descending.
            let ordered = x.magnitude > y.magnitude
                || (x.magnitude == y.magnitude && (x.re > y.re || (x.re == y.re && x.im >= y.im)))
            #expect(ordered, "not sorted: \(x) before \(y)")
        }
        for value in values where value.im != 0 {
            #expect(values.contains(value.conjugate))
        }
        let trace = (0..<n).reduce(0) { $0 + a[$1 * n + $1] }
        #expect(abs(values.map(\.re).reduce(0, +) - trace) < 1e-10 * Double(n))
    }

    @Test("badly scaled similarity D B D⁻¹ (exercises balancing)")
    func badlyScaled() throws {
        let n = 6
        let b = F.companion(F.monicPolynomial(roots: [
            ComplexValue(re: 1), ComplexValue(re: -2), ComplexValue(re: 3),
            ComplexValue(re: 0.5, im: 1), ComplexValue(re: 0.5, im: -1), ComplexValue(re: -0.75),
        ]))
        let scales = [1.0, 1e6, 1e-6, 1e3, 1e-3, 1e9]
        var a = b
        for i in 0..<n { for j in 0..<n { a[i * n + j] = scales[i] * b[i * n + j] / scales[j] } }
        let expected = try LinearAlgebra.eigenvalues(b, n: n)
        let values = try LinearAlgebra.eigenvalues(a, n: n)
        #expect(F.spectrumDistance(values, expected) < 1e-8)
    }

    @Test("extreme magnitudes neither overflow nor underflow", arguments: [1e-300, 1e-150, 1e150, 1e300])
    func extremeScales(scale: Double) throws {
        let theta = 0.9
        let a = F.rotation(theta).map { $0 * scale }
        let values = try LinearAlgebra.eigenvalues(a, n: 2)
        #expect(abs(values[0].re / scale - cos(theta)) < 1e-14)
        #expect(abs(values[0].im / scale - sin(theta)) < 1e-14)
        let diagonal = [3.0, -2.0, 1.0, 0.5].map { $0 * scale }
        let d = F.similarity(F.randomOrthogonal(4, seed: 8), F.diagonal([3, -2, 1, 0.5]), n: 4).map { $0 * scale }
        let dv = try LinearAlgebra.eigenvalues(d, n: 4)
        for (x, y) in zip(dv, diagonal) { #expect(abs(x.re - y) < 1e-13 * scale && x.im == 0) }
    }

    // MARK: - Edge cases and errors

    @Test("empty and 1 × 1")
    func smallSizes() throws {
        #expect(try LinearAlgebra.eigenvalues([], n: 0) == [])
        #expect(try LinearAlgebra.spectralRadius([], n: 0) == 0)
        #expect(try LinearAlgebra.eigenvalues([-3.5], n: 1) == [ComplexValue(re: -3.5, im: 0)])
        #expect(try LinearAlgebra.spectralRadius([-3.5], n: 1) == 3.5)
    }

    @Test("NaN or ±∞ anywhere throws instead of iterating", arguments: [Double.nan, .infinity, -.infinity])
    func nonFinite(bad: Double) {
        for position in [0, 4, 8, 15] {
            var a = F.gaussian(count: 16, seed: 9)
            a[position] = bad
            #expect(throws: LinearAlgebraError.nonFiniteInput) { try LinearAlgebra.eigenvalues(a, n: 4) }
            #expect(throws: LinearAlgebraError.nonFiniteInput) { try LinearAlgebra.spectralRadius(a, n: 4) }
        }
        #expect(throws: LinearAlgebraError.nonFiniteInput) { try LinearAlgebra.eigenvalues([bad], n: 1) }
    }

    @Test("the iteration cap throws noConvergence instead of looping", arguments: [0, 1])
    func iterationCap(cap: Int) {
        // A 3 × 3 cyclic permutation cannot deflate in 0 or 1 sweeps.
        let a: [Double] = [0, 0, 1, 1, 0, 0, 0, 1, 0]
        #expect(throws: LinearAlgebraError.noConvergence(iterations: cap)) {
            try LinearAlgebra.eigenvalues(a, n: 3, maxSweepsPerDeflation: cap)
        }
    }

    @Test("shape mismatch throws")
    func dimensionMismatch() {
        #expect(throws: LinearAlgebraError.dimensionMismatch(expected: 9, actual: 8)) {
            try LinearAlgebra.eigenvalues([Double](repeating: 1, count: 8), n: 3)
        }
        #expect(throws: LinearAlgebraError.self) { try LinearAlgebra.eigenvalues([], n: -1) }
    }
}
