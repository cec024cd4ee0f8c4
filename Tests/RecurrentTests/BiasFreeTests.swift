import Foundation
import Testing
@testable import Recurrent

/// Layers without biases (PyTorch's `bias=False`): b_ih and b_hh are 0 and stay 0 through
/// training with every optimizer; the file has no `rnn.bias_*` tensor and loads back the same.
@Suite("Layers without biases")
struct BiasFreeTests {
    @Test(arguments: ["sgd", "adam", "adamw", "rmsprop"])
    func biasesStayZeroAndAreNotSaved(_ optimizerName: String) throws {
        var config = ModelConfiguration(cell: .lstm, activation: .tanh, inputSize: 3, hiddenSize: 4, layers: 2, outputs: 2)
        config.bias = false
        config.bidirectional = true
        var model = try makeModel(LSTMCell<Float>.self, config, seed: 2)
        let before = model
        var rng = SeededGenerator(seed: 5)
        func step(_ o: inout some Optimizer<Float>) throws {
            let x = randomBatch(batch: 4, steps: 5, features: 3, seed: rng.next(), as: Float.self)
            let r = try model.gradients(x, .classes([0, 1, 1, 0]), loss: .crossEntropy)
            model.apply(r.gradients, using: &o)
        }
        for _ in 0..<3 {
            switch optimizerName {
            case "sgd": var o = SGD<Float>(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01); try step(&o)
            case "adam": var o = Adam<Float>(learningRate: 0.01, weightDecay: 0.01); try step(&o)
            case "adamw": var o = Adam<Float>.adamW(learningRate: 0.01); try step(&o)
            default: var o = RMSProp<Float>(learningRate: 0.01, momentum: 0.5, centered: true); try step(&o)
            }
        }
        var names: [String] = []
        model.forEachParameter { _, name, m in
            names.append(name)
            if name.hasPrefix("rnn.bias") { #expect(m.storage.allSatisfy { $0 == 0 }, "\(name) stays 0") }
        }
        #expect(names.contains("rnn.bias_hh_l1_reverse"), "\(names)")
        #expect(model.layers[2].parameters[1] != before.layers[2].parameters[1], "the weights train")
        let file = Checkpoint.stateDict(model)
        #expect(!file.tensors.keys.contains { $0.hasPrefix("rnn.bias") })
        #expect(file.tensors["head.bias"] != nil, "the head keeps its bias")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nobias-\(UInt64.random(in: 0...UInt64.max)).safetensors")
        try Checkpoint.save(model, to: url)
        let loaded = try Checkpoint.load(from: url)
        #expect(loaded.configuration.bias == false && loaded.configuration.bidirectional)
        let x = randomBatch(batch: 2, steps: 4, features: 3, seed: 9, as: Float.self)
        #expect(try loaded.model.predict(x, chunkSize: 8).outputs == model.predict(x, chunkSize: 8).outputs)
        // Without our metadata (as PyTorch saves it) the model is recognised from the names.
        let bare = SafeTensorsFile(tensors: file.tensors)
        let inferred = try Checkpoint.configuration(of: bare)
        #expect(inferred.bias == false && inferred.bidirectional && inferred.layers == 2 && inferred.cell == .lstm)
    }
}

extension BiasFreeTests {
    @Test func namesFollowTheTensors() throws {
        var config = ModelConfiguration(cell: .lstm, activation: .tanh, inputSize: 3, hiddenSize: 4, layers: 2, outputs: 2)
        config.bias = false
        config.bidirectional = true
        let model = try makeModel(LSTMCell<Float>.self, config, seed: 2)
        var seen: [String] = []
        model.forEachParameter { _, name, m in
            seen.append("\(name) \(m.shape) \(m.storage.allSatisfy { $0 == 0 } ? "zero" : "nonzero")")
        }
        let expected = config.parameterShapes.map { "\($0.name) \([$0.rows, $0.cols])" }
        for e in expected { #expect(seen.contains { $0.hasPrefix(e) && $0.hasSuffix(" nonzero") }, "\(e) in \(seen)") }
    }
}
