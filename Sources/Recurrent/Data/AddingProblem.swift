// MARK: - Adding problem
//
// The adding problem of S. Hochreiter & J. Schmidhuber, "Long Short-Term Memory", Neural
// Computation 9(8):1735–1780, 1997 (experiment 4), in the form used by Q. V. Le, N. Jaitly &
// G. E. Hinton, "A Simple Way to Initialize Recurrent Networks of Rectified Linear Units",
// arXiv:1504.00941, 2015, §4.1.
//
// Each sequence has T steps of 2 features `[value, marker]`:
//
// - `value[t] ~ U(0, 1)` independently for every step;
// - `marker[t] ∈ {0, 1}`, with exactly two 1s: one at a step drawn uniformly from the first half
//   `[0, T/2)` and one uniformly from the second half `[T/2, T)` (`T/2` rounded down);
// - the target (one number per sequence) is the sum of the two marked values; loss: mean squared
//   error.
//
// Baseline: always predicting 1 gives an expected MSE of 1/6 ≈ 0.1667. With s = u₁ + u₂ for
// independent u₁, u₂ ~ U(0, 1): E[s] = 1, so E[(s − 1)²] = Var(s) = Var(u₁) + Var(u₂)
// = 1/12 + 1/12 = 2/12 = 1/6 (the variance of U(0, 1) is ∫₀¹ (u − ½)² du = 1/12). A model must get
// well below this value to show that it remembers the marked numbers over T steps.
//
// Sampling (reproducible bit for bit): for each sequence in turn, draw the T values
// `Float(Draw.uniform01(&rng))` for t = 0..<T, then the first marker `Draw.index(below: T/2)`, then the
// second `T/2 + Draw.index(below: T − T/2)` (see `Draw.swift`). Values are converted to
// `Float` (round to nearest), and the target is the `Float` sum of the two stored values.

/// The adding problem with sequences of `steps` steps.
public struct AddingProblem: Sendable, Hashable {
    /// Sequence length T (at least 2).
    public let steps: Int

    /// Features per step: value and marker.
    public static let features = 2

    /// Expected MSE of always predicting 1: Var(u₁ + u₂) = 2/12 = 1/6.
    public static let baselineMSE = 1.0 / 6.0

    /// Default seed of ``testSet(size:seed:)``.
    public static let defaultTestSeed: UInt64 = 20_150_401

    public init(steps: Int) throws(DataError) {
        guard steps >= 2 else {
            throw DataError(
                .invalidArgument, "adding problem length T = \(steps) is too short", path: "<adding problem>",
                fix: "use T >= 2 so that each half holds one marker (Le et al. use T = 150, 200, 300, 400)")
        }
        self.steps = steps
    }

    /// A batch of `size` fresh sequences (an empty batch when `size <= 0`): inputs `[size, T, 2]`
    /// and targets `.values([size], columns: 1)`.
    ///
    /// Specialised for `SeededGenerator` (the trainer's): reached through `SequenceGenerator`
    /// the generic body would call the generator through a witness for every draw.
    @_specialize(where R == SeededGenerator)
    public func batch<R: RandomNumberGenerator>(size: Int, using rng: inout R) -> (SequenceBatch<Float>, Targets<Float>) {
        let size = max(0, size)
        let half = steps / 2
        var values = [Float](repeating: 0, count: size * steps * Self.features)
        var targets = [Float](repeating: 0, count: size)
        for b in 0..<size {
            let base = b * steps * Self.features
            for t in 0..<steps {
                values[base + t * Self.features] = Float(Draw.uniform01(&rng))
            }
            let first = Draw.index(below: half, &rng)
            let second = half + Draw.index(below: steps - half, &rng)
            values[base + first * Self.features + 1] = 1
            values[base + second * Self.features + 1] = 1
            targets[b] = values[base + first * Self.features] + values[base + second * Self.features]
        }
        let inputs = SequenceBatch(batch: size, steps: steps, features: Self.features, values: values)
        return (inputs, .values(targets, columns: 1))
    }

    /// A fixed test set: `batch(size:using:)` with `SeededGenerator(seed: seed)`.
    public func testSet(size: Int = 1000, seed: UInt64 = defaultTestSeed) -> (SequenceBatch<Float>, Targets<Float>) {
        var generator = SeededGenerator(seed: seed)
        return batch(size: size, using: &generator)
    }
}
