// MARK: - Eigenvalues of a general real matrix

extension LinearAlgebra {
    /// Cap on Francis double-shift sweeps spent on one deflation (one or two
    /// eigenvalues). Exceptional shifts are applied every 10 sweeps; a block
    /// that still has not split after this many throws
    /// ``LinearAlgebraError/noConvergence(iterations:)``. EISPACK `hqr` uses 30;
    /// the larger cap only matters for pathological inputs.
    public static let maxQRSweepsPerDeflation = 60

    /// All `n` eigenvalues of the general (non-symmetric) real `n × n` matrix `a`.
    ///
    /// Solves `det(A − λI) = 0` by the standard dense pipeline:
    ///
    /// 0. **Scaling** by the power of two at or just below the largest
    ///    magnitude (exact; avoids overflow/underflow in the sweeps).
    /// 1. **Balancing** (Parlett–Reinsch, EISPACK `balanc`; GVL §7.5.7):
    ///    `A ← D⁻¹AD` with `D` a diagonal of powers of 2, so row and column
    ///    norms are comparable. Exact in floating point; improves accuracy.
    /// 2. **Hessenberg reduction** by Householder reflections (GVL Alg. 7.4.2):
    ///    `H = Q₀ᵀAQ₀`, `h_ij = 0` for `i > j + 1`.
    /// 3. **Francis implicit double-shift QR** with deflation (GVL Alg. 7.5.1
    ///    and 7.5.2; the EISPACK/Numerical Recipes `hqr` routine). Each sweep
    ///    implicitly applies the shifts `a, b` = eigenvalues of the trailing
    ///    2 × 2 block, i.e. `M = H² − sH + tI` with `s = a + b`, `t = ab`, by
    ///    chasing a 3 × 3 Householder bulge down the subdiagonal. A
    ///    subdiagonal entry is set to zero when
    ///    `|h_{k,k−1}| ≤ ε (|h_{k−1,k−1}| + |h_kk|)`; 1 × 1 blocks give real
    ///    eigenvalues, 2 × 2 blocks give a real pair or a conjugate pair.
    ///    Exceptional (ad hoc) shifts after 10, 20, … stalled sweeps break
    ///    cycles such as cyclic permutation matrices.
    ///
    /// Cost is `O(n³)`: ≈ 10n³/3 flops for the Hessenberg reduction plus a
    /// few n³ for the sweeps (eigenvalues only, no Schur vectors are formed).
    ///
    /// - Parameters:
    ///   - a: Row-major `n × n` matrix (`a[i * n + j]`). Not modified.
    ///   - n: Order of the matrix, `n ≥ 0`.
    ///   - maxSweepsPerDeflation: Iteration cap per deflation; the default
    ///     ``maxQRSweepsPerDeflation`` is ample for any finite input seen in
    ///     testing (including cyclic permutations and Jordan blocks).
    /// - Returns: All `n` eigenvalues; complex ones as exact conjugate pairs.
    ///   Sorted by descending ``ComplexValue/magnitude``, then descending `re`,
    ///   then descending `im` (so `x + iy` precedes `x − iy`). Note that
    ///   eigenvalues with mathematically equal modulus (e.g. on the unit
    ///   circle) are ordered by their rounded moduli.
    /// - Throws: ``LinearAlgebraError/dimensionMismatch(expected:actual:)`` if
    ///   `a.count != n * n`; ``LinearAlgebraError/nonFiniteInput`` if any entry
    ///   is NaN or ±∞ (checked before iterating, so NaN never loops);
    ///   ``LinearAlgebraError/noConvergence(iterations:)`` if a block fails to
    ///   deflate within `maxSweepsPerDeflation` sweeps.
    ///
    /// Accuracy: backward stable, so well-conditioned eigenvalues are accurate
    /// to a few ulps of `‖A‖`; an eigenvalue of a `k × k` Jordan block is only
    /// accurate to about `(ε‖A‖)^{1/k}` (GVL §7.2.2).
    public static func eigenvalues(
        _ a: [Double], n: Int, maxSweepsPerDeflation: Int = maxQRSweepsPerDeflation
    ) throws -> [ComplexValue] {
        guard n >= 0, a.count == n * n else {
            throw LinearAlgebraError.dimensionMismatch(expected: max(n, 0) * max(n, 0), actual: a.count)
        }
        guard a.allSatisfy(\.isFinite) else { throw LinearAlgebraError.nonFiniteInput }
        if n == 0 { return [] }
        if n == 1 { return [ComplexValue(re: a[0], im: 0)] }

        // Exact power-of-two pre-scaling keeps the QR sweeps (which square
        // entries) away from overflow and underflow; λ(cA) = c·λ(A).
        let scale = powerOfTwoScale(a)
        var h = scale == 1 ? a : a.map { $0 / scale }
        var values: [ComplexValue] = []
        try h.withUnsafeMutableBufferPointer { buffer in
            balance(buffer, n: n)
            reduceToHessenberg(buffer, n: n)
            values = try hessenbergQR(buffer, n: n, maxSweeps: maxSweepsPerDeflation)
        }
        if scale != 1 {
            values = values.map { ComplexValue(re: $0.re * scale, im: $0.im * scale) }
        }
        values.sort(by: eigenvalueOrder)
        return values
    }

