import Foundation
import Testing
@testable import Recurrent

/// Issue #15, through the binary: early stopping and the best checkpoint, schedules with a
/// warm-up, every core by default, a test set of one's own, and the rough edges a new user hit.
@Suite struct CLITrainingAsExpectedTests {
    /// A tensors data set of `count` sequences [6 steps, 3 features] whose labels cycle through `classes`.
    static func writeTensors(_ name: String, count: Int = 40, classes: Int, seed: UInt64, in dir: URL) throws -> String {
        let folder = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var rng = SeededGenerator(seed: seed)
        let x = (0..<(count * 6 * 3)).map { _ in Float.random(in: 0..<1, using: &rng) }
        try NumPy.write(NDArray(shape: [count, 6, 3], elements: .float32(x)), to: folder.appendingPathComponent("inputs.npy").path)
        try NumPy.write(NDArray(shape: [count], elements: .int64((0..<count).map { Int64($0 % classes) })),
                        to: folder.appendingPathComponent("targets.npy").path)
        return folder.path
    }

    @Test func patienceStopsEarlyKeepBestKeepsTheBestAndEvalReportsBoth() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(CLI.tinyAdding + ["--lr", "0.3", "--steps", "3000", "--eval-every", "10", "--patience", "3", "--keep-best", "--json"], in: dir)
        #expect(r.status == 0, "\(r.output)")
        let object = try CLI.json(r)
        #expect(object["reason"] as? String == "early stopped")
        let steps = try #require(object["steps"] as? Int)
        #expect(steps < 3000)
        let best = try #require(object["best"] as? [String: Any])
        let bestStep = try #require(best["step"] as? Int), bestMSE = try #require(best["mse"] as? Double)
        #expect(bestStep <= steps - 30 && best["split"] as? String == "test")
        let bestPath = try #require(best["checkpoint"] as? String)
        #expect(bestPath.hasSuffix("checkpoints/adding-irnn.best.safetensors") && FileManager.default.fileExists(atPath: bestPath))

        let e = try CLI.run(["eval", "--checkpoint", "checkpoints/adding-irnn.safetensors", "--json"], in: dir)
        #expect(e.status == 0, "\(e.output)")
        let evaluated = try CLI.json(e)
        #expect(evaluated["step"] as? Int == steps)
        let bestEval = try #require(evaluated["best"] as? [String: Any])
        #expect(bestEval["step"] as? Int == bestStep)
        #expect((bestEval["test"] as? [String: Any])?["mse"] as? Double == bestMSE)
        let text = try CLI.run(["eval", "--checkpoint", "checkpoints/adding-irnn.safetensors"], in: dir)
        #expect(text.stdout.contains("best: ") && text.stdout.contains("step \(bestStep)"), "\(text.stdout)")

