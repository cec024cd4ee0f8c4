/// The plain-loop kernels: the reference every fast kernel is tested against.
///
/// Shapes follow BLAS: `op(A)` is `[M, K]`, `op(B)` is `[K, N]`, `C` is `[M, N]`, all
/// row-major with leading dimensions (row strides) `lda`, `ldb`, `ldc`.
public enum NaiveKernels {
    /// `C = op(A) op(B)`, or `C += op(A) op(B)` when `accumulate`.
    /// `op(X)` is `X` or its transpose per `transA` / `transB`.
    public static func gemm<T: NeuralScalar>(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<T>, lda: Int,
        b: UnsafePointer<T>, ldb: Int,
        c: UnsafeMutablePointer<T>, ldc: Int,
        accumulate: Bool
    ) {
        for i in 0..<m {
            let cRow = c + i * ldc
            if !accumulate { for j in 0..<n { cRow[j] = 0 } }
            for p in 0..<k {
                let aip = transA ? a[p * lda + i] : a[i * lda + p]
                if transB {
                    for j in 0..<n { cRow[j] += aip * b[j * ldb + p] }
                } else {
                    let bRow = b + p * ldb
                    for j in 0..<n { cRow[j] += aip * bRow[j] }
                }
            }
        }
    }

    /// `out[c] (+)= sum_r a[r, c]` over `rows` rows of `cols` values (row stride `cols`).
    public static func columnSums<T: NeuralScalar>(
        _ a: UnsafePointer<T>, rows: Int, cols: Int, into out: UnsafeMutablePointer<T>, accumulate: Bool
    ) {
        if !accumulate { for j in 0..<cols { out[j] = 0 } }
        for r in 0..<rows {
            let row = a + r * cols
            for j in 0..<cols { out[j] += row[j] }
        }
    }
}