    /// Spectral radius `ρ(A) = max_i |λ_i(A)|` of a square real matrix.
    /// Computes all eigenvalues with ``eigenvalues(_:n:maxSweepsPerDeflation:)``.
    ///
    /// For a linear RNN `h_t = W h_{t−1}`, `‖h_t‖` grows like `ρ(W)^t`
    /// (Gelfand: `ρ(W) = lim ‖W^t‖^{1/t}`), which is why `ρ(W) ≈ 1` is needed.
    /// Returns `0` for `n == 0`. Errors as in ``eigenvalues(_:n:maxSweepsPerDeflation:)``.
    public static func spectralRadius(_ a: [Double], n: Int) throws -> Double {
        try eigenvalues(a, n: n).reduce(0) { max($0, $1.magnitude) }
    }

    // MARK: - Ordering

    /// Descending modulus, then descending real part, then descending imaginary part.
    private static func eigenvalueOrder(_ x: ComplexValue, _ y: ComplexValue) -> Bool {
        let mx = x.magnitude, my = y.magnitude
        if mx != my { return mx > my }
        if x.re != y.re { return x.re > y.re }
        return x.im > y.im
    }

    // MARK: - Balancing

    /// Parlett–Reinsch balancing (EISPACK `balanc`, scaling part only, radix 2).
    ///
    /// Repeatedly scales row `i` by `1/f` and column `i` by `f` (`f` a power of
    /// 2) when that reduces `‖row_i‖₁ + ‖col_i‖₁` (off-diagonal) by at least 5%.
    /// Similarity transform, exact in binary floating point. Capped passes.
    private static func balance(_ a: UnsafeMutableBufferPointer<Double>, n: Int) {
        let radix = 2.0
        let radixSquared = radix * radix
        var converged = false
        var pass = 0
        while !converged && pass < 100 {
            converged = true
            pass += 1
            for i in 0..<n {
                var c = 0.0, r = 0.0
                for j in 0..<n where j != i {
                    c += abs(a[j * n + i])
                    r += abs(a[i * n + j])
                }
                guard c != 0, r != 0 else { continue }
                var g = r / radix
                var f = 1.0
                let s = c + r
                while c < g { f *= radix; c *= radixSquared }
                g = r * radix
                while c > g { f /= radix; c /= radixSquared }
                if (c + r) / f < 0.95 * s {
                    converged = false
                    let inverse = 1 / f
                    for j in 0..<n { a[i * n + j] *= inverse }
                    for j in 0..<n { a[j * n + i] *= f }
                }
            }
        }
    }

    // MARK: - Hessenberg reduction

