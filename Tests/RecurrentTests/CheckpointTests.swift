import Foundation
import Testing
@testable import Recurrent

@Suite("Checkpoints (safetensors, PyTorch names)")
struct CheckpointTests {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-ckpt-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test(arguments: ["irnn", "lstm", "gru", "indrnn"])
    func roundTripKeepsEveryWeightAndTheConfiguration(_ preset: String) throws {
        var config = try ModelConfiguration.preset(preset, inputSize: 3, hiddenSize: 5, layers: 2, outputs: 4, readout: .everyStep)
        if preset == "indrnn" { config[.recurrentBound] = 1.5 }
        var rng = SeededGenerator(seed: 1)
        let model = try AnyRecurrentModel(config, using: &rng)
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("model.safetensors")
        let loaded: AnyRecurrentModel
        try Checkpoint.save(model, to: url, configuration: config)
        let result = try Checkpoint.load(from: url)
        loaded = result.model
        #expect(result.configuration == config)
        let x = randomBatch(batch: 2, steps: 3, features: 3, seed: 5, as: Float.self)
        struct Outputs: ModelVisitor {
            let x: SequenceBatch<Float>
            func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> [Float] where Cell.Scalar == Float {
                model.predict(x).outputs.storage
            }
        }
        #expect(try loaded.visit(Outputs(x: x)) == model.visit(Outputs(x: x)))
        let names = try SafeTensorsFile(contentsOf: url).tensors.keys.sorted()
        #expect(names == config.cellType.parameterNames(layers: 2).sorted())
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: dir.path).contains { $0.contains(".tmp-") }))
    }

    @Test func pyTorchStyleFileWithOnlyCellAndActivationMetadataLoads() throws {
        // What `safetensors.torch.save_file(model.state_dict(), path, metadata={"cell": "rnn",
        // "activation": "relu"})` writes: names and shapes only, biases 1-D.
        let (i, h, o) = (2, 3, 4)
        func t(_ shape: [Int]) -> SafeTensor { SafeTensor(floats: (0..<shape.reduce(1, *)).map { Float($0) / 10 }, shape: shape) }
        let file = SafeTensorsFile(tensors: [
            "rnn.weight_ih_l0": t([h, i]), "rnn.weight_hh_l0": t([h, h]), "rnn.bias_ih_l0": t([h]), "rnn.bias_hh_l0": t([h]),
            "head.weight": t([o, h]), "head.bias": t([o]),
        ], metadata: ["cell": "rnn", "activation": "relu"])
        let config = try Checkpoint.configuration(of: file)
        #expect(config.cell == .rnn && config.activation == .relu && config.inputSize == i && config.hiddenSize == h
                && config.outputs == o && config.layers == 1 && config.readout == .lastStep)
        let m = try #require(try Checkpoint.model(from: file, configuration: config).model(as: RNNCell<Float>.self), "not an RNN")
        #expect(m.layers[0].weightHH.storage == (0..<9).map { Float($0) / 10 })
    }

    @Test(arguments: [(4, CellKind.lstm), (3, .gru), (1, .rnn)])
    func cellKindIsInferredFromShapesWithoutMetadata(_ gates: Int, _ kind: CellKind) throws {
        let (i, h) = (2, 3)
        func t(_ shape: [Int]) -> SafeTensor { SafeTensor(floats: [Float](repeating: 0.5, count: shape.reduce(1, *)), shape: shape) }
        var tensors: [String: SafeTensor] = ["head.weight": t([1, h]), "head.bias": t([1])]
        for l in 0..<2 {
            tensors["rnn.weight_ih_l\(l)"] = t([gates * h, l == 0 ? i : h])
            tensors["rnn.weight_hh_l\(l)"] = t([gates * h, h])
            tensors["rnn.bias_ih_l\(l)"] = t([gates * h])
            tensors["rnn.bias_hh_l\(l)"] = t([gates * h])
        }
        let config = try Checkpoint.configuration(of: SafeTensorsFile(tensors: tensors))
        #expect(config.cell == kind && config.layers == 2 && config.hiddenSize == h && config.activation == .tanh)
        _ = try Checkpoint.model(from: SafeTensorsFile(tensors: tensors), configuration: config)
    }

    @Test func strictLoadListsMissingUnexpectedAndWrongShapes() throws {
        var rng = SeededGenerator(seed: 2)
        let config = try ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 3, outputs: 2)
        let model = try RecurrentModel<RNNCell<Float>>(config, using: &rng)
        var file = Checkpoint.stateDict(model)
        file.tensors["rnn.bias_hh_l0"] = nil
        file.tensors["rnn.extra"] = SafeTensor(floats: [1], shape: [1])
        file.tensors["head.weight"] = SafeTensor(floats: [Float](repeating: 0, count: 9), shape: [3, 3])
        do {
            _ = try Checkpoint.fill(model, from: file)
            Issue.record("a broken checkpoint loaded")
        } catch let error as CheckpointError {
            #expect(error.message.contains("missing tensors: rnn.bias_hh_l0"))
            #expect(error.message.contains("unexpected tensors: rnn.extra"))
            #expect(error.message.contains("head.weight is [3, 3], expected [2, 3]"))
        }
    }

    @Test func aCheckpointForAnotherModelIsRefused() throws {
        var rng = SeededGenerator(seed: 3)
        let small = try RecurrentModel<RNNCell<Float>>(try ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 3, outputs: 1), using: &rng)
        let big = try RecurrentModel<RNNCell<Float>>(try ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 8, outputs: 1), using: &rng)
        #expect(throws: CheckpointError.self) { try Checkpoint.fill(big, from: Checkpoint.stateDict(small)) }
    }

    @Test func garbageFilesAreErrorsNamingThePath() throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("bad.safetensors")
        try Data("not a safetensors file at all".utf8).write(to: url)
        do {
            _ = try Checkpoint.load(from: url)
            Issue.record("garbage loaded")
        } catch {
            #expect("\(error)".contains(url.path))
        }
        #expect(throws: (any Error).self) { try Checkpoint.load(from: dir.appendingPathComponent("missing.safetensors")) }
    }
}
