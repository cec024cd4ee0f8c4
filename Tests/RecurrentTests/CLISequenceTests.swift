import Foundation
import Testing
@testable import Recurrent

/// Sequences of uneven length through the built binary: training on NaN-padded `.npy`
/// files with `lengths.npy`, or on padding marked by `--pad-value`; `predict --lengths`
/// gives each sequence the outputs it has alone; bad lengths are refused with the file
/// and the sequence named.
@Suite("Command line: sequences of uneven length")
struct CLISequenceTests {
    static let (n, t, i) = (12, 6, 2)
    static let lengths = (0..<n).map { 1 + ($0 * 5) % t }      // 1 ... 6, unsorted

    /// inputs [N, T, I] padded with `pad`, per-step class targets [N, T] (garbage past the end).
    static func write(to dir: URL, pad: Float, lengthsFile: Bool) throws {
        var rng = SeededGenerator(seed: 21)
        var x: [Float] = [], y: [Int64] = []
        for s in 0..<n {
            for step in 0..<t {
                for _ in 0..<i { x.append(step < lengths[s] ? Float(Draw.uniform(-1, 1, &rng)) : pad) }
                y.append(step < lengths[s] ? Int64(Draw.index(below: 3, &rng)) : -100)
            }
        }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try NumPy.write(try NDArray(shape: [n, t, i], elements: .float32(x)), to: dir.appendingPathComponent("inputs.npy").path)
        try NumPy.write(try NDArray(shape: [n, t], elements: .int64(y)), to: dir.appendingPathComponent("targets.npy").path)
        if lengthsFile {
            try NumPy.write(try NDArray(shape: [n], elements: .int64(lengths.map(Int64.init))), to: dir.appendingPathComponent("lengths.npy").path)
        }
    }

