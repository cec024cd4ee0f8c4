import Foundation
import Testing
@testable import Recurrent

/// Runs the built `recurrent` binary, end to end (the CLI tests never call its code directly).
enum CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var output: String { stdout + stderr }
    }

    /// The binary beside the test bundle (same build folder), or `.build/debug/recurrent`
    /// of this package; `RECURRENT_BINARY` overrides both.
    static func binary() throws -> URL {
        var candidates: [URL] = []
        if let path = ProcessInfo.processInfo.environment["RECURRENT_BINARY"] { candidates.append(URL(fileURLWithPath: path)) }
        var directory = Bundle.main.bundleURL
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("recurrent"))
            directory.deleteLastPathComponent()
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/recurrent"))
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) { return found }
        throw CLIBinaryMissing(tried: candidates.map(\.path))
    }

    struct CLIBinaryMissing: Error, CustomStringConvertible {
        var tried: [String]
        var description: String {
            "the recurrent binary was not found (tried \(tried.joined(separator: ", "))): run `swift build` before `swift test`, or set RECURRENT_BINARY"
        }
    }

    /// Starts `recurrent ARGS` in `directory` with stdout and stderr going to files.
    static func start(_ arguments: [String], in directory: URL, environment: [String: String]? = nil) throws -> (Process, stdout: URL, stderr: URL) {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
        process.currentDirectoryURL = directory
        let id = UInt32.random(in: 0...UInt32.max)
        let out = directory.appendingPathComponent(".stdout-\(id)"), err = directory.appendingPathComponent(".stderr-\(id)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        return (process, out, err)
    }

    /// Runs `recurrent ARGS` to completion.
    @discardableResult
    static func run(_ arguments: [String], in directory: URL, environment: [String: String]? = nil) throws -> Result {
        let (process, out, err) = try start(arguments, in: directory, environment: environment)
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
                      stderr: try String(contentsOf: err, encoding: .utf8))
    }

    /// A fresh scratch directory.
    static func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-cli-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The one JSON object `--json` prints.
    static func json(_ r: Result) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
        return try #require(object as? [String: Any], "stdout is not one JSON object: \(r.stdout)")
    }

    /// Tiny adding-problem settings: fast in a debug build.
    static let tinyAdding = ["train", "--task", "adding", "--length", "5", "--hidden", "6", "--batch", "8", "--limit", "50", "--log-every", "5"]

    /// Every tensor of two safetensors files, bit for bit.
    static func sameTensors(_ a: URL, _ b: URL) throws -> Bool {
        let x = try SafeTensorsFile(contentsOf: a), y = try SafeTensorsFile(contentsOf: b)
        return x.tensors == y.tensors
    }
}
