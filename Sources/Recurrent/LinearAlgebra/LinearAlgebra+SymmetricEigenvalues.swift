// MARK: - Eigenvalues of a symmetric matrix (cyclic Jacobi)

extension LinearAlgebra {
    /// Cap on cyclic Jacobi sweeps. Convergence is quadratic, so typical
    /// inputs need 6–10 sweeps; the cap only bounds pathological inputs.
    public static let maxJacobiSweeps = 60

    /// Eigenvalues of the symmetric `n × n` matrix `a`, in descending order.
    ///
    /// Cyclic-by-row Jacobi (GVL Alg. 8.5.3, with `symSchur2` of Alg. 8.5.1):
    /// for each pair `p < q`, the rotation `J(p, q, θ)` with
    /// `τ = (a_qq − a_pp) / (2a_pq)`, `t = sign(τ) / (|τ| + √(1 + τ²))`,
    /// `c = 1/√(1 + t²)`, `s = tc` zeroes `a_pq` in `A ← JᵀAJ`, which lowers
    /// `off(A)² = Σ_{i≠j} a_ij²` by `2a_pq²`. The diagonal converges to the
    /// spectrum.
    ///
    /// Tolerance: a pair is rotated only when
    /// `|a_pq| > ε · √(|a_pp · a_qq|)` (and `a_pq ≠ 0`); the iteration stops
    /// after the first sweep that rotates nothing, or after
    /// ``maxJacobiSweeps`` sweeps (returning the current diagonal). This
    /// threshold gives eigenvalues accurate to a few ulps of `‖A‖₂`.
    ///
    /// Used by the npRNN initializer for `λ_max(RᵀR/N + I)`. Cost
    /// `≈ 4n³` flops per sweep: fine for `n` up to a few hundred; prefer
    /// ``spectralNormEstimate(_:rows:cols:iterations:tolerance:)`` for
    /// larger `n` when only the extreme value is needed.
    ///
    /// - Parameters:
    ///   - a: Row-major `n × n` matrix. Only its symmetric part `(A + Aᵀ)/2`
    ///     is used, so tiny asymmetry from rounding is harmless.
    ///   - n: Order, `n ≥ 0`.
    /// - Returns: `n` eigenvalues, descending. If any entry is NaN or ±∞,
    ///   returns `n` NaNs (no iteration is attempted).
    /// - Precondition: `a.count == n * n`.
    public static func symmetricEigenvalues(_ a: [Double], n: Int) -> [Double] {
        precondition(n >= 0 && a.count == n * n,
                     "symmetricEigenvalues: \(a.count) values, expected \(n)×\(n)")
        if n == 0 { return [] }
        guard a.allSatisfy(\.isFinite) else { return [Double](repeating: .nan, count: n) }

        // Working copy with a padded row stride: a power-of-two stride would
        // make the strided column writes below collide in the same cache sets.
        // Entries are pre-scaled exactly by a power of two (see singularValues).
        let ld = n + 8
        let scale = powerOfTwoScale(a)
        var s = [Double](repeating: 0, count: n * ld)
        for i in 0..<n {
            for j in 0..<n { s[i * ld + j] = 0.5 * (a[i * n + j] / scale + a[j * n + i] / scale) }
        }
        let eps = Double.ulpOfOne
        s.withUnsafeMutableBufferPointer { buffer in
            let m = buffer.baseAddress!
            var sweep = 0
            var rotated = true
            while rotated && sweep < maxJacobiSweeps {
                rotated = false
                sweep += 1
                for p in 0..<(n - 1) {
                    let rowP = m + p * ld
                    for q in (p + 1)..<n {
                        let rowQ = m + q * ld
                        let apq = rowP[q]
                        if apq == 0 { continue }
                        let app = rowP[p], aqq = rowQ[q]
                        if abs(apq) <= eps * abs(app).squareRoot() * abs(aqq).squareRoot() { continue }
                        rotated = true
                        // symSchur2 (GVL Alg. 8.5.1).
                        let tau = (aqq - app) / (2 * apq)
                        let t: Double
                        if abs(tau) > 1e150 {
                            t = 1 / (2 * tau)
                        } else {
                            let root = (1 + tau * tau).squareRoot()
                            t = tau >= 0 ? 1 / (tau + root) : -1 / (-tau + root)
                        }
                        let c = 1 / (1 + t * t).squareRoot()
                        let sn = t * c
                        // A ← JᵀAJ: rotate rows p and q (contiguous), fix the 2 × 2
                        // block, then mirror the rows into columns p and q.
                        for k in 0..<n {
                            let akp = rowP[k], akq = rowQ[k]
                            rowP[k] = c * akp - sn * akq
                            rowQ[k] = sn * akp + c * akq
                        }
                        rowP[p] = app - t * apq
                        rowQ[q] = aqq + t * apq
                        rowP[q] = 0
                        rowQ[p] = 0
                        for k in 0..<n {
                            m[k * ld + p] = rowP[k]
                            m[k * ld + q] = rowQ[k]
                        }
                    }
                }
            }
        }
        return (0..<n).map { s[$0 * ld + $0] * scale }.sorted(by: >)
    }
}
