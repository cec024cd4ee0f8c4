import Foundation
import Testing
@testable import Recurrent

/// Prediction writes the tensors it wrote before the final states' stacking moved into the
/// library: `recurrent predict` of the pinned 2-layer LSTM on 7 sequences, in one chunk and in
/// chunks of 3 (the last one short), so that h_n and c_n are stacked across chunks.
@Suite(.serialized) struct PredictionTests {
    /// FNV-1a of every tensor (name, shape, Float bits), as GoldenCheckpointTests hashes;
    /// recorded with the binary of 9966136; session 10: the LSTM gates' last h % 8 units (here all
    /// 5) by the 8-lane polynomials instead of libm.
    static let expected = "d8c8c744c4bd9746"

    /// 7 sequences of 5 steps of 2 features.
    static func inputs() -> SafeTensorsFile {
        let values = (0..<70).map { Float(sin(Double($0) * 0.7)) * 0.5 + 0.5 }
        return SafeTensorsFile(tensors: ["inputs": SafeTensor(floats: values, shape: [7, 5, 2])])
    }

    @Test(arguments: [256, 3])
    func predictWritesThePinnedTensors(_ batch: Int) throws {
        let dir = try PinnedRuns.train(["p"])
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.inputs().write(to: dir.appendingPathComponent("x.safetensors"))
        let r = try CLI.run(["predict", "--checkpoint", "checkpoints/p.safetensors", "--input", "x.safetensors",
                             "--output", "y.safetensors", "--batch", "\(batch)"], in: dir)
        try #require(r.status == 0, "\(r.output)")
        #expect(r.stdout.contains("cell [2, 7, 5], hidden [2, 7, 5], outputs [7, 1]"), "\(r.stdout)")
        let hash = try GoldenCheckpointTests.hash([dir.appendingPathComponent("y.safetensors")])
        if ProcessInfo.processInfo.environment["GOLDEN_PRINT"] != nil { print("predict \(batch): \(hash)") }
        #expect(hash == Self.expected)
    }

    /// The library's chunked prediction: the pinned tensors for any chunk size, and h_n / c_n
    /// as the last step's state of each sequence run alone.
    @Test func theLibraryStacksTheFinalStatesAcrossChunks() throws {
        let dir = try PinnedRuns.train(["p"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let loaded = try Checkpoint.load(from: dir.appendingPathComponent("checkpoints/p.safetensors"))
        let values = try Self.inputs().tensors["inputs"]!.floats()
        let inputs = SequenceBatch(batch: 7, steps: 5, features: 2, values: values)
        for chunk in [1, 3, 7, 100] {
            let out = dir.appendingPathComponent("y\(chunk).safetensors")
            try SafeTensorsFile(tensors: try loaded.model.predict(inputs, chunkSize: chunk).tensors).write(to: out)
            #expect(try GoldenCheckpointTests.hash([out]) == Self.expected, "chunk \(chunk)")
        }
        guard let model = loaded.model.model(as: LSTMCell<Float>.self) else { Issue.record("not an LSTM"); return }
        let all = model.predict(inputs, chunkSize: 7)
        #expect(all.hidden.rows == 2 * 7 && all.memory?.rows == 2 * 7 && all.outputShape == [7, 1])
        for n in [0, 4, 6] {
            let alone = model.predict(inputs.sequences(n..<(n + 1))).finalState
            for l in 0..<2 {
                #expect(Array(all.hidden.row(l * 7 + n)) == alone.layers[l].hidden.storage)
                #expect(Array(all.memory!.row(l * 7 + n)) == alone.layers[l].memory.storage)
            }
        }
    }
}
