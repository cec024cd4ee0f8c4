@testable import Recurrent

/// |a - b| <= atol + rtol * max(|a|, |b|)
func isClose(_ a: Double, _ b: Double, rtol: Double = 1e-6, atol: Double = 1e-9) -> Bool {
    abs(a - b) <= atol + rtol * max(abs(a), abs(b))
}

/// `count` uniform(-1, 1) Floats from `seed` (the kernel tests' operands).
func randomFloats(_ count: Int, seed: UInt64) -> [Float] {
    var rng = SeededGenerator(seed: seed)
    return (0..<count).map { _ in Float(Draw.uniform(-1, 1, &rng)) }
}

/// A batch of uniform(-1, 1) values.
func randomBatch<T: NeuralScalar>(batch: Int, steps: Int, features: Int, seed: UInt64, as: T.Type = T.self) -> SequenceBatch<T> {
    var rng = SeededGenerator(seed: seed)
    return SequenceBatch(batch: batch, steps: steps, features: features,
                         values: (0..<(batch * steps * features)).map { _ in T(Draw.uniform(-1, 1, &rng)) })
}

/// Builds a model of the given cell type from a configuration.
func makeModel<Cell: RecurrentCell>(_ type: Cell.Type, _ config: ModelConfiguration, seed: UInt64) throws -> RecurrentModel<Cell> {
    var rng = SeededGenerator(seed: seed)
    return try RecurrentModel<Cell>(config, using: &rng)
}
