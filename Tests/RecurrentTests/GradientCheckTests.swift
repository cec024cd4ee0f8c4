import Testing
@testable import Recurrent

/// Finite-difference checks of BPTT, in Double: every parameter, every input, the
/// initial state, for every cell x every activation, with two layers, both readouts
/// and both losses. Central differences, step 1e-6.
@Suite("Gradient checks (finite differences, Double)")
struct GradientCheckTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var cell: CellKind
        var activation: Activation
        var readout: Readout
        var loss: Loss
        var layers: Int
        /// The cell's hyper-parameters (nil: its defaults).
        var hyperparameters: [String: Double]? = nil
        /// Variable lengths [B] (packed-sequence semantics), or nil for T everywhere.
        var lengths: [Int]? = nil
        /// Two directions per layer.
        var bidirectional = false
        /// Layers with biases (false: PyTorch's bias=False; the biases are then not parameters).
        var bias = true
        /// T (B is 3): past 85 the weight gradients are summed in two chunks (`Kernels.weightGradientChunkSteps`).
        var steps = 5
        var testDescription: String {
            "\(cell.rawValue)/\(activation.name)/\(readout.rawValue)/\(loss.rawValue)/L\(layers)" + (lengths.map { "/lengths\($0)" } ?? "")
                + (bidirectional ? "/bidirectional" : "") + (bias ? "" : "/no-bias") + (steps == 5 ? "" : "/T\(steps)")
        }
    }

    static let activations: [Activation] = [
        .relu, .tanh, .sigmoid, .identity, .leakyRelu(slope: 0.1), .clippedRelu(max: 0.5), .softplus,
    ]

    static let cases: [Case] = {
        var out: [Case] = []
        for cell in [CellKind.rnn, .indrnn] {
            for a in activations {
                out.append(Case(cell: cell, activation: a, readout: .lastStep, loss: .crossEntropy, layers: 2))
                out.append(Case(cell: cell, activation: a, readout: .everyStep, loss: .meanSquaredError, layers: 1))
            }
        }
        for cell in [CellKind.lstm, .gru] {
            out.append(Case(cell: cell, activation: .tanh, readout: .lastStep, loss: .crossEntropy, layers: 2))
            out.append(Case(cell: cell, activation: .tanh, readout: .everyStep, loss: .meanSquaredError, layers: 1))
            out.append(Case(cell: cell, activation: .tanh, readout: .everyStep, loss: .crossEntropy, layers: 2))
            out.append(Case(cell: cell, activation: .tanh, readout: .lastStep, loss: .meanSquaredError, layers: 1))
        }
        // coRNN with a step large enough that W, 𝒲, γ and ε shape the loss within T = 5 steps.
        let oscillators = ["dt": 0.5, "gamma": 1.5, "epsilon": 0.8]
        out.append(Case(cell: .cornn, activation: .tanh, readout: .lastStep, loss: .crossEntropy, layers: 2, hyperparameters: oscillators))
        out.append(Case(cell: .cornn, activation: .tanh, readout: .everyStep, loss: .meanSquaredError, layers: 1, hyperparameters: oscillators))
        out.append(Case(cell: .cornn, activation: .tanh, readout: .everyStep, loss: .crossEntropy, layers: 2))
        out.append(Case(cell: .cornn, activation: .tanh, readout: .lastStep, loss: .meanSquaredError, layers: 1))
        // Variable lengths (unsorted, one full): the loss must not see the padded steps, and
        // the gradient of a padded input is exactly 0 (its finite difference too).
        for cell in CellKind.allCases {
            let a: Activation = cell == .rnn || cell == .indrnn ? .relu : .tanh
            let h = cell == .cornn ? oscillators : nil
            out.append(Case(cell: cell, activation: a, readout: .lastStep, loss: .crossEntropy, layers: 2, hyperparameters: h, lengths: [2, 5, 3]))
            out.append(Case(cell: cell, activation: a, readout: .everyStep, loss: .meanSquaredError, layers: 2, hyperparameters: h, lengths: [4, 1, 5]))
            out.append(Case(cell: cell, activation: a, readout: .everyStep, loss: .crossEntropy, layers: 1, hyperparameters: h, lengths: [3, 3, 2]))
            // Bidirectional, with equal and uneven lengths.
            out.append(Case(cell: cell, activation: a, readout: .lastStep, loss: .meanSquaredError, layers: 2, hyperparameters: h, bidirectional: true))
            out.append(Case(cell: cell, activation: a, readout: .everyStep, loss: .crossEntropy, layers: 2, hyperparameters: h,
                            lengths: [4, 1, 5], bidirectional: true))
            out.append(Case(cell: cell, activation: a, readout: .lastStep, loss: .crossEntropy, layers: 1, hyperparameters: h,
                            lengths: [2, 5, 3], bidirectional: true))
            out.append(Case(cell: cell, activation: a, readout: .everyStep, loss: .meanSquaredError, layers: 2, hyperparameters: h,
                            lengths: [4, 1, 5], bidirectional: true, bias: false))
        }
        // Two chunks of the weight-gradient sums (T*B = 270 > 256 rows).
        out.append(Case(cell: .rnn, activation: .relu, readout: .everyStep, loss: .meanSquaredError, layers: 1, steps: 90))
        out.append(Case(cell: .lstm, activation: .tanh, readout: .lastStep, loss: .crossEntropy, layers: 1, steps: 90))
        return out
    }()

    @Test(arguments: cases)
    func finiteDifferences(_ c: Case) throws {
        switch c.cell {
        case .rnn: try check(RNNCell<Double>.self, c)
        case .lstm: try check(LSTMCell<Double>.self, c)
        case .gru: try check(GRUCell<Double>.self, c)
        case .indrnn: try check(IndRNNCell<Double>.self, c)
        case .cornn: try check(CoRNNCell<Double>.self, c)
        default: Issue.record("no case for \(c.cell)")
        }
    }

    func check<Cell: RecurrentCell>(_ type: Cell.Type, _ c: Case) throws where Cell.Scalar == Double {
        let (b, t, i, h, o) = (3, c.steps, 2, 4, 3)
        let config = ModelConfiguration(cell: c.cell, activation: c.activation, inputSize: i, hiddenSize: h, layers: c.layers,
                                        outputs: o, readout: c.readout, inputInit: .uniform(bound: 0.8),
                                        recurrentInit: .uniform(bound: 0.6), biasInit: .uniform(bound: 0.3),
                                        hyperparameters: c.hyperparameters)
        var configuration = config
        configuration.bidirectional = c.bidirectional
        configuration.bias = c.bias
        let model = try makeModel(Cell.self, configuration, seed: 7)
        let parameters = Set(configuration.parameterShapes.map(\.name))     // without biases: no b_ih, b_hh
        var inputs = randomBatch(batch: b, steps: t, features: i, seed: 11, as: Double.self)
        inputs.lengths = c.lengths
        var rng = SeededGenerator(seed: 13)
        let targets: Targets<Double>
        switch (c.loss, c.readout) {
        case (.crossEntropy, .lastStep): targets = .classes((0..<b).map { _ in Draw.index(below: o, &rng) })
        case (.crossEntropy, .everyStep): targets = .classesPerStep((0..<(b * t)).map { k in k % 4 == 3 ? -1 : Draw.index(below: o, &rng) })
        case (.meanSquaredError, .lastStep): targets = .values((0..<(b * o)).map { _ in Draw.uniform(-1, 1, &rng) }, columns: o)
        case (.meanSquaredError, .everyStep): targets = .valuesPerStep((0..<(b * t * o)).map { _ in Draw.uniform(-1, 1, &rng) }, columns: o)
        }
        var initial = model.zeroState(batch: b)
        for l in initial.layers.indices {
            for k in initial.layers[l].hidden.storage.indices { initial.layers[l].hidden.storage[k] = Draw.uniform(0, 0.5, &rng) }
            for k in initial.layers[l].memory.storage.indices { initial.layers[l].memory.storage[k] = Draw.uniform(-0.5, 0.5, &rng) }
        }
        let result = try model.gradients(inputs, targets, loss: c.loss, initial: initial)

        func lossOf(_ m: RecurrentModel<Cell>, _ x: SequenceBatch<Double>, _ s: RecurrentState<Double>) throws -> Double {
            let pass = m.forward(x, initial: s)
            return try c.loss.evaluate(pass.outputs, targets.lossTarget(batch: b, steps: t, lengths: c.lengths)).value
        }
        let step = 1e-6
        func expectClose(_ analytic: Double, _ numeric: Double, _ what: @autoclosure () -> String) {
            #expect(isClose(analytic, numeric, rtol: 1e-4, atol: 1e-7), "\(c.testDescription) \(what()): analytic \(analytic) vs numeric \(numeric)")
        }

        // Every parameter entry.
        var analytic: [[Double]] = []
        result.gradients.forEachTensor { _, _, g in analytic.append(g.storage) }
        var names: [String] = []
        model.forEachParameter { _, name, _ in names.append(name) }
        for (p, name) in names.enumerated() {
            if !parameters.contains(name) {
                #expect(analytic[p].allSatisfy { $0 == 0 }, "\(c.testDescription) \(name): not a parameter, its gradient is 0")
                continue
            }
            for e in analytic[p].indices {
                var plus = model, minus = model
                plus.updateEachParameter { k, _, m in if k == p { m.storage[e] += step } }
                minus.updateEachParameter { k, _, m in if k == p { m.storage[e] -= step } }
                let numeric = (try lossOf(plus, inputs, initial) - lossOf(minus, inputs, initial)) / (2 * step)
                expectClose(analytic[p][e], numeric, "\(name)[\(e)]")
            }
        }
        // Every input entry.
        for e in inputs.values.indices {
            var plus = inputs, minus = inputs
            plus.values[e] += step
            minus.values[e] -= step
            let numeric = (try lossOf(model, plus, initial) - lossOf(model, minus, initial)) / (2 * step)
            expectClose(result.inputGradient.values[e], numeric, "input[\(e)]")
        }
        // The initial state of every layer (h, and c for LSTM, z for coRNN).
        for l in initial.layers.indices {
            for e in initial.layers[l].hidden.storage.indices {
                var plus = initial, minus = initial
                plus.layers[l].hidden.storage[e] += step
                minus.layers[l].hidden.storage[e] -= step
                let numeric = (try lossOf(model, inputs, plus) - lossOf(model, inputs, minus)) / (2 * step)
                expectClose(result.initialStateGradient.layers[l].hidden.storage[e], numeric, "h0[layer \(l)][\(e)]")
            }
            for e in initial.layers[l].memory.storage.indices {
                var plus = initial, minus = initial
                plus.layers[l].memory.storage[e] += step
                minus.layers[l].memory.storage[e] -= step
                let numeric = (try lossOf(model, inputs, plus) - lossOf(model, inputs, minus)) / (2 * step)
                expectClose(result.initialStateGradient.layers[l].memory.storage[e], numeric, "c0[layer \(l)][\(e)]")
            }
        }
    }
}

