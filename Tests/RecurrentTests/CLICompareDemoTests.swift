import Foundation
import Testing
@testable import Recurrent

/// `recurrent compare` and `recurrent demo` end to end through the built binary, on
/// tiny settings (the real demo takes minutes in a release build).
@Suite("CLI: compare and demo")
struct CLICompareDemoTests {
    @Test func compareWritesTheReportAndResumesFinishedRuns() throws {
        let dir = try CLI.directory()
        let args = ["compare", "--task", "adding", "--length", "5", "--models", "irnn,rnn-tanh:lr=0.01", "--steps", "20",
                    "--hidden", "6", "--batch", "8", "--eval-every", "10", "--report", "out"]
        let first = try CLI.run(args, in: dir)
        #expect(first.status == 0, "\(first.output)")
        for file in ["report.md", "report.html", "learning-curves.svg", "runs.jsonl"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/\(file)").path), "\(file) missing")
        }
        let second = try CLI.run(args, in: dir)
        #expect(second.status == 0)
        #expect(second.stderr.components(separatedBy: "already finished").count == 3, "both runs are reused: \(second.stderr)")
    }

    @Test func progressNamesTheSplitOfEachEvaluation() throws {
        let dir = try CLI.directory()
        try MNISTTests.writeFakeMNIST(in: dir.path, labels: (0..<20).map { UInt8($0 % 10) }, imageCount: 20)
        let r = try CLI.run(["compare", "--task", "rowmnist", "--data", ".", "--val-fraction", "0.25", "--models", "irnn",
                             "--steps", "2", "--hidden", "4", "--batch", "4", "--eval-every", "2", "--report", "out"], in: dir)
        #expect(r.status == 0, "\(r.output)")
        // The first evaluation printed is the validation split's; it used to be called "test".
        #expect(r.stderr.contains("step 2: val accuracy"), "\(r.stderr)")
    }

    @Test(arguments: [["--models", "irnn,transformer"], ["--task", "chess"], ["--steps", "0"], ["--models", "irnn:speed=3"]])
    func compareRejectsBadOptions(_ bad: [String]) throws {
        let r = try CLI.run(["compare", "--report", "out"] + bad, in: try CLI.directory())
        #expect(r.status != 0)
        // The library's message ("Accepted: ...") or the option parser's ("Please provide one of ...") lists the names.
        #expect(r.stderr.contains("Accepted") || r.stderr.contains("at least") || r.stderr.contains("Please provide one of"), "\(r.stderr)")
    }

    @Test func demoRunsAndItsSummaryFollowsTheMeasurements() throws {
        let dir = try CLI.directory()
        let r = try CLI.run(["demo", "--length", "4", "--steps", "30", "--hidden", "6", "--diagnose-hidden", "8", "--diagnose-length", "20", "--report", "demo"], in: dir)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stdout.contains("== 1.") && r.stdout.contains("== 2.") && r.stdout.contains("== 3."))
        #expect(r.stdout.contains("relu, identity") || r.stdout.contains("relu/"), "the diagnosis table is printed")
        let results = try String(contentsOf: dir.appendingPathComponent("demo/compare/runs.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONDecoder().decode(RunResult.self, from: Data($0.utf8)) }
        #expect(results.count == 4)
        for result in results {
            // Every model's line in the summary agrees with what was measured.
            if let step = result.targetStep { #expect(r.stdout.contains("at step \(step)")) }
            else { #expect(r.stdout.contains("after \(result.steps) steps") || result.diverged) }
        }
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("demo/diagnose.svg").path))
    }
}
