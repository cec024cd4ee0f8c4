// MARK: - Matrix products and transpose

extension LinearAlgebra {
    /// Naive dense product `C = A·B`, `C_ij = Σ_p A_ip · B_pj`.
    ///
    /// `a` is `m × k`, `b` is `k × n`, the result is `m × n`, all row-major.
    /// Uses the cache-friendly row-oriented `i-p-j` ("saxpy") loop order of
    /// GVL §1.1 and no blocking: meant for tests and for chaining small
    /// Jacobian factors `D_t W`, not for large training workloads.
    /// Any of `m`, `k`, `n` may be zero (`k = 0` gives the zero matrix).
    ///
    /// - Precondition: `a.count == m * k`, `b.count == k * n`, all sizes ≥ 0.
    public static func matmul(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int) -> [Double] {
        precondition(m >= 0 && k >= 0 && n >= 0, "matmul: negative dimension")
        precondition(a.count == m * k, "matmul: a has \(a.count) values, expected \(m)×\(k)")
        precondition(b.count == k * n, "matmul: b has \(b.count) values, expected \(k)×\(n)")
        var c = [Double](repeating: 0, count: m * n)
        guard m > 0, n > 0, k > 0 else { return c }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    for i in 0..<m {
                        let rowC = i * n
                        for p in 0..<k {
                            let aip = pa[i * k + p]
                            let rowB = p * n
                            for j in 0..<n {
                                pc[rowC + j] += aip * pb[rowB + j]
                            }
                        }
                    }
                }
            }
        }
        return c
    }

    /// Transpose: the `cols × rows` row-major matrix with `Aᵀ_ji = A_ij`.
    ///
    /// - Precondition: `a.count == rows * cols`.
    public static func transpose(_ a: [Double], rows: Int, cols: Int) -> [Double] {
        precondition(rows >= 0 && cols >= 0, "transpose: negative dimension")
        precondition(a.count == rows * cols, "transpose: \(a.count) values, expected \(rows)×\(cols)")
        var t = [Double](repeating: 0, count: a.count)
        for i in 0..<rows {
            for j in 0..<cols {
                t[j * rows + i] = a[i * cols + j]
            }
        }
        return t
    }
}
