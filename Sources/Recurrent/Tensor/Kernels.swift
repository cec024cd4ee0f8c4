/// The one interface between the layers and the arithmetic: matrix products with
/// transpose flags and accumulation, bias broadcasting and reductions.
///
/// Cells, BPTT, losses and optimizers call only these (or `Matrix` helpers built on
/// them), so that faster kernels replace the loops here without touching any layer.
/// `NaiveKernels` keeps the plain loops as the test oracle.
public enum Kernels {
    /// `C = op(A) op(B)` or `C += op(A) op(B)`; see `NaiveKernels.gemm` for the shapes.
    @inlinable
    public static func gemm<T: NeuralScalar>(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<T>, lda: Int,
        b: UnsafePointer<T>, ldb: Int,
        c: UnsafeMutablePointer<T>, ldc: Int,
        accumulate: Bool
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        NaiveKernels.gemm(transA: transA, transB: transB, m: m, n: n, k: k,
                          a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
    }

    /// `out[c] (+)= sum_r a[r, c]`.
    @inlinable
    public static func columnSums<T: NeuralScalar>(
        _ a: UnsafePointer<T>, rows: Int, cols: Int, into out: UnsafeMutablePointer<T>, accumulate: Bool
    ) {
        NaiveKernels.columnSums(a, rows: rows, cols: cols, into: out, accumulate: accumulate)
    }

    /// `c[r, :] += bias` for `rows` rows of `cols` values (row stride `cols`).
    @inlinable
    public static func addRowVector<T: NeuralScalar>(
        _ bias: UnsafePointer<T>, to c: UnsafeMutablePointer<T>, rows: Int, cols: Int
    ) {
        for r in 0..<rows {
            let row = c + r * cols
            for j in 0..<cols { row[j] += bias[j] }
        }
    }
}

// MARK: - Matrix-level products (for code off the hot path)

extension Matrix {
    /// `op(a) op(b)` as a new matrix, or added into `into` when given.
    public static func product(_ a: Matrix, _ b: Matrix, transposeA transA: Bool = false,
                               transposeB transB: Bool = false) -> Matrix {
        let m = transA ? a.cols : a.rows
        let k = transA ? a.rows : a.cols
        let kb = transB ? b.cols : b.rows
        let n = transB ? b.rows : b.cols
        precondition(k == kb, "Matrix product: inner dimensions \(a.shape)\(transA ? "ᵀ" : "") x \(b.shape)\(transB ? "ᵀ" : "") differ")
        var c = Matrix(rows: m, cols: n)
        if m == 0 || n == 0 || k == 0 { return c }
        a.storage.withUnsafeBufferPointer { ap in
            b.storage.withUnsafeBufferPointer { bp in
                c.storage.withUnsafeMutableBufferPointer { cp in
                    Kernels.gemm(transA: transA, transB: transB, m: m, n: n, k: k,
                                 a: ap.baseAddress!, lda: a.cols, b: bp.baseAddress!, ldb: b.cols,
                                 c: cp.baseAddress!, ldc: n, accumulate: false)
                }
            }
        }
        return c
    }
}
