import Foundation
import Testing
@testable import Recurrent

/// Dropout between stacked layers (PyTorch's `dropout=p`): the gradient with a fixed mask
/// against finite differences (Double; also bidirectional with uneven lengths), masks with
/// the documented values, off in prediction, and seeded so a resumed run ends with the same
/// bits as one never stopped.
@Suite("Dropout between layers")
struct DropoutTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var cell: CellKind
        var bidirectional: Bool
        var lengths: [Int]?
        var testDescription: String { "\(cell.rawValue)\(bidirectional ? "/bidirectional" : "")\(lengths.map { "/lengths\($0)" } ?? "")" }
    }

    static let cases = [Case(cell: .lstm, bidirectional: false, lengths: nil), Case(cell: .gru, bidirectional: true, lengths: [2, 5, 3]),
                        Case(cell: .rnn, bidirectional: false, lengths: [4, 1, 5])]

    @Test(arguments: cases)
    func gradientWithAFixedMaskMatchesFiniteDifferences(_ c: Case) throws {
        switch c.cell {
        case .lstm: try check(LSTMCell<Double>.self, c)
        case .gru: try check(GRUCell<Double>.self, c)
        default: try check(RNNCell<Double>.self, c)
        }
    }

    func check<Cell: RecurrentCell>(_ type: Cell.Type, _ c: Case) throws where Cell.Scalar == Double {
        let (b, t, i, h, o) = (3, 5, 2, 4, 3)
        var config = ModelConfiguration(cell: c.cell, activation: .tanh, inputSize: i, hiddenSize: h, layers: 3, outputs: o,
                                        readout: .everyStep, inputInit: .uniform(bound: 0.8), recurrentInit: .uniform(bound: 0.6),
                                        biasInit: .uniform(bound: 0.3))
        config.bidirectional = c.bidirectional
        config.dropout = 0.4
        let model = try makeModel(Cell.self, config, seed: 7)
        var x = randomBatch(batch: b, steps: t, features: i, seed: 11, as: Double.self)
        x.lengths = c.lengths
        let y = Targets<Double>.valuesPerStep(randomBatch(batch: b, steps: t, features: o, seed: 12, as: Double.self).values, columns: o)
        var ws = ModelWorkspace<Double>()
        let result = try model.gradients(x, y, loss: .meanSquaredError, workspace: &ws, dropoutSeed: 99)
        var rng = SeededGenerator(seed: 99)
        let masks = try #require(model.dropoutMasks(batch: b, steps: t, using: &rng))
        #expect(masks.count == 2 && masks.allSatisfy { $0.storage.contains(0) }, "the masks drop something")
        #expect(result.pass.dropoutMasks == masks, "the seed gives the masks")
        func lossOf(_ m: RecurrentModel<Cell>, _ input: SequenceBatch<Double>) throws -> Double {
            var w = ModelWorkspace<Double>()
            let pass = m.forward(input, workspace: &w, dropoutMasks: masks)
            return try Loss.meanSquaredError.evaluate(pass.outputs, y.lossTarget(batch: b, steps: t, lengths: input.unevenLengths)).value
        }
        #expect(isClose(result.loss, try lossOf(model, x), rtol: 1e-14), "the loss is the masked forward's")
        let step = 1e-6
        var analytic: [[Double]] = []
        result.gradients.forEachTensor { _, _, g in analytic.append(g.storage) }
        var names: [String] = []
        model.forEachParameter { _, name, _ in names.append(name) }
        for (p, name) in names.enumerated() {
            for e in analytic[p].indices where e % 3 == 0 {     // every third entry: enough to catch a missing mask
                var plus = model, minus = model
                plus.updateEachParameter { k, _, m in if k == p { m.storage[e] += step } }
                minus.updateEachParameter { k, _, m in if k == p { m.storage[e] -= step } }
                let numeric = (try lossOf(plus, x) - lossOf(minus, x)) / (2 * step)
                #expect(isClose(analytic[p][e], numeric, rtol: 1e-4, atol: 1e-7), "\(c.testDescription) \(name)[\(e)]: \(analytic[p][e]) vs \(numeric)")
            }
        }
        for e in x.values.indices {
            var plus = x, minus = x
            plus.values[e] += step
            minus.values[e] -= step
            let numeric = (try lossOf(model, plus) - lossOf(model, minus)) / (2 * step)
            #expect(isClose(result.inputGradient.values[e], numeric, rtol: 1e-4, atol: 1e-7), "\(c.testDescription) input[\(e)]")
        }
    }

    @Test func masksAreZeroOrOneOverKeepAndOffInPrediction() throws {
        var config = ModelConfiguration(cell: .gru, activation: .tanh, inputSize: 2, hiddenSize: 16, layers: 2, outputs: 2)
        config.dropout = 0.25
        let model = try makeModel(GRUCell<Float>.self, config, seed: 1)
        var rng = SeededGenerator(seed: 3)
        let masks = try #require(model.dropoutMasks(batch: 50, steps: 40, using: &rng))
        let values = masks[0].storage
        #expect(values.allSatisfy { $0 == 0 || $0 == Float(1 / 0.75) })
        let dropped = Double(values.filter { $0 == 0 }.count) / Double(values.count)
        #expect(abs(dropped - 0.25) < 0.02, "dropped \(dropped) of 32000")
        var plain = model
        plain.dropout = 0
        let x = randomBatch(batch: 4, steps: 6, features: 2, seed: 2, as: Float.self)
        #expect(model.predict(x).outputs == plain.predict(x).outputs, "no dropout in prediction")
        // One layer: nothing to drop between; the configuration says so.
        var one = config
        one.layers = 1
        #expect(throws: ConfigurationError.self) { try one.validate() }
    }
}
