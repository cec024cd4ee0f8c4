// MARK: - A long matrix product kept in range by powers of two

/// A product of many n x n matrices, stored as 2^exponent * M so that neither M nor its
/// norms leave Double's range however far the true product grows or shrinks.
///
/// M is rescaled by a power of two whenever its largest entry leaves [2^-64, 2^64]:
/// multiplying by a power of two is exact, so a product that is exactly I, or exactly
/// s^k I, stays exact. Norms are returned as log10 values: log10 ||P|| = log10 ||M|| +
/// exponent * log10 2.
struct ScaledProduct {
    /// n
    let order: Int
    /// [n, n] row-major
    var matrix: [Double]
    var exponent: Int = 0

    /// The identity, the empty product.
    init(identity n: Int) {
        order = n
        matrix = [Double](repeating: 0, count: n * n)
        for i in 0..<n { matrix[i * n + i] = 1 }
    }

    /// P <- A P (through `Kernels.gemm`, so it speeds up with the library's kernels).
    mutating func multiply(left a: [Double]) {
        let n = order
        var out = [Double](repeating: 0, count: n * n)
        a.withUnsafeBufferPointer { pa in
            matrix.withUnsafeBufferPointer { pm in
                out.withUnsafeMutableBufferPointer { po in
                    Kernels.gemm(transA: false, transB: false, m: n, n: n, k: n, a: pa.baseAddress!, lda: n,
                                 b: pm.baseAddress!, ldb: n, c: po.baseAddress!, ldc: n, accumulate: false)
                }
            }
        }
        matrix = out
        renormalize()
    }

    /// P <- diag(d) P (scales row i by d_i).
    mutating func scaleRows(_ d: [Double]) {
        let n = order
        for i in 0..<n {
            let s = d[i]
            if s == 1 { continue }
            for j in 0..<n { matrix[i * n + j] *= s }
        }
    }

    /// Keeps the largest entry of M within [2^-64, 2^64] by an exact power-of-two scaling.
    mutating func renormalize() {
        let largest = matrix.reduce(0.0) { Swift.max($0, Swift.abs($1)) }
        guard largest.isFinite, largest > 0 else { return }
        let e = Int(largest.exponent)
        guard e > 64 || e < -64 else { return }
        let factor = Double(sign: .plus, exponent: -e, significand: 1)
        for i in matrix.indices { matrix[i] *= factor }
        exponent += e
    }

    /// True when the product is exactly zero (e.g. every ReLU unit turned off).
    var isZero: Bool { matrix.allSatisfy { $0 == 0 } }

    /// The last right singular vector found, the warm start of the next power iteration.
    var rightVector: [Double]? = nil

    /// log10 ||P||_2 (-inf for P = 0, NaN if M is not finite). Up to n = 32 exact (one-sided
    /// Jacobi); above, power iteration on MᵀM warm-started from the previous call's vector,
    /// at most 100 iterations, stopping at a relative change below 1e-9 (a lower bound,
    /// accurate to about 1e-6 relative unless the top two singular values nearly coincide).
    /// Along a product series the top singular vector changes little, so few iterations are needed.
    mutating func log10SpectralNorm() -> Double {
        let n = order
        if n <= 32 { return Self.log10(LinearAlgebra.spectralNorm(matrix, rows: n, cols: n), exponent: exponent) }
        guard matrix.allSatisfy(\.isFinite) else { return .nan }
        if isZero { return -.infinity }
        var v = rightVector ?? Self.startVector(n)
        var vNorm = LinearAlgebra.euclideanNorm(v)
        if !(vNorm > 0) { v = Self.startVector(n); vNorm = LinearAlgebra.euclideanNorm(v) }
        for j in 0..<n { v[j] /= vNorm }
        var sigma = 0.0
        var remaining = 100
        switch LinearAlgebra.powerIteration(matrix, rows: n, cols: n, vector: &v, estimate: &sigma,
                                            iterations: &remaining, tolerance: 1e-9) {
        case .converged, .exhausted:
            rightVector = v
            return Self.log10(sigma, exponent: exponent)
        case .nullVector, .nullProduct:
            rightVector = nil
            return Self.log10(LinearAlgebra.spectralNormEstimate(matrix, rows: n, cols: n), exponent: exponent)
        }
    }

    /// A fixed start with no symmetry: v_j = 1 + cos(3j + 1) / 2.
    static func startVector(_ n: Int) -> [Double] {
        (0..<n).map { (j: Int) -> Double in 1 + 0.5 * Double.cos(Double(3 * j + 1)) }
    }

    /// log10 ||P||_F.
    var log10FrobeniusNorm: Double {
        Self.log10(LinearAlgebra.frobeniusNorm(matrix, rows: order, cols: order), exponent: exponent)
    }

    static func log10(_ value: Double, exponent: Int) -> Double {
        guard value.isFinite else { return .nan }
        if value == 0 { return -.infinity }
        return Double.log(value) / Double.log(10) + Double(exponent) * log10Of2
    }

    static let log10Of2 = 0.301029995663981195213738894724493026768189881462108541310
}

/// 10^x that returns the Double range's limits instead of failing: +inf above 1e308, 0 below.
func power10(_ x: Double) -> Double {
    guard !x.isNaN else { return .nan }
    return Double.power(10, x)
}
