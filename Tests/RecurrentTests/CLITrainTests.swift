import Foundation
import Testing
@testable import Recurrent
#if canImport(Glibc)
import Glibc
#endif

/// `recurrent train`, `eval`, `predict` and `sample` through the built binary.
@Suite("CLI: train, resume, eval, predict, sample")
struct CLITrainTests {
    @Test func trainWritesALoadableCheckpointAndAMetricsLog() throws {
        let dir = try CLI.directory()
        let r = try CLI.run(CLI.tinyAdding + ["--steps", "20", "--log", "run.jsonl"], in: dir)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stdout.contains("baseline 0.1667"), "the trivial baseline is printed beside the result: \(r.stdout)")
        let loaded = try Checkpoint.load(from: dir.appendingPathComponent("checkpoints/adding-irnn.safetensors"))
        #expect(loaded.configuration.cell == .rnn && loaded.configuration.activation == .relu && loaded.configuration.hiddenSize == 6)
        #expect(loaded.metadata["step"] == "20" && loaded.metadata["task"] == "adding")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("checkpoints/adding-irnn.state.safetensors").path))
        let lines = try String(contentsOf: dir.appendingPathComponent("run.jsonl"), encoding: .utf8).split(separator: "\n")
        let records = try lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(records.filter { $0["kind"] as? String == "step" }.count == 4)
        #expect(records.contains { $0["kind"] as? String == "evaluation" && $0["split"] as? String == "test" })
        #expect(records.first?["gradientNorm"] != nil && records.first?["maxAbsHidden"] != nil)
    }

    @Test func jsonPrintsOneObjectWithTheContractKeys() throws {
        let dir = try CLI.directory()
        let r = try CLI.run(CLI.tinyAdding + ["--steps", "5", "--json"], in: dir)
        #expect(r.status == 0, "\(r.output)")
        let object = try CLI.json(r)
        for key in ["checkpoint", "steps", "seconds", "train", "val", "test"] { #expect(object.keys.contains(key), "missing \(key)") }
        #expect(object["steps"] as? Int == 5)
        let test = try #require(object["test"] as? [String: Any])
        #expect(test["loss"] is Double && test["mse"] is Double)
        #expect(FileManager.default.fileExists(atPath: try #require(object["checkpoint"] as? String)))
    }

    /// Plain, and with early stopping, the best checkpoint and a warm-up into a plateau schedule
    /// (whose state is in the training state; the best files must match too).
    @Test(arguments: [[], ["--eval-every", "2", "--patience", "50", "--keep-best", "--schedule", "warmup:3,plateau:0:0.5"]])
    func resumedRunEndsWithTheSameWeightsAsAnUninterruptedOne(_ extra: [String]) throws {
        let dir = try CLI.directory()
        let first = try CLI.run(CLI.tinyAdding + extra + ["--steps", "10", "--name", "resumed"], in: dir)
        #expect(first.status == 0, "\(first.output)")
        let second = try CLI.run(["train", "--resume", "checkpoints/resumed.safetensors", "--steps", "20"], in: dir)
        #expect(second.status == 0, "\(second.output)")
        #expect(second.stdout.contains("resuming at step 10"))
        let straight = try CLI.run(CLI.tinyAdding + extra + ["--steps", "20", "--name", "straight"], in: dir)
        #expect(straight.status == 0, "\(straight.output)")
        let c = dir.appendingPathComponent("checkpoints")
        #expect(try CLI.sameTensors(c.appendingPathComponent("resumed.safetensors"), c.appendingPathComponent("straight.safetensors")))
        #expect(try CLI.sameTensors(c.appendingPathComponent("resumed.state.safetensors"), c.appendingPathComponent("straight.state.safetensors")))
        if extra.contains("--keep-best") {
            #expect(try CLI.sameTensors(c.appendingPathComponent("resumed.best.safetensors"), c.appendingPathComponent("straight.best.safetensors")))
            let progress = { (name: String) throws -> String? in
                let trainer = try SafeTensorsFile(contentsOf: c.appendingPathComponent("\(name).state.safetensors")).metadata["trainer"] ?? ""
                let object = try JSONSerialization.jsonObject(with: Data(trainer.utf8)) as? [String: Any]
                return (object?["progress"]).flatMap { try? String(decoding: JSONSerialization.data(withJSONObject: $0, options: .sortedKeys), as: UTF8.self) }
            }
            let a = try progress("resumed"), b = try progress("straight")
            #expect(a != nil && a?.contains("reductions") == true)
            #expect(a?.replacingOccurrences(of: #""seconds":[-0-9.e+]+"#, with: "", options: .regularExpression)
                    == b?.replacingOccurrences(of: #""seconds":[-0-9.e+]+"#, with: "", options: .regularExpression))
        }
    }

    @Test func ctrlCSavesAndTheResumedRunMatches() throws {
        let dir = try CLI.directory()
        let settings = ["train", "--task", "adding", "--length", "4", "--hidden", "4", "--batch", "4", "--limit", "20", "--log-every", "1"]
        let (process, _, errURL) = try CLI.start(settings + ["--steps", "100000", "--name", "stopped", "--log", "run.jsonl"], in: dir)
        let log = dir.appendingPathComponent("run.jsonl")
        var deadline = Date().addingTimeInterval(30)
        while ((try? Data(contentsOf: log))?.count ?? 0) == 0 && process.isRunning && Date() < deadline { usleep(20_000) }
        kill(process.processIdentifier, SIGINT)
        deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("SIGINT did not stop the run within 20 s")
            return
        }
        let stderr = try String(contentsOf: errURL, encoding: .utf8)
        #expect(process.terminationStatus == 130, "\(stderr)")
        #expect(stderr.contains("interrupted at step"))
        let stopped = try Checkpoint.load(from: dir.appendingPathComponent("checkpoints/stopped.safetensors"))
        let step = try #require(stopped.metadata["step"].flatMap(Int.init))
        try #require(step >= 1 && step < 2000, "the run should stop within a few steps of SIGINT, stopped at \(step)")
        let total = String(step + 5)
        let resumed = try CLI.run(["train", "--resume", "checkpoints/stopped.safetensors", "--steps", total], in: dir)
        #expect(resumed.status == 0, "\(resumed.output)")
        let straight = try CLI.run(settings + ["--steps", total, "--name", "straight"], in: dir)
        #expect(straight.status == 0, "\(straight.output)")
        let c = dir.appendingPathComponent("checkpoints")
        #expect(try CLI.sameTensors(c.appendingPathComponent("stopped.safetensors"), c.appendingPathComponent("straight.safetensors")))
    }

    @Test func evalAndPredictRoundTrip() throws {
        let dir = try CLI.directory()
        #expect(try CLI.run(CLI.tinyAdding + ["--steps", "5"], in: dir).status == 0)
        let checkpoint = "checkpoints/adding-irnn.safetensors"
        let eval = try CLI.run(["eval", "--checkpoint", checkpoint, "--json"], in: dir)
        #expect(eval.status == 0, "\(eval.output)")
        let object = try CLI.json(eval)
        #expect(object["task"] as? String == "adding")
        #expect((object["test"] as? [String: Any])?["mse"] is Double)

        let x = (0..<(3 * 7 * 2)).map { Float($0 % 5) / 5 }
        try NumPy.write(try NDArray(shape: [3, 7, 2], elements: .float32(x)), to: dir.appendingPathComponent("x.npy").path)
        let p = try CLI.run(["predict", "--checkpoint", checkpoint, "--input", "x.npy", "--output", "y.safetensors"], in: dir)
        #expect(p.status == 0, "\(p.output)")
        let y = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("y.safetensors"))
        #expect(y.tensors["outputs"]?.shape == [3, 1])
        #expect(y.tensors["hidden"]?.shape == [1, 3, 6])

        // The same inputs from a .safetensors file give the same outputs.
        try SafeTensorsFile(tensors: ["inputs": SafeTensor(floats: x, shape: [3, 7, 2])]).write(to: dir.appendingPathComponent("x.safetensors"))
        #expect(try CLI.run(["predict", "--checkpoint", checkpoint, "--input", "x.safetensors", "--output", "z.safetensors"], in: dir).status == 0)
        #expect(try CLI.sameTensors(dir.appendingPathComponent("y.safetensors"), dir.appendingPathComponent("z.safetensors")))
    }

    @Test func charlmTrainsAndSamples() throws {
        let dir = try CLI.directory()
        var rng = SeededGenerator(seed: 3)
        let words = ["the", "cat", "sat", "on", "a", "mat", "and", "ran"]
        let text = (0..<600).map { _ in words[Draw.index(below: words.count, &rng)] }.joined(separator: " ") + "\n"
        try text.write(to: dir.appendingPathComponent("text.txt"), atomically: true, encoding: .utf8)
        let t = try CLI.run(["train", "--task", "charlm", "--data", "text.txt", "--cell", "rnn", "--hidden", "8", "--batch", "4",
                             "--bptt", "8", "--steps", "4", "--json"], in: dir)
        #expect(t.status == 0, "\(t.output)")
        #expect((try CLI.json(t)["test"] as? [String: Any])?["bpc"] is Double)
        let s = try CLI.run(["sample", "--checkpoint", "checkpoints/charlm-rnn.safetensors", "--length", "30", "--prime", "the "], in: dir)
        #expect(s.status == 0, "\(s.output)")
        let sampled = s.stdout.dropLast()   // the trailing newline
        #expect(sampled.unicodeScalars.count == 34 && sampled.hasPrefix("the "))
        #expect(sampled.unicodeScalars.allSatisfy { text.unicodeScalars.contains($0) })
        let withText = try CLI.run(["sample", "--checkpoint", "checkpoints/charlm-rnn.safetensors", "--data", "text.txt", "--length", "5"], in: dir)
        #expect(withText.status == 0, "\(withText.output)")
        let unknown = try CLI.run(["sample", "--checkpoint", "checkpoints/charlm-rnn.safetensors", "--prime", "xyz"], in: dir)
        #expect(unknown.status != 0 && unknown.stderr.contains("vocabulary"))
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: MNIST.fashionMNISTDirectory), "Fashion-MNIST is not installed"))
    func fashionMNISTSmoke() throws {
        let dir = try CLI.directory()
        let r = try CLI.run(["train", "--task", "rowmnist", "--limit", "64", "--steps", "2", "--batch", "16", "--hidden", "8", "--json"], in: dir)
        #expect(r.status == 0, "\(r.output)")
        let object = try CLI.json(r)
        #expect((object["test"] as? [String: Any])?["accuracy"] is Double)
        #expect((object["val"] as? [String: Any])?["accuracy"] is Double)
    }
}
