import Foundation
import Testing
@testable import Recurrent

@Suite("Comparisons and their reports")
struct ComparisonTests {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-cmp-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func settings() throws -> ComparisonSettings {
        var s = ComparisonSettings(task: TaskSpec(name: .adding, length: 6),
                                   models: [try ModelSpec(parsing: "irnn"), try ModelSpec(parsing: "lstm:hidden=4")], steps: 40, seeds: 2)
        s.hidden = 8
        s.batchSize = 8
        s.evaluateEvery = 10
        s.learningRate = 0.01
        return s
    }

    @Test func writesEveryReportFileWithOneRunPerModelAndSeed() throws {
        let dir = try temporaryDirectory()
        let s = try settings()
        let results = try Comparison(settings: s, directory: dir).run()
        #expect(results.count == 4)
        #expect(Set(results.map(\.model)) == ["irnn", "lstm:hidden=4"])
        for r in results {
            #expect(r.steps == 40 && r.curve.count == 4 && r.curve.last?.step == 40)
            #expect(r.finalMetric != nil && !r.diverged)
        }
        #expect(results.first { $0.model == "irnn" }?.initialSpectralRadius.map { abs($0 - 1) < 1e-9 } == true, "IRNN starts at W = I")
        try ComparisonReport.write(results, settings: s, baseline: (1.0 / 6, "predict 1"), to: dir, machine: "test", command: "test")
        for file in ["report.md", "report.html", "learning-curves.svg", "spectra.svg", "runs.jsonl"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path), "\(file) missing")
        }
        let md = try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(md.contains("| irnn |") && md.contains("Le, Jaitly & Hinton (2015)") && md.contains("0.1667"))
        let html = try String(contentsOf: dir.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("<table>") && !html.contains("<script"))
        // Several SVGs inline in one page: their ids (clip paths) must not collide.
        let ids = html.components(separatedBy: " id=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
        #expect(!ids.isEmpty && Set(ids).count == ids.count, "duplicate SVG ids in report.html")
        let lines = try String(contentsOf: dir.appendingPathComponent("runs.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)
        for line in lines { _ = try JSONDecoder().decode(RunResult.self, from: Data(line.utf8)) }
    }

    @Test func anInterruptedComparisonResumesWhereItStopped() throws {
        let dir = try temporaryDirectory()
        let s = try settings()
        let straight = try Comparison(settings: s, directory: try temporaryDirectory()).run()
        var polls = 0
        let partial = try Comparison(settings: s, directory: dir).run(shouldStop: {
            polls += 1
            return polls == 60        // mid-way through the second run
        })
        #expect(partial.count == 1)
        // The report of the interrupted comparison says what is unfinished (no zeros posing as results).
        try ComparisonReport.write(partial, settings: s, baseline: nil, to: dir, machine: "test", command: "test")
        let md = try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(md.contains("| lstm:hidden=4 | – | not finished"), "\(md)")
        var skipped = 0, resumedAt: Int?
        let resumed = try Comparison(settings: s, directory: dir).run(observer: { event in
            if case .runSkipped = event { skipped += 1 }
            if case .runStarted(_, _, let at?) = event { resumedAt = at }
        })
        #expect(skipped == 1)
        #expect(resumedAt != nil && resumedAt! > 0 && resumedAt! < 40)
        #expect(resumed.count == 4)
        // Same finals as the uninterrupted comparison: resume is exact.
        #expect(resumed.map(\.finalMetric) == straight.map(\.finalMetric))
    }

    @Test(arguments: ["irnn:lr=1e-4", "rnn-relu-gaussian:recurrent-init=gaussian:0.01", "lstm:hidden=128:forget-bias=1"])
    func modelSpecsRoundTrip(_ text: String) throws {
        let spec = try ModelSpec(parsing: text)
        #expect(try ModelSpec(parsing: spec.description) == spec)
    }

    @Test func recurrentInitOverrideKeepsItsColon() throws {
        let spec = try ModelSpec(parsing: "rnn-relu-gaussian:recurrent-init=gaussian:0.01:lr=0.1")
        #expect(spec.overrides == ["recurrent-init": "gaussian:0.01", "lr": "0.1"])
    }

    @Test(arguments: ["transformer", "irnn:speed=9", "irnn:lr"])
    func badModelSpecsAreErrors(_ text: String) {
        #expect(throws: ConfigurationError.self) { try ModelSpec(parsing: text) }
    }
}
