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

    /// P <- A P.
    mutating func multiply(left a: [Double]) {
        matrix = LinearAlgebra.matmul(a, matrix, m: order, k: order, n: order)
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

    /// log10 ||P||_2 (-inf for P = 0, NaN if M is not finite).
    var log10SpectralNorm: Double {
        Self.log10(ScaledProduct.spectralNorm(matrix, n: order), exponent: exponent)
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

    /// sigma_max of a well-scaled [n, n] matrix: exact (one-sided Jacobi) up to n = 32,
    /// above that the power-method estimate (at most 300 iterations, relative change 1e-10;
    /// a lower bound, within about 1e-6 relative of sigma_max unless the top two singular
    /// values nearly coincide).
    static func spectralNorm(_ m: [Double], n: Int) -> Double {
        if n <= 32 { return LinearAlgebra.spectralNorm(m, rows: n, cols: n) }
        return LinearAlgebra.spectralNormEstimate(m, rows: n, cols: n, iterations: 300, tolerance: 1e-10)
    }
}

/// 10^x that returns the Double range's limits instead of failing: +inf above 1e308, 0 below.
func power10(_ x: Double) -> Double {
    guard !x.isNaN else { return .nan }
    return Double.power(10, x)
}
