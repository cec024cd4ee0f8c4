// TEMPORARY: replaced by the full LinearAlgebra namespace.
public enum LinearAlgebra {
    public static func matmul(transposeOf a: [Double], rows: Int, cols: Int, times b: [Double], cols n: Int) -> [Double] {
        var out = Array(repeating: 0.0, count: cols * n)
        for r in 0..<rows { for i in 0..<cols { let v = a[r * cols + i]; for j in 0..<n { out[i * n + j] += v * b[r * n + j] } } }
        return out
    }
    public static func orthogonal(rows: Int, cols: Int, gaussian: [Double]) -> [Double] { gaussian }
    public static func symmetricEigenvalues(_ a: [Double], n: Int) -> [Double] { [1] }
}
