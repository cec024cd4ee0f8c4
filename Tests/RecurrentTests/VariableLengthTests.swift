import Testing
@testable import Recurrent

/// Variable-length sequences (PyTorch's packed semantics): no padding leaks. A sequence's
/// outputs and h_n are bit-identical whatever padding surrounds it (zeros, huge values,
/// NaN; more padded steps) and to running it alone, for every cell, both readouts, one and
/// two threads; equal lengths given explicitly run today's path to the same bits.
@Suite("Variable-length sequences")
struct VariableLengthTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var cell: CellKind
        var readout: Readout
        var threads: Int
        var bidirectional = false
        /// Above 256 the fast kernels take the packed W_hh path (`packedRecurrentWeights`).
        var hidden = 32
        var testDescription: String {
            "\(cell.rawValue)/\(readout.rawValue)/threads \(threads)" + (bidirectional ? "/bidirectional" : "") + (hidden != 32 ? "/H \(hidden)" : "")
        }
    }

    static let cases: [Case] = CellKind.allCases.flatMap { cell in
        [Readout.lastStep, .everyStep].flatMap { r in
            [1, 2].map { Case(cell: cell, readout: r, threads: $0) } + [Case(cell: cell, readout: r, threads: 2, bidirectional: true)]
        }
    } + [Case(cell: .rnn, readout: .everyStep, threads: 2, bidirectional: true, hidden: 272),
         Case(cell: .lstm, readout: .lastStep, threads: 1, hidden: 272),
         Case(cell: .gru, readout: .everyStep, threads: 2, hidden: 272)]

    static func run(_ c: Case, _ body: (any CellOpener) throws -> Void) rethrows {
        switch c.cell {
        case .rnn: try body(Opener<RNNCell<Float>>())
        case .lstm: try body(Opener<LSTMCell<Float>>())
        case .gru: try body(Opener<GRUCell<Float>>())
        case .indrnn: try body(Opener<IndRNNCell<Float>>())
        case .cornn: try body(Opener<CoRNNCell<Float>>())
        default: Issue.record("no case for \(c.cell)")
        }
    }

    protocol CellOpener { func check(_ c: Case) throws }
    struct Opener<Cell: RecurrentCell>: CellOpener where Cell.Scalar == Float {
        func check(_ c: Case) throws { try VariableLengthTests.paddingNeverLeaks(Cell.self, c) }
    }

    @Test(arguments: cases)
    func noPaddingLeaks(_ c: Case) throws {
        try Compute.$threads.withValue(c.threads) { try Self.run(c) { try $0.check(c) } }
    }

    static func paddingNeverLeaks<Cell: RecurrentCell>(_ type: Cell.Type, _ c: Case) throws where Cell.Scalar == Float {
        let (i, h, o) = (3, c.hidden, 2)
        var config = ModelConfiguration(cell: c.cell, activation: Cell.fixedActivation ?? .relu, inputSize: i, hiddenSize: h, layers: 2,
                                        outputs: o, readout: c.readout, inputInit: .uniform(bound: 0.5),
                                        recurrentInit: .uniform(bound: 0.3), biasInit: .uniform(bound: 0.2))
        config.bidirectional = c.bidirectional
        let model = try makeModel(Cell.self, config, seed: 5)
        let lengths = [3, 7, 1, 7, 5]
        var rng = SeededGenerator(seed: 9)
        let sequences = lengths.map { n in (0..<(n * i)).map { _ in Float(Draw.uniform(-1, 1, &rng)) } }

        // Each sequence alone: batch 1, exactly its own steps.
        let alone = sequences.enumerated().map { b, values in
            model.predict(SequenceBatch(batch: 1, steps: lengths[b], features: i, values: values))
        }
        let fills: [(String, (inout SeededGenerator) -> Float)] = [
            ("zeros", { _ in 0 }), ("huge", { Float(Draw.uniform(-1e30, 1e30, &$0)) }), ("NaN", { _ in .nan }),
        ]
        for steps in [7, 10] {
            for (label, fill) in fills {
                var values: [Float] = []
                for (b, seq) in sequences.enumerated() {
                    values += seq
                    for _ in 0..<((steps - lengths[b]) * i) { values.append(fill(&rng)) }
                }
                let batch = SequenceBatch(batch: lengths.count, steps: steps, features: i, values: values, lengths: lengths)
                let (outputs, final) = model.predict(batch)
                for (b, n) in lengths.enumerated() {
                    let what = "\(c.testDescription) sequence \(b) (length \(n)) padded to \(steps) with \(label)"
                    switch c.readout {
                    case .lastStep:
                        #expect(outputs.row(b).map(\.bitPattern) == alone[b].outputs.row(0).map(\.bitPattern), "\(what): outputs")
                    case .everyStep:
                        for t in 0..<n {
                            #expect(outputs.row(b * steps + t).map(\.bitPattern) == alone[b].outputs.row(t).map(\.bitPattern), "\(what): output at step \(t)")
                        }
                        for t in n..<steps {           // head(0): its bias, as head(pad_packed_sequence(out)) in PyTorch
                            #expect(Array(outputs.row(b * steps + t)) == model.head.bias.storage, "\(what): padded step \(t)")
                        }
                    }
                    for l in 0..<final.layers.count {
                        #expect(final.layers[l].hidden.row(b).map(\.bitPattern) == alone[b].finalState.layers[l].hidden.row(0).map(\.bitPattern),
                                "\(what): h_n of layer \(l)")
                        if Cell.hasMemory {
                            #expect(final.layers[l].memory.row(b).map(\.bitPattern) == alone[b].finalState.layers[l].memory.row(0).map(\.bitPattern),
                                    "\(what): c_n of layer \(l)")
                        }
                    }
                }
            }
        }
    }

    /// Lengths that are all T run the equal-length path: the same bits as no lengths,
    /// gradients included.
    @Test(arguments: [Readout.lastStep, .everyStep])
    func fullLengthsAreTheEqualLengthPath(_ readout: Readout) throws {
        let config = ModelConfiguration(cell: .gru, activation: .tanh, inputSize: 2, hiddenSize: 8, layers: 2, outputs: 3, readout: readout)
        let model = try makeModel(GRUCell<Float>.self, config, seed: 3)
        let x = randomBatch(batch: 4, steps: 6, features: 2, seed: 4, as: Float.self)
        var withLengths = x
        withLengths.lengths = [6, 6, 6, 6]
        let targets: Targets<Float> = readout == .lastStep ? .classes([0, 1, 2, 0]) : .classesPerStep((0..<24).map { $0 % 3 })
        let a = try model.gradients(x, targets, loss: .crossEntropy), b = try model.gradients(withLengths, targets, loss: .crossEntropy)
        #expect(a.loss == b.loss)
        #expect(a.gradients == b.gradients)
        #expect(b.pass.packing == nil)
    }

    /// The lengths, sorted internally, come back in the batch's order: the gradient of
    /// sequence b's inputs does not depend on where b sits in the batch.
    @Test func orderOfTheBatchDoesNotMatter() throws {
        let config = ModelConfiguration(cell: .lstm, activation: .tanh, inputSize: 2, hiddenSize: 6, layers: 2, outputs: 2, readout: .lastStep)
        let model = try makeModel(LSTMCell<Double>.self, config, seed: 3)
        var x = randomBatch(batch: 3, steps: 5, features: 2, seed: 8, as: Double.self)
        x.lengths = [2, 5, 4]
        let y = Targets<Double>.values([0.1, 0.2, -0.3, 0.4, 0.5, -0.6], columns: 2)
        let forward = try model.gradients(x, y, loss: .meanSquaredError)
        // the same three sequences in reverse order
        var reversed = SequenceBatch(batch: 3, steps: 5, features: 2,
                                     values: [2, 1, 0].flatMap { b in Array(x.values[(b * 10)..<((b + 1) * 10)]) }, lengths: [4, 5, 2])
        reversed.lengths = [4, 5, 2]
        let yReversed = Targets<Double>.values([0.5, -0.6, -0.3, 0.4, 0.1, 0.2], columns: 2)
        let backward = try model.gradients(reversed, yReversed, loss: .meanSquaredError)
        #expect(isClose(forward.loss, backward.loss, rtol: 1e-14))
        for b in 0..<3 {
            let mine = Array(forward.inputGradient.values[(b * 10)..<((b + 1) * 10)])
            let theirs = Array(backward.inputGradient.values[((2 - b) * 10)..<((3 - b) * 10)])
            #expect(zip(mine, theirs).allSatisfy { isClose($0, $1, rtol: 1e-12, atol: 1e-15) }, "sequence \(b)")
            #expect(mine[(x.lengths![b] * 2)...].allSatisfy { $0 == 0 }, "padded inputs of sequence \(b) get no gradient")
        }
    }
}