    /// Householder reduction to upper Hessenberg form (GVL Alg. 7.4.2):
    /// for `k = 0 … n−3`, `P_k = I − β v vᵀ` zeroes `A[k+2…, k]`, and
    /// `A ← P_k A P_k`. Entries below the subdiagonal are set to exactly 0.
    private static func reduceToHessenberg(_ a: UnsafeMutableBufferPointer<Double>, n: Int) {
        guard n > 2, let base = a.baseAddress else { return }
        var vStorage = [Double](repeating: 0, count: n)
        var wStorage = [Double](repeating: 0, count: n)
        vStorage.withUnsafeMutableBufferPointer { vBuffer in
            wStorage.withUnsafeMutableBufferPointer { wBuffer in
                let v = vBuffer.baseAddress!, w = wBuffer.baseAddress!
                for k in 0..<(n - 2) {
                    let length = n - k - 1           // rows k+1 ..< n
                    // Scaled Householder vector (GVL Alg. 5.1.1).
                    var scale = 0.0
                    for i in 0..<length { scale = max(scale, abs(base[(k + 1 + i) * n + k])) }
                    if scale == 0 { continue }
                    var sigma = 0.0
                    for i in 0..<length {
                        v[i] = base[(k + 1 + i) * n + k] / scale
                        if i > 0 { sigma += v[i] * v[i] }
                    }
                    if sigma == 0 { continue }       // already zero below the subdiagonal
                    let norm = (v[0] * v[0] + sigma).squareRoot()
                    let alpha = v[0] >= 0 ? -norm : norm
                    v[0] -= alpha
                    let beta = 2 / (v[0] * v[0] + sigma)

                    // Left: A[k+1..<n, k+1..<n] ← (I − βvvᵀ) A[…]; column k becomes α·scale·e₁.
                    let width = n - k - 1
                    let wk = w + k + 1
                    for j in 0..<width { wk[j] = 0 }
                    for i in 0..<length {
                        axpy(v[i], base + (k + 1 + i) * n + k + 1, wk, count: width)
                    }
                    for i in 0..<length {
                        axpy(-beta * v[i], wk, base + (k + 1 + i) * n + k + 1, count: width)
                    }
                    base[(k + 1) * n + k] = alpha * scale
                    for i in 1..<length { base[(k + 1 + i) * n + k] = 0 }

                    // Right: A[0..<n, k+1..<n] ← A[…] (I − βvvᵀ).
                    for r in 0..<n {
                        let row = base + r * n + k + 1
                        let s = dot(row, v, count: length)
                        if s != 0 { axpy(-beta * s, v, row, count: length) }
                    }
                }
            }
        }
    }

    // MARK: - Francis double-shift QR (hqr)

