import Foundation
import Testing
@testable import Recurrent

/// The user's findings, through the binary: numbers in files are checked before anything is
/// allocated (exit 1, naming the file), impossible options are refused before anything runs
/// (exit 64, naming the option), and nothing crashes.
@Suite("CLI: validate before allocating")
struct CLIValidationTests {
    /// A directory with a 2-step checkpoint `checkpoints/kept.safetensors` (H = 6) and its sidecar.
    func directoryWithACheckpoint() throws -> URL {
        let dir = try CLI.directory()
        let r = try CLI.run(CLI.tinyAdding + ["--steps", "2", "--name", "kept"], in: dir)
        #expect(r.status == 0, "\(r.output)")
        return dir
    }

    func expectRefused(_ r: CLI.Result, status: Int32, _ parts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == status, "exit \(r.status): \(r.output)", sourceLocation: sourceLocation)
        for part in parts { #expect(r.stderr.contains(part), "'\(part)' not in: \(r.stderr)", sourceLocation: sourceLocation) }
    }

    /// Finding 1: a 2.5 kB checkpoint whose metadata says H = 100000 made eval, predict,
    /// diagnose and train --resume allocate 80 GB.
    @Test func aCheckpointWhoseMetadataLiesAboutItsSizeIsRefusedByEveryCommand() throws {
        let dir = try directoryWithACheckpoint()
        let url = dir.appendingPathComponent("checkpoints/kept.safetensors")
        var file = try SafeTensorsFile(contentsOf: url)
        var config = try JSONDecoder().decode(ModelConfiguration.self, from: Data(try #require(file.metadata[Checkpoint.configurationKey]).utf8))
        config.hiddenSize = 100_000
        file.metadata[Checkpoint.configurationKey] = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        try file.write(to: dir.appendingPathComponent("checkpoints/big.safetensors"))
        try FileManager.default.copyItem(at: TrainingCheckpoint.sidecarURL(for: url),
                                         to: dir.appendingPathComponent("checkpoints/big.state.safetensors"))
        try NumPy.write(try NDArray(shape: [1, 3, 2], elements: .float32([Float](repeating: 0, count: 6))), to: dir.appendingPathComponent("x.npy").path)
        let big = "checkpoints/big.safetensors"
        for arguments in [["eval", "--checkpoint", big], ["predict", "--checkpoint", big, "--input", "x.npy", "--output", "y.safetensors"],
                          ["diagnose", "--checkpoint", big], ["train", "--resume", big, "--steps", "4"]] {
            let r = try CLI.run(arguments, in: dir)
            expectRefused(r, status: 1, ["big.safetensors", "H=100000", "rnn.weight_hh_l0 is [6, 6], expected [100000, 100000]"])
        }
    }

    /// Finding 1: class ids of 2^63 - 1 (an overflow trap) and 1e9 (64 GB) in a tensors target.
    @Test(arguments: [Int64.max, 1_000_000_000])
    func hugeClassIdsAreRefusedNamingTheFileIndexAndValue(_ id: Int64) throws {
        let dir = try CLI.directory()
        let data = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try NumPy.write(try NDArray(shape: [4, 3, 2], elements: .float32([Float](repeating: 0, count: 24))), to: data.appendingPathComponent("inputs.npy").path)
        try NumPy.write(try NDArray(shape: [4], elements: .int64([0, 1, id, 1])), to: data.appendingPathComponent("targets.npy").path)
        let r = try CLI.run(["train", "--task", "tensors", "--data", "data", "--steps", "1"], in: dir)
        expectRefused(r, status: 1, ["data/targets.npy", "class id \(id) at index 2"])
    }

    /// Finding 1: a sidecar with 3 rng words or a wrongly shaped exp_avg crashed --resume
    /// (exit 132); finding 2: NaN or negative exp_avg_sq trained into NaN weights.
    @Test func aDamagedSidecarIsAnErrorNotACrash() throws {
        let dir = try directoryWithACheckpoint()
        let sidecarURL = dir.appendingPathComponent("checkpoints/kept.state.safetensors")
        let original = try SafeTensorsFile(contentsOf: sidecarURL)
        let damages: [(String, (inout SafeTensorsFile) throws -> Void)] = [
            ("'rng': a generator state has 4 words", { file in
                var info = try JSONDecoder().decode(TrainingCheckpoint.SidecarInfo.self, from: Data(file.metadata["trainer"]!.utf8))
                info.rng = Array(info.rng.prefix(3))
                file.metadata["trainer"] = String(decoding: try JSONEncoder().encode(info), as: UTF8.self)
            }),
            ("has shape [3, 12], but rnn.weight_hh_l0 is [6, 6]", { file in
                file.tensors["optimizer.exp_avg.rnn.weight_hh_l0"] = SafeTensor(floats: [Float](repeating: 0, count: 36), shape: [3, 12])
            }),
            ("holds nan at element 0", { file in
                file.tensors["optimizer.exp_avg_sq.rnn.weight_hh_l0"] = SafeTensor(floats: [.nan] + [Float](repeating: 0, count: 35), shape: [6, 6])
            }),
            ("holds -0.5 at element 0", { file in
                file.tensors["optimizer.exp_avg_sq.rnn.weight_hh_l0"] = SafeTensor(floats: [-0.5] + [Float](repeating: 0, count: 35), shape: [6, 6])
            }),
        ]
        for (expected, damage) in damages {
            var file = original
            try damage(&file)
            try file.write(to: sidecarURL)
            let r = try CLI.run(["train", "--resume", "checkpoints/kept.safetensors", "--steps", "4"], in: dir)
            expectRefused(r, status: 1, ["kept.state.safetensors", expected])
        }
    }

    /// Finding 2: non-finite option values trained into NaN weights or failed after the last step.
    @Test(arguments: [
        (["--weight-decay", "nan"], "--weight-decay"), (["--recurrent-init", "gaussian:1e300"], "--recurrent-init"),
        (["--activation", "leaky_relu:nan"], "--activation"), (["--clip-norm", "inf"], "--clip-norm"),
        (["--target", "nan"], "--target"), (["--lr", "inf"], "--lr"), (["--clip-value", "nan"], "--clip-value"),
        (["--schedule", "step:10:inf"], "--schedule"), (["--input-init", "identity:-inf"], "--input-init"),
        (["--activation", "clipped_relu:0"], "--activation"),
    ])
    func nonFiniteOptionsAreRefusedBeforeAnythingRuns(_ option: [String], _ name: String) throws {
        let dir = try CLI.directory()
        let r = try CLI.run(CLI.tinyAdding + ["--steps", "2"] + option, in: dir)
        expectRefused(r, status: 64, [name])
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("checkpoints").path), "a refused run created its checkpoint folder")
    }

