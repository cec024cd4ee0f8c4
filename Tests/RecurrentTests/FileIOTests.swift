import Foundation
import Testing
@testable import Recurrent

/// The one file reader and writer (`FileIO`): reads with a limit, atomic writes, and the
/// messages a user sees when either fails.
@Suite struct FileIOTests {
    @Test func writesAtomicallyAndReadsBack() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let path = directory + "/a.bin"
        try FileIO.write([1, 2, 3], to: path)
        try FileIO.write([4, 5], to: path)
        #expect(try FileIO.read(path, limit: 10, what: "test files", fix: "none") == [4, 5])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["a.bin"])   // no temporary left
    }

    @Test func failuresNameThePathAndTheReason() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let write = expectDataError { () throws(DataError) in try FileIO.write([1], to: directory + "/missing/a.bin") }
        #expect(write?.kind == .io && write?.path == directory + "/missing/a.bin")
        #expect(write?.what == "cannot write file (No such file or directory)", "\(String(describing: write))")
        let missing = expectDataError { () throws(DataError) in _ = try FileIO.read(directory + "/none", limit: 10, what: "x", fix: "y") }
        #expect(missing?.kind == .fileNotFound)
        let folder = expectDataError { () throws(DataError) in _ = try FileIO.read(directory, limit: 10, what: "x", fix: "y") }
        #expect(folder?.what == "path is a directory, expected a file")
        try FileIO.write([UInt8](repeating: 7, count: 11), to: directory + "/big")
        let big = expectDataError { () throws(DataError) in _ = try FileIO.read(directory + "/big", limit: 10, what: "test files", fix: "cut it") }
        #expect(big?.kind == .tooLarge && big?.what.contains("test files are read whole into memory and may hold at most 10 bytes") == true)
    }
}
