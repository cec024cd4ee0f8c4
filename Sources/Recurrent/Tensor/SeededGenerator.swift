// MARK: - SplitMix64

/// SplitMix64 (Steele, Lea & Flood, "Fast Splittable Pseudorandom Number Generators", OOPSLA
/// 2014, in Vigna's reference form): a Weyl sequence `s += 0x9E3779B97F4A7C15` passed through a
/// bijective 64-bit mixer.
///
/// The library's one SplitMix64. It fills ``SeededGenerator``'s state from a seed, derives
/// independent seeds from (seed, counter) pairs (``mixed(_:)``), and draws the fixed start vector
/// of the power method; none of these may change, or the same seed would give other bits.
struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The Weyl increment: 2⁶⁴ divided by the golden ratio, rounded to odd.
    static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15

    private var state: UInt64

    init(seed: UInt64) { state = seed }

    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= Self.increment
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The first output of a SplitMix64 seeded with `value`: a bijective scramble of 64 bits, used
    /// to derive independent seeds from (seed, counter) pairs such as (shuffle seed, epoch).
    @inline(__always)
    static func mixed(_ value: UInt64) -> UInt64 {
        var generator = SplitMix64(seed: value)
        return generator.next()
    }
}

// MARK: - xoshiro256**

/// A seeded pseudo-random generator: xoshiro256** (Blackman & Vigna, 2018), its
/// 256-bit state filled from the seed by ``SplitMix64``.
///
/// The same seed gives the same stream of bits on every machine and every Swift
/// version: the algorithm is part of the library's contract, unlike
/// `SystemRandomNumberGenerator` or `Float.random(in:using:)`, whose internals are not.
/// Every function that draws takes a generator from its caller (`inout some
/// RandomNumberGenerator`); nothing in the library draws from a global one. The draws
/// themselves (uniform, Gaussian, index, permutation) are in ``Draw``.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Codable, Equatable {
    @usableFromInline var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var seeding = SplitMix64(seed: seed)
        state = (seeding.next(), seeding.next(), seeding.next(), seeding.next())
    }

    /// Restores a generator from a saved `state` that the caller knows to be valid (4
    /// words, not all zero), e.g. `stateWords` of a live generator. For words read from a
    /// file use `init(validating:)`, which throws instead of trapping.
    public init(state: [UInt64]) {
        precondition(state.count == 4, "SeededGenerator state has 4 words")
        self.state = (state[0], state[1], state[2], state[3])
    }

    /// A saved state that is not a generator's: the wrong number of words, or all zero
    /// (xoshiro256**'s one fixed point: it would draw 0 forever).
    public struct InvalidState: Error, CustomStringConvertible, Equatable, Sendable {
        public var words: [UInt64]
        public var description: String {
            words.count != 4 ? "a generator state has 4 words (xoshiro256**), found \(words.count)"
                             : "a generator state of four zero words is not valid (xoshiro256** would draw 0 forever)"
        }
    }

    /// Restores a generator from words read from a file (a checkpoint's sidecar), checking
    /// them: exactly 4 words, not all zero.
    public init(validating words: [UInt64]) throws(InvalidState) {
        guard words.count == 4, words.contains(where: { $0 != 0 }) else { throw InvalidState(words: words) }
        self.init(state: words)
    }

    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    @inlinable
    func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public static func == (a: SeededGenerator, b: SeededGenerator) -> Bool { a.stateWords == b.stateWords }

    public init(from decoder: any Decoder) throws {
        let words = try [UInt64](from: decoder)
        do { try self.init(validating: words) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }
    public func encode(to encoder: any Encoder) throws { try stateWords.encode(to: encoder) }
}