    @Test func trainsOnNaNPaddedFilesAndPredictsEachSequenceAsAlone() throws {
        let dir = try CLI.directory()
        try Self.write(to: dir.appendingPathComponent("data"), pad: .nan, lengthsFile: true)
        let train = try CLI.run(["train", "--task", "tensors", "--data", "data", "--cell", "gru", "--hidden", "6", "--layers", "2",
                                 "--batch", "4", "--steps", "6", "--json"], in: dir)
        #expect(train.status == 0, "\(train.output)")
        let checkpoint = "checkpoints/tensors-gru.safetensors"
        let eval = try CLI.run(["eval", "--checkpoint", checkpoint, "--task", "tensors", "--val-fraction", "0.25", "--json"], in: dir)
        #expect(eval.status == 0, "\(eval.output)")
        #expect(((try CLI.json(eval)["val"] as? [String: Any])?["loss"] as? Double)?.isFinite == true)

        let p = try CLI.run(["predict", "--checkpoint", checkpoint, "--input", "data/inputs.npy", "--lengths", "data/lengths.npy",
                             "--output", "y.safetensors"], in: dir)
        #expect(p.status == 0, "\(p.output)")
        let all = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("y.safetensors"))
        #expect(all.tensors["outputs"]?.shape == [Self.n, Self.t, 3])
        #expect(all.tensors["hidden"]?.shape == [2, Self.n, 6])
        // Sequence 4 alone, cut to its length, gives the same bits.
        let s = 4, length = Self.lengths[s]
        let inputs = try NumPy.read(path: dir.appendingPathComponent("data/inputs.npy").path).scalars(Float.self)
        let own = Array(inputs[(s * Self.t * Self.i)..<((s * Self.t + length) * Self.i)])
        try NumPy.write(try NDArray(shape: [1, length, Self.i], elements: .float32(own)), to: dir.appendingPathComponent("one.npy").path)
        #expect(try CLI.run(["predict", "--checkpoint", checkpoint, "--input", "one.npy", "--output", "one.safetensors"], in: dir).status == 0)
        let alone = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("one.safetensors"))
        let outputs = try #require(all.tensors["outputs"]).floats(), ownOutputs = try #require(alone.tensors["outputs"]).floats()
        #expect(Array(outputs[(s * Self.t * 3)..<((s * Self.t + length) * 3)]).map(\.bitPattern) == ownOutputs.map(\.bitPattern))
        let hidden = try #require(all.tensors["hidden"]).floats(), ownHidden = try #require(alone.tensors["hidden"]).floats()
        for l in 0..<2 {
            #expect(Array(hidden[((l * Self.n + s) * 6)..<((l * Self.n + s + 1) * 6)]).map(\.bitPattern)
                    == Array(ownHidden[(l * 6)..<((l + 1) * 6)]).map(\.bitPattern), "h_n of layer \(l)")
        }
        // Without the lengths, the NaN padding is refused, naming the file.
        let refused = try CLI.run(["predict", "--checkpoint", checkpoint, "--input", "data/inputs.npy", "--output", "z.safetensors"], in: dir)
        #expect(refused.status == 1 && refused.stderr.contains("inputs.npy") && refused.stderr.contains("non-finite"), "\(refused.output)")
    }

    @Test func bidirectionalTwoLayerGRUOnUnevenSequences() throws {
        let dir = try CLI.directory()
        try Self.write(to: dir.appendingPathComponent("data"), pad: .nan, lengthsFile: true)
        let train = try CLI.run(["train", "--task", "tensors", "--data", "data", "--cell", "gru", "--bidirectional", "--hidden", "5",
                                 "--layers", "2", "--batch", "4", "--steps", "4"], in: dir)
        #expect(train.status == 0, "\(train.output)")
        #expect(train.stdout.contains("2-layer bidirectional gru"), "\(train.stdout)")
        let checkpoint = "checkpoints/tensors-gru.safetensors"
        let file = try SafeTensorsFile(contentsOf: dir.appendingPathComponent(checkpoint))
        #expect(file.tensors["rnn.weight_ih_l1_reverse"]?.shape == [15, 10])
        #expect(file.tensors["head.weight"]?.shape == [3, 10])
        let p = try CLI.run(["predict", "--checkpoint", checkpoint, "--input", "data/inputs.npy", "--lengths", "data/lengths.npy",
                             "--output", "y.safetensors"], in: dir)
        #expect(p.status == 0, "\(p.output)")
        let y = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("y.safetensors"))
        #expect(y.tensors["hidden"]?.shape == [4, Self.n, 5])                  // [L*2, N, H], PyTorch's h_n
        #expect(y.tensors["outputs"]?.shape == [Self.n, Self.t, 3])
        // Resuming keeps the directions without the flag.
        let resume = try CLI.run(["train", "--resume", checkpoint, "--steps", "6"], in: dir)
        #expect(resume.status == 0, "\(resume.output)")
    }

    @Test func noBiasTrainsSavesAndResumes() throws {
        let dir = try CLI.directory()
        let train = try CLI.run(CLI.tinyAdding + ["--cell", "lstm", "--no-bias", "--steps", "4"], in: dir)
        #expect(train.status == 0, "\(train.output)")
        #expect(train.stdout.contains("bias-free lstm"), "\(train.stdout)")
        let file = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("checkpoints/adding-lstm.safetensors"))
        #expect(Set(file.tensors.keys) == ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "head.weight", "head.bias"])
        let resume = try CLI.run(["train", "--resume", "checkpoints/adding-lstm.safetensors", "--steps", "6"], in: dir)
        #expect(resume.status == 0, "\(resume.output)")
        let eval = try CLI.run(["eval", "--checkpoint", "checkpoints/adding-lstm.safetensors"], in: dir)
        #expect(eval.status == 0, "\(eval.output)")
    }

    /// Dropout's masks come from the run's generator: stopped and resumed, the same bits.
    @Test func dropoutResumesBitExact() throws {
        let dir = try CLI.directory()
        try Self.write(to: dir.appendingPathComponent("data"), pad: .nan, lengthsFile: true)
        let common = ["train", "--task", "tensors", "--data", "data", "--cell", "lstm", "--bidirectional", "--layers", "2", "--hidden", "5",
                      "--dropout", "0.3", "--batch", "4"]
        #expect(try CLI.run(common + ["--steps", "8", "--name", "straight"], in: dir).status == 0)
        let first = try CLI.run(common + ["--steps", "4", "--name", "stopped"], in: dir)
        #expect(first.status == 0 && first.stdout.contains("dropout 0.3"), "\(first.output)")
        let resumed = try CLI.run(["train", "--resume", "checkpoints/stopped.safetensors", "--steps", "8"], in: dir)
        #expect(resumed.status == 0, "\(resumed.output)")
        let c = dir.appendingPathComponent("checkpoints")
        #expect(try CLI.sameTensors(c.appendingPathComponent("stopped.safetensors"), c.appendingPathComponent("straight.safetensors")))
        // The same run without dropout ends elsewhere: the masks acted.
        #expect(try CLI.run(Array(common.dropLast(4)) + ["--batch", "4", "--steps", "8", "--name", "plain"], in: dir).status == 0)
        #expect(try !CLI.sameTensors(c.appendingPathComponent("plain.safetensors"), c.appendingPathComponent("straight.safetensors")))
        let one = try CLI.run(["train", "--task", "tensors", "--data", "data", "--dropout", "0.3", "--steps", "1"], in: dir)
        #expect(one.status == 64 && one.stderr.contains("2 layers"), "\(one.output)")
    }

    /// Variational dropout's masks come from the run's generator too: stopped and resumed, and
    /// with 1 or 2 threads (H = 32: the batch is split between them), the same bits.
    @Test func variationalDropoutResumesBitExactWithAnyThreadCount() throws {
        let dir = try CLI.directory()
        try Self.write(to: dir.appendingPathComponent("data"), pad: .nan, lengthsFile: true)
        let common = ["train", "--task", "tensors", "--data", "data", "--cell", "lstm", "--bidirectional", "--layers", "2", "--hidden", "32",
                      "--input-dropout", "0.2", "--recurrent-dropout", "0.3", "--batch", "8"]
        #expect(try CLI.run(common + ["--steps", "6", "--threads", "2", "--name", "straight"], in: dir).status == 0)
        let first = try CLI.run(common + ["--steps", "3", "--threads", "1", "--name", "stopped"], in: dir)
        #expect(first.status == 0 && first.stdout.contains("input dropout 0.2, recurrent dropout 0.3"), "\(first.output)")
        let resumed = try CLI.run(["train", "--resume", "checkpoints/stopped.safetensors", "--steps", "6", "--threads", "2"], in: dir)
        #expect(resumed.status == 0 && resumed.stdout.contains("recurrent dropout 0.3"), "\(resumed.output)")
        let c = dir.appendingPathComponent("checkpoints")
        #expect(try CLI.sameTensors(c.appendingPathComponent("stopped.safetensors"), c.appendingPathComponent("straight.safetensors")))
        // Without the recurrent mask the run ends elsewhere: the masks acted.
        #expect(try CLI.run(Array(common.dropLast(4)) + ["--batch", "8", "--steps", "6", "--name", "plain"], in: dir).status == 0)
        #expect(try !CLI.sameTensors(c.appendingPathComponent("plain.safetensors"), c.appendingPathComponent("straight.safetensors")))
        let eval = try CLI.run(["eval", "--checkpoint", "checkpoints/straight.safetensors", "--json"], in: dir)
        #expect(eval.status == 0, "\(eval.output)")
        let bad = try CLI.run(["train", "--task", "tensors", "--data", "data", "--recurrent-dropout", "1", "--steps", "1"], in: dir)
        #expect(bad.status == 64 && bad.stderr.contains("recurrent dropout must be in [0, 1)"), "\(bad.output)")
    }

    /// Truncated BPTT over uneven sequences with a target per step: a window as long as the
    /// sequences is no truncation (the same bits), a run stopped inside a batch resumes with
    /// the same bits, and one target per sequence is refused before training starts.
    @Test func truncatedBPTTOverUnevenSequences() throws {
        let dir = try CLI.directory()
        try Self.write(to: dir.appendingPathComponent("data"), pad: .nan, lengthsFile: true)
        let common = ["train", "--task", "tensors", "--data", "data", "--cell", "gru", "--hidden", "6", "--layers", "2", "--batch", "4"]
        let c = dir.appendingPathComponent("checkpoints")
        #expect(try CLI.run(common + ["--steps", "4", "--name", "whole"], in: dir).status == 0)
        #expect(try CLI.run(common + ["--steps", "4", "--bptt", "\(Self.t)", "--name", "one-window"], in: dir).status == 0)
        #expect(try CLI.sameTensors(c.appendingPathComponent("whole.safetensors"), c.appendingPathComponent("one-window.safetensors")))
        let straight = try CLI.run(common + ["--steps", "6", "--bptt", "4", "--name", "straight"], in: dir)
        #expect(straight.status == 0, "\(straight.output)")
        #expect(try CLI.run(common + ["--steps", "3", "--bptt", "4", "--name", "stopped"], in: dir).status == 0)
        let resumed = try CLI.run(["train", "--resume", "checkpoints/stopped.safetensors", "--steps", "6"], in: dir)
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(try CLI.sameTensors(c.appendingPathComponent("stopped.safetensors"), c.appendingPathComponent("straight.safetensors")))
        #expect(try !CLI.sameTensors(c.appendingPathComponent("whole.safetensors"), c.appendingPathComponent("straight.safetensors")))
        // One class per sequence over uneven lengths: refused, saying why and what to do.
        let lengths = (0..<Self.n).map { Int64(1 + ($0 * 5) % Self.t) }
        let last = dir.appendingPathComponent("last")
        try FileManager.default.createDirectory(at: last, withIntermediateDirectories: true)
        for name in ["inputs.npy", "lengths.npy"] {
            try FileManager.default.copyItem(at: dir.appendingPathComponent("data/\(name)"), to: last.appendingPathComponent(name))
        }
        try NumPy.write(try NDArray(shape: [Self.n], elements: .int64(lengths.map { $0 % 2 })), to: last.appendingPathComponent("targets.npy").path)
        let refused = try CLI.run(["train", "--task", "tensors", "--data", "last", "--bptt", "2", "--steps", "1"], in: dir)
        #expect(refused.status != 0 && refused.stderr.contains("one target per sequence") && refused.stderr.contains("target per step"),
                "\(refused.output)")
    }

    @Test func padValueGivesTheLengthsAndIsStoredInTheCheckpoint() throws {
        let dir = try CLI.directory()
        try Self.write(to: dir.appendingPathComponent("data"), pad: -9, lengthsFile: false)
        let train = try CLI.run(["train", "--task", "tensors", "--data", "data", "--pad-value", "-9", "--cell", "lstm", "--hidden", "5",
                                 "--batch", "4", "--steps", "4", "--val-fraction", "0.25", "--json"], in: dir)
        #expect(train.status == 0, "\(train.output)")
        let eval = try CLI.run(["eval", "--checkpoint", "checkpoints/tensors-lstm.safetensors", "--json"], in: dir)
        #expect(eval.status == 0, "\(eval.output)")
        // Without --pad-value the -100 targets past the ends are read and refused.
        let unpadded = try CLI.run(["train", "--task", "tensors", "--data", "data", "--steps", "1", "--name", "plain"], in: dir)
        #expect(unpadded.status == 1 && unpadded.stderr.contains("targets.npy"), "\(unpadded.output)")
    }

    @Test func badLengthsAreRefusedNamingTheSequence() throws {
        let dir = try CLI.directory()
        try Self.write(to: dir.appendingPathComponent("data"), pad: 0, lengthsFile: false)
        var bad = Self.lengths.map(Int64.init)
        bad[7] = Int64(Self.t + 1)
        try NumPy.write(try NDArray(shape: [Self.n], elements: .int64(bad)), to: dir.appendingPathComponent("data/lengths.npy").path)
        let r = try CLI.run(["train", "--task", "tensors", "--data", "data", "--steps", "1"], in: dir)
        #expect(r.status == 1, "\(r.output)")
        #expect(r.stderr.contains("lengths.npy") && r.stderr.contains("sequence 7") && r.stderr.contains("1...\(Self.t)"), "\(r.stderr)")
        let both = try CLI.run(["train", "--task", "tensors", "--data", "data", "--pad-value", "0", "--steps", "1"], in: dir)
        #expect(both.status == 1 && both.stderr.contains("not both"), "\(both.output)")
        let nan = try CLI.run(["train", "--task", "tensors", "--data", "data", "--pad-value", "nan", "--steps", "1"], in: dir)
        #expect(nan.status == 64 && nan.stderr.contains("lengths"), "\(nan.output)")
    }
}
