import Foundation
import Testing
@testable import Recurrent

/// The same seed gives the same checkpoint bits, release after release and in debug and release
/// builds alike: short `recurrent train` runs of several cells, tasks and optimizers, whose checkpoint
/// and sidecar tensors (names, shapes and every bit of data) are hashed and compared with hashes
/// recorded before the layout was re-cut (debug build of 212df85; its release build gave the same
/// for the RNN and IndRNN cases but other bits for LSTM and GRU, because the C compiler fused a*b + c
/// in release only; every kernel file now forbids implicit contraction). A refactor that changes a single bit
/// of training fails here; a deliberate change of the numerics must say so and record new hashes
/// (GOLDEN_PRINT=1 prints them; RECURRENT_BINARY=.build/release/recurrent checks a release build).
@Suite(.serialized) struct GoldenCheckpointTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var arguments: [String]
        var expected: String
        var testDescription: String { name }
    }

    static let text = String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 40)

    static let cases: [Case] = [
        Case(name: "irnn-adding-adam", arguments: ["--task", "adding", "--length", "8", "--cell", "irnn", "--hidden", "6"],
             expected: "a5e555a05e722e07"),
        Case(name: "lstm-adding-rmsprop", arguments: ["--task", "adding", "--length", "6", "--cell", "lstm", "--hidden", "5",
                                                      "--optimizer", "rmsprop", "--lr", "0.003"],
             expected: "58fc9b09e44ea683"),   // session 10: a row's last h % 8 gates by the 8-lane polynomials, not libm
        Case(name: "gru-copy-adamw", arguments: ["--task", "copy", "--length", "4", "--cell", "gru", "--hidden", "7",
                                                 "--optimizer", "adamw", "--weight-decay", "0.01"],
             expected: "e43675cc3ad2dc97"),   // session 10: as lstm-adding-rmsprop
        Case(name: "indrnn2-adding-sgd", arguments: ["--task", "adding", "--length", "8", "--cell", "indrnn", "--layers", "2",
                                                     "--hidden", "6", "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9"],
             expected: "c6544650266098dc"),   // session 8: IndRNN sums its gradients in the backward loop
        Case(name: "rnn-tanh-charlm-cosine", arguments: ["--task", "charlm", "--data", "text.txt", "--cell", "rnn", "--hidden", "8",
                                                         "--bptt", "6", "--schedule", "cosine", "--clip-value", "0.5"],
             expected: "401ee26460633150"),
        // Session 10: T*B = 320 > 256 rows, so the RNN's and LSTM's weight gradients are summed in two
        // chunks of the backward loop (last chunk first; BPTT.backwardSummingByChunks). Recorded with
        // that order; proj9's one pass over all rows gave 9a1f6d6af0c10120 (irnn) and 76a610bc243796c5 (lstm).
        Case(name: "irnn-adding-two-chunks", arguments: ["--task", "adding", "--length", "40", "--cell", "irnn", "--hidden", "6"],
             expected: "c0810436ea0ab569"),
        Case(name: "lstm-adding-two-chunks", arguments: ["--task", "adding", "--length", "40", "--cell", "lstm", "--hidden", "5"],
             expected: "a579eca1aa79fef"),   // with the gates' masked tail (59b0a7002271435 without)
    ]

    /// FNV-1a (64 bits) over every tensor of both files, sorted by name: name, shape, data bits.
    static func hash(_ urls: [URL]) throws -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func eat(_ bytes: some Sequence<UInt8>) { for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } }
        for url in urls {
            let file = try SafeTensorsFile(contentsOf: url)
            // The training state's copy of the model (`model.*`) repeats the model file's tensors.
            for name in file.tensors.keys.sorted() where !name.hasPrefix("model.") {
                let tensor = file.tensors[name]!
                eat(name.utf8)
                for d in tensor.shape { eat(withUnsafeBytes(of: UInt64(d).littleEndian, Array.init)) }
                for v in try tensor.floats() { eat(withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init)) }
            }
        }
        return String(h, radix: 16)
    }

    @Test(arguments: cases)
    func sameSeedSameBits(_ c: Case) throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.text.write(to: dir.appendingPathComponent("text.txt"), atomically: true, encoding: .utf8)
        let r = try CLI.run(["train"] + c.arguments + ["--batch", "8", "--steps", "30", "--limit", "40", "--seed", "7",
                                                      "--name", "golden", "--json"], in: dir)
        #expect(r.status == 0, "\(r.output)")
        let model = dir.appendingPathComponent("checkpoints/golden.safetensors")
        let value = try Self.hash([model, TrainingCheckpoint.sidecarURL(for: model)])
        if ProcessInfo.processInfo.environment["GOLDEN_PRINT"] != nil { print("golden \(c.name): \(value)") }
        #expect(value == c.expected, "\(c.name): the checkpoint's bits changed")
    }
}
