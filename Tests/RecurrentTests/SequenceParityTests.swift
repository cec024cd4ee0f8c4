import Foundation
import Testing
@testable import Recurrent

/// Parity with PyTorch on variable-length sequences (packed, unsorted lengths, padding
/// filled with large values PyTorch never reads): outputs, h_n (c_n), the loss over the
/// packed steps only, and the gradient of every parameter, the inputs and the initial state.
///
/// Fixtures: `Fixtures/torch_seq_*.safetensors`, written once by
/// `Tests/RecurrentTests/Fixtures/make_torch_sequence_fixtures.py` (torch 2.15, float64).
@Suite("PyTorch parity for real sequences (fixtures from make_torch_sequence_fixtures.py)")
struct SequenceParityTests {
    struct Config: Decodable {
        var name: String, cell: String, activation: String, layers: Int, readout: String, loss: String
        var batch: Int, steps: Int, input: Int, hidden: Int, outputs: Int
        var bidirectional: Bool, bias: Bool
    }

    static let names = ["packed_rnn_relu", "packed_rnn_tanh", "packed_lstm", "packed_gru", "packed_lstm_last",
                        "bi_rnn_tanh", "bi_lstm_last", "packed_bi_gru", "packed_bi_lstm_last", "packed_bi_rnn_relu",
                        "nobias_rnn_tanh", "nobias_packed_lstm", "nobias_packed_bi_gru"]

    @Test(arguments: names)
    func matchesPyTorch(_ name: String) throws {
        let file = try PyTorchParityTests.fixture("seq_\(name)")
        let config = try JSONDecoder().decode(Config.self, from: Data(try #require(file.metadata["configuration"]).utf8))
        switch config.cell {
        case "rnn": try check(RNNCell<Double>.self, file, config)
        case "lstm": try check(LSTMCell<Double>.self, file, config)
        default: try check(GRUCell<Double>.self, file, config)
        }
    }

    func check<Cell: RecurrentCell>(_ type: Cell.Type, _ file: SafeTensorsFile, _ c: Config) throws where Cell.Scalar == Double {
        func tensor(_ key: String) throws -> [Double] { try #require(file.tensors[key], "fixture lacks \(key)").doubles() }
        let d = c.bidirectional ? 2 : 1
        let readout: Readout = c.readout == "last" ? .lastStep : .everyStep
        var architecture = ModelConfiguration(cell: Cell.kind, activation: try Activation(parsing: c.activation), inputSize: c.input,
                                              hiddenSize: c.hidden, layers: c.layers, outputs: c.outputs, readout: readout)
        architecture.bidirectional = c.bidirectional
        architecture.bias = c.bias
        let names = Set(architecture.parameterShapes.map(\.name))
        #expect(names.isSubset(of: Set(Cell.parameterNames(layers: c.layers, directions: d))))
        let stateDict = SafeTensorsFile(tensors: file.tensors.filter { names.contains($0.key) })
        #expect(stateDict.tensors.count == names.count, "\(c.name): the fixture holds every tensor of the state_dict")
        let model = try Checkpoint.fill(try makeModel(Cell.self, architecture, seed: 0), from: stateDict)
        // What we write is PyTorch's state_dict exactly (load_state_dict(strict=True): the same names and shapes),
        // and a file without our metadata is recognised from its names (`_reverse`) and shapes.
        let written = Checkpoint.stateDict(model)
        #expect(Set(written.tensors.keys) == Set(stateDict.tensors.keys), "\(c.name): names")
        for (name, tensor) in stateDict.tensors { #expect(written.tensors[name]?.shape == tensor.shape, "\(c.name): shape of \(name)") }
        var inferred = try Checkpoint.configuration(of: SafeTensorsFile(tensors: stateDict.tensors, metadata: ["cell": c.cell]))
        inferred.activation = architecture.activation
        inferred.readout = readout
        #expect(inferred == architecture, "\(c.name): configuration inferred from the names and shapes")

        let lengths = try #require(file.tensors["lengths"]).int64s().map { Int($0) }
        let x = SequenceBatch(batch: c.batch, steps: c.steps, features: c.input, values: try tensor("x"), lengths: lengths)
        try PyTorchParityTests.expectParity(model, x, file, name: c.name, loss: c.loss, states: c.layers * d, names: names)
    }
}
