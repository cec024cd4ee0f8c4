import Foundation
import Testing
@testable import Recurrent

/// `train --tensorboard` and `compare --tensorboard` through the built binary: the event files
/// they write are read back record by record (length and both CRCs checked, events decoded).
@Suite("CLI: --tensorboard")
struct CLITensorBoardTests {
    /// The event files in a run folder, in name order (TensorBoard's order), each decoded.
    func eventFiles(_ folder: URL) throws -> [(name: String, events: [TensorBoardEvent])] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains("tfevents") }.sorted()
        return try names.map { ($0, try TensorBoardEventFile.events(atPath: folder.appendingPathComponent($0).path)) }
    }

    /// tag -> [(step, value)] over `events`.
    func curves(_ events: [TensorBoardEvent]) -> [String: [(step: Int, value: Float)]] {
        var out: [String: [(step: Int, value: Float)]] = [:]
        for e in events {
            if case .scalars(let scalars) = e.content { for s in scalars { out[s.tag, default: []].append((Int(e.step), s.value)) } }
        }
        return out
    }

    @Test func trainWritesEveryTagAndTheSameLossesAsItsLog() throws {
        let dir = try CLI.directory()
        let r = try CLI.run(CLI.tinyAdding + ["--steps", "20", "--eval-every", "10", "--tensorboard", "tb", "--log", "run.jsonl"], in: dir)
        #expect(r.status == 0, "\(r.output)")
        let files = try eventFiles(dir.appendingPathComponent("tb/adding-irnn"))
        try #require(files.count == 1, "one event file in tb/adding-irnn: \(files.map(\.name))")
        #expect(files[0].name.hasPrefix("events.out.tfevents."))
        #expect(r.stdout.contains("tensorboard: ") && r.stdout.contains(files[0].name), "\(r.stdout)")
        let events = files[0].events
        #expect(events.first?.content == .fileVersion("brain.Event:2"))
        #expect(events.dropFirst().first?.content == .sessionStart)
        let now = Date().timeIntervalSince1970
        #expect(events.allSatisfy { abs($0.wallTime - now) < 3600 }, "wall times are Unix seconds")
        let c = curves(events)
        #expect(Set(c.keys) == ["train/loss", "train/mse", "grad/norm", "lr", "hidden/max_abs", "hidden/dead_fraction",
                                "throughput/seq_per_s", "test/loss", "test/mse", "spectral_radius/l0"])
        #expect(c["train/loss"]?.map(\.step) == [5, 10, 15, 20])
        #expect(c["test/mse"]?.map(\.step) == [10, 20])
        #expect(c["spectral_radius/l0"]?.map(\.step) == [0, 10, 20])
        #expect(c["spectral_radius/l0"]?.first?.value == 1, "the IRNN starts at W = I")
        #expect(c["lr"]?.allSatisfy { $0.value == Float(0.001) } == true)
        #expect(c["throughput/seq_per_s"]?.allSatisfy { $0.value > 0 && $0.value.isFinite } == true)
        // The same numbers as the JSON Lines log, at Float precision.
        let lines = try String(contentsOf: dir.appendingPathComponent("run.jsonl"), encoding: .utf8).split(separator: "\n")
        let records = try lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let logged = records.filter { $0["kind"] as? String == "step" }.compactMap { $0["loss"] as? Double }.map { Float($0) }
        #expect(c["train/loss"]?.map(\.value) == logged)
        let tested = records.filter { $0["kind"] as? String == "evaluation" }.compactMap { $0["loss"] as? Double }.map { Float($0) }
        #expect(c["test/loss"]?.map(\.value) == tested)
    }

    @Test func aResumedRunAddsAFileThatRestartsAfterTheCheckpoint() throws {
        let dir = try CLI.directory()
        let first = try CLI.run(CLI.tinyAdding + ["--steps", "10", "--tensorboard", "tb"], in: dir)
        #expect(first.status == 0, "\(first.output)")
        // The second file may land in the same second: its name then gets a ".1".
        let second = try CLI.run(["train", "--resume", "checkpoints/adding-irnn.safetensors", "--steps", "20", "--tensorboard", "tb"], in: dir)
        #expect(second.status == 0, "\(second.output)")
        let files = try eventFiles(dir.appendingPathComponent("tb/adding-irnn"))
        try #require(files.count == 2, "\(files.map(\.name))")
        let resumed = files[1].events
        #expect(resumed.dropFirst().first == TensorBoardEvent(wallTime: resumed[1].wallTime, step: 11, content: .sessionStart))
        #expect(curves(files[0].events)["train/loss"]?.map(\.step) == [5, 10])
        #expect(curves(resumed)["train/loss"]?.map(\.step) == [15, 20])
        #expect(curves(resumed)["spectral_radius/l0"]?.map(\.step) == [20], "no step-0 radius in a resumed run")
    }

    @Test func compareWritesOneRunFolderPerModelAndSeed() throws {
        let dir = try CLI.directory()
        let r = try CLI.run(["compare", "--task", "adding", "--length", "5", "--models", "irnn,lstm", "--seeds", "2", "--steps", "10",
                             "--hidden", "4", "--batch", "8", "--eval-every", "5", "--log-every", "5", "--report", "out", "--tensorboard", "tb"], in: dir)
        #expect(r.status == 0, "\(r.output)")
        let folders = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("tb").path).sorted()
        #expect(folders == ["irnn-seed1", "irnn-seed2", "lstm-seed1", "lstm-seed2"])
        for folder in folders {
            let files = try eventFiles(dir.appendingPathComponent("tb/\(folder)"))
            try #require(files.count == 1, "\(folder): \(files.map(\.name))")
            let c = curves(files[0].events)
            #expect(c["test/mse"]?.map(\.step) == [5, 10], "\(folder)")
            #expect(c["train/loss"]?.map(\.step) == [5, 10], "\(folder)")
            let radii = c.keys.filter { $0.hasPrefix("spectral_radius/") }.sorted()
            #expect(radii == (folder.hasPrefix("lstm") ? ["spectral_radius/l0/f", "spectral_radius/l0/g", "spectral_radius/l0/i", "spectral_radius/l0/o"]
                                                       : ["spectral_radius/l0"]), "\(folder)")
        }
        // A second call reuses the finished runs and writes no new event file.
        let again = try CLI.run(["compare", "--task", "adding", "--length", "5", "--models", "irnn,lstm", "--seeds", "2", "--steps", "10",
                                 "--hidden", "4", "--batch", "8", "--eval-every", "5", "--log-every", "5", "--report", "out", "--tensorboard", "tb"], in: dir)
        #expect(again.status == 0, "\(again.output)")
        #expect(try eventFiles(dir.appendingPathComponent("tb/irnn-seed1")).count == 1)
    }

    @Test func anUnwritableFolderStopsBeforeTraining() throws {
        let dir = try CLI.directory()
        try Data("x".utf8).write(to: dir.appendingPathComponent("file"))
        let train = try CLI.run(CLI.tinyAdding + ["--steps", "5", "--tensorboard", "file/tb"], in: dir)
        #expect(train.status == 1, "\(train.output)")
        #expect(train.stderr.contains("/file: cannot create the TensorBoard folder \(dir.path)/file/tb/adding-irnn (it is a file, not a folder)"),
                "\(train.stderr)")
        #expect(!train.stdout.contains("step "), "no training step ran: \(train.stdout)")
        let compare = try CLI.run(["compare", "--task", "adding", "--length", "5", "--models", "irnn", "--steps", "5", "--hidden", "4",
                                   "--batch", "8", "--report", "out", "--tensorboard", "file/tb"], in: dir)
        #expect(compare.status == 1, "\(compare.output)")
        #expect(compare.stderr.contains("/file: cannot create the TensorBoard folder \(dir.path)/file/tb (it is a file, not a folder)"),
                "\(compare.stderr)")
        let empty = try CLI.run(CLI.tinyAdding + ["--steps", "5", "--tensorboard", ""], in: dir)
        #expect(empty.status == 64 && empty.stderr.contains("--tensorboard needs a folder"), "\(empty.output)")
    }
}
