/// A seeded pseudo-random generator: xoshiro256** (Blackman & Vigna, 2018), its
/// 256-bit state filled from the seed by SplitMix64.
///
/// The same seed gives the same stream of bits on every machine and every Swift
/// version: the algorithm is part of the library's contract, unlike
/// `SystemRandomNumberGenerator` or `Float.random(in:using:)`, whose internals are not.
/// Every function that draws takes a generator from its caller (`inout some
/// RandomNumberGenerator`); nothing in the library draws from a global one.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Codable, Equatable {
    @usableFromInline var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
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

// MARK: - Documented draws

/// Draws used by initializers and tasks. Their formulas are fixed so that a seed
/// reproduces the same numbers everywhere.
public enum Draw {
    /// Uniform in [0, 1) with 53 random bits: `Double(next() >> 11) * 2^-53`.
    @inlinable
    public static func uniform01(_ rng: inout some RandomNumberGenerator) -> Double {
        Double(rng.next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [low, high).
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

    /// An integer uniform in 0..<n (Lemire's multiply-shift with rejection, unbiased).
    @inlinable
    public static func index(below n: Int, _ rng: inout some RandomNumberGenerator) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        while true {
            let x = rng.next()
            let product = x.multipliedFullWidth(by: bound)
            if product.low >= (0 &- bound) % bound { return Int(product.high) }
        }
    }

    /// A uniformly random permutation of 0..<n (Fisher-Yates, from the end).
    public static func permutation(_ n: Int, _ rng: inout some RandomNumberGenerator) -> [Int] {
        var p = Array(0..<n)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, index(below: i + 1, &rng)) }
        }
        return p
    }
}