        // Resumed, the run has nothing left: its patience is used up.
        let again = try CLI.run(["train", "--resume", "checkpoints/adding-irnn.safetensors"], in: dir)
        #expect(again.status != 0 && again.stderr.contains("stopped early") && again.stderr.contains("--patience"), "\(again.output)")
    }

    @Test func patienceAndPlateauNeedPeriodicEvaluations() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for extra in [["--patience", "3"], ["--schedule", "plateau:2:0.5"]] {
            let r = try CLI.run(CLI.tinyAdding + ["--steps", "5"] + extra, in: dir)
            #expect(r.status == 64 && r.stderr.contains("--eval-every"), "\(r.output)")
        }
    }

    @Test func aWarmupRaisesTheRateAsLinearLRDoes() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(CLI.tinyAdding + ["--steps", "6", "--log-every", "1", "--schedule", "warmup:4:0.5", "--log", "run.jsonl"], in: dir)
        #expect(r.status == 0, "\(r.output)")
        let lines = try String(contentsOf: dir.appendingPathComponent("run.jsonl"), encoding: .utf8).split(separator: "\n")
        let rates = try lines.compactMap { line -> Double? in
            let o = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return o["kind"] as? String == "step" ? o["learningRate"] as? Double : nil
        }
        let expected = [0.0005, 0.000625, 0.00075, 0.000875, 0.001, 0.001]   // Adam's 1e-3 x (0.5 + 0.5 t / 4), then 1e-3
        #expect(rates.count == 6 && zip(rates, expected).allSatisfy { isClose($0, $1, rtol: 1e-12) }, "\(rates)")
    }

    @Test func threadsDefaultToEveryCoreWithTheSameBits() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let help = try CLI.run(["train", "--help"], in: dir)
        #expect(help.stdout.contains("--threads 1") && help.stdout.contains("every core"), "\(help.stdout)")
        let a = try CLI.run(CLI.tinyAdding + ["--steps", "8", "--name", "default"], in: dir)
        let b = try CLI.run(CLI.tinyAdding + ["--steps", "8", "--name", "one", "--threads", "1"], in: dir)
        #expect(a.status == 0 && b.status == 0, "\(a.output)\(b.output)")
        #expect(try CLI.sameTensors(dir.appendingPathComponent("checkpoints/default.safetensors"), dir.appendingPathComponent("checkpoints/one.safetensors")))
    }

    @Test func jsonHasTheSameKeysWhenARunDiverges() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ok = try CLI.run(CLI.tinyAdding + ["--steps", "3", "--json"], in: dir)
        let diverged = try CLI.run(["train", "--task", "adding", "--length", "100", "--hidden", "6", "--batch", "4", "--limit", "10",
                                    "--recurrent-init", "identity:3", "--clip-norm", "0", "--steps", "5", "--name", "diverged", "--json"], in: dir)
        #expect(ok.status == 0 && diverged.status == 3, "\(diverged.output)")
        let keys = Set(try CLI.json(ok).keys), divergedObject = try CLI.json(diverged)
        #expect(keys.count == 12 && Set(divergedObject.keys) == keys.union(["error"]), "\(divergedObject.keys.sorted())")
        #expect(divergedObject["reason"] as? String == "diverged" && divergedObject["steps"] as? Int == 0)
    }

    @Test func testDataEvalOnAnUnseenFileAndFineTuningKeepTheModelsClasses() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let five = try Self.writeTensors("five", classes: 5, seed: 1, in: dir)
        let four = try Self.writeTensors("four", classes: 4, seed: 2, in: dir)
        let unseen = try Self.writeTensors("unseen", count: 12, classes: 4, seed: 3, in: dir)
        // No held-out split: eval still scores the model (on its training data, and says so).
        let t = try CLI.run(["train", "--task", "tensors", "--data", five, "--hidden", "6", "--steps", "4", "--name", "m5"], in: dir)
        #expect(t.status == 0, "\(t.output)")
        let e = try CLI.run(["eval", "--checkpoint", "checkpoints/m5.safetensors"], in: dir)
        #expect(e.status == 0 && e.stdout.contains("test  loss") && e.stdout.contains("the training data"), "\(e.output)")
        // An unseen file with labels 0..<4 of the 5-class model: every one of its sequences.
        let u = try CLI.run(["eval", "--checkpoint", "checkpoints/m5.safetensors", "--data", unseen, "--json"], in: dir)
        #expect(u.status == 0, "\(u.output)")
        let scored = try #require(try CLI.json(u)["test"] as? [String: Any])
        let accuracy = try #require(scored["accuracy"] as? Double)
        #expect((accuracy * 12).rounded() == accuracy * 12, "the accuracy is over the 12 sequences of the file")
        // Fine-tuning the 5-class model on 4-class labels keeps its 5 classes; --test-data is its test set.
        let f = try CLI.run(["train", "--task", "tensors", "--data", four, "--test-data", unseen, "--init-from", "checkpoints/m5.safetensors",
                             "--steps", "4", "--name", "ft", "--json"], in: dir)
        #expect(f.status == 0, "\(f.output)")
        #expect((try CLI.json(f)["test"] as? [String: Any])?["accuracy"] != nil)
        #expect(try Checkpoint.load(from: dir.appendingPathComponent("checkpoints/ft.safetensors")).configuration.outputs == 5)
        // Labels beyond the model's classes are refused, naming both.
        let six = try Self.writeTensors("six", classes: 6, seed: 4, in: dir)
        let bad = try CLI.run(["eval", "--checkpoint", "checkpoints/m5.safetensors", "--data", six], in: dir)
        #expect(bad.status != 0 && bad.stderr.contains("a label is 5, but the model has 5 classes"), "\(bad.output)")
        // --test-data belongs to tensors.
        let other = try CLI.run(CLI.tinyAdding + ["--test-data", unseen], in: dir)
        #expect(other.status == 64 && other.stderr.contains("--test-data applies to tensors"), "\(other.output)")
    }

    @Test func aFileWithoutMetadataSaysWhatItAssumedAndTakesTheActivation() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try CLI.run(CLI.tinyAdding + ["--steps", "20"], in: dir).status == 0)
        let trained = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("checkpoints/adding-irnn.safetensors"))
        try SafeTensorsFile(tensors: trained.tensors).write(to: dir.appendingPathComponent("bare.safetensors"))   // as saved from PyTorch
        var rng = SeededGenerator(seed: 9)
        try NumPy.write(NDArray(shape: [3, 5, 2], elements: .float32((0..<30).map { _ in Float.random(in: 0..<1, using: &rng) })),
                        to: dir.appendingPathComponent("x.npy").path)
        func outputs(_ checkpoint: String, _ extra: [String] = []) throws -> (CLI.Result, [Float]) {
            let out = "y-\(UInt32.random(in: 0...UInt32.max)).safetensors"
            let r = try CLI.run(["predict", "--checkpoint", checkpoint, "--input", "x.npy", "--output", out] + extra, in: dir)
            #expect(r.status == 0, "\(r.output)")
            return (r, try SafeTensorsFile(contentsOf: dir.appendingPathComponent(out)).tensors["outputs"]!.floats())
        }
        let (_, reference) = try outputs("checkpoints/adding-irnn.safetensors")
        let (assumed, asTanh) = try outputs("bare.safetensors")
        #expect(assumed.stderr.contains("assumed activation tanh") && assumed.stderr.contains("--activation relu"), "\(assumed.stderr)")
        #expect(asTanh != reference)
        let (overridden, asReLU) = try outputs("bare.safetensors", ["--activation", "relu", "--readout", "last"])
        #expect(asReLU == reference && !overridden.stderr.contains("warning"), "\(overridden.stderr)")
        // The model's own file records both: no warning.
        let (own, _) = try outputs("checkpoints/adding-irnn.safetensors")
        #expect(!own.stderr.contains("warning"))
        // diagnose notes the assumption and takes one --activation for such a file.
        let d = try CLI.run(["diagnose", "--checkpoint", "bare.safetensors", "--length", "8", "--batch", "2"], in: dir)
        #expect(d.status == 0 && d.stdout.contains("records no activation: assumed activation tanh"), "\(d.output)")
        let dr = try CLI.run(["diagnose", "--checkpoint", "bare.safetensors", "--length", "8", "--batch", "2", "--activation", "relu"], in: dir)
        #expect(dr.status == 0 && dr.stdout.contains("relu          checkpoint:bare") && !dr.stdout.contains("records no activation"), "\(dr.output)")
        let two = try CLI.run(["diagnose", "--checkpoint", "bare.safetensors", "--activation", "relu,tanh"], in: dir)
        #expect(two.status == 64, "\(two.output)")
        // eval takes them too.
        let e = try CLI.run(["eval", "--checkpoint", "bare.safetensors", "--task", "adding", "--length", "5", "--activation", "relu", "--json"], in: dir)
        #expect(e.status == 0, "\(e.output)")
    }

    @Test func resumeKeepsWritingTheLogOfTheRun() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try CLI.run(CLI.tinyAdding + ["--steps", "10", "--log", "run.jsonl"], in: dir).status == 0)
        let r = try CLI.run(["train", "--resume", "checkpoints/adding-irnn.safetensors", "--steps", "20"], in: dir)
        #expect(r.status == 0, "\(r.output)")
        let steps = try String(contentsOf: dir.appendingPathComponent("run.jsonl"), encoding: .utf8).split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]).flatMap { $0["kind"] as? String == "step" ? $0["step"] as? Int : nil }
        }
        #expect(steps == [5, 10, 15, 20], "\(steps)")
    }

    @Test func roughEdges() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try CLI.run(CLI.tinyAdding + ["--steps", "5"], in: dir).status == 0)
        // An initialiser with --init-from or --resume has no effect: refused, not printed and ignored.
        let i = try CLI.run(CLI.tinyAdding + ["--init-from", "checkpoints/adding-irnn.safetensors", "--recurrent-init", "orthogonal"], in: dir)
        #expect(i.status == 64 && i.stderr.contains("--recurrent-init sets initial weights"), "\(i.output)")
        // A target met only by the final evaluation: the run completed (it did not stop early).
        let t = try CLI.run(CLI.tinyAdding + ["--steps", "5", "--target", "10", "--name", "target", "--json"], in: dir)
        let object = try CLI.json(t)
        #expect(object["reason"] as? String == "completed" && object["target_reached_step"] as? Int == 5, "\(t.output)")
        // sample on a model that is not a character model says so.
        let s = try CLI.run(["sample", "--checkpoint", "checkpoints/adding-irnn.safetensors"], in: dir)
        #expect(s.status == 1 && s.stderr.contains("not a character model"), "\(s.output)")
        // An option refused while running shows the subcommand's usage.
        try SafeTensorsFile(tensors: try SafeTensorsFile(contentsOf: dir.appendingPathComponent("checkpoints/adding-irnn.safetensors")).tensors)
            .write(to: dir.appendingPathComponent("bare.safetensors"))
        let e = try CLI.run(["eval", "--checkpoint", "bare.safetensors"], in: dir)
        #expect(e.status == 64 && e.stderr.contains("Usage: recurrent eval"), "\(e.output)")
        // A compare model's option that is not a number is refused (it once trained at the default rate).
        let c = try CLI.run(["compare", "--models", "irnn:lr=abc", "--steps", "1", "--report", "cmp"], in: dir)
        #expect(c.status == 64 && c.stderr.contains("'abc' is not a number"), "\(c.output)")
        // eval --json's help lists the keys it writes.
        let help = try CLI.run(["eval", "--help"], in: dir)
        let evaluated = try CLI.json(try CLI.run(["eval", "--checkpoint", "checkpoints/adding-irnn.safetensors", "--json"], in: dir))
        let flat = help.stdout.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: " ", with: "")
        for key in evaluated.keys { #expect(flat.contains("\"\(key)\""), "eval --help does not list \(key)") }
    }
}

