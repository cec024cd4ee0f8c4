import Foundation
import Testing
@testable import Recurrent

/// Prediction writes the tensors it wrote before the final states' stacking moved into the
/// library: `recurrent predict` of the pinned 2-layer LSTM on 7 sequences, in one chunk and in
/// chunks of 3 (the last one short), so that h_n and c_n are stacked across chunks.
@Suite(.serialized) struct PredictionTests {
    /// FNV-1a of every tensor (name, shape, Float bits), as GoldenCheckpointTests hashes;
    /// recorded with the binary of 9966136.
    static let expected = "2606e5145fec4bfd"

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
}
