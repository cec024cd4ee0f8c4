import Foundation
import Testing

// MARK: - `recurrent diagnose` end to end: the built binary on tiny settings

/// The `recurrent` executable built beside the test bundle (`swift build` / `swift test` put
/// every product in the same folder), or nil.
func builtExecutable(_ name: String = "recurrent") -> URL? {
    var candidates = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(),
                      URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        candidates.append(bundle.bundleURL.deletingLastPathComponent())
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    candidates.append(root.appendingPathComponent(".build/debug"))
    return candidates.map { $0.appendingPathComponent(name) }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
}

struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

func runProcess(_ url: URL, _ arguments: [String]) throws -> ProcessResult {
    let process = Process()
    process.executableURL = url
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

@Suite("recurrent diagnose (end to end)", .serialized)
struct DiagnosticsCLITests {
    static let tiny = ["diagnose", "--hidden", "4", "--length", "8", "--batch", "2", "--feedforward-seeds", "2"]

    @Test func defaultPairsPrintTheTablesAndTheVerdict() throws {
        let exe = try #require(builtExecutable(), "build the `recurrent` product first (swift build)")
        let r = try runProcess(exe, Self.tiny)
        #expect(r.status == 0, "\(r.stderr)")
        for part in ["[1] Forward", "[2] Backward", "[3] Spectrum", "[4] CNN contrast", "Verdict", "relu", "tanh", "identity", "gaussian:0.3"] {
            #expect(r.stdout.contains(part), "\(part)")
        }
    }

    @Test func jsonCsvAndPlotAreWritten() throws {
        let exe = try #require(builtExecutable(), "build the `recurrent` product first (swift build)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-cli-\(UInt64.random(in: 0...UInt64.max))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let svg = dir.appendingPathComponent("d.svg").path
        let r = try runProcess(exe, Self.tiny + ["--activation", "relu", "--recurrent-init", "gaussian:1", "--recurrent-init", "orthogonal",
                                                 "--json", "--csv", dir.path, "--plot", svg])
        #expect(r.status == 0, "\(r.stderr)")
        let root = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let runs = root?["runs"] as? [[String: Any]]
        #expect(runs?.map { $0["recurrentInit"] as? String } == ["gaussian:1.0", "orthogonal"])
        #expect(FileManager.default.fileExists(atPath: svg))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("series.csv").path))
    }

    static let badOptions: [(arguments: [String], message: String)] = [
        (["--activation", "relux"], "Accepted"),
        (["--recurrent-init", "gaussian"], "Accepted forms"),
        (["--recurrent-init", "gaussian:abc"], "Accepted forms"),
        (["--input-init", "wild"], "Accepted forms"),
        (["--length", "1"], "--length"),
        (["--hidden", "0"], "--hidden"),
        (["--jacobian-sequences", "5"], "--jacobian-sequences"),
        (["--plot", "out.png"], ".svg"),
        (["--checkpoint", "/nonexistent/model.safetensors"], "no file"),
        (["--checkpoint", "/dev/null", "--activation", "relu,tanh"], "--activation (more than one)"),
        (["--no-such-option"], "no-such-option"),
    ]

    @Test(arguments: 0..<badOptions.count)
    func badOptionsAreClearErrors(_ k: Int) throws {
        let exe = try #require(builtExecutable(), "build the `recurrent` product first (swift build)")
        let bad = Self.badOptions[k]
        // No --hidden here: it clashes with --checkpoint on its own.
        let r = try runProcess(exe, ["diagnose", "--length", "8", "--batch", "2"] + bad.arguments)
        #expect(r.status != 0, "\(bad.arguments) should fail")
        #expect(r.stderr.contains(bad.message), "\(bad.arguments): \(r.stderr)")
    }
}
