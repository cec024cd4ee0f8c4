import Foundation
import Testing
@testable import Recurrent
#if canImport(Glibc)
import Glibc
#endif

/// Stop signals and kills through the built binary: SIGTERM and SIGHUP save and stop like
/// Ctrl-C (exit 130), and a checkpoint whose save was cut short resumes. The long version,
/// with hundreds of SIGKILLs at random moments, is `scripts/kill_test.sh`.
@Suite("CLI: SIGTERM, SIGHUP and kills")
struct CLIKillSafeTests {
    static let settings = ["train", "--task", "adding", "--length", "4", "--hidden", "4", "--batch", "4", "--limit", "20", "--log-every", "1"]

    /// Sends `signal` once the process has written something to `marker`; waits for it to exit.
    /// Returns false (after a SIGKILL) when it did not stop within 20 s.
    func signalWhenStarted(_ process: Process, _ signal: Int32, marker: URL) -> Bool {
        var deadline = Date().addingTimeInterval(30)
        while ((try? Data(contentsOf: marker))?.count ?? 0) == 0 && process.isRunning && Date() < deadline { usleep(20_000) }
        kill(process.processIdentifier, signal)
        deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            return false
        }
        return true
    }

    @Test(arguments: [(SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")])
    func aStopSignalSavesAndExits130AndTheRunResumesWithTheSameBits(_ signal: Int32, _ name: String) throws {
        let dir = try CLI.directory()
        let (process, _, errURL) = try CLI.start(Self.settings + ["--steps", "100000", "--name", "stopped", "--log", "run.jsonl"], in: dir)
        try #require(signalWhenStarted(process, signal, marker: dir.appendingPathComponent("run.jsonl")), "\(name) did not stop the run within 20 s")
        let stderr = try String(contentsOf: errURL, encoding: .utf8)
        #expect(process.terminationStatus == 130, "\(stderr)")
        #expect(stderr.contains("\(name): stopping after this step and saving"), "\(stderr)")
        #expect(stderr.contains("by \(name); checkpoint saved. Continue with: recurrent train --resume"), "\(stderr)")
        let c = dir.appendingPathComponent("checkpoints")
        let model = try SafeTensorsFile(contentsOf: c.appendingPathComponent("stopped.safetensors"))
        let state = try SafeTensorsFile(contentsOf: c.appendingPathComponent("stopped.state.safetensors"))
        let step = try #require(model.metadata["step"].flatMap(Int.init))
        #expect(state.metadata["step"] == String(step), "a graceful stop leaves a matching pair")
        let total = String(step + 5)
        let resumed = try CLI.run(["train", "--resume", "checkpoints/stopped.safetensors", "--steps", total], in: dir)
        #expect(resumed.status == 0 && resumed.stdout.contains("resuming at step \(step)"), "\(resumed.output)")
        let straight = try CLI.run(Self.settings + ["--steps", total, "--name", "straight"], in: dir)
        #expect(straight.status == 0, "\(straight.output)")
        #expect(try CLI.sameTensors(c.appendingPathComponent("stopped.safetensors"), c.appendingPathComponent("straight.safetensors")))
        #expect(try CLI.sameTensors(c.appendingPathComponent("stopped.state.safetensors"), c.appendingPathComponent("straight.state.safetensors")))
    }

    @Test func aResumeAfterASaveCutShortSaysSoRepairsAndLogsEachStepOnce() throws {
        let dir = try CLI.directory()
        let c = dir.appendingPathComponent("checkpoints")
        let args = Self.settings + ["--name", "run", "--checkpoint-every", "5", "--log", "run.jsonl"]
        #expect(try CLI.run(args + ["--steps", "10"], in: dir).status == 0)
        let behind = try Data(contentsOf: c.appendingPathComponent("run.safetensors"))
        #expect(try CLI.run(["train", "--resume", "checkpoints/run.safetensors", "--steps", "20", "--log", "run.jsonl"], in: dir).status == 0)
        // A kill in the save of step 20, after the training state was renamed into place,
        // with steps 21-22 logged before the kill.
        try behind.write(to: c.appendingPathComponent("run.safetensors"))
        try Data("cut".utf8).write(to: c.appendingPathComponent(".run.safetensors.tmp-5eed"))
        let log = try FileHandle(forWritingTo: dir.appendingPathComponent("run.jsonl"))
        try log.seekToEnd()
        try log.write(contentsOf: Data(#"{"kind":"step","step":21}"#.utf8 + [0x0A] + #"{"kind":"step","step":22}"#.utf8 + [0x0A]))
        try log.close()

        let eval = try CLI.run(["eval", "--checkpoint", "checkpoints/run.safetensors"], in: dir)
        #expect(eval.status == 0 && eval.stdout.contains("step 10 on adding"), "the model file one save behind still loads: \(eval.output)")
        let resumed = try CLI.run(["train", "--resume", "checkpoints/run.safetensors", "--steps", "30", "--log", "run.jsonl"], in: dir)
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(resumed.stderr.contains("note: removed 1 temporary file of a save cut short"), "\(resumed.stderr)")
        #expect(resumed.stderr.contains("run.safetensors was at step 10 but its training state is at step 20"), "\(resumed.stderr)")
        #expect(resumed.stdout.contains("resuming at step 20"), "\(resumed.stdout)")
        let straight = try CLI.run(Self.settings + ["--name", "straight", "--steps", "30"], in: dir)
        #expect(straight.status == 0)
        #expect(try CLI.sameTensors(c.appendingPathComponent("run.safetensors"), c.appendingPathComponent("straight.safetensors")))
        let records = try String(contentsOf: dir.appendingPathComponent("run.jsonl"), encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(records.filter { $0["kind"] as? String == "step" }.compactMap { $0["step"] as? Int } == Array(1...30), "each step logged once")
        #expect(records.filter { $0["kind"] as? String == "evaluation" }.compactMap { $0["step"] as? Int } == [10, 20, 30])
        #expect(try !FileManager.default.contentsOfDirectory(atPath: c.path).contains { $0.contains(".tmp-") })
    }

    @Test func sigtermStopsACompareWhichTheSameCommandResumes() throws {
        let dir = try CLI.directory()
        let args = ["compare", "--task", "adding", "--length", "4", "--models", "irnn,lstm", "--steps", "1000000", "--hidden", "4",
                    "--batch", "4", "--eval-every", "1000000", "--checkpoint-every", "50", "--report", "out"]
        let (process, _, errURL) = try CLI.start(args, in: dir)
        try #require(signalWhenStarted(process, SIGTERM, marker: dir.appendingPathComponent("out/runs/irnn-seed1/checkpoint.state.safetensors")),
                     "SIGTERM did not stop compare within 20 s")
        let stderr = try String(contentsOf: errURL, encoding: .utf8)
        #expect(process.terminationStatus == 130, "\(stderr)")
        #expect(stderr.contains("SIGTERM: stopping after this step") && stderr.contains("interrupted by SIGTERM"), "\(stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/report.md").path), "what it has is written")
        let state = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("out/runs/irnn-seed1/checkpoint.state.safetensors"))
        let step = try #require(state.metadata["step"].flatMap(Int.init))
        // Resume it with a total just past the stop, so the second run is short.
        var shorter = args
        shorter[shorter.firstIndex(of: "1000000")! ] = String(step + 3)
        let resumed = try CLI.run(shorter, in: dir)
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(resumed.stderr.contains("irnn seed 1: resuming at step \(step)"), "\(resumed.stderr)")
    }
}
