// MARK: - QR factorization and orthogonal initialization

extension LinearAlgebra {
    /// Thin QR factorization `A = QR` by Householder reflections, with the
    /// sign convention that makes it unique: `diag(R) ≥ 0`.
    ///
    /// Algorithm: Householder QR (GVL Alg. 5.2.1) — for `j = 0 … k−1`
    /// (`k = min(rows, cols)`), `H_j = I − β_j v_j v_jᵀ` zeroes `A[j+1…, j]`;
    /// `R` is the upper triangle of `H_{k−1}⋯H_0 A`; the thin
    /// `Q = H_0⋯H_{k−1} I[:, 0..<k]` is formed by backward accumulation
    /// (GVL §5.1.6). Then, as in PyTorch's `nn.init.orthogonal_`
    /// (`q *= sign(diag(r))`), column `j` of `Q` and row `j` of `R` are
    /// multiplied by `sign(r_jj)`, so `A = QR` still holds and `diag(R) ≥ 0`.
    /// For full column rank this `(Q, R)` is unique, hence equal (to rounding)
    /// to LAPACK/PyTorch's after the same correction. Where `r_jj == 0`
    /// (rank deficiency) the sign is taken as `+1`, so `Q` stays orthonormal;
    /// PyTorch's `sign(0) = 0` would instead zero that column of `q`.
    ///
    /// - Parameters:
    ///   - a: Row-major `rows × cols` matrix.
    /// - Returns: `q`, row-major `rows × k`, with orthonormal columns
    ///   (`QᵀQ = I_k`); `r`, row-major `k × cols`, upper triangular (upper
    ///   trapezoidal if `cols > rows`) with non-negative diagonal. Both empty
    ///   if `k == 0`. If any entry of `a` is NaN or ±∞, every entry of `q`
    ///   and `r` is NaN (no iteration is involved, so nothing can hang).
    /// - Precondition: `a.count == rows * cols`.
    public static func qr(_ a: [Double], rows: Int, cols: Int) -> (q: [Double], r: [Double]) {
        precondition(rows >= 0 && cols >= 0 && a.count == rows * cols,
                     "qr: \(a.count) values, expected \(rows)×\(cols)")
        let m = rows, n = cols, k = min(rows, cols)
        if k == 0 { return (q: [], r: []) }
        guard a.allSatisfy(\.isFinite) else {
            return (q: [Double](repeating: .nan, count: m * k), r: [Double](repeating: .nan, count: k * n))
        }

        var work = a
        var vectors = [[Double]]()          // v_j, length m − j
        var betas = [Double]()
        vectors.reserveCapacity(k)
        betas.reserveCapacity(k)
        var w = [Double](repeating: 0, count: n)

        for j in 0..<k {
            let length = m - j
            var scale = 0.0
            for i in 0..<length { scale = max(scale, abs(work[(j + i) * n + j])) }
            var v = [Double](repeating: 0, count: length)
            var beta = 0.0
            if scale > 0 {
                var sigma = 0.0
                for i in 0..<length {
                    v[i] = work[(j + i) * n + j] / scale
                    if i > 0 { sigma += v[i] * v[i] }
                }
                if sigma > 0 {
                    let norm = (v[0] * v[0] + sigma).squareRoot()
                    let alpha = v[0] >= 0 ? -norm : norm
                    v[0] -= alpha
                    beta = 2 / (v[0] * v[0] + sigma)
                    // Apply H_j to the trailing columns j+1 ..< n.
                    if j + 1 < n {
                        for c in (j + 1)..<n { w[c] = 0 }
                        for i in 0..<length {
                            let row = (j + i) * n
                            let vi = v[i]
                            for c in (j + 1)..<n { w[c] += vi * work[row + c] }
                        }
                        for i in 0..<length {
                            let row = (j + i) * n
                            let factor = beta * v[i]
                            for c in (j + 1)..<n { work[row + c] -= factor * w[c] }
                        }
                    }
                    work[j * n + j] = alpha * scale
                    for i in 1..<length { work[(j + i) * n + j] = 0 }
                }
            }
            vectors.append(v)
            betas.append(beta)
        }

        // R: first k rows of the reduced matrix, lower part zeroed.
        var r = [Double](repeating: 0, count: k * n)
        for i in 0..<k {
            for c in i..<n { r[i * n + c] = work[i * n + c] }
        }

        // Q (m × k) = H_0 ⋯ H_{k−1} [I_k; 0], backward accumulation.
        var q = [Double](repeating: 0, count: m * k)
        for i in 0..<k { q[i * k + i] = 1 }
        var z = [Double](repeating: 0, count: k)
        for j in stride(from: k - 1, through: 0, by: -1) {
            let beta = betas[j]
            if beta == 0 { continue }
            let v = vectors[j]
            for c in j..<k { z[c] = 0 }
            for i in 0..<v.count {
                let row = (j + i) * k
                for c in j..<k { z[c] += v[i] * q[row + c] }
            }
            for i in 0..<v.count {
                let row = (j + i) * k
                let factor = beta * v[i]
                for c in j..<k { q[row + c] -= factor * z[c] }
            }
        }

        // Sign correction: diag(R) ≥ 0.
        for j in 0..<k where r[j * n + j] < 0 {
            for i in 0..<m { q[i * k + j] = -q[i * k + j] }
            for c in j..<n { r[j * n + c] = -r[j * n + c] }
        }
        return (q: q, r: r)
    }

