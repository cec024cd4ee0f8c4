import Foundation
import Recurrent

// MARK: - Fixtures shared by the LinearAlgebra tests

/// Deterministic inputs and independent reference computations for the
/// `LinearAlgebra` tests. Everything is derived from explicit seeds, so every
/// test is reproducible; nothing here is global mutable state.
enum LinearAlgebraFixtures {
    /// The library's seeded generator (xoshiro256**), so fixtures are reproducible.
    typealias Generator = SeededGenerator

    /// `count` i.i.d. standard normal draws (Box–Muller) from `seed`.
    static func gaussian(count: Int, seed: UInt64) -> [Double] {
        var rng = Generator(seed: seed)
        var out: [Double] = []
        out.reserveCapacity(count)
        while out.count < count {
            let u1 = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &rng)
            let u2 = Double.random(in: 0..<1, using: &rng)
            let radius = (-2 * log(u1)).squareRoot()
            out.append(radius * cos(2 * Double.pi * u2))
            if out.count < count { out.append(radius * sin(2 * Double.pi * u2)) }
        }
        return out
    }

    /// Random `n × n` orthogonal matrix (Haar) via `LinearAlgebra.orthogonal`.
    static func randomOrthogonal(_ n: Int, seed: UInt64) -> [Double] {
        LinearAlgebra.orthogonal(rows: n, cols: n, gaussian: gaussian(count: n * n, seed: seed))
    }

    /// `n × n` identity.
    static func identity(_ n: Int) -> [Double] {
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { a[i * n + i] = 1 }
        return a
    }

    /// Square diagonal matrix.
    static func diagonal(_ d: [Double]) -> [Double] {
        let n = d.count
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { a[i * n + i] = d[i] }
        return a
    }

    /// Plane rotation `[[cos θ, −sin θ], [sin θ, cos θ]]`.
    static func rotation(_ theta: Double) -> [Double] {
        [cos(theta), -sin(theta), sin(theta), cos(theta)]
    }

    /// `Q B Qᵀ` for square `Q`, `B` of order `n`.
    static func similarity(_ q: [Double], _ b: [Double], n: Int) -> [Double] {
        let qb = LinearAlgebra.matmul(q, b, m: n, k: n, n: n)
        return LinearAlgebra.matmul(qb, LinearAlgebra.transpose(q, rows: n, cols: n), m: n, k: n, n: n)
    }

    /// Determinant by Gaussian elimination with partial pivoting (GVL Alg. 3.4.1);
    /// an independent reference for the product of the eigenvalues.
    static func determinant(_ a: [Double], n: Int) -> Double {
        var m = a
        var det = 1.0
        for k in 0..<n {
            var pivot = k
            for i in k..<n where abs(m[i * n + k]) > abs(m[pivot * n + k]) { pivot = i }
            if m[pivot * n + k] == 0 { return 0 }
            if pivot != k {
                for j in 0..<n { m.swapAt(k * n + j, pivot * n + j) }
                det = -det
            }
            det *= m[k * n + k]
            for i in (k + 1)..<n {
                let factor = m[i * n + k] / m[k * n + k]
                for j in k..<n { m[i * n + j] -= factor * m[k * n + j] }
            }
        }
        return det
    }

    /// Largest absolute difference between two equally long arrays (∞ if lengths differ).
    static func maxAbsDifference(_ x: [Double], _ y: [Double]) -> Double {
        guard x.count == y.count else { return .infinity }
        return zip(x, y).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// Distance between two complex numbers.
    static func distance(_ x: ComplexValue, _ y: ComplexValue) -> Double {
        ((x.re - y.re) * (x.re - y.re) + (x.im - y.im) * (x.im - y.im)).squareRoot()
    }

    /// Largest distance in an optimal-enough matching of `computed` to `expected`
    /// (greedy nearest unused neighbour; exact when errors are far below the
    /// separation of distinct expected values). ∞ if the counts differ.
    static func spectrumDistance(_ computed: [ComplexValue], _ expected: [ComplexValue]) -> Double {
        guard computed.count == expected.count else { return .infinity }
        var unused = computed
        var worst = 0.0
        for e in expected {
            guard let index = unused.indices.min(by: { distance(unused[$0], e) < distance(unused[$1], e) }) else {
                return .infinity
            }
            worst = max(worst, distance(unused[index], e))
            unused.remove(at: index)
        }
        return worst
    }

    /// Coefficients `[c_0, …, c_{n−1}]` of the monic `∏(x − r_i)`, i.e.
    /// `x^n + c_{n−1}x^{n−1} + … + c_0`; roots must be closed under conjugation.
    static func monicPolynomial(roots: [ComplexValue]) -> [Double] {
        var re: [Double] = [1], im: [Double] = [0]     // highest degree first
        for root in roots {
            var nextRe = re + [0], nextIm = im + [0]
            for i in 0..<re.count {
                // subtract root * coefficient shifted one degree down
                nextRe[i + 1] -= root.re * re[i] - root.im * im[i]
                nextIm[i + 1] -= root.re * im[i] + root.im * re[i]
            }
            re = nextRe
            im = nextIm
        }
        // re = [1, a_{n−1}, …, a_0]
        return Array(re.dropFirst().reversed())
    }

    /// Frobenius companion matrix of `x^n + c_{n−1}x^{n−1} + … + c_0`
    /// (GVL §7.4.6): ones on the subdiagonal, `−c` in the last column.
    static func companion(_ c: [Double]) -> [Double] {
        let n = c.count
        var a = [Double](repeating: 0, count: n * n)
        for i in 1..<n { a[i * n + i - 1] = 1 }
        for i in 0..<n { a[i * n + n - 1] = -c[i] }
        return a
    }
}
