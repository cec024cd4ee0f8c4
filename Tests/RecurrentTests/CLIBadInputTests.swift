import Foundation
import Testing
@testable import Recurrent

/// Bad input through the binary: a non-zero exit, a message naming the file, no crash,
/// nothing overwritten.
@Suite("CLI: bad input")
struct CLIBadInputTests {
    /// A checkpoint from a tiny run, to check that failing runs leave it alone.
    func directoryWithACheckpoint() throws -> (URL, Data) {
        let dir = try CLI.directory()
        let r = try CLI.run(CLI.tinyAdding + ["--steps", "2", "--name", "kept"], in: dir)
        #expect(r.status == 0, "\(r.output)")
        return (dir, try Data(contentsOf: dir.appendingPathComponent("checkpoints/kept.safetensors")))
    }

    func expectUntouched(_ dir: URL, _ bytes: Data) throws {
        #expect(try Data(contentsOf: dir.appendingPathComponent("checkpoints/kept.safetensors")) == bytes, "a failing run overwrote the checkpoint")
    }

    @Test func truncatedIDX() throws {
        let (dir, bytes) = try directoryWithACheckpoint()
        let idx = dir.appendingPathComponent("idx")
        try FileManager.default.createDirectory(at: idx, withIntermediateDirectories: true)
        func header(_ words: [UInt32]) -> Data { Data(words.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (24 - 8 * $0)) } }) }
        try (header([2051, 100, 28, 28]) + Data(count: 500)).write(to: idx.appendingPathComponent("train-images-idx3-ubyte"))
        try (header([2049, 100]) + Data(count: 100)).write(to: idx.appendingPathComponent("train-labels-idx1-ubyte"))
        try (header([2051, 1, 28, 28]) + Data(count: 784)).write(to: idx.appendingPathComponent("t10k-images-idx3-ubyte"))
        try (header([2049, 1]) + Data(count: 1)).write(to: idx.appendingPathComponent("t10k-labels-idx1-ubyte"))
        let r = try CLI.run(["train", "--task", "rowmnist", "--data", "idx", "--steps", "1", "--name", "kept"], in: dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains("idx/train-images-idx3-ubyte") && r.stderr.contains("truncated"), "\(r.stderr)")
        try expectUntouched(dir, bytes)
    }

    @Test func textThatIsNotUTF8() throws {
        let (dir, bytes) = try directoryWithACheckpoint()
        try Data([0x68, 0x69, 0xFF, 0xFE, 0x0A]).write(to: dir.appendingPathComponent("latin.txt"))
        let r = try CLI.run(["train", "--task", "charlm", "--data", "latin.txt", "--steps", "1", "--name", "kept"], in: dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains("latin.txt") && r.stderr.contains("UTF-8"), "\(r.stderr)")
        try expectUntouched(dir, bytes)
    }

    @Test func inputsOfTheWrongShape() throws {
        let (dir, _) = try directoryWithACheckpoint()
        try NumPy.write(try NDArray(shape: [2, 3, 5], elements: .float32([Float](repeating: 0, count: 30))), to: dir.appendingPathComponent("x5.npy").path)
        let p = try CLI.run(["predict", "--checkpoint", "checkpoints/kept.safetensors", "--input", "x5.npy", "--output", "y.safetensors"], in: dir)
        #expect(p.status == 1 && p.stderr.contains("x5.npy") && p.stderr.contains("[N, T, 2]"), "\(p.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("y.safetensors").path))

        let data = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try NumPy.write(try NDArray(shape: [4, 3], elements: .float32([Float](repeating: 0, count: 12))), to: data.appendingPathComponent("inputs.npy").path)
        try NumPy.write(try NDArray(shape: [4], elements: .int64([0, 1, 0, 1])), to: data.appendingPathComponent("targets.npy").path)
        let t = try CLI.run(["train", "--task", "tensors", "--data", "data", "--steps", "1"], in: dir)
        #expect(t.status == 1 && t.stderr.contains("data/inputs.npy") && t.stderr.contains("[N, T, I]"), "\(t.stderr)")
    }

    @Test func unknownOptionValues() throws {
        let dir = try CLI.directory()
        let cell = try CLI.run(["train", "--cell", "transformer"], in: dir)
        #expect(cell.status == 64 && cell.stderr.contains("transformer") && cell.stderr.contains("irnn"), "\(cell.stderr)")
        let activation = try CLI.run(["train", "--activation", "swish"], in: dir)
        #expect(activation.status == 64 && activation.stderr.contains("swish") && activation.stderr.contains("Accepted"), "\(activation.stderr)")
        let lstm = try CLI.run(["train", "--cell", "lstm", "--activation", "relu"], in: dir)
        #expect(lstm.status == 64 && lstm.stderr.contains("tanh"), "\(lstm.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("checkpoints").path), "nothing is created on bad options")
    }

    @Test func missingOrForeignCheckpoints() throws {
        let (dir, bytes) = try directoryWithACheckpoint()
        let missing = try CLI.run(["train", "--resume", "checkpoints/nope.safetensors"], in: dir)
        #expect(missing.status == 1 && missing.stderr.contains("checkpoints/nope.safetensors"), "\(missing.stderr)")
        // The adding checkpoint is not a copy-task model (I=2 vs 10).
        let foreign = try CLI.run(["eval", "--checkpoint", "checkpoints/kept.safetensors", "--task", "copy", "--length", "3"], in: dir)
        #expect(foreign.status == 1 && foreign.stderr.contains("checkpoints/kept.safetensors") && foreign.stderr.contains("does not fit"), "\(foreign.stderr)")
        let resumeOther = try CLI.run(["train", "--resume", "checkpoints/kept.safetensors", "--task", "copy", "--length", "3", "--steps", "4"], in: dir)
        #expect(resumeOther.status != 0 && resumeOther.stderr.contains("kept.safetensors"), "\(resumeOther.stderr)")
        let wrongHidden = try CLI.run(["train", "--init-from", "checkpoints/kept.safetensors", "--task", "adding", "--hidden", "7", "--steps", "1",
                                       "--name", "other"], in: dir)
        #expect(wrongHidden.status == 1 && wrongHidden.stderr.contains("kept.safetensors") && wrongHidden.stderr.contains("wrong shapes"), "\(wrongHidden.stderr)")
        try expectUntouched(dir, bytes)
    }

    @Test func divergenceExitsNonZeroAndKeepsTheLastGoodWeights() throws {
        let dir = try CLI.directory()
        let r = try CLI.run(["train", "--task", "adding", "--length", "100", "--hidden", "6", "--batch", "4", "--limit", "10",
                             "--recurrent-init", "identity:3", "--clip-norm", "0", "--steps", "5", "--name", "diverged"], in: dir)
        #expect(r.status == 3, "\(r.output)")
        #expect(r.stderr.contains("diverged at step 1") && r.stderr.contains("checkpoints/diverged.safetensors"), "\(r.stderr)")
        let kept = try Checkpoint.load(from: dir.appendingPathComponent("checkpoints/diverged.safetensors"))
        #expect(kept.metadata["step"] == "0")
    }
}
