import Foundation

// MARK: - Drawing a sequence from a model, one token at a time

/// Temperature sampling: an index drawn from softmax(logits / temperature), the arg max
/// (PyTorch's, first NaN or first largest) at temperature 0.
public enum TemperatureSampling {
    /// One draw: exp((z_i - max z) / temperature), in Double, and the first index whose
    /// running sum exceeds u * sum, u = `Draw.uniform01`. Temperature 0 draws nothing.
    public static func draw(_ logits: [Float], temperature: Double, using rng: inout SeededGenerator) -> Int {
        let z = logits.map(Double.init)
        let best = z.argmax() ?? 0
        guard temperature > 0 else { return best }
        let weights = z.map { Foundation.exp(($0 - z[best]) / temperature) }
        var u = Draw.uniform01(&rng) * weights.reduce(0, +)
        for (i, w) in weights.enumerated() {
            u -= w
            if u < 0 { return i }
        }
        return best
    }
}

/// The model's outputs stopped being finite while sampling (the state or the output layer
/// overflowed Float32 although the weights are finite), so no token can be drawn.
public struct SamplingError: AdvisedError, Equatable, Sendable {
    /// Tokens fed or drawn before the outputs went non-finite.
    public var tokens: Int
    public var problem: String {
        "the model's outputs are NaN or infinite after \(tokens) character\(tokens == 1 ? "" : "s") (its weights are finite, but the state or the output layer overflowed Float32), so no character can be drawn"
    }
    public var remedies: [Remedy] { [.shorterSequence] }
}

extension RecurrentModel where Scalar == Float {
    /// Feeds `prime` (token ids, one-hot over `vocabularySize` inputs), then draws `length`
    /// tokens one at a time from the last output (`TemperatureSampling`), carrying the state
    /// and feeding each drawn token back. For many-to-many models with `vocabularySize`
    /// inputs and outputs (character language models); `prime` must not be empty.
    public func sample(prime: [Int], length: Int, vocabularySize v: Int, temperature: Double,
                       using rng: inout SeededGenerator) throws(SamplingError) -> [Int] {
        func oneHot(_ ids: [Int]) -> SequenceBatch<Float> {
            SequenceBatch(batch: 1, steps: ids.count, features: v, values: ids.flatMap { id in (0..<v).map { $0 == id ? Float(1) : 0 } })
        }
        var (outputs, state) = predict(oneHot(prime))           // [1, P, V]: the last row predicts the next token
        var logits = Array(outputs.row(outputs.rows - 1))
        var ids: [Int] = []
        for _ in 0..<length {
            guard logits.allSatisfy({ $0.isFinite }) else { throw SamplingError(tokens: prime.count + ids.count) }
            let id = TemperatureSampling.draw(logits, temperature: temperature, using: &rng)
            ids.append(id)
            (outputs, state) = predict(oneHot([id]), initial: state)
            logits = Array(outputs.row(0))
        }
        return ids
    }
}

extension AnyRecurrentModel {
    /// `RecurrentModel.sample` for a model whose cell is known only at run time.
    public func sample(prime: [Int], length: Int, vocabularySize: Int, temperature: Double, seed: UInt64) throws -> [Int] {
        try visit(SamplingVisitor(prime: prime, length: length, vocabularySize: vocabularySize, temperature: temperature, seed: seed))
    }
}

/// `AnyRecurrentModel.sample`'s generic half.
struct SamplingVisitor: ModelVisitor {
    var prime: [Int]
    var length: Int
    var vocabularySize: Int
    var temperature: Double
    var seed: UInt64

    func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> [Int] where Cell.Scalar == Float {
        var rng = SeededGenerator(seed: seed)
        return try model.sample(prime: prime, length: length, vocabularySize: vocabularySize, temperature: temperature, using: &rng)
    }
}
