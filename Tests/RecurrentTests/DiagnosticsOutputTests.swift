import Foundation
import Testing
@testable import Recurrent

// MARK: - The diagnosis as JSON, CSV, SVG, report, and from checkpoints

@Suite("Diagnostics: outputs and checkpoints")
struct DiagnosticsOutputTests {
    /// relu and tanh x identity and a Gaussian that overflows quickly, on a tiny setting.
    static func tinyDiagnosis() throws -> Diagnosis {
        let settings = [Activation.relu, .tanh].flatMap { f in
            [Initializer.identity(scale: 1), .gaussian(std: 4)].map { w in
                DiagnosisSetting(activation: f, recurrentInit: w, inputInit: .gaussian(std: 1), hiddenSize: 8, inputSize: 2,
                                 length: 60, batch: 3, seed: 1, jacobianSequences: 2)
            }
        }
        return try Diagnosis(settings: settings, feedforwardSeeds: 2)
    }

    /// The keys of the `--json` contract (issue 3).
    static let runKeys = ["activation", "recurrentInit", "hidden", "length", "spectralRadius", "singularValueMax",
                          "singularValueMin", "eigenvalues", "steps", "stateNorm", "netNorm", "activeFraction",
                          "jacobianNorm", "gradientNorm", "overflowStep", "underflowStep"]

    @Test func jsonHasTheContractKeysAndParses() throws {
        let d = try Self.tinyDiagnosis()
        let data = Data(d.json.text.utf8)
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let runs = try #require(root["runs"] as? [[String: Any]])
        #expect(runs.count == 4)
        for run in runs {
            for key in Self.runKeys { #expect(run[key] != nil, "missing key \(key)") }
            #expect((run["steps"] as? [Int]) == Array(1...60))
            for key in ["stateNorm", "netNorm", "activeFraction", "jacobianNorm", "gradientNorm"] {
                #expect((run[key] as? [Any])?.count == 60, "\(key)")
            }
            let eigen = try #require(run["eigenvalues"] as? [[Any]])
            #expect(eigen.count == 8 && eigen.allSatisfy { $0.count == 2 })
            #expect(run["hidden"] as? Int == 8 && run["length"] as? Int == 60)
        }
        // relu with a Gaussian of std 3 overflows Float32: an int step, and nulls in the series.
        let exploding = try #require(runs.first { ($0["activation"] as? String) == "relu" && ($0["recurrentInit"] as? String) == "gaussian:4.0" })
        #expect(exploding["overflowStep"] is Int)
        #expect((exploding["netNorm"] as? [Any])?.contains { $0 is NSNull } == true)
        let identity = try #require(runs.first { ($0["recurrentInit"] as? String) == "identity" })
        #expect(identity["overflowStep"] is NSNull)
        let ff = try #require(root["feedforward"] as? [String: Any])
        for key in ["layers", "shared", "independent"] { #expect((ff[key] as? [Any])?.count == 60, "\(key)") }
        #expect(ff["recurrentInit"] as? String == "gaussian:4.0")
        #expect((root["feedforwardByInit"] as? [Any])?.count == 2)
    }

    @Test func jsonEscapesAndWritesNonFiniteAsNull() throws {
        let value = DiagnosisJSONValue.object([("a\"b", .array([.num(.infinity), .num(.nan), .num(1.5), .num(2), .num(1e-300)])),
                                               ("s", .string("x\ny\t\u{1}"))])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(value.text.utf8)) as? [String: Any])
        let a = try #require(parsed["a\"b"] as? [Any])
        #expect(a[0] is NSNull && a[1] is NSNull)
        #expect((a[2] as? Double) == 1.5 && (a[3] as? Double) == 2 && (a[4] as? Double) == 1e-300)
        #expect(parsed["s"] as? String == "x\ny\t\u{1}")
    }

    @Test func reportTableAndVerdictNameEveryRun() throws {
        let d = try Self.tinyDiagnosis()
        let text = d.report
        for part in ["[1] Forward", "[2] Backward", "[3] Spectrum", "[4] CNN contrast", "Verdict", "gaussian:4.0", "identity"] {
            #expect(text.contains(part), "\(part)")
        }
        #expect(d.verdict.count >= 4)
        #expect(d.runs.first { $0.activation == .relu && $0.recurrentInit == "gaussian:4.0" }?.verdict.contains("Float32 overflow at t = ") == true)
        #expect(d.tableSteps == [1, 3, 15, 30, 45, 60])
    }

