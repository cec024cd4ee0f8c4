import Foundation
import Testing
import Recurrent

// MARK: - LinearAlgebra.symmetricEigenvalues

@Suite("LinearAlgebra.symmetricEigenvalues")
struct LinearAlgebraSymmetricEigenvaluesTests {
    typealias F = LinearAlgebraFixtures

    @Test("2 × 2 closed forms", arguments: [
        ([2.0, 1.0, 1.0, 2.0], [3.0, 1.0]),
        ([0.0, 1.0, 1.0, 0.0], [1.0, -1.0]),
        ([1.0, 2.0, 2.0, -2.0], [2.0, -3.0]),        // tr −1, det −6
        ([5.0, 0.0, 0.0, -7.0], [5.0, -7.0]),
    ])
    func twoByTwo(matrix: [Double], expected: [Double]) {
        #expect(F.maxAbsDifference(LinearAlgebra.symmetricEigenvalues(matrix, n: 2), expected) < 1e-14)
    }

    @Test("Q·diag(d)·Qᵀ recovers d, descending", arguments: [1, 2, 5, 20, 60])
    func prescribed(n: Int) {
        let d = (0..<n).map { 3 * sin(Double($0) * 1.7) + Double($0) * 0.01 }
        let a = F.similarity(F.randomOrthogonal(n, seed: UInt64(200 + n)), F.diagonal(d), n: n)
        let values = LinearAlgebra.symmetricEigenvalues(a, n: n)
        #expect(F.maxAbsDifference(values, d.sorted(by: >)) < 1e-12 * 3)
    }

    @Test("npRNN case: λ(RᵀR/N + I) = σ(R)²/N + 1", arguments: [4, 16, 48])
    func npRNNGram(n: Int) {
        let r = F.gaussian(count: n * n, seed: UInt64(300 + n))
        var m = LinearAlgebra.matmul(LinearAlgebra.transpose(r, rows: n, cols: n), r, m: n, k: n, n: n)
        for i in 0..<m.count { m[i] /= Double(n) }
        for i in 0..<n { m[i * n + i] += 1 }
        let values = LinearAlgebra.symmetricEigenvalues(m, n: n)
        let reference = LinearAlgebra.singularValues(r, rows: n, cols: n).map { $0 * $0 / Double(n) + 1 }
        #expect(F.maxAbsDifference(values, reference) < 1e-12 * values[0])
        #expect(values.last! >= 1 - 1e-12)
    }

    @Test("only the symmetric part (A + Aᵀ)/2 is used")
    func symmetrizes() {
        let n = 5
        let s = F.similarity(F.randomOrthogonal(n, seed: 11), F.diagonal([4, 2, 0, -1, -3]), n: n)
        var a = s
        let k = F.gaussian(count: n * n, seed: 12)
        for i in 0..<n { for j in 0..<n { a[i * n + j] += k[i * n + j] - k[j * n + i] } }   // + skew part
        #expect(F.maxAbsDifference(LinearAlgebra.symmetricEigenvalues(a, n: n), [4, 2, 0, -1, -3]) < 1e-12)
    }

    @Test("empty, 1 × 1 and non-finite input")
    func edgeCases() {
        #expect(LinearAlgebra.symmetricEigenvalues([], n: 0) == [])
        #expect(LinearAlgebra.symmetricEigenvalues([-4], n: 1) == [-4])
        // No overflow for huge entries: [[2, 1], [1, 2]] · 1e300 → (3, 1) · 1e300.
        let huge = LinearAlgebra.symmetricEigenvalues([2e300, 1e300, 1e300, 2e300], n: 2)
        #expect(abs(huge[0] / 3e300 - 1) < 1e-14 && abs(huge[1] / 1e300 - 1) < 1e-14)
        let bad = LinearAlgebra.symmetricEigenvalues([1, .nan, .nan, 1], n: 2)
        #expect(bad.count == 2 && bad.allSatisfy(\.isNaN))
        let infinite = LinearAlgebra.symmetricEigenvalues([1, 0, 0, .infinity], n: 2)
        #expect(infinite.count == 2 && infinite.allSatisfy(\.isNaN))
    }
}
