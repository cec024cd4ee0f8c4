import Foundation
import Testing
@testable import Recurrent

/// Parity with PyTorch on values it computed: forward outputs, final states, the loss,
/// the gradient of every parameter, of the inputs and of the initial state, and two
/// steps of SGD (Nesterov, weight decay), Adam, AdamW and RMSprop (centered, momentum).
///
/// Fixtures: `Fixtures/torch_*.safetensors`, written once by
/// `Tests/RecurrentTests/Fixtures/make_torch_fixtures.py` (torch 2.13, float64).
/// The weights are loaded through `Checkpoint.fill`, so this also proves that a
/// PyTorch `state_dict` loads here with no renaming.
@Suite("PyTorch parity (fixtures from make_torch_fixtures.py)")
struct PyTorchParityTests {
    struct Config: Decodable {
        var name: String, cell: String, activation: String, layers: Int, readout: String, loss: String
        var batch: Int, steps: Int, input: Int, hidden: Int, outputs: Int
    }

    static func fixture(_ name: String) throws -> SafeTensorsFile {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/torch_\(name)", withExtension: "safetensors"))
        return try SafeTensorsFile(contentsOf: url)
    }

    @Test(arguments: ["rnn_relu", "rnn_tanh", "lstm", "gru"])
    func matchesPyTorch(_ name: String) throws {
        let file = try Self.fixture(name)
        let config = try JSONDecoder().decode(Config.self, from: Data(try #require(file.metadata["configuration"]).utf8))
        switch config.cell {
        case "rnn": try check(RNNCell<Double>.self, file, config)
        case "lstm": try check(LSTMCell<Double>.self, file, config)
        default: try check(GRUCell<Double>.self, file, config)
        }
    }

    func check<Cell: RecurrentCell>(_ type: Cell.Type, _ file: SafeTensorsFile, _ c: Config) throws where Cell.Scalar == Double {
        func tensor(_ key: String) throws -> [Double] { try #require(file.tensors[key], "fixture lacks \(key)").doubles() }
        func expectClose(_ ours: [Double], _ key: String) throws {
            let theirs = try tensor(key)
            #expect(ours.count == theirs.count, "\(c.name) \(key): \(ours.count) vs \(theirs.count) values")
            let worst = zip(ours, theirs).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            #expect(worst < 1e-10, "\(c.name) \(key): max relative difference \(worst)")
        }
        // The model, loaded from the state_dict part of the fixture.
        let names = Set(Cell.parameterNames(layers: c.layers))
        let stateDict = SafeTensorsFile(tensors: file.tensors.filter { names.contains($0.key) })
        let readout: Readout = c.readout == "last" ? .lastStep : .everyStep
        let architecture = ModelConfiguration(cell: Cell.kind, activation: try Activation(parsing: c.activation), inputSize: c.input,
                                              hiddenSize: c.hidden, layers: c.layers, outputs: c.outputs, readout: readout)
        let model = try Checkpoint.fill(try makeModel(Cell.self, architecture, seed: 0), from: stateDict)

        let x = SequenceBatch(batch: c.batch, steps: c.steps, features: c.input, values: try tensor("x"))
        let result = try Self.expectParity(model, x, file, name: c.name, loss: c.loss, states: c.layers, names: names)

        // Two optimizer steps from the same gradients.
        func afterTwoSteps(_ optimizer: some Optimizer<Double>, _ label: String) throws {
            var m = model, o = optimizer
            m.apply(result.gradients, using: &o)
            m.apply(result.gradients, using: &o)
            var after: [String: [Double]] = [:]
            m.forEachParameter { _, name, p in after[name] = p.storage }
            for name in names.sorted() { try expectClose(after[name]!, "after.\(label).\(name)") }
        }
        try afterTwoSteps(SGD<Double>(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01), "sgd")
        try afterTwoSteps(Adam<Double>(learningRate: 0.01, weightDecay: 0.001), "adam")
        try afterTwoSteps(Adam<Double>.adamW(learningRate: 0.01), "adamw")
        try afterTwoSteps(RMSProp<Double>(learningRate: 0.01, momentum: 0.5, centered: true), "rmsprop")
    }

    /// Runs `model` on `x` from the fixture's h0 (c0) of `states` layers (L*D) against its
    /// targets and expects PyTorch's loss, outputs, h_n (c_n) and the gradients of `names`,
    /// of x and of the initial state, to 1e-10. Shared by the sequence parity tests.
    @discardableResult
    static func expectParity<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>, _ x: SequenceBatch<Double>, _ file: SafeTensorsFile,
                                                  name: String, loss lossName: String, states: Int,
                                                  names: Set<String>) throws -> RecurrentModel<Cell>.StepResult where Cell.Scalar == Double {
        func tensor(_ key: String) throws -> [Double] { try #require(file.tensors[key], "fixture lacks \(key)").doubles() }
        func expectClose(_ ours: [Double], _ key: String) throws {
            let theirs = try tensor(key)
            #expect(ours.count == theirs.count, "\(name) \(key): \(ours.count) vs \(theirs.count) values")
            let worst = zip(ours, theirs).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            #expect(worst < 1e-10, "\(name) \(key): max relative difference \(worst)")
        }
        let (b, h) = (x.batch, model.hiddenSize)
        let h0 = try tensor("h0"), c0 = Cell.hasMemory ? try tensor("c0") : []
        let initial = RecurrentState<Double>(layers: (0..<states).map { l in
            LayerState(hidden: Matrix(rows: b, cols: h, Array(h0[(l * b * h)..<((l + 1) * b * h)])),
                       memory: Cell.hasMemory ? Matrix(rows: b, cols: h, Array(c0[(l * b * h)..<((l + 1) * b * h)])) : Matrix(rows: 0, cols: h))
        })
        let loss: Loss = lossName == "mse" ? .meanSquaredError : .crossEntropy
        let targets: Targets<Double>
        switch (loss, model.readout) {
        case (.crossEntropy, .lastStep): targets = .classes(try file.tensors["targets"]!.int64s().map { Int($0) })
        case (.crossEntropy, .everyStep): targets = .classesPerStep(try file.tensors["targets"]!.int64s().map { Int($0) })
        case (.meanSquaredError, .lastStep): targets = .values(try tensor("targets"), columns: model.outputSize)
        case (.meanSquaredError, .everyStep): targets = .valuesPerStep(try tensor("targets"), columns: model.outputSize)
        }
        let result = try model.gradients(x, targets, loss: loss, initial: initial)
        #expect(isClose(result.loss, try tensor("loss")[0], rtol: 1e-12), "\(name) loss \(result.loss)")
        try expectClose(model.predict(x, initial: initial).outputs.storage, "out")
        let final = result.pass.finalState
        try expectClose(final.layers.flatMap(\.hidden.storage), "hn")
        if Cell.hasMemory { try expectClose(final.layers.flatMap(\.memory.storage), "cn") }
        var gradientsByName: [String: [Double]] = [:]
        result.gradients.forEachTensor { _, name, g in gradientsByName[name] = g.storage }
        for n in names.sorted() { try expectClose(gradientsByName[n]!, "grad.\(n)") }
        try expectClose(result.inputGradient.values, "grad.x")
        try expectClose(result.initialStateGradient.layers.flatMap(\.hidden.storage), "grad.h0")
        if Cell.hasMemory { try expectClose(result.initialStateGradient.layers.flatMap(\.memory.storage), "grad.c0") }
        return result
    }
}
