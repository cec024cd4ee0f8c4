import Foundation
import Testing
@testable import Recurrent

/// `scripts/longrun.sh`, the one command that starts or resumes a long run: a run killed with
/// SIGKILL (the training process and the script) is continued by `longrun.sh run DIR` and ends with
/// the same bits as a run that was never stopped, its log holding each step once.
/// The script runs the freshly built binary (RECURRENT_LONGRUN_BINARY) instead of building the
/// run's commit.
@Suite(.serialized) struct LongRunScriptTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/longrun.sh")

    static let options = ["--task", "adding", "--length", "8", "--hidden", "6", "--batch", "8", "--limit", "20",
                          "--steps", "3000", "--checkpoint-every", "7", "--log-every", "5", "--seed", "3"]

    static func start(_ arguments: [String], in directory: URL) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [script.path] + arguments
        p.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["RECURRENT_LONGRUN_BINARY"] = try CLI.binary().path
        environment["NICE"] = "0"
        p.environment = environment
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    static func steps(inLog url: URL) throws -> [Int] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").compactMap { line in
            guard line.contains("\"kind\":\"step\"") else { return nil }
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["step"] as? Int
        }
    }

    @Test func aKilledRunIsContinuedByTheSameCommandWithTheSameBits() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let straight = try Self.start(["new", "straight"] + Self.options, in: dir)
        straight.waitUntilExit()
        #expect(straight.terminationStatus == 0)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("straight/DONE").path))

        let run = dir.appendingPathComponent("killed")
        let first = try Self.start(["new", "killed"] + Self.options, in: dir)
        let log = run.appendingPathComponent("log.jsonl")
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {   // wait for a few saves, then kill both processes at once
            if let n = try? Self.steps(inLog: log).count, n >= 40 { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        let trainer = try String(contentsOf: run.appendingPathComponent(".pid"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        kill(pid_t(trainer)!, SIGKILL)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent("DONE").path), "the run finished before the kill")

        let again = try Self.start(["run", "killed"], in: dir)
        again.waitUntilExit()
        #expect(again.terminationStatus == 0)
        #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("DONE").path))
        #expect(try CLI.sameTensors(run.appendingPathComponent("model.safetensors"),
                                    dir.appendingPathComponent("straight/model.safetensors")))
        let steps = try Self.steps(inLog: log)
        #expect(steps == Array(stride(from: 5, through: 3000, by: 5)), "each logged step once, in order")
        let console = try String(contentsOf: run.appendingPathComponent("train.log"), encoding: .utf8)
        #expect(console.contains("resuming at step"), "\(console)")

        // Finished: the same command does nothing more.
        let done = try Self.start(["run", "killed"], in: dir)
        done.waitUntilExit()
        #expect(done.terminationStatus == 0)
    }
}