    /// Eigenvalues of an upper Hessenberg matrix by the Francis implicit
    /// double-shift QR iteration (GVL Alg. 7.5.1 / 7.5.2), following the
    /// structure of EISPACK `hqr` (eigenvalues only: each sweep touches only
    /// the active block `l…nn`). Destroys `h`.
    private static func hessenbergQR(
        _ h: UnsafeMutableBufferPointer<Double>, n: Int, maxSweeps: Int
    ) throws -> [ComplexValue] {
        let eps = Double.ulpOfOne
        var values = [ComplexValue](repeating: ComplexValue(re: 0, im: 0), count: n)

        // Norm of the Hessenberg part, used when a local scale is exactly zero.
        var anorm = 0.0
        for i in 0..<n {
            for j in max(i - 1, 0)..<n { anorm += abs(h[i * n + j]) }
        }

        var nn = n - 1        // bottom row of the active (unreduced) block
        var t = 0.0           // accumulated exceptional shifts
        var its = 0           // sweeps since the last deflation
        while nn >= 0 {
            // Look for a single small subdiagonal element: l = top of the active block.
            var l = nn
            while l > 0 {
                var s = abs(h[(l - 1) * n + l - 1]) + abs(h[l * n + l])
                if s == 0 { s = anorm }
                if abs(h[l * n + l - 1]) <= eps * s {
                    h[l * n + l - 1] = 0
                    break
                }
                l -= 1
            }

            var x = h[nn * n + nn]
            if l == nn {
                // 1 × 1 block: one real root.
                values[nn] = ComplexValue(re: x + t, im: 0)
                nn -= 1
                its = 0
                continue
            }
            var y = h[(nn - 1) * n + nn - 1]
            var w = h[nn * n + nn - 1] * h[(nn - 1) * n + nn]
            if l == nn - 1 {
                // 2 × 2 block [[y, ·], [·, x]]: λ = x + p ± √(p² + w), p = (y − x)/2.
                let p = 0.5 * (y - x)
                let q = p * p + w
                var z = abs(q).squareRoot()
                x += t
                if q >= 0 {
                    z = p + (p >= 0 ? z : -z)
                    let first = x + z
                    let second = z != 0 ? x - w / z : first
                    values[nn - 1] = ComplexValue(re: first, im: 0)
                    values[nn] = ComplexValue(re: second, im: 0)
                } else {
                    values[nn - 1] = ComplexValue(re: x + p, im: z)
                    values[nn] = ComplexValue(re: x + p, im: -z)
                }
                nn -= 2
                its = 0
                continue
            }

            // No convergence yet: one double-shift sweep on rows/cols l…nn.
            if its >= maxSweeps {
                throw LinearAlgebraError.noConvergence(iterations: its)
            }
            if its > 0 && its % 10 == 0 {
                // Exceptional shift (EISPACK): move the origin and use ad hoc shifts.
                t += x
                for i in 0...nn { h[i * n + i] -= x }
                let s = abs(h[nn * n + nn - 1]) + abs(h[(nn - 1) * n + nn - 2])
                x = 0.75 * s
                y = x
                w = -0.4375 * s * s
            }
            its += 1

            // Find m: start the bulge where two consecutive subdiagonals are small
            // (GVL §7.5.6); (p, q, r) is the first column of M = H² − sH + tI.
            var m = nn - 2
            var p = 0.0, q = 0.0, r = 0.0, z = 0.0
            while true {
                z = h[m * n + m]
                let rr = x - z
                let ss = y - z
                p = (rr * ss - w) / h[(m + 1) * n + m] + h[m * n + m + 1]
                q = h[(m + 1) * n + m + 1] - z - rr - ss
                r = h[(m + 2) * n + m + 1]
                let scale = abs(p) + abs(q) + abs(r)
                p /= scale
                q /= scale
                r /= scale
                if m == l { break }
                let u = abs(h[m * n + m - 1]) * (abs(q) + abs(r))
                let v = abs(p) * (abs(h[(m - 1) * n + m - 1]) + abs(z) + abs(h[(m + 1) * n + m + 1]))
                if u <= eps * v { break }
                m -= 1
            }
            for i in m..<(nn - 1) {
                h[(i + 2) * n + i] = 0
                if i != m { h[(i + 2) * n + i - 1] = 0 }
            }

            // Chase the bulge with 3 × 3 (last one 2 × 2) Householder reflectors.
            for k in m..<nn {
                if k != m {
                    p = h[k * n + k - 1]
                    q = h[(k + 1) * n + k - 1]
                    r = k + 1 != nn ? h[(k + 2) * n + k - 1] : 0
                    x = abs(p) + abs(q) + abs(r)
                    if x != 0 {
                        p /= x
                        q /= x
                        r /= x
                    }
                }
                let norm = (p * p + q * q + r * r).squareRoot()
                let s = p >= 0 ? norm : -norm
                if s == 0 { continue }
                if k == m {
                    if l != m { h[k * n + k - 1] = -h[k * n + k - 1] }
                } else {
                    h[k * n + k - 1] = -s * x
                }
                p += s
                x = p / s
                y = q / s
                z = r / s
                q /= p
                r /= p
                // Row transformation on rows k, k+1, k+2, columns k…nn.
                let row0 = k * n, row1 = (k + 1) * n
                if k + 1 != nn {
                    let row2 = (k + 2) * n
                    for j in k...nn {
                        let pj = h[row0 + j] + q * h[row1 + j] + r * h[row2 + j]
                        h[row2 + j] -= pj * z
                        h[row1 + j] -= pj * y
                        h[row0 + j] -= pj * x
                    }
                } else {
                    for j in k...nn {
                        let pj = h[row0 + j] + q * h[row1 + j]
                        h[row1 + j] -= pj * y
                        h[row0 + j] -= pj * x
                    }
                }
                // Column transformation on columns k, k+1, k+2, rows l…min(nn, k+3).
                let last = min(nn, k + 3)
                if k + 1 != nn {
                    for i in l...last {
                        let row = i * n
                        let pi = x * h[row + k] + y * h[row + k + 1] + z * h[row + k + 2]
                        h[row + k + 2] -= pi * r
                        h[row + k + 1] -= pi * q
                        h[row + k] -= pi
                    }
                } else {
                    for i in l...last {
                        let row = i * n
                        let pi = x * h[row + k] + y * h[row + k + 1]
                        h[row + k + 1] -= pi * q
                        h[row + k] -= pi
                    }
                }
            }
        }
        return values
    }
}
