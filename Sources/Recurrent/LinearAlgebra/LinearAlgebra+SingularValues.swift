// MARK: - Singular values (one-sided Jacobi)

extension LinearAlgebra {
    /// Singular values of the `rows × cols` matrix `a`, in descending order.
    ///
    /// One-sided Jacobi (Hestenes 1958; GVL §8.6.3): orthogonalize the
    /// `min(rows, cols)` columns of `A` (of `Aᵀ` when `rows < cols`, so the short side is the
    /// one rotated) by plane rotations applied from the right, `A ← AJ`.
    /// For columns `u_i, u_j` with `α = ‖u_i‖²`, `β = ‖u_j‖²`, `γ = u_iᵀu_j`,
    /// the rotation `ζ = (β − α)/(2γ)`, `t = sign(ζ)/(|ζ| + √(1 + ζ²))`,
    /// `c = 1/√(1 + t²)`, `s = tc` makes them orthogonal (it is the Jacobi
    /// rotation of the 2 × 2 Gram block). When all columns are mutually
    /// orthogonal, `AV = UΣ` and `σ_i = ‖u_i‖₂`.
    ///
    /// The squared column norms `α` are carried through each rotation
    /// (`α' = α − tγ`, `β' = β + tγ`) and recomputed at the start of every
    /// sweep, so a pair costs one dot product instead of three.
    ///
    /// Tolerance: a pair is rotated while `|γ| > √L · ε · √(αβ)`
    /// (`L = max(rows, cols)`, as in LAPACK `dgesvj`); the iteration stops
    /// after a sweep with no rotation, or after ``maxJacobiSweeps`` sweeps.
    /// The input is pre-scaled (exactly) by the power of two at or just below
    /// its largest magnitude, so tiny or huge entries neither underflow nor
    /// overflow. Accuracy: `|σ̂_i − σ_i| ≲ ε‖A‖₂` for every `i`, and Jacobi is
    /// often better, relative to `σ_i` itself (Demmel–Veselić 1992).
    ///
    /// Cost `≈ 4 · rows · cols · min(rows, cols)` flops per sweep, typically
    /// 6–12 sweeps.
    ///
    /// - Parameters:
    ///   - a: Row-major `rows × cols` matrix.
    ///   - rows: Number of rows, `≥ 0`.
    ///   - cols: Number of columns, `≥ 0`.
    /// - Returns: `min(rows, cols)` singular values, descending, all `≥ 0`.
    ///   Empty if either dimension is 0. If any entry is NaN or ±∞, returns
    ///   `min(rows, cols)` NaNs (no iteration is attempted).
    /// - Precondition: `a.count == rows * cols`.
    public static func singularValues(_ a: [Double], rows: Int, cols: Int) -> [Double] {
        precondition(rows >= 0 && cols >= 0 && a.count == rows * cols,
                     "singularValues: \(a.count) values, expected \(rows)×\(cols)")
        let count = min(rows, cols)
        if count == 0 { return [] }
        guard a.allSatisfy(\.isFinite) else { return [Double](repeating: .nan, count: count) }
        if a.allSatisfy({ $0 == 0 }) { return [Double](repeating: 0, count: count) }
        let scale = powerOfTwoScale(a)

        // Vectors to orthogonalize, each stored contiguously: `count` vectors of
        // length `length`. Columns of A when tall (transpose), rows of A when wide.
        let length = max(rows, cols)
        var u: [Double] = rows >= cols ? transpose(a, rows: rows, cols: cols) : a
        for i in u.indices { u[i] /= scale }

        let tolerance = Double(length).squareRoot() * Double.ulpOfOne
        var norms = [Double](repeating: 0, count: count)   // ‖u_i‖², updated by each rotation
        u.withUnsafeMutableBufferPointer { buffer in
            let v = buffer.baseAddress!
            var sweep = 0
            var rotated = true
            while rotated && sweep < maxJacobiSweeps {
                rotated = false
                sweep += 1
                // Refresh the squared norms once per sweep (rotations update them
                // exactly in exact arithmetic; refreshing stops rounding drift).
                for i in 0..<count { norms[i] = dot(v + i * length, v + i * length, count: length) }
                for i in 0..<(count - 1) {
                    let ui = v + i * length
                    for j in (i + 1)..<count {
                        let uj = v + j * length
                        let alpha = norms[i], beta = norms[j]
                        let gamma = dot(ui, uj, count: length)
                        if gamma == 0 || abs(gamma) <= tolerance * (alpha * beta).squareRoot() { continue }
                        rotated = true
                        let zeta = (beta - alpha) / (2 * gamma)
                        let t: Double
                        if abs(zeta) > 1e150 {
                            t = 1 / (2 * zeta)
                        } else {
                            let root = (1 + zeta * zeta).squareRoot()
                            t = zeta >= 0 ? 1 / (zeta + root) : -1 / (-zeta + root)
                        }
                        let c = 1 / (1 + t * t).squareRoot()
                        let s = t * c
                        for k in 0..<length {
                            let x = ui[k], y = uj[k]
                            ui[k] = c * x - s * y
                            uj[k] = s * x + c * y
                        }
                        // Diagonal of the rotated 2 × 2 Gram block.
                        norms[i] = max(alpha - t * gamma, 0)
                        norms[j] = max(beta + t * gamma, 0)
                    }
                }
            }
        }

        var sigma = [Double](repeating: 0, count: count)
        for i in 0..<count {
            var sum = 0.0
            for k in 0..<length { sum += u[i * length + k] * u[i * length + k] }
            sigma[i] = scale * sum.squareRoot()
        }
        return sigma.sorted(by: >)
    }
}
