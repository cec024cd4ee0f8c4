import Foundation
import Testing

@testable import Recurrent

// MARK: - Helpers shared by the data tests

/// A fresh temporary directory for one test (tests run in parallel).
func makeTemporaryDirectory(_ label: String = #function) throws -> String {
    let name = "recurrent-data-\(label.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString)"
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
}

func removeDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

func writeBytes(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// The system gzip binary (tests that need it are skipped if it is missing).
let gzipPath = ["/bin/gzip", "/usr/bin/gzip"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// Runs `gzip -k -f -<level> [extra] path` and returns the path of the `.gz` file.
@discardableResult
func gzipFile(_ path: String, level: Int = 6, extra: [String] = []) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: gzipPath ?? "/bin/gzip")
    process.arguments = ["-k", "-f", "-\(level)"] + extra + [path]
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "gzip failed on \(path)")
    return path + ".gz"
}

/// Directory of the committed fixtures (Tests/RecurrentTests/Fixtures, copied as a resource).
func fixturePath(_ name: String) throws -> String {
    let directory = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    return directory.appendingPathComponent(name).path
}

/// Evaluates `body`, which must throw a `DataError`, and returns it.
func expectDataError(
    _ body: () throws(DataError) -> Void, sourceLocation: SourceLocation = #_sourceLocation
) -> DataError? {
    do {
        try body()
        Issue.record("expected a DataError, nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// Deterministic pseudo-random bytes.
func pseudoRandomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next() >> 56) }
}
