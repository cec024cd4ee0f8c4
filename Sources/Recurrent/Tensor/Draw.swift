// MARK: - Reproducible draws

/// The library's draws: uniform, Gaussian, index and permutation, each with its formula fixed
/// here, so that a seed reproduces the same numbers on every machine and toolchain.
///
/// The standard library's `Double.random(in:)`, `Int.random(in:)` and `shuffle()` do not document
/// their algorithms; initializers, tasks, data generators and shuffles use only these functions.
public enum Draw {
    /// Uniform in [0, 1) with 53 random bits: `Double(next() >> 11) * 2⁻⁵³`.
    @inlinable @inline(__always)
    public static func uniform01(_ rng: inout some RandomNumberGenerator) -> Double {
        Double(rng.next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [low, high): `low + (high - low) * uniform01`.
    @inlinable
    public static func uniform(_ low: Double, _ high: Double, _ rng: inout some RandomNumberGenerator) -> Double {
        low + (high - low) * uniform01(&rng)
    }

    /// Standard normal by the Box-Muller transform (one value per pair of uniforms):
    /// `sqrt(-2 ln(1 - u1)) * cos(2 pi u2)`.
    @inlinable
    public static func gaussian(_ rng: inout some RandomNumberGenerator) -> Double {
        let u1 = uniform01(&rng), u2 = uniform01(&rng)
        let radius = (-2 * Double.log(1 - u1)).squareRoot()
        return radius * Double.cos(2 * Double.pi * u2)
    }

    /// A uniform integer in `0..<bound` by Lemire's multiply-and-reject method (D. Lemire, "Fast
    /// Random Integer Generation in an Interval", ACM TOMACS 2019): the high word of `bound × x` for
    /// a 64-bit draw `x`, rejecting draws whose low word is below `2⁶⁴ mod bound`, which makes the
    /// result exactly unbiased. `bound == 1` returns 0 without drawing.
    ///
    /// - Precondition: `bound > 0` (callers check sizes that come from users).
    @inlinable
    public static func index(below bound: Int, _ rng: inout some RandomNumberGenerator) -> Int {
        precondition(bound > 0, "Draw.index(below:) needs a positive bound, got \(bound)")
        guard bound > 1 else { return 0 }
        let m = UInt64(bound)
        var product = m.multipliedFullWidth(by: rng.next())
        if product.low < m {
            let threshold = (0 &- m) % m
            while product.low < threshold {
                product = m.multipliedFullWidth(by: rng.next())
            }
        }
        return Int(product.high)
    }

    /// A uniformly random permutation of `0..<count` by the Fisher–Yates shuffle in Durstenfeld's
    /// form: start from the identity and, for `i` from `count - 1` down to 1, swap element `i` with
    /// element `index(below: i + 1)`. An empty permutation for `count <= 0`.
    public static func permutation(count: Int, _ rng: inout some RandomNumberGenerator) -> [Int] {
        var permutation = Array(0..<max(0, count))
        var i = permutation.count - 1
        while i > 0 {
            permutation.swapAt(i, index(below: i + 1, &rng))
            i -= 1
        }
        return permutation
    }
}
