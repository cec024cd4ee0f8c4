import Foundation
import Testing
@testable import Recurrent

/// Variational dropout (Gal & Ghahramani 2016; Keras's `dropout=` / `recurrent_dropout=`),
/// for every cell: the gradient with fixed masks against finite differences (Double; also
/// bidirectional with uneven lengths and a carried initial state); the forward pass against
/// an independent unroll written here (each sequence alone, one unmasked step of the cell at
/// a time, the masks applied by hand); masks of ones give the bits of no masks; a zero state
/// mask cuts the recurrence at every step; off in prediction; p = 0 draws nothing.
@Suite("Variational dropout")
struct VariationalDropoutTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var cell: CellKind
        var bidirectional: Bool
        var lengths: [Int]?
        var readout: Readout
        var testDescription: String {
            "\(cell.rawValue)\(bidirectional ? "/bidirectional" : "")\(lengths.map { "/lengths\($0)" } ?? "")/\(readout)"
        }
    }

    static let cells: [CellKind] = [.rnn, .lstm, .gru, .indrnn, .cornn]
    static let cases = cells.flatMap {
        [Case(cell: $0, bidirectional: false, lengths: nil, readout: .lastStep),
         Case(cell: $0, bidirectional: true, lengths: [2, 5, 3], readout: .everyStep),
         Case(cell: $0, bidirectional: false, lengths: [4, 1, 5], readout: .everyStep)]
    }
    static let (b, t, i, h, o) = (3, 5, 2, 4, 3)

    static func configuration(_ c: Case) -> ModelConfiguration {
        var config = ModelConfiguration(cell: c.cell, activation: .tanh, inputSize: i, hiddenSize: h, layers: 2, outputs: o,
                                        readout: c.readout, inputInit: .uniform(bound: 0.8), recurrentInit: .uniform(bound: 0.6),
                                        biasInit: .uniform(bound: 0.3))
        config.bidirectional = c.bidirectional
        config.inputDropout = 0.3
        config.recurrentDropout = 0.4
        return config
    }

    /// A random initial state (so the mask on h_0 matters), in the batch's order.
    static func initialState<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) -> RecurrentState<Cell.Scalar> {
        var state = model.zeroState(batch: b)
        var rng = SeededGenerator(seed: 5)
        for k in state.layers.indices {
            for e in state.layers[k].hidden.storage.indices { state.layers[k].hidden.storage[e] = Cell.Scalar(Draw.uniform(-0.5, 0.5, &rng)) }
            for e in state.layers[k].memory.storage.indices { state.layers[k].memory.storage[e] = Cell.Scalar(Draw.uniform(-0.5, 0.5, &rng)) }
        }
        return state
    }

    static func targets(_ c: Case) -> Targets<Double> {
        c.readout == .everyStep
            ? .valuesPerStep(randomBatch(batch: b, steps: t, features: o, seed: 12, as: Double.self).values, columns: o)
            : .values(randomBatch(batch: b, steps: 1, features: o, seed: 12, as: Double.self).values, columns: o)
    }

    // MARK: - Gradient with fixed masks

    @Test(arguments: cases)
    func gradientWithFixedMasksMatchesFiniteDifferences(_ c: Case) throws {
        switch c.cell {
        case .rnn: try gradientCheck(RNNCell<Double>.self, c)
        case .lstm: try gradientCheck(LSTMCell<Double>.self, c)
        case .gru: try gradientCheck(GRUCell<Double>.self, c)
        case .indrnn: try gradientCheck(IndRNNCell<Double>.self, c)
        case .cornn: try gradientCheck(CoRNNCell<Double>.self, c)
        default: Issue.record("no case for \(c.cell)")
        }
    }

    func gradientCheck<Cell: RecurrentCell>(_ type: Cell.Type, _ c: Case) throws where Cell.Scalar == Double {
        let (b, t) = (Self.b, Self.t)
        let model = try makeModel(Cell.self, Self.configuration(c), seed: 7)
        var x = randomBatch(batch: b, steps: t, features: Self.i, seed: 11, as: Double.self)
        x.lengths = c.lengths
        let y = Self.targets(c), initial = Self.initialState(model)
        var ws = ModelWorkspace<Double>()
        let result = try model.gradients(x, y, loss: .meanSquaredError, initial: initial, workspace: &ws, dropoutSeed: 99)
        let masks = try #require(model.trainingMasks(batch: b, steps: t, seed: 99).variational)
        #expect(result.pass.variationalMasks == masks, "the seed gives the masks")
        let all = (masks.inputs + masks.states).map { try! #require($0) }
        #expect(all.count == 2 * model.layers.count && all.contains { $0.storage.contains(0) } && all.allSatisfy { $0.storage.contains { $0 != 0 } },
                "every cell has both masks, and they drop something")
        func lossOf(_ m: RecurrentModel<Cell>, _ input: SequenceBatch<Double>, _ start: RecurrentState<Double>) throws -> Double {
            var w = ModelWorkspace<Double>()
            let pass = m.forward(input, initial: start, workspace: &w, variationalMasks: masks)
            return try Loss.meanSquaredError.evaluate(pass.outputs, y.lossTarget(batch: b, steps: t, lengths: input.unevenLengths)).value
        }
        #expect(isClose(result.loss, try lossOf(model, x, initial), rtol: 1e-14), "the loss is the masked forward's")
        let step = 1e-6
        var analytic: [[Double]] = []
        result.gradients.forEachTensor { _, _, g in analytic.append(g.storage) }
        var names: [String] = []
        model.forEachParameter { _, name, _ in names.append(name) }
        for (p, name) in names.enumerated() {
            for e in analytic[p].indices where e % 2 == 0 {
                var plus = model, minus = model
                plus.updateEachParameter { k, _, m in if k == p { m.storage[e] += step } }
                minus.updateEachParameter { k, _, m in if k == p { m.storage[e] -= step } }
                let numeric = (try lossOf(plus, x, initial) - lossOf(minus, x, initial)) / (2 * step)
                #expect(isClose(analytic[p][e], numeric, rtol: 1e-4, atol: 1e-8), "\(c.testDescription) \(name)[\(e)]: \(analytic[p][e]) vs \(numeric)")
            }
        }
        for e in x.values.indices {
            var plus = x, minus = x
            plus.values[e] += step
            minus.values[e] -= step
            let numeric = (try lossOf(model, plus, initial) - lossOf(model, minus, initial)) / (2 * step)
            #expect(isClose(result.inputGradient.values[e], numeric, rtol: 1e-4, atol: 1e-8),
                    "\(c.testDescription) input[\(e)]: \(result.inputGradient.values[e]) vs \(numeric)")
        }
        for k in initial.layers.indices {
            for (part, key) in [(0, "h"), (1, "c")] {
                let values = part == 0 ? initial.layers[k].hidden : initial.layers[k].memory
                for e in values.storage.indices {
                    var plus = initial, minus = initial
                    if part == 0 { plus.layers[k].hidden.storage[e] += step; minus.layers[k].hidden.storage[e] -= step }
                    else { plus.layers[k].memory.storage[e] += step; minus.layers[k].memory.storage[e] -= step }
                    let numeric = (try lossOf(model, x, plus) - lossOf(model, x, minus)) / (2 * step)
                    let g = part == 0 ? result.initialStateGradient.layers[k].hidden.storage[e]
                                      : result.initialStateGradient.layers[k].memory.storage[e]
                    #expect(isClose(g, numeric, rtol: 1e-4, atol: 1e-8), "\(c.testDescription) \(key)0 of cell \(k) [\(e)]: \(g) vs \(numeric)")
                }
            }
        }
    }

    // MARK: - An independent unroll

    @Test(arguments: cases)
    func forwardMatchesOneSequenceOneStepAtATime(_ c: Case) throws {
        switch c.cell {
        case .rnn: try reference(RNNCell<Double>.self, c)
        case .lstm: try reference(LSTMCell<Double>.self, c)
        case .gru: try reference(GRUCell<Double>.self, c)
        case .indrnn: try reference(IndRNNCell<Double>.self, c)
        case .cornn: try reference(CoRNNCell<Double>.self, c)
        default: Issue.record("no case for \(c.cell)")
        }
    }

    /// Each sequence alone, each cell one step at a time through its unmasked `forward`
    /// (steps 1, batch 1), with x_t ⊙ m_x and h_{t-1} ⊙ m_h formed here (GRU: its carried
    /// z ⊙ h_{t-1} put back unmasked; coRNN: its update from the masked W y_{t-1} written out
    /// with the unmasked y_{t-1}): the reverse cell from the sequence's own last step back, the
    /// head on [h_fwd | h_rev].
    func reference<Cell: RecurrentCell>(_ type: Cell.Type, _ c: Case) throws where Cell.Scalar == Double {
        let (b, t, h) = (Self.b, Self.t, Self.h)
        let model = try makeModel(Cell.self, Self.configuration(c), seed: 8)
        var x = randomBatch(batch: b, steps: t, features: Self.i, seed: 21, as: Double.self)
        x.lengths = c.lengths
        let initial = Self.initialState(model)
        var rng = SeededGenerator(seed: 31)
        let masks = try #require(model.variationalMasks(batch: b, using: &rng))
        var ws = ModelWorkspace<Double>()
        let pass = model.forward(x, initial: initial, workspace: &ws, variationalMasks: masks)
        let d = model.directions
        func row(_ m: Matrix<Double>, _ r: Int) -> [Double] { Array(m.storage[(r * m.cols)..<((r + 1) * m.cols)]) }
        for s in 0..<b {
            let length = c.lengths?[s] ?? t
            var inputs = (0..<length).map { step in Array(x.values[((s * t + step) * Self.i)..<((s * t + step + 1) * Self.i)]) }
            for l in 0..<(model.layers.count / d) {
                var outputs = [[Double]](repeating: [], count: length)
                for direction in 0..<d {
                    let k = l * d + direction, cell = model.layers[k]
                    var state = LayerState(hidden: Matrix(row: row(initial.layers[k].hidden, s)),
                                           memory: Cell.hasMemory ? Matrix(row: row(initial.layers[k].memory, s)) : Matrix(rows: 0, cols: h))
                    let mx = row(try #require(masks.inputs[k]), s), mh = row(try #require(masks.states[k]), s)
                    for step in direction == 0 ? Array(0..<length) : Array((0..<length).reversed()) {
                        let input = Matrix(row: zip(inputs[step], mx).map { $0 * $1 })
                        let dropped = LayerState(hidden: Matrix(row: zip(state.hidden.storage, mh).map { $0 * $1 }), memory: state.memory)
                        let trace = cell.forward(input, steps: 1, batch: 1, initial: dropped)
                        var next = trace.finalState
                        if Cell.kind == .gru {                    // z ⊙ h_{t-1} reads h unmasked (Keras): + z ⊙ (h - h ⊙ m)
                            let z = Array(trace.gates.matrix().storage[h..<(2 * h)])
                            for j in 0..<h { next.hidden.storage[j] += z[j] * (state.hidden.storage[j] - dropped.hidden.storage[j]) }
                        } else if Cell.kind == .cornn {           // only W y_{t-1} reads y masked: the oscillator's update by hand
                            let p = cell.hyperparameterValues, (dt, gamma, epsilon) = (p["dt"]!, p["gamma"]!, p["epsilon"]!)
                            let s = trace.gates.matrix().storage                                       // tanh(V u + b + W ỹ + 𝒲 z)
                            for j in 0..<h {
                                let y = state.hidden.storage[j], z = state.memory.storage[j]
                                let zt = z + dt * (s[j] - gamma * y - epsilon * z)
                                next.memory.storage[j] = zt
                                next.hidden.storage[j] = y + dt * zt
                            }
                        }
                        #expect(Cell.carriesUnmaskedState == (Cell.kind == .gru || Cell.kind == .cornn))
                        state = next
                        outputs[step] += state.hidden.storage
                    }
                    let final = pass.finalState.layers[k]
                    #expect(row(final.hidden, s).elementsEqual(state.hidden.storage) { isClose($0, $1, rtol: 1e-12, atol: 1e-14) },
                            "\(c.testDescription): h_n of cell \(k), sequence \(s)")
                    if Cell.hasMemory {
                        #expect(row(final.memory, s).elementsEqual(state.memory.storage) { isClose($0, $1, rtol: 1e-12, atol: 1e-14) },
                                "\(c.testDescription): c_n of cell \(k), sequence \(s)")
                    }
                }
                inputs = outputs
            }
            // The head: many-to-one reads [h_fwd at the last step | h_rev at step 0]; many-to-many every step.
            let heads: [(Int, [Double])] = c.readout == .lastStep
                ? [(s, Array(inputs[length - 1].prefix(h)) + (d == 2 ? Array(inputs[0].suffix(h)) : []))]
                : (0..<length).map { step in (step * b + s, inputs[step]) }
            for (r, headInput) in heads {
                let expected = model.head.forward(Matrix(row: headInput)).storage
                #expect(row(pass.outputs, r).elementsEqual(expected) { isClose($0, $1, rtol: 1e-12, atol: 1e-14) },
                        "\(c.testDescription): outputs of sequence \(s), row \(r)")
            }
        }
    }

    // MARK: - Exactness and the switches

    /// Masks of ones run the masked path (copy, scale, restore) and must give the bits of no
    /// masks, forward and backward, for every cell in Float (the fast kernels; coRNN's
    /// gradients to a few ulps, see below).
    @Test(arguments: cases)
    func masksOfOnesGiveTheBitsOfNoMasks(_ c: Case) throws {
        switch c.cell {
        case .rnn: try onesCheck(RNNCell<Float>.self, c)
        case .lstm: try onesCheck(LSTMCell<Float>.self, c)
        case .gru: try onesCheck(GRUCell<Float>.self, c)
        case .indrnn: try onesCheck(IndRNNCell<Float>.self, c)
        case .cornn: try onesCheck(CoRNNCell<Float>.self, c)
        default: Issue.record("no case for \(c.cell)")
        }
    }

    func onesCheck<Cell: RecurrentCell>(_ type: Cell.Type, _ c: Case) throws where Cell.Scalar == Float {
        var config = Self.configuration(c)
        config.hiddenSize = 24                                   // enough work for the batch split
        let model = try makeModel(Cell.self, config, seed: 9)
        var x = randomBatch(batch: Self.b, steps: Self.t, features: Self.i, seed: 4, as: Float.self)
        x.lengths = c.lengths
        let y: Targets<Float> = c.readout == .everyStep
            ? .valuesPerStep(randomBatch(batch: Self.b, steps: Self.t, features: Self.o, seed: 12, as: Float.self).values, columns: Self.o)
            : .values(randomBatch(batch: Self.b, steps: 1, features: Self.o, seed: 12, as: Float.self).values, columns: Self.o)
        let ones = VariationalMasks<Float>(inputs: model.layers.map { Matrix(rows: Self.b, cols: $0.inputSize, repeating: 1) },
                                          states: model.layers.map { _ in Matrix(rows: Self.b, cols: 24, repeating: 1) })
        let initial = Self.initialState(model)
        var w1 = ModelWorkspace<Float>(), w2 = ModelWorkspace<Float>()
        let plain = model.forward(x, initial: initial, workspace: &w1)
        let masked = model.forward(x, initial: initial, workspace: &w2, variationalMasks: ones)
        #expect(plain.outputs.storage.map(\.bitPattern) == masked.outputs.storage.map(\.bitPattern))
        for (p, m) in zip(plain.traces, masked.traces) {
            #expect(p.hidden.matrix().storage.map(\.bitPattern) == m.hidden.matrix().storage.map(\.bitPattern), "the states are restored")
        }
        let loss = try Loss.meanSquaredError.evaluate(plain.outputs, y.lossTarget(batch: Self.b, steps: Self.t, lengths: x.unevenLengths))
        let g1 = model.backward(plain, outputGradient: loss.gradient, workspace: &w1)
        let g2 = model.backward(masked, outputGradient: loss.gradient, workspace: &w2)
        var a: [Float] = [], bits: [Float] = []
        g1.gradients.forEachTensor { _, _, g in a += g.storage }
        g2.gradients.forEachTensor { _, _, g in bits += g.storage }
        for layer in 0..<g1.initial.layers.count {
            a += g1.initial.layers[layer].hidden.storage + g1.initial.layers[layer].memory.storage
            bits += g2.initial.layers[layer].hidden.storage + g2.initial.layers[layer].memory.storage
        }
        if c.cell == .cornn {
            // coRNN's masked backward adds mask ⊙ (da W) to the carried part of dL/dy_{t-1}
            // after the product, where the unmasked one accumulates the product onto it: the
            // same sum in another order, a few ulps apart.
            #expect(zip(a, bits).allSatisfy { isClose(Double($0), Double($1), rtol: 1e-5, atol: 1e-9) }, "\(c.testDescription): the gradients")
        } else {
            #expect(a.map(\.bitPattern) == bits.map(\.bitPattern), "\(c.testDescription): the gradients")
        }
    }

    /// A state mask of zeros: every step reads h_{t-1} = 0, so an RNN's h_t is the
    /// feed-forward relu(U x_t + b_ih + b_hh) at every step, not only the first.
    @Test func aZeroStateMaskCutsTheRecurrenceAtEveryStep() throws {
        let config = ModelConfiguration(cell: .rnn, activation: .relu, inputSize: 3, hiddenSize: 5, outputs: 1,
                                        inputInit: .uniform(bound: 1), recurrentInit: .identity(scale: 1), biasInit: .uniform(bound: 0.5))
        let model = try makeModel(RNNCell<Double>.self, config, seed: 2)
        let x = randomBatch(batch: 2, steps: 6, features: 3, seed: 3, as: Double.self)
        let masks = VariationalMasks<Double>(inputs: [nil], states: [Matrix(rows: 2, cols: 5)])
        var ws = ModelWorkspace<Double>()
        let pass = model.forward(x, workspace: &ws, variationalMasks: masks)
        let cell = model.layers[0]
        let u: [Double] = cell.parameters[0].storage, bih: [Double] = cell.parameters[2].storage, bhh: [Double] = cell.parameters[3].storage
        let states: [Double] = pass.traces[0].hidden.matrix().storage, values: [Double] = x.values
        for s in 0..<2 {
            for step in 0..<6 {
                for j in 0..<5 {
                    var net: Double = bih[j] + bhh[j]
                    for f in 0..<3 {
                        let input: Double = values[(s * 6 + step) * 3 + f]
                        net += u[j * 3 + f] * input
                    }
                    let got = states[((step + 1) * 2 + s) * 5 + j]
                    #expect(isClose(got, max(0, net), rtol: 1e-13, atol: 1e-15), "h[\(step)] of sequence \(s), unit \(j)")
                }
            }
        }
        #expect(model.forward(x).traces[0].hidden.matrix() != pass.traces[0].hidden.matrix(), "without the mask W = I carries the state")
    }

    @Test func masksHaveTheDocumentedValuesAndAreOffInPrediction() throws {
        var config = ModelConfiguration(cell: .lstm, activation: .tanh, inputSize: 3, hiddenSize: 40, layers: 2, outputs: 2)
        config.bidirectional = true
        config.inputDropout = 0.2
        config.recurrentDropout = 0.25
        let model = try makeModel(LSTMCell<Float>.self, config, seed: 1)
        var rng = SeededGenerator(seed: 3)
        let masks = try #require(model.variationalMasks(batch: 500, using: &rng))
        #expect(masks.inputs.map { $0?.shape } == [[500, 3], [500, 3], [500, 80], [500, 80]].map { Optional($0) })
        #expect(masks.states.allSatisfy { $0?.shape == [500, 40] })
        for (p, mask) in [(0.2, masks.inputs[2]!), (0.25, masks.states[1]!)] {
            #expect(mask.storage.allSatisfy { $0 == 0 || $0 == Float(1 / (1 - p)) })
            let dropped = Double(mask.storage.filter { $0 == 0 }.count) / Double(mask.count)
            #expect(abs(dropped - p) < 0.02, "dropped \(dropped) of \(mask.count), p \(p)")
        }
        var plain = model
        plain.inputDropout = 0
        plain.recurrentDropout = 0
        let x = randomBatch(batch: 4, steps: 6, features: 3, seed: 2, as: Float.self)
        #expect(model.predict(x).outputs == plain.predict(x).outputs, "no dropout in prediction")
        // p = 0: nothing drawn, so a run with only --dropout draws exactly what it drew before.
        #expect(plain.variationalMasks(batch: 4, using: &rng) == nil && !plain.usesDropout)
        var between = plain
        between.dropout = 0.3
        var alone = SeededGenerator(seed: 17)
        let expected = between.dropoutMasks(batch: 4, steps: 6, using: &alone)
        let drawn = between.trainingMasks(batch: 4, steps: 6, seed: 17)
        #expect(drawn.between == expected && drawn.variational == nil)
        // Out of range, and stored in the configuration (what a checkpoint keeps).
        var bad = config
        bad.recurrentDropout = 1
        #expect(throws: ConfigurationError.self) { try bad.validate() }
        bad = config
        bad.inputDropout = -0.1
        #expect(throws: ConfigurationError.self) { try bad.validate() }
        let decoded = try JSONDecoder().decode(ModelConfiguration.self, from: JSONEncoder().encode(config))
        #expect(decoded.inputDropout == 0.2 && decoded.recurrentDropout == 0.25)
        #expect(model.architecture.inputDropout == 0.2 && model.architecture.recurrentDropout == 0.25)
    }
}