    /// A (semi-)orthogonal matrix built from Gaussian draws exactly as
    /// PyTorch's `torch.nn.init.orthogonal_` does (Saxe et al., 2014):
    ///
    /// ```text
    /// G = gaussian as rows × cols       (row-major, i.i.d. N(0, 1))
    /// if rows < cols: G ← Gᵀ
    /// Q, R = qr(G)                      (thin)
    /// Q ← Q · diag(sign(diag(R)))       (makes the result Haar-distributed)
    /// if rows < cols: Q ← Qᵀ
    /// return gain · Q
    /// ```
    ///
    /// Given the same draws, the result matches PyTorch's to rounding (the
    /// sign-corrected thin QR is unique for full-rank `G`, which holds with
    /// probability 1).
    ///
    /// - Parameters:
    ///   - rows: Number of rows (PyTorch's `tensor.size(0)`).
    ///   - cols: Number of columns (PyTorch's `numel / rows`).
    ///   - gaussian: `rows * cols` standard normal draws, row-major. The caller
    ///     owns the random number generator, so results are reproducible.
    ///   - gain: Scale factor (PyTorch's `gain`), default 1.
    /// - Returns: Row-major `rows × cols`; rows orthonormal (`QQᵀ = I`) when
    ///   `rows ≤ cols`, columns orthonormal (`QᵀQ = I`) when `rows ≥ cols`
    ///   (times `gain²`). Empty if either dimension is 0; all NaN if the draws
    ///   contain NaN or ±∞.
    /// - Precondition: `gaussian.count == rows * cols`.
    public static func orthogonal(rows: Int, cols: Int, gaussian: [Double], gain: Double = 1) -> [Double] {
        precondition(rows >= 0 && cols >= 0 && gaussian.count == rows * cols,
                     "orthogonal: \(gaussian.count) draws, expected \(rows)×\(cols)")
        if rows == 0 || cols == 0 { return [] }
        var result: [Double]
        if rows < cols {
            let flipped = transpose(gaussian, rows: rows, cols: cols)   // cols × rows
            let q = qr(flipped, rows: cols, cols: rows).q                // cols × rows
            result = transpose(q, rows: cols, cols: rows)                // rows × cols
        } else {
            result = qr(gaussian, rows: rows, cols: cols).q              // rows × cols
        }
        if gain != 1 {
            for i in result.indices { result[i] *= gain }
        }
        return result
    }
}
