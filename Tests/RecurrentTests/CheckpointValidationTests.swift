import Foundation
import Testing
@testable import Recurrent

/// Sizes in a checkpoint's metadata are checked against the file's own tensors before any
/// model is built from them.
@Suite("Validation: checkpoint metadata against its tensors")
struct CheckpointValidationTests {
    func smallFile(_ preset: String = "irnn", hidden: Int = 6, layers: Int = 1) throws -> SafeTensorsFile {
        var rng = SeededGenerator(seed: 1)
        let config = try ModelConfiguration.preset(preset, inputSize: 2, hiddenSize: hidden, layers: layers, outputs: 1)
        return try AnyRecurrentModel(config, using: &rng).visit(StateDict())
    }

    struct StateDict: ModelVisitor {
        func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> SafeTensorsFile where Cell.Scalar == Float {
            Checkpoint.stateDict(model)
        }
    }

    /// The metadata's configuration with `edit` applied.
    func editing(_ file: SafeTensorsFile, _ edit: (inout [String: Any]) -> Void) throws -> SafeTensorsFile {
        var file = file
        let text = try #require(file.metadata[Checkpoint.configurationKey])
        var json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        edit(&json)
        file.metadata[Checkpoint.configurationKey] = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
        return file
    }

    /// The finding: a 2.5 kB checkpoint whose metadata says H = 100000 (an 80 GB model)
    /// is refused by `configuration(of:)` itself, so no caller builds the model.
    @Test func aHiddenSizeTheTensorsDoNotHaveIsRefused() throws {
        let file = try editing(try smallFile()) { $0["hiddenSize"] = 100_000 }
        let message = catchMessage { _ = try Checkpoint.configuration(of: file) }
        #expect(message.contains("H=100000") && message.contains("rnn.weight_hh_l0 is [6, 6], expected [100000, 100000]")
                && message.contains("head.weight is [1, 6], expected [1, 100000]") && message.contains("recurrent.configuration"), "\(message)")
    }

    @Test func layersInputsAndOutputsAreCheckedToo() throws {
        let base = try smallFile(layers: 2)
        let layers = catchMessage { _ = try Checkpoint.configuration(of: try editing(base) { $0["layers"] = 5 }) }
        #expect(layers.contains("missing tensors: rnn.weight_ih_l2"), "\(layers)")
        let fewer = catchMessage { _ = try Checkpoint.configuration(of: try editing(base) { $0["layers"] = 1 }) }
        #expect(fewer.contains("unexpected tensors: rnn.bias_hh_l1"), "\(fewer)")
        let inputs = catchMessage { _ = try Checkpoint.configuration(of: try editing(base) { $0["inputSize"] = 1_000_000 }) }
        #expect(inputs.contains("rnn.weight_ih_l0 is [6, 2], expected [6, 1000000]"), "\(inputs)")
        let outputs = catchMessage { _ = try Checkpoint.configuration(of: try editing(base) { $0["outputs"] = 1 << 40 }) }
        #expect(outputs.contains("head.bias is [1], expected [\(1 << 40)]"), "\(outputs)")
        let negative = catchMessage { _ = try Checkpoint.configuration(of: try editing(base) { $0["hiddenSize"] = -6 }) }
        #expect(negative.contains("impossible") && negative.contains("hidden size"), "\(negative)")
        let cell = catchMessage { _ = try Checkpoint.configuration(of: try editing(try smallFile("rnn")) { $0["cell"] = "lstm" }) }
        #expect(cell.contains("expected [24, 2]"), "\(cell)")
    }

    /// Files without the configuration metadata (PyTorch's) are inferred from l0 and the
    /// head; the other tensors must agree with that reading.
    @Test func inferredModelsMustAgreeWithEveryTensor() throws {
        var file = try smallFile(hidden: 4)
        file.metadata = [:]
        _ = try Checkpoint.configuration(of: file)
        file.tensors["rnn.bias_hh_l0"] = SafeTensor(floats: [Float](repeating: 0, count: 9), shape: [9])
        let message = catchMessage { _ = try Checkpoint.configuration(of: file) }
        #expect(message.contains("do not form one model") && message.contains("rnn.bias_hh_l0 is [9], expected [4]"), "\(message)")
    }

    @Test(arguments: ["irnn", "lstm", "gru", "indrnn"])
    func consistentFilesOfEveryCellStillLoad(_ preset: String) throws {
        let file = try smallFile(preset, hidden: 5, layers: 2)
        let config = try Checkpoint.configuration(of: file)
        #expect(config.hiddenSize == 5 && config.layers == 2)
        _ = try Checkpoint.model(from: file, configuration: config)
    }
}