    @Test func diagnoseAndCompareRefuseNonFiniteSpecsToo() throws {
        let dir = try CLI.directory()
        expectRefused(try CLI.run(["diagnose", "--recurrent-init", "gaussian:1e300"], in: dir), status: 64, ["--recurrent-init", "Float32"])
        expectRefused(try CLI.run(["diagnose", "--activation", "leaky_relu:inf"], in: dir), status: 64, ["--activation"])
        // `compare --models irnn:lr=abc` was accepted and trained at 0.001.
        expectRefused(try CLI.run(["compare", "--models", "irnn:lr=abc", "--steps", "1", "--report", "out"], in: dir), status: 64, ["irnn:lr=abc", "'abc' is not a number"])
        expectRefused(try CLI.run(["compare", "--models", "irnn:hidden=1e300", "--steps", "1", "--report", "out"], in: dir), status: 64, ["hidden=1e300"])
        expectRefused(try CLI.run(["compare", "--lr", "nan", "--steps", "1", "--report", "out"], in: dir), status: 64, ["--lr"])
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
    }

    /// Finding 3: `--hidden 100000 --batch 100000000` was not refused up front.
    @Test func aRunThatCannotFitInMemoryIsRefusedUpFront() throws {
        let dir = try CLI.directory()
        let train = try CLI.run(["train", "--task", "adding", "--length", "784", "--hidden", "100000", "--batch", "100000000", "--steps", "1"], in: dir)
        expectRefused(train, status: 64, ["would need", "PB", "the BPTT trace of 784 steps x 100000000 sequences x 100000 units", "lower --batch, --hidden or --length"])
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("checkpoints").path))
        let layers = try CLI.run(["train", "--task", "adding", "--hidden", "60000", "--layers", "4", "--batch", "1", "--steps", "1"], in: dir)
        expectRefused(layers, status: 64, ["would need", "the weights, gradients and optimizer state", "lower --hidden or --layers"])
        let test = try CLI.run(["train", "--task", "adding", "--limit", "1000000000000", "--steps", "1"], in: dir)
        expectRefused(test, status: 64, ["the evaluation set (1000000000000 sequences", "--limit"])
        let diagnose = try CLI.run(["diagnose", "--hidden", "100000", "--batch", "100000", "--feedforward-seeds", "0"], in: dir)
        expectRefused(diagnose, status: 64, ["would need", "lower --batch, --length or --hidden"])
        let compare = try CLI.run(["compare", "--models", "irnn,lstm:hidden=100000", "--batch", "100", "--steps", "1", "--report", "out"], in: dir)
        expectRefused(compare, status: 64, ["model 'lstm:hidden=100000' would need", "lower --hidden (or the model's hidden=, layers=)"])
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path), "compare started a run before refusing")
    }

    @Test func evalAndPredictCheckTheirBatchAgainstMemory() throws {
        let dir = try directoryWithACheckpoint()
        let eval = try CLI.run(["eval", "--checkpoint", "checkpoints/kept.safetensors", "--limit", "2000000000000", "--batch", "2000000000000"], in: dir)
        expectRefused(eval, status: 64, ["would need", "lower --batch"])
        // predict's inputs and model are bounded by their files; a run that fits still runs.
        try NumPy.write(try NDArray(shape: [3, 1000, 2], elements: .float32([Float](repeating: 0.1, count: 6000))), to: dir.appendingPathComponent("long.npy").path)
        let predict = try CLI.run(["predict", "--checkpoint", "checkpoints/kept.safetensors", "--input", "long.npy", "--output", "y.safetensors"], in: dir)
        #expect(predict.status == 0 && predict.stdout.contains("outputs [3, 1]"), "\(predict.output)")
    }

    /// Finding 2: a text too short for its validation split trained every step, then failed
    /// with no checkpoint; tensors and MNIST with an empty held-out split likewise.
    @Test func emptyEvaluationSplitsAreRefusedBeforeTraining() throws {
        let dir = try CLI.directory()
        try Data("hello world, a short text\n".utf8).write(to: dir.appendingPathComponent("short.txt"))
        let text = try CLI.run(["train", "--task", "charlm", "--data", "short.txt", "--bptt", "4", "--steps", "5"], in: dir)
        expectRefused(text, status: 1, ["short.txt", "the validation split would be empty", "validation 1"])
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("checkpoints").path))

        let data = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try NumPy.write(try NDArray(shape: [20, 3, 2], elements: .float32([Float](repeating: 0, count: 120))), to: data.appendingPathComponent("inputs.npy").path)
        try NumPy.write(try NDArray(shape: [20], elements: .float32([Float](repeating: 1, count: 20))), to: data.appendingPathComponent("targets.npy").path)
        let tensors = try CLI.run(["train", "--task", "tensors", "--data", "data", "--val-fraction", "0.01", "--steps", "1"], in: dir)
        expectRefused(tensors, status: 1, ["data", "the validation split would be empty", "0.01 of 20 sequences holds out 0"])

        let idx = dir.appendingPathComponent("idx")
        try FileManager.default.createDirectory(at: idx, withIntermediateDirectories: true)
        try MNISTTests.writeFakeMNIST(in: idx.path, labels: (0..<9).map { UInt8($0) }, imageCount: 9)
        let mnist = try CLI.run(["train", "--task", "rowmnist", "--data", "idx", "--limit", "3", "--steps", "1"], in: dir)
        expectRefused(mnist, status: 1, ["idx", "the validation split would be empty", "0.05 of 9 training images holds out 0"])
    }
}