/// Standard output and standard error into one pipe, as `demo 2>&1 | less` sees them: the
/// training lines (stderr) come between the sections (stdout) in the order they were written.
@Suite struct CLIOutputOrderTests {
    @Test func demoInOnePipeKeepsItsSectionsAndProgressInOrder() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let process = Process()
        process.executableURL = try CLI.binary()
        process.arguments = ["demo", "--length", "4", "--steps", "30", "--hidden", "6", "--diagnose-hidden", "8", "--diagnose-length", "20", "--report", "demo"]
        process.currentDirectoryURL = dir
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func index(_ prefix: String) -> Int? { lines.firstIndex { $0.hasPrefix(prefix) } }
        let one = try #require(index("== 1.")), two = try #require(index("== 2.")), three = try #require(index("== 3."))
        let started = lines.indices.filter { lines[$0].hasSuffix("training 30 steps") }
        let done = lines.indices.filter { lines[$0].hasPrefix("  done:") }
        #expect(one < two && two < three && started.count == 4 && done.count == 4)
        #expect(started.allSatisfy { $0 > two && $0 < three } && done.allSatisfy { $0 > two && $0 < three }, "\(lines)")
        #expect(lines[one..<two].allSatisfy { !$0.contains("training 30 steps") })
    }
}

/// Checkpoint messages for files made elsewhere (the library side of the rough edges).
@Suite struct CheckpointMessageTests {
    @Test func aShapeErrorPrintsTheHeadWeightAsTwoDimensional() throws {
        var rng = SeededGenerator(seed: 1)
        let small = try RecurrentModel<RNNCell<Float>>(ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 4, outputs: 1), using: &rng)
        let large = try RecurrentModel<RNNCell<Float>>(ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 6, outputs: 1), using: &rng)
        let file = Checkpoint.stateDict(small, configuration: try ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 4, outputs: 1))
        #expect {
            _ = try Checkpoint.fill(large, from: file)
        } throws: { error in
            "\(error)".contains("head.weight is [1, 4], expected [1, 6]") && "\(error)".contains("rnn.bias_ih_l0 is [4], expected [6]")
        }
    }

    @Test func tensorsNamedAfterOtherModulesGetTheRenaming() throws {
        let file = SafeTensorsFile(tensors: [
            "lstm.weight_ih_l0": SafeTensor(floats: .init(repeating: 0, count: 16 * 2), shape: [16, 2]),
            "lstm.weight_hh_l0": SafeTensor(floats: .init(repeating: 0, count: 16 * 4), shape: [16, 4]),
            "fc.weight": SafeTensor(floats: [0, 0, 0, 0], shape: [1, 4]), "fc.bias": SafeTensor(floats: [0], shape: [1]),
        ])
        #expect {
            _ = try Checkpoint.configuration(of: file)
        } throws: { error in
            let text = "\(error)"
            return text.contains("recurrent layer is 'lstm' and head 'fc'") && text.contains("k.replace('lstm.', 'rnn.', 1).replace('fc.', 'head.', 1)")
        }
    }

    @Test func assumptionsAreListedOnlyForFilesWithoutMetadata() throws {
        var rng = SeededGenerator(seed: 1)
        let c = try ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 4, outputs: 1)
        let file = Checkpoint.stateDict(try RecurrentModel<RNNCell<Float>>(c, using: &rng), configuration: c)
        #expect(Checkpoint.assumptions(of: file, configuration: try Checkpoint.configuration(of: file)).isEmpty)
        let bare = SafeTensorsFile(tensors: file.tensors)
        let inferred = try Checkpoint.configuration(of: bare)
        #expect(inferred.activation == .tanh)
        #expect(Checkpoint.assumptions(of: bare, configuration: inferred).count == 2)
        let lstm = try ModelConfiguration.preset("lstm", inputSize: 2, hiddenSize: 4, outputs: 1)
        let lstmFile = SafeTensorsFile(tensors: Checkpoint.stateDict(try RecurrentModel<LSTMCell<Float>>(lstm, using: &rng), configuration: lstm).tensors)
        #expect(Checkpoint.assumptions(of: lstmFile, configuration: try Checkpoint.configuration(of: lstmFile)) == ["readout last (many-to-one)"])
    }
}