/// Each activation's derivative against a central difference, away from its kinks,
/// and the documented values at the kinks.
@Suite("Activations")
struct ActivationTests {
    @Test(arguments: GradientCheckTests.activations)
    func derivativeMatchesFiniteDifference(_ f: Activation) {
        for x in stride(from: -3.0, through: 3.0, by: 0.37) where abs(x) > 1e-3 && abs(x - 0.5) > 1e-3 {
            let numeric = (f.value(x + 1e-6) - f.value(x - 1e-6)) / 2e-6
            #expect(isClose(f.derivative(input: x, output: f.value(x)), numeric, rtol: 1e-6, atol: 1e-8), "\(f.name) at \(x)")
        }
    }

    @Test func valuesAgainstClosedForms() {
        #expect(Activation.relu.value(-2.0) == 0 && Activation.relu.value(3.0) == 3)
        #expect(isClose(Activation.tanh.value(0.5), 0.46211715726000974))
        #expect(isClose(Activation.sigmoid.value(1.0), 0.7310585786300049))
        #expect(isClose(Activation.sigmoid.value(-800.0), 0, atol: 1e-300))
        #expect(isClose(Activation.softplus.value(1.0), 1.3132616875182228))
        #expect(isClose(Activation.softplus.value(100.0), 100))
        #expect(Activation.leakyRelu(slope: 0.1).value(-2.0) == -0.2)
        #expect(Activation.clippedRelu(max: 6).value(7.5) == 6 && Activation.clippedRelu(max: 6).value(-1.0) == 0)
        #expect(Activation.identity.value(-4.25) == -4.25)
    }

    @Test func derivativesAtKinksFollowPyTorch() {
        #expect(Activation.relu.derivative(input: 0.0, output: 0.0) == 0)
        #expect(Activation.leakyRelu(slope: 0.1).derivative(input: 0.0, output: 0.0) == 0.1)
        #expect(Activation.clippedRelu(max: 6).derivative(input: 0.0, output: 0.0) == 0)
        #expect(Activation.clippedRelu(max: 6).derivative(input: 6.0, output: 6.0) == 0)
        #expect(Activation.softplus.derivative(input: 0.0, output: Activation.softplus.value(0.0)) == 0.5)
    }

    @Test(arguments: ["relu", "tanh", "sigmoid", "identity", "leaky_relu:0.2", "clipped_relu:3.0", "softplus"])
    func parsesItsOwnName(_ text: String) throws {
        let a = try Activation(parsing: text)
        #expect(try Activation(parsing: a.name) == a)
    }

    @Test(arguments: ["relu6x", "leaky_relu:abc", "", "relu:2"])
    func rejectsBadNames(_ text: String) {
        #expect(throws: ConfigurationError.self) { try Activation(parsing: text) }
    }
}
