import Foundation
import Testing

@testable import Recurrent

// MARK: - IDX reader

@Suite("IDX files")
struct IDXTests {
    static let arrays: [NDArray] = {
        let cases: [([Int], NDArray.Elements)] = [
            ([2, 3, 4], .uint8((0..<24).map { UInt8($0 * 10) })),
            ([5], .int8([-128, -1, 0, 1, 127])),
            ([2, 2], .int16([-32768, -2, 300, 32767])),
            ([3], .int32([Int32.min, 0, 123_456_789])),
            ([2, 1], .float32([1.5, -0.25])),
            ([1, 1, 2], .float64([.pi, -1e-300])),
            ([0, 28, 28], .uint8([])),
        ]
        return cases.map { try! NDArray(shape: $0.0, elements: $0.1) }  // constant test data
    }()

    @Test(arguments: arrays)
    func rawRoundTrip(array: NDArray) throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let path = directory + "/array-idx"
        try IDX.write(array, to: path)
        #expect(try IDX.read(path: path) == array)
    }

    @Test(.enabled(if: gzipPath != nil), arguments: arrays)
    func gzipRoundTrip(array: NDArray) throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let path = directory + "/array-idx"
        try IDX.write(array, to: path)
        #expect(try IDX.read(path: gzipFile(path, level: 9)) == array)
    }

    @Test func headerLayoutIsBigEndian() throws {
        let array = try! NDArray(shape: [1, 2], elements: .int16([0x0102, -1]))
        #expect(try IDX.encode(array) == [0, 0, 0x0B, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0x01, 0x02, 0xFF, 0xFF])
    }

    @Test(arguments: [0, 1, 3, 4, 7, 11, 12, 15, 99])
    func truncatedFilesNamePathAndSizes(length: Int) throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let full = try IDX.encode(Self.arrays[0])  // 12-byte header + 24 bytes
        let path = directory + "/truncated-idx3-ubyte"
        try writeBytes(Array(full[..<min(length, full.count - 1)]), to: path)
        let error = expectDataError { () throws(DataError) in _ = try IDX.read(path: path) }
        #expect(error?.kind == .truncated)
        #expect(error?.path == path)
        #expect(error?.what.contains("expected") == true)
        #expect(error?.what.contains("found \(min(length, full.count - 1))") == true)
        if length == 99 { #expect(error?.what.contains("expected \(full.count) bytes") == true) }
    }

    @Test func malformedHeaders() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let path = directory + "/bad"
        func errorFor(_ bytes: [UInt8]) throws -> DataError? {
            try writeBytes(bytes, to: path)
            return expectDataError { () throws(DataError) in _ = try IDX.read(path: path) }
        }
        let magic = try errorFor([0x01, 0x00, 0x08, 1, 0, 0, 0, 1, 7])
        #expect(magic?.kind == .badMagic)
        #expect(magic?.path == path)
        #expect(magic?.byteOffset == 0)

        let type = try errorFor([0, 0, 0x0A, 1, 0, 0, 0, 1, 7])
        #expect(type?.kind == .unsupported)
        #expect(type?.byteOffset == 2)

        let overflow = try errorFor([0, 0, 0x0E, 3] + [UInt8](repeating: 0xFF, count: 12))
        #expect(overflow?.kind == .malformed)
        #expect(overflow?.what.contains("multiply") == true)

        // A header announcing 2^31 · 16 bytes in a tiny file: truncated, with the expected size.
        let absurd = try errorFor([0, 0, 0x08, 2, 0x80, 0, 0, 0, 0, 0, 0, 16, 1, 2, 3])
        #expect(absurd?.kind == .truncated)
        #expect(absurd?.what.contains("\(12 + (1 << 31) * 16)") == true)

        let trailing = try errorFor(try IDX.encode(Self.arrays[1]) + [0])
        #expect(trailing?.kind == .malformed)
        #expect(try trailing?.byteOffset == IDX.encode(Self.arrays[1]).count)

        let missing = expectDataError { () throws(DataError) in _ = try IDX.read(path: directory + "/nope") }
        #expect(missing?.kind == .fileNotFound)
    }

    @Test(.enabled(if: gzipPath != nil))
    func corruptedGzipIDX() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let path = directory + "/images-idx3-ubyte"
        try IDX.write(Self.arrays[0], to: path)
        let gz = try gzipFile(path)
        var bytes = try readBytes(gz)
        bytes[bytes.count - 6] ^= 0x10  // inside the CRC32 field
        try writeBytes(bytes, to: gz)
        let error = expectDataError { () throws(DataError) in _ = try IDX.read(path: gz) }
        #expect(error?.kind == .corrupt)
        #expect(error?.path == gz)
        #expect(error?.description.contains(gz) == true)
    }
}
