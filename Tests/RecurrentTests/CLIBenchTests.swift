import Foundation
import Testing
@testable import Recurrent

/// `recurrent bench` through the binary: the trainer mode runs the step of `recurrent
/// train` itself (the same seed gives the same training loss, bit for bit, on every kind
/// of task), the peer mode keeps every field of the peer script's record, and options of
/// the other mode are refused with a message.
@Suite(.serialized) struct CLIBenchTests {
    /// The one JSON record of `bench --json`.
    static func record(_ r: CLI.Result) throws -> [String: Any] {
        let line = try #require(r.stdout.split(separator: "\n").last.map(String.init), "no output: \(r.output)")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var arguments: [String]
        var testDescription: String { name }
    }

    static let text = String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 40)

    /// Each case: a task, a cell and an optimizer; shared: batch 8, seed 5, log every 3.
    static let cases: [Case] = [
        Case(name: "adding irnn adam", arguments: ["--task", "adding", "--length", "7", "--cell", "irnn", "--hidden", "6"]),
        Case(name: "copy lstm rmsprop", arguments: ["--task", "copy", "--length", "3", "--cell", "lstm", "--hidden", "5",
                                                    "--optimizer", "rmsprop", "--lr", "0.003"]),
        Case(name: "rowmnist gru sgd", arguments: ["--task", "rowmnist", "--data", "mnist", "--cell", "gru", "--hidden", "4",
                                                   "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9"]),
        Case(name: "charlm indrnn adamw 2 layers", arguments: ["--task", "charlm", "--data", "text.txt", "--bptt", "6", "--cell", "indrnn",
                                                               "--layers", "2", "--hidden", "6", "--optimizer", "adamw", "--clip-value", "0.5"]),
    ]

    /// `bench --trainer` with W warm-up and S timed steps ends with the loss that `train
    /// --steps W+S` reports for its last batch, to the last bit: the same trainer, the same
    /// batches, the same updates.
    @Test(arguments: cases)
    func trainerModeRunsTrainsSteps(_ c: Case) throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.text.write(to: dir.appendingPathComponent("text.txt"), atomically: true, encoding: .utf8)
        let mnist = dir.appendingPathComponent("mnist")
        try FileManager.default.createDirectory(at: mnist, withIntermediateDirectories: true)
        try MNISTTests.writeFakeMNIST(in: mnist.path, labels: (0..<40).map { UInt8($0 % 10) }, imageCount: 40)
        let shared = ["--batch", "8", "--seed", "5", "--log-every", "3", "--limit", "200"]
        let train = try CLI.run(["train"] + c.arguments + shared + ["--steps", "7", "--name", "t", "--json"], in: dir)
        #expect(train.status == 0, "\(train.output)")
        let trained = try #require(try CLI.json(train)["train"] as? [String: Any])
        let bench = try CLI.run(["bench", "--trainer"] + c.arguments + shared + ["--warmup", "2", "--steps", "5", "--json"], in: dir)
        #expect(bench.status == 0, "\(bench.output)")
        let r = try Self.record(bench)
        #expect(r["final_loss"] as? Double == trained["loss"] as? Double, "\(c.name): bench \(r["final_loss"] ?? "nil"), train \(trained["loss"] ?? "nil")")
        #expect(r["mode"] as? String == "trainer")
        #expect(r["steps"] as? Int == 5 && r["warmup"] as? Int == 2 && r["batch"] as? Int == 8)
        #expect((r["median_s"] as? Double ?? 0) > 0)
    }

    @Test func trainerModeRecordsTheTasksShapes() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Self.record(CLI.run(["bench", "--trainer", "--task", "copy", "--length", "4", "--cell", "gru", "--hidden", "5",
                                         "--batch", "3", "--steps", "2", "--warmup", "0", "--json"], in: dir))
        #expect(r["task"] as? String == "copy" && r["optimizer"] as? String == "adam" && r["cell"] as? String == "gru")
        #expect(r["seq_len"] as? Int == 24 && r["input"] as? Int == 10 && r["classes"] as? Int == 10)
        #expect(r["hidden"] as? Int == 5 && r["readout"] as? String == "every" && r["loss"] as? String == "xent")
        // 3 x forward; forward = 2 B T G (I H + H H) + 2 B T H C for the every-step head.
        let recurrent: Double = 2 * 3 * 24 * 3 * (10 * 5 + 5 * 5)
        let head: Double = 2 * 3 * 24 * 5 * 10
        let forward = recurrent + head
        #expect(r["flops_per_step"] as? Double == 3 * forward)
    }

    /// The peer mode's record keeps every field of the peer script (run_all.sh and
    /// make_table.py read them) and adds its own after them.
    @Test func peerModeKeepsThePeerFields() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLI.run(["bench", "--cell", "relu", "--hidden", "8", "--input", "2", "--seq-len", "6", "--batch", "4",
                                  "--classes", "1", "--steps", "2", "--warmup", "1", "--no-pin"], in: dir)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.split(separator: "\n").count == 2, "a readable line, then the record")
        let r = try Self.record(result)
        for key in ["framework", "framework_version", "kernels", "cell", "hidden", "input", "seq_len", "batch", "classes", "loss", "lr",
                    "threads", "cpus", "steps", "warmup", "median_s", "min_s", "mean_s", "max_s", "seq_per_s", "steps_per_s",
                    "us_per_timestep", "flops_per_step", "fwd_flops_per_step", "gflops", "gflops_best", "compile_s", "cpu_util",
                    "loadavg_1m_before", "final_loss"] {
            #expect(r[key] != nil, "the record lacks \(key)")
        }
        #expect(r["framework"] as? String == "recurrent" && r["mode"] as? String == "peer" && r["loss"] as? String == "mse")
        #expect(r["lr"] as? Double == 1e-8)
        let recurrent: Double = 2 * 4 * 6 * (2 * 8 + 8 * 8)
        let head: Double = 2 * 4 * 8
        #expect(r["flops_per_step"] as? Double == 3 * (recurrent + head))
    }

    /// `--min-seconds S` keeps timing past `--steps` until the timed steps add up to S, and
    /// the record counts the steps it timed (the side-by-side script's figures each cover S).
    @Test func minSecondsTimesUntilTheSpanIsCovered() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLI.run(["bench", "--cell", "relu", "--hidden", "8", "--input", "1", "--seq-len", "20", "--batch", "4",
                                  "--classes", "3", "--steps", "2", "--warmup", "0", "--min-seconds", "0.2", "--no-pin", "--json"], in: dir)
        #expect(result.status == 0, "\(result.output)")
        let r = try Self.record(result)
        let steps = try #require(r["steps"] as? Int), mean = try #require(r["mean_s"] as? Double)
        #expect(steps > 2, "a step of this size takes far less than 0.1 s: \(r)")
        #expect(Double(steps) * mean >= 0.2, "the timed steps cover 0.2 s: \(steps) x \(mean)")
        #expect(r["min_seconds"] as? Double == 0.2)
    }

    /// GRU and IndRNN in the peer table: the FLOP count is the peer script's
    /// (`benchmarks/rnn_peer_bench.py`): G = 3 for the GRU; the IndRNN's recurrent
    /// product is elementwise (u [H]), so it counts I·H + H per step and row.
    @Test(arguments: [("gru", 3 * (2 * 8 + 8 * 8)), ("indrnn", 2 * 8 + 8)])
    func peerModeCountsGRUAndIndRNN(_ cell: String, _ weights: Int) throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLI.run(["bench", "--cell", cell, "--hidden", "8", "--input", "2", "--seq-len", "6", "--batch", "4",
                                  "--classes", "10", "--steps", "2", "--warmup", "1", "--no-pin", "--json"], in: dir)
        #expect(result.status == 0, "\(result.output)")
        let r = try Self.record(result)
        #expect(r["cell"] as? String == cell && r["loss"] as? String == "xent")
        #expect(r["flops_per_step"] as? Double == 3 * (2 * 4 * 6 * Double(weights) + 2 * 4 * 8 * 10))
        #expect((r["final_loss"] as? Double).map { abs($0 - log(10)) < 0.5 } == true, "about ln 10 at the start: \(r)")
    }

    @Test(arguments: ["indrnn", "lstm"])
    func peerModeTimesAPerStepReadout(_ cell: String) throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLI.run(["bench", "--cell", cell, "--hidden", "6", "--input", "3", "--seq-len", "5", "--batch", "2",
                                  "--classes", "4", "--readout", "every", "--steps", "2", "--warmup", "0", "--no-pin", "--json"], in: dir)
        #expect(result.status == 0, "\(result.output)")
        let r = try Self.record(result)
        #expect(r["readout"] as? String == "every" && r["cell"] as? String == cell)
        #expect((r["final_loss"] as? Double).map { $0.isFinite && $0 > 0 } == true, "cross-entropy over 4 classes: \(r)")
    }

    /// A timed run that diverges stops as train does: status 3 and the library's diagnosis,
    /// no record.
    @Test func trainerModeDivergenceExitsWithThree() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["bench", "--trainer", "--task", "adding", "--length", "20", "--hidden", "8", "--batch", "8", "--limit", "20",
                             "--cell", "rnn", "--optimizer", "sgd", "--lr", "1e30", "--clip-norm", "0", "--steps", "10", "--warmup", "0",
                             "--no-pin"], in: dir)
        #expect(r.status == 3, "\(r.output)")
        #expect(r.stderr.contains("the timed run diverged") && r.stderr.contains("diverged at step"), "\(r.stderr)")
        #expect(r.stdout.isEmpty, "\(r.stdout)")
    }

    static let refusals: [Case] = [
        Case(name: "peer shape with --trainer", arguments: ["--trainer", "--seq-len", "20"]),
        Case(name: "peer loss with --trainer", arguments: ["--trainer", "--task", "adding", "--loss", "xent"]),
        Case(name: "task without --trainer", arguments: ["--task", "adding"]),
        Case(name: "optimizer without --trainer", arguments: ["--optimizer", "adam"]),
        Case(name: "clip without --trainer", arguments: ["--clip-norm", "1"]),
        Case(name: "unknown trainer cell", arguments: ["--trainer", "--cell", "transformer"]),
        Case(name: "unknown peer cell", arguments: ["--cell", "transformer"]),
        Case(name: "unknown readout", arguments: ["--readout", "sometimes"]),
        Case(name: "one-step adding problem", arguments: ["--input", "2", "--classes", "1", "--seq-len", "1"]),
        Case(name: "negative min-seconds", arguments: ["--min-seconds", "-1"]),
        Case(name: "min-seconds with --trainer", arguments: ["--trainer", "--min-seconds", "1"]),
    ]

    /// Options of the other mode, unknown names and impossible shapes stop with status 64
    /// and a message naming the option, before anything is timed.
    @Test(arguments: refusals)
    func refusesOptionsOfTheOtherMode(_ c: Case) throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["bench"] + c.arguments + ["--steps", "1", "--warmup", "0", "--no-pin"], in: dir)
        #expect(r.status == 64, "\(c.name): status \(r.status), \(r.output)")
        #expect(r.stderr.contains("Error:") && r.stdout.isEmpty, "\(c.name): \(r.output)")
    }

    // MARK: - Large layers and inference

    /// The packed large-layer path (H > 256) of the portable C bodies (`RECURRENT_NO_AVX2`)
    /// gives the AVX2 bodies' bits for relu (the same fma chains), through the binary.
    @Test func packedLargeLayerPortableBodiesGiveTheSameBits() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let args = ["bench", "--cell", "relu", "--hidden", "272", "--input", "3", "--seq-len", "4", "--batch", "5",
                    "--classes", "3", "--steps", "2", "--warmup", "0", "--no-pin", "--json"]
        let fast = try Self.record(try CLI.run(args, in: dir))
        let process = Process()
        process.executableURL = try CLI.binary()
        process.arguments = args
        process.environment = ProcessInfo.processInfo.environment.merging(["RECURRENT_NO_AVX2": "1"]) { $1 }
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let line = try #require(String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init))
        let portable = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(portable["kernels"] as? String == "c-portable")
        let loss = try #require(fast["final_loss"] as? Double)
        #expect(loss.isFinite && portable["final_loss"] as? Double == loss, "avx2 \(loss), portable \(portable["final_loss"] ?? "nil")")
    }

    /// `--inference` times prediction (mode, forward FLOPs, sequences per second in the record)
    /// and refuses the training modes' options and --trainer.
    @Test func inferenceModeRecordsAndRefuses() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shape = ["--cell", "lstm", "--hidden", "6", "--input", "2", "--seq-len", "5", "--batch", "3", "--classes", "4",
                     "--steps", "2", "--warmup", "1", "--no-pin"]
        let r = try CLI.run(["bench", "--inference"] + shape + ["--json"], in: dir)
        #expect(r.status == 0, "\(r.output)")
        let record = try Self.record(r)
        #expect(record["mode"] as? String == "inference")
        // forward FLOPs: 2 B T G (I H + H H) + 2 B H C, G = 4
        #expect(record["flops_per_step"] as? Double == Double(2 * 3 * 5 * 4 * (2 * 6 + 6 * 6) + 2 * 3 * 6 * 4))
        #expect((record["seq_per_s"] as? Double ?? 0) > 0)
        for extra in [["--trainer"], ["--lr", "0.1"], ["--loss", "mse"], ["--data-batches", "2"]] {
            let refused = try CLI.run(["bench", "--inference"] + shape + extra, in: dir)
            #expect(refused.status == 64 && refused.stderr.contains(extra[0]), "\(extra): \(refused.output)")
        }
    }
}
