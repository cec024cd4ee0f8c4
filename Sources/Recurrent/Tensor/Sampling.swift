// MARK: - Reproducible sampling primitives
//
// The standard library's `Float.random(in:)`, `Int.random(in:)` and `shuffle()` do not document
// their algorithms, so the same seed could give different data on another toolchain. All data
// generators in this folder use only the functions below, whose bit-level behaviour is fixed here.

/// A uniform `Double` in [0, 1): the top 53 bits of one 64-bit draw, times 2⁻⁵³.
@inline(__always)
func uniform01(_ rng: inout some RandomNumberGenerator) -> Double {
    Double(rng.next() >> 11) * 0x1.0p-53
}

/// A uniform integer in `0..<bound` (`bound > 0`) by Lemire's multiply-and-reject method
/// (D. Lemire, "Fast Random Integer Generation in an Interval", ACM TOMACS 2019): the high word of
/// `bound × x` for a 64-bit draw `x`, rejecting draws whose low word is below `2⁶⁴ mod bound`,
/// which makes the result exactly unbiased. Returns 0 for `bound <= 1` without drawing.
func uniformIndex(below bound: Int, _ rng: inout some RandomNumberGenerator) -> Int {
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

/// A permutation of `0..<count` by the Fisher–Yates shuffle in Durstenfeld's form: start from the
/// identity and, for `i` from `count - 1` down to 1, swap element `i` with element
/// `uniformIndex(below: i + 1)`.
func fisherYatesPermutation(count: Int, _ rng: inout some RandomNumberGenerator) -> [Int] {
    var permutation = Array(0..<max(0, count))
    var i = permutation.count - 1
    while i > 0 {
        let j = uniformIndex(below: i + 1, &rng)
        permutation.swapAt(i, j)
        i -= 1
    }
    return permutation
}

/// The SplitMix64 output function (a bijective 64-bit mixer), used to derive independent seeds
/// from (seed, counter) pairs such as (shuffle seed, epoch).
@inline(__always)
func mix64(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
