// MARK: - Copy memory task
//
// The copying memory problem as defined by M. Arjovsky, A. Shah & Y. Bengio, "Unitary Evolution
// Recurrent Neural Networks", ICML 2016, arXiv:1511.06464, §4.1 (after Hochreiter & Schmidhuber
// 1997). Alphabet of 10 classes: 0 is the blank, 1...8 are data symbols, 9 is the delimiter.
// With delay T and L = 10 symbols to copy, each sequence has T + 2L = T + 20 steps:
//
//     step:    0 … L−1 | L … L+T−2 | L+T−1     | L+T … T+2L−1
//     input:   s₀ … s₉ | 0 … 0     | 9         | 0 … 0           (L symbols, T−1 blanks, delimiter, L blanks)
//     target:  0 … 0   | 0 … 0     | 0         | s₀ … s₉         (T+L blanks, then the L symbols)
//
// The symbols sᵢ are drawn independently and uniformly from 1...8. Inputs are one-hot
// `[B, T+20, 10]`; targets are per-step classes `[B, T+20]` (`Targets.classesPerStep`); loss:
// mean cross-entropy over all steps.
//
// Baseline (Arjovsky et al.): a model that outputs the blank with certainty for the first T+L
// steps (loss 0) and the uniform distribution over the 8 data symbols for the last L steps (loss
// ln 8 each) has mean cross-entropy L·ln 8 / (T + 2L) = 10 ln 8 / (T + 20) per step; it needs no
// memory, so a model must beat it to show that it copies.
//
// Sampling (reproducible): for each sequence in turn, the L symbols `1 + Draw.index(below: 8)`
// (see `Draw.swift`).

/// The copy memory task with delay `delay` (T).
public struct CopyMemory: Sendable, Hashable {
    /// The delay T: steps between the end of the data symbols and the end of the delimiter step.
    public let delay: Int
    /// Number of data symbols to copy, L (10 in Arjovsky et al.).
    public let symbolCount: Int

    /// Class of the blank.
    public static let blank = 0
    /// Class of the delimiter (the cue to start writing the copy).
    public static let delimiter = 9
    /// Number of data symbols (classes 1...8).
    public static let dataSymbols = 8
    /// Size of the one-hot alphabet (input features and output classes).
    public static let alphabetSize = 10
    /// Default seed of ``testSet(size:seed:)``.
    public static let defaultTestSeed: UInt64 = 20_160_601

    public init(delay: Int, symbolCount: Int = 10) throws(DataError) {
        guard delay >= 1, symbolCount >= 1 else {
            throw DataError(
                .invalidArgument, "copy task with delay T = \(delay) and \(symbolCount) symbols", path: "<copy memory>",
                fix: "use T >= 1 and at least 1 symbol (Arjovsky et al. use T = 100...500 and 10 symbols)")
        }
        self.delay = delay
        self.symbolCount = symbolCount
    }

    /// Steps per sequence, T + 2L.
    public var steps: Int { delay + 2 * symbolCount }

    /// Mean per-step cross-entropy (nats) of the memoryless baseline: L·ln 8 / (T + 2L).
    public var baselineCrossEntropy: Double {
        Double(symbolCount) * log8 / Double(steps)
    }

    private var log8: Double { 3 * 0.693_147_180_559_945_309_417_232_121_458 }

    /// The input and target class ids of one sequence with data symbols `symbols`.
    public func layout(symbols: [Int]) -> (inputs: [Int], targets: [Int]) {
        var inputs = [Int](repeating: Self.blank, count: steps)
        var targets = [Int](repeating: Self.blank, count: steps)
        for (i, symbol) in symbols.prefix(symbolCount).enumerated() {
            inputs[i] = symbol
            targets[delay + symbolCount + i] = symbol
        }
        inputs[symbolCount + delay - 1] = Self.delimiter
        return (inputs, targets)
    }

    /// A batch of `size` fresh sequences (empty when `size <= 0`): one-hot inputs
    /// `[size, T+2L, 10]` and `.classesPerStep` targets `[size, T+2L]`.
    ///
    /// Specialised for `SeededGenerator` (the trainer's): reached through `SequenceGenerator`
    /// the generic body would call the generator through a witness for every draw.
    @_specialize(where R == SeededGenerator)
    public func batch<R: RandomNumberGenerator>(size: Int, using rng: inout R) -> (SequenceBatch<Float>, Targets<Float>) {
        let size = max(0, size)
        let n = steps
        var values = [Float](repeating: 0, count: size * n * Self.alphabetSize)
        var classes: [Int] = []
        classes.reserveCapacity(size * n)
        for b in 0..<size {
            let symbols = (0..<symbolCount).map { _ in 1 + Draw.index(below: Self.dataSymbols, &rng) }
            let (inputs, targets) = layout(symbols: symbols)
            for (t, symbol) in inputs.enumerated() {
                values[(b * n + t) * Self.alphabetSize + symbol] = 1
            }
            classes += targets
        }
        let inputs = SequenceBatch(batch: size, steps: n, features: Self.alphabetSize, values: values)
        return (inputs, .classesPerStep(classes))
    }

    /// A fixed test set: `batch(size:using:)` with `SeededGenerator(seed: seed)`.
    public func testSet(size: Int = 1000, seed: UInt64 = defaultTestSeed) -> (SequenceBatch<Float>, Targets<Float>) {
        var generator = SeededGenerator(seed: seed)
        return batch(size: size, using: &generator)
    }
}