    @Test func csvFilesHaveHeadersAndOneRowPerStep() throws {
        let d = try Self.tinyDiagnosis()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-diag-\(UInt64.random(in: 0...UInt64.max))")
        let urls = try d.writeCSV(to: dir)
        #expect(urls.map(\.lastPathComponent) == ["eigenvalues.csv", "feedforward.csv", "series.csv", "summary.csv"])
        let series = try String(contentsOf: dir.appendingPathComponent("series.csv"), encoding: .utf8).split(separator: "\n")
        #expect(series.count == 1 + 4 * 60)
        #expect(series[0].hasPrefix("activation,recurrent_init,t,state_norm_mean"))
        let eigen = try String(contentsOf: dir.appendingPathComponent("eigenvalues.csv"), encoding: .utf8).split(separator: "\n")
        #expect(eigen.count == 1 + 4 * 8)
        try? FileManager.default.removeItem(at: dir)
    }

    @Test func figureIsWellFormedSVGWithSixPanels() throws {
        let d = try Self.tinyDiagnosis()
        let svg = d.figure.svg()
        let elements = try #require(parseSVG(svg))
        let texts = elements.texts.joined(separator: "|")
        for title in ["[1] ||h_t||", "[2] ||d net_t / d net_1||_2", "[3] eigenvalues of W", "[4] one W reused"] {
            #expect(texts.contains(title), "\(title)")
        }
        #expect(d.figure.panels.count == 6)
        #expect(d.figure.panels[4].unitCircle)
    }

    // MARK: - Checkpoints

    func save<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>, _ config: ModelConfiguration) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-diag-\(UInt64.random(in: 0...UInt64.max)).safetensors")
        try Checkpoint.save(model, to: url, configuration: config)
        return url
    }

    @Test func rnnCheckpointIsDiagnosedWithItsOwnWeights() throws {
        let config = try ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 6, outputs: 1)
        let model = try makeModel(RNNCell<Float>.self, config, seed: 2)
        let url = try save(model, config)
        defer { try? FileManager.default.removeItem(at: url) }
        let d = try Diagnosis(checkpoint: url, length: 12, batch: 2, seed: 1)
        #expect(d.runs.count == 1 && d.feedforward.isEmpty)
        #expect(d.runs[0].activation == .relu)
        #expect(isClose(d.runs[0].spectrum.spectralRadius, 1, rtol: 1e-12))
        #expect(d.runs[0].recurrentInit.hasPrefix("checkpoint:"))
        #expect(d.report.contains("Verdict"))
    }

    @Test func indrnnCheckpointIsDiagnosedAsDiagonalW() throws {
        var config = try ModelConfiguration.preset("indrnn", inputSize: 2, hiddenSize: 4, outputs: 1)
        config.recurrentInit = .constant(0.5)
        let model = try makeModel(IndRNNCell<Float>.self, config, seed: 2)
        let url = try save(model, config)
        defer { try? FileManager.default.removeItem(at: url) }
        let d = try Diagnosis(checkpoint: url, length: 10, batch: 2, seed: 1)
        #expect(isClose(d.runs[0].spectrum.spectralRadius, 0.5, rtol: 1e-7))
        #expect(d.notes.contains { $0.contains("diag(u)") })
    }

    @Test(arguments: ["lstm", "gru"])
    func gatedCheckpointReportsGateSpectraOnly(_ preset: String) throws {
        let config = try ModelConfiguration.preset(preset, inputSize: 2, hiddenSize: 4, outputs: 1)
        var rng = SeededGenerator(seed: 3)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-diag-\(UInt64.random(in: 0...UInt64.max)).safetensors")
        try Checkpoint.save(try AnyRecurrentModel(config, using: &rng), to: url, configuration: config)
        defer { try? FileManager.default.removeItem(at: url) }
        let d = try Diagnosis(checkpoint: url, length: 10, batch: 2, seed: 1)
        #expect(d.runs.isEmpty)
        #expect(d.gateSpectra.map(\.gate) == (preset == "lstm" ? ["i", "f", "g", "o"] : ["r", "z", "n"]))
        #expect(d.notes.contains { $0.contains("not diagnosed") })
        let root = try JSONSerialization.jsonObject(with: Data(d.json.text.utf8)) as? [String: Any]
        #expect((root?["gateSpectra"] as? [Any])?.count == d.gateSpectra.count)
        #expect(d.report.contains("gate block"))
        #expect(d.figure.panels.count == 1)
    }
}
