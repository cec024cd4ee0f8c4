// MARK: - Inner-loop kernels

extension LinearAlgebra {
    /// `Σ_i x[i]·y[i]` over `count` contiguous entries, with four independent
    /// accumulators so the compiler can vectorize and pipeline the reduction
    /// (strict IEEE order would serialize it). The summation order differs
    /// from a plain left-to-right loop only at rounding level.
    @inline(__always)
    static func dot(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, count: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        while i + 4 <= count {
            s0 += x[i] * y[i]
            s1 += x[i + 1] * y[i + 1]
            s2 += x[i + 2] * y[i + 2]
            s3 += x[i + 3] * y[i + 3]
            i += 4
        }
        while i < count {
            s0 += x[i] * y[i]
            i += 1
        }
        return (s0 + s1) + (s2 + s3)
    }

    /// `y[i] += alpha · x[i]` over `count` contiguous entries (BLAS `axpy`).
    @inline(__always)
    static func axpy(_ alpha: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count: Int) {
        for i in 0..<count { y[i] += alpha * x[i] }
    }

    /// The power of two `2^e` closest below `max_i |x_i|` (1 for an all-zero
    /// input). Dividing by it brings the entries to `[−2, 2]` **exactly**
    /// (barring subnormals), so pre-scaling by it cannot change any result
    /// except by preventing overflow or underflow.
    static func powerOfTwoScale(_ x: [Double]) -> Double {
        let largest = x.reduce(0) { max($0, abs($1)) }
        guard largest > 0, largest.isFinite else { return 1 }
        return Double(sign: .plus, exponent: largest.exponent, significand: 1)
    }
}
