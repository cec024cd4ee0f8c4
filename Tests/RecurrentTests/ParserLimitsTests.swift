import Foundation
import Testing
@testable import Recurrent

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Helpers

/// The bytes of a file of `Fixtures/regressions/<target>/`.
private func regression(_ target: String, _ name: String) throws -> [UInt8] {
    try readBytes(fixturePath("regressions/\(target)/\(name)"))
}

/// A one-member gzip file holding `content` in one stored DEFLATE block (no compression).
private func storedGzip(_ content: [UInt8]) -> [UInt8] {
    precondition(content.count <= 0xFFFF)
    let length = UInt16(content.count)
    var bytes: [UInt8] = [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 0xFF]
    bytes += [0x01, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
    bytes += content
    for word in [CRC32.checksum(content), UInt32(content.count)] {
        bytes += (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) }
    }
    return bytes
}

/// A safetensors file from a header text (padded to 8 bytes) and data.
private func safetensors(_ header: String, data: [UInt8] = []) -> [UInt8] {
    var text = Array(header.utf8)
    text += repeatElement(UInt8(ascii: " "), count: (8 - text.count % 8) % 8)
    return (0..<8).map { UInt8(truncatingIfNeeded: UInt64(text.count) >> (8 * UInt64($0))) } + text + data
}

/// The DataError `body` throws (recording an issue if it throws nothing).
private func dataError(_ body: () throws(DataError) -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> DataError? {
    expectDataError(body, sourceLocation: sourceLocation)
}

/// Starts `sh -c "cat FILES... > fifo"` writing into a new FIFO; returns the FIFO's path and the
/// writer (which ends by SIGPIPE once the reader closes).
private func fifoWriting(_ sources: [String], in directory: String, name: String = "fifo") throws -> (String, Process) {
    let fifo = directory + "/" + name
    #expect(mkfifo(fifo, 0o600) == 0)
    let writer = Process()
    writer.executableURL = URL(fileURLWithPath: "/bin/sh")
    writer.arguments = ["-c", "cat \(sources.joined(separator: " ")) > \(fifo)"]
    try writer.run()
    return (fifo, writer)
}

let hasDevZero = FileManager.default.fileExists(atPath: "/dev/zero")

// MARK: - File size and special files

@Suite("Parser limits: file size, pipes and devices", .timeLimit(.minutes(1)))
struct FileLimitTests {

    @Test("a regular file above the limit is refused before reading, naming its size and the limit")
    func regularFileTooLarge() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let path = directory + "/big.npy"
        try NumPy.write(try NDArray(shape: [500], elements: .float32([Float](repeating: 1, count: 500))), to: path)
        let size = try readBytes(path).count
        let error = dataError { () throws(DataError) in _ = try NumPy.read(path: path, maximumSize: 1024) }
        #expect(error?.kind == .tooLarge)
        #expect(error?.path == path)
        #expect(error?.what.contains("the file has \(size) bytes, above the 1024-byte limit") == true, "\(error?.description ?? "")")
        #expect(error?.what.contains(".npy files are read whole into memory and may hold at most 1024 bytes (1 KiB)") == true)
        #expect(try NumPy.read(path: path, maximumSize: size).count == 500)
    }

    @Test("the size limits are the documented ones")
    func documentedLimits() {
        #expect(NumPy.maximumFileSize == 1 << 32 && SafeTensorsFile.maximumFileSize == 1 << 32 && IDX.maximumFileSize == 1 << 32)
        #expect(CharacterText.maximumFileSize == 1 << 28)
        #expect(CharacterVocabulary.maximumCount == 16_384)
        #expect(FileIO.sizeText(1 << 28) == "268435456 bytes (256 MiB)" && FileIO.sizeText(1000) == "1000 bytes")
    }

    @Test("/dev/zero is refused after reading no more than its header", .enabled(if: hasDevZero))
    func devZero() throws {
        #expect(dataError { () throws(DataError) in _ = try NumPy.read(path: "/dev/zero") }?.kind == .badMagic)
        let idx = dataError { () throws(DataError) in _ = try IDX.read(path: "/dev/zero") }
        #expect(idx?.kind == .unsupported && idx?.what.contains("element type 0x0") == true)
        let checkpoint = try #require(#expect(throws: SafeTensorsError.self) {
            try SafeTensorsFile(contentsOf: URL(fileURLWithPath: "/dev/zero"))
        })
        #expect(checkpoint.description.contains("'/dev/zero'") && checkpoint.description.contains("not valid JSON"), "\(checkpoint)")
    }

    @Test("/dev/zero as text stops at the limit", .enabled(if: hasDevZero))
    func devZeroText() {
        let error = dataError { () throws(DataError) in
            _ = try CharacterText(path: "/dev/zero", maximumFileSize: 1 << 16, maximumVocabulary: 100)
        }
        #expect(error?.kind == .tooLarge)
        #expect(error?.what.contains("more than 65536 bytes arrived") == true, "\(error?.description ?? "")")
        #expect(error?.fix.contains("head -c") == true)
    }

    @Test("a FIFO is read no further than the .npy header declares (plus one byte)", .enabled(if: hasDevZero))
    func fifoNumPy() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let file = directory + "/x.npy"
        try NumPy.write(try NDArray(shape: [2, 3], elements: .float32([1, 2, 3, 4, 5, 6])), to: file)
        let (fifo, writer) = try fifoWriting([file, "/dev/zero"], in: directory)
        let error = dataError { () throws(DataError) in _ = try NumPy.read(path: fifo, maximumSize: 1 << 20) }
        writer.waitUntilExit()
        #expect(error?.kind == .malformed && error?.what.contains("unexpected bytes after the data") == true, "\(error?.description ?? "")")

        let (clean, cleanWriter) = try fifoWriting([file], in: directory, name: "clean-fifo")
        let array = try NumPy.read(path: clean, maximumSize: 1 << 20)
        cleanWriter.waitUntilExit()
        #expect(array.shape == [2, 3])
    }

    @Test("a FIFO is read no further than the safetensors header declares", .enabled(if: hasDevZero))
    func fifoSafeTensors() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let file = directory + "/x.safetensors"
        try SafeTensorsFile(tensors: ["w": SafeTensor(floats: [1, 2], shape: [2])]).write(to: URL(fileURLWithPath: file))
        let (fifo, writer) = try fifoWriting([file, "/dev/zero"], in: directory)
        let error = try #require(#expect(throws: SafeTensorsError.self) {
            try SafeTensorsFile(contentsOf: URL(fileURLWithPath: fifo), maximumSize: 1 << 20)
        })
        writer.waitUntilExit()
        #expect(error.description.contains("after the last tensor"), "\(error)")
    }

    @Test("a pipe whose header claims Int.max bytes is read to its end, not past Int.max", .enabled(if: hasDevZero))
    func pipeClaimingIntMax() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        // A v2 header of fixed length (the 19-digit size keeps it so), for uint8 data ending at
        // exactly Int.max: the declared file size is Int.max.
        func header(_ size: Int) -> [UInt8] {
            let text = Array("{'descr': '|u1', 'fortran_order': False, 'shape': (\(size),), }\n".utf8)
            return [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0] + (0..<4).map { UInt8(truncatingIfNeeded: text.count >> (8 * $0)) } + text
        }
        let dataStart = header(Int.max).count
        let bytes = header(Int.max - dataStart)
        #expect(bytes.count == dataStart && NumPy.declaredFileSize(bytes[...]) == Int.max)
        try writeBytes(bytes, to: directory + "/claim.npy")
        let (fifo, writer) = try fifoWriting([directory + "/claim.npy"], in: directory)
        let error = dataError { () throws(DataError) in _ = try NumPy.read(path: fifo, maximumSize: 1 << 20) }
        writer.waitUntilExit()
        #expect(error?.kind == .truncated && error?.what.contains("expected \(Int.max) bytes") == true,
                "\(error?.description ?? "")")
    }

    @Test("more than the limit from a pipe is a clear error")
    func pipeAboveTheLimit() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let file = directory + "/x.safetensors"
        try SafeTensorsFile(tensors: ["w": SafeTensor(floats: [Float](repeating: 0, count: 300), shape: [300])])
            .write(to: URL(fileURLWithPath: file))
        let (fifo, writer) = try fifoWriting([file], in: directory)
        let error = try #require(#expect(throws: SafeTensorsError.self) {
            try SafeTensorsFile(contentsOf: URL(fileURLWithPath: fifo), maximumSize: 1000)
        })
        writer.waitUntilExit()
        #expect(error.kind == .fileTooLarge(size: nil, limit: 1000))
        #expect(error.description.contains("more than 1000 bytes arrived from it (a pipe or device), above the 1000-byte limit"), "\(error)")
    }
}

// MARK: - gzip and DEFLATE

@Suite("Parser limits: gzip and DEFLATE")
struct DecompressionLimitTests {

    @Test("a gzip bomb stops at the size its IDX header declares plus the slack")
    func bomb() throws {
        let bytes = try regression("Gzip", "finding-bomb-8MiB-declares-10-bytes.gz")
        #expect(bytes.count < 10_000)
        let error = dataError { () throws(DataError) in _ = try IDX.decode(bytes, path: "bomb.gz", maximumSize: IDX.maximumFileSize) }
        #expect(error?.kind == .tooLarge)
        #expect(error?.what.contains("decompresses to more than \(18 + IDX.decompressionSlack) bytes") == true, "\(error?.description ?? "")")
        #expect(error?.what.contains("shape [10] of uint8, 18 bytes") == true)
        #expect(error?.path == "bomb.gz")
    }

    @Test("a header declaring more than the limit is refused before decompressing")
    func declaredAboveTheLimit() throws {
        let content: [UInt8] = [0, 0, 0x08, 1, 0xFF, 0xFF, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 100)
        let error = dataError { () throws(DataError) in _ = try IDX.decode(storedGzip(content), path: "huge.gz", maximumSize: IDX.maximumFileSize) }
        #expect(error?.kind == .tooLarge)
        #expect(error?.what.contains("declares shape [4294967295] of uint8, 4294967303 bytes, above the 4294967296 bytes (4 GiB) limit") == true,
                "\(error?.description ?? "")")
    }

    @Test("a few bytes beyond the declared size are counted exactly (within the slack)")
    func smallExcess() throws {
        let content: [UInt8] = [0, 0, 0x08, 1, 0, 0, 0, 2, 7, 9, 1, 1, 1]
        let error = dataError { () throws(DataError) in _ = try IDX.decode(storedGzip(content), path: "x.gz", maximumSize: 1 << 20) }
        #expect(error?.kind == .malformed && error?.what.contains("3 unexpected bytes after the data") == true, "\(error?.description ?? "")")
        let good = try IDX.decode(storedGzip(Array(content[..<10])), path: "x.gz", maximumSize: 1 << 20)
        #expect(good.elements == .uint8([7, 9]))
    }

    @Test("a gzip stream shorter than the IDX header is reported as truncated")
    func shortStream() throws {
        let error = dataError { () throws(DataError) in _ = try IDX.decode(storedGzip([0, 0, 0x08, 3, 0]), path: "x.gz", maximumSize: 1 << 20) }
        #expect(error?.kind == .truncated && error?.what.contains("after gunzip") == true, "\(error?.description ?? "")")
    }

    @Test("Inflate stops at the caller's maximum, and a prefix is exact")
    func inflateMaximum() throws {
        let gz = try regression("Gzip", "finding-bomb-8MiB-declares-10-bytes.gz")
        let error = dataError { () throws(DataError) in _ = try Inflate.decode(gz, from: 10, maximumSize: 100_000, path: "b") }
        #expect(error?.kind == .tooLarge && error?.what.contains("more than 100000 bytes") == true, "\(error?.description ?? "")")
        #expect(try Inflate.prefix(gz, from: 10, count: 9, path: "b") == [0, 0, 0x08, 1, 0, 0, 0, 10, 0])
        for count in [0, 1, 17, 18, 19, 1000, 65_536] {
            #expect(try Inflate.prefix(gz, from: 10, count: count, path: "b").count == count)
        }
        let whole = try Gzip.decompress(gz, path: "b", maximumSize: 18 + (8 << 20))
        #expect(whole.count == 18 + (8 << 20))
        #expect(try Gzip.decompressPrefix(gz, count: 1 << 30, path: "b").count == whole.count)
    }

    @Test("incomplete Huffman codes are refused where zlib refuses them")
    func incompleteCodes() throws {
        // A dynamic block whose literal/length code is 'a' -> 00, end-of-block -> 01 (the patterns
        // 1x unused); zlib: "invalid literal/lengths set". The decoder on main accepted it.
        let incomplete = try regression("InflateDifferential", "finding-incomplete-literal-code.reject")
        let error = dataError { () throws(DataError) in _ = try Inflate.decode(incomplete, path: "x") }
        #expect(error?.kind == .corrupt && error?.what.contains("incomplete literal/length code") == true, "\(error?.description ?? "")")
        // The same block with a complete code ('a' -> 0, end-of-block -> 1), which zlib decodes to "a".
        let complete: [UInt8] = [0x05, 0xC0, 0x81, 0x08, 0x00, 0x00, 0x00, 0x00, 0x20, 0xD6, 0xFD, 0x25, 0x4E]
        #expect(try Inflate.decode(complete, path: "x").bytes == Array("a".utf8))
        // zlib allows an empty distance code, and a single one-bit code.
        #expect(Huffman.defect([0, 0, 0][...], allowsIncomplete: true) == nil)
        #expect(Huffman.defect([1, 0][...], allowsIncomplete: true) == nil)
        #expect(Huffman.defect([2, 0][...], allowsIncomplete: true) == .incomplete)
        #expect(Huffman.defect([1, 0][...], allowsIncomplete: false) == .incomplete)
        #expect(Huffman.defect([1, 1, 1][...], allowsIncomplete: true) == .overSubscribed)
    }
}

// MARK: - .npy headers

@Suite("Parser limits: .npy headers")
struct NumPyLimitTests {
    func withHeader(_ header: String) -> [UInt8] {
        let h = Array(header.utf8) + [0x0A]
        return [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0] + (0..<4).map { UInt8(truncatingIfNeeded: h.count >> (8 * $0)) } + h
    }

    @Test("100 KB of '(' is refused without recursion (the reported stack overflow)")
    func nestedParentheses() throws {
        let bytes = try regression("NumPy", "finding-nested-parentheses-100KB.npy")
        let error = dataError { () throws(DataError) in _ = try NumPy.parse(bytes, path: "deep.npy") }
        #expect(error?.kind == .tooLarge)
        #expect(error?.what.contains("nests tuples or lists deeper than \(NumPy.maxHeaderDepth) levels") == true, "\(error?.description ?? "")")
        #expect(error?.path == "deep.npy" && error?.byteOffset != nil)
    }

    @Test("nesting up to the limit parses (and is then refused as a dtype or shape)")
    func nestingAtTheLimit() {
        let depth = NumPy.maxHeaderDepth
        let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let error = dataError { () throws(DataError) in
            _ = try NumPy.parse(withHeader("{'descr': \(nested), 'fortran_order': False, 'shape': (1,), }"), path: "n.npy")
        }
        #expect(error?.kind == .unsupported && error?.what.contains("structured dtype") == true, "\(error?.description ?? "")")
        let deeper = "[" + nested + "]"
        let tooDeep = dataError { () throws(DataError) in
            _ = try NumPy.parse(withHeader("{'descr': \(deeper), 'fortran_order': False, 'shape': (1,), }"), path: "n.npy")
        }
        #expect(tooDeep?.kind == .tooLarge)
    }

    @Test("nested tuples parse as before")
    func nestedValues() throws {
        let bytes = withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), 'x': 0}")
        #expect(dataError { () throws(DataError) in _ = try NumPy.parse(bytes, path: "x.npy") }?.what.contains("unexpected key 'x'") == true)
        let ok = withHeader("{'shape': (2, 1,), 'fortran_order': False, 'descr': '<f4',}") + [UInt8](repeating: 0, count: 8)
        #expect(try NumPy.parse(ok, path: "ok.npy").shape == [2, 1])
    }

    @Test("more than 64 dimensions are refused")
    func tooManyDimensions() {
        let shape = "(" + String(repeating: "1, ", count: 65) + ")"
        let error = dataError { () throws(DataError) in
            _ = try NumPy.parse(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }") + [0, 0, 0, 0], path: "r.npy")
        }
        #expect(error?.kind == .tooLarge && error?.what.contains("65 dimensions, more than NumPy's limit of 64") == true, "\(error?.description ?? "")")
        let sixtyFour = "(" + String(repeating: "1, ", count: 64) + ")"
        #expect((try? NumPy.parse(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': \(sixtyFour), }") + [0, 0, 0, 0], path: "r.npy"))?.shape.count == 64)
    }

    @Test("the size a header declares: nil until the header is complete, the file size once it is")
    func declaredSize() throws {
        let bytes = try readBytes(fixturePath("f4_2x3.npy"))
        #expect(NumPy.declaredFileSize(bytes[...]) == bytes.count)
        #expect(NumPy.declaredFileSize(bytes[..<100]) == nil)
        #expect(NumPy.declaredFileSize([UInt8](repeating: 0, count: 20)[...]) == 20)
    }
}

// MARK: - safetensors headers

@Suite("Parser limits: safetensors headers")
struct SafeTensorsLimitTests {
    static let entry = #""w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]"#

    @Test("nesting deeper than 128 levels is refused; 128 is accepted")
    func depth() throws {
        func file(_ depth: Int) -> [UInt8] {
            // The entry object and the top level take 2 levels.
            let nested = String(repeating: "[", count: depth - 2) + String(repeating: "]", count: depth - 2)
            return safetensors("{\(Self.entry),\"x\":\(nested)}}", data: [7])
        }
        #expect(try SafeTensorsFile(bytes: file(128)).tensors["w"]?.int64s() == [7])
        let error = try #require(#expect(throws: SafeTensorsError.self) { try SafeTensorsFile(bytes: file(129)) })
        guard case .headerTooDeep(limit: 128, let offset) = error.kind else {
            Issue.record("expected headerTooDeep, got \(error)")
            return
        }
        #expect(offset == 8 + Self.entry.utf8.count + 6 + 126)
        #expect(error.description.contains("deeper than 128 levels"))
        // The reported attack: a header of 100 KB of '['.
        let brackets = try #require(#expect(throws: SafeTensorsError.self) {
            try SafeTensorsFile(bytes: safetensors(String(repeating: "[", count: 100_000)))
        })
        #expect(brackets.kind == .headerTooDeep(limit: 128, fileOffset: 8 + 128))
    }

    @Test("a name given twice is refused")
    func duplicates() throws {
        let twice = safetensors("{\(Self.entry)},\(Self.entry)}}", data: [1])
        let error = try #require(#expect(throws: SafeTensorsError.self) { try SafeTensorsFile(bytes: twice) })
        #expect(error.kind == .duplicateTensor(name: "w"))
        #expect(error.description.contains("names 'w' twice"))
        let metadata = safetensors(#"{"__metadata__":{},"__metadata__":null}"#)
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(bytes: metadata) }
    }

    @Test("many empty tensors load (the reported header of 1.7 million, scaled down)")
    func manyEmptyTensors() throws {
        let file = try SafeTensorsFile(bytes: regression("SafeTensors", "finding-2000-empty-tensors.safetensors"))
        #expect(file.tensors.count == 2000)
        #expect(file.tensors["t1999"] == SafeTensor(dtype: .f32, shape: [0], bytes: []))
    }

    @Test("strict JSON: each violation is refused with its file offset", arguments: [
        (#"{"__metadata__":{"k":"v",}}"#, "expected a string key"),
        (#"{"__metadata__":{"k":01}}"#, "leading zero"),
        (#"{"__metadata__":{"k":"\ud800"}}"#, "lone UTF-16 high surrogate"),
        (#"{"__metadata__":{"k":"\udc00"}}"#, "lone UTF-16 low surrogate"),
        ("{\"__metadata__\":{\"k\":\"a\u{01}\"}}", "control character 0x1"),
        (#"{"__metadata__":{"k":"\x"}}"#, "invalid escape"),
        (#"{"__metadata__":{"k":1.}}"#, "expected a digit after '.'"),
        (#"{"__metadata__":{"k":tru}}"#, "where a value should start"),
        (#"{} {}"#, "after the end of the JSON value"),
        (#"{"w" 1}"#, "expected ':'"),
        (#"{"__metadata__":{"k":[1 2]}}"#, "expected ',' or ']'"),
        (#"{"__metadata__":{"k":"abc"#, "unterminated string"),
    ])
    func strictJSON(header: String, fragment: String) throws {
        let error = try #require(#expect(throws: SafeTensorsError.self) { try SafeTensorsFile(bytes: safetensors(header)) })
        #expect(error.description.contains("not valid JSON") && error.description.contains(fragment) && error.description.contains("file offset"),
                "\(error)")
    }

    @Test("escapes decode as in JSON: \\u, surrogate pairs, short escapes")
    func escapes() throws {
        let header = #"{"__metadata__":{"k":"\u00e9\ud83d\ude00\n\t\"\\\/\b\f\r x"}}"#
        let file = try SafeTensorsFile(bytes: safetensors(header))
        #expect(file.metadata["k"] == "é😀\n\t\"\\/\u{08}\u{0C}\r x")
    }

    @Test("the size a header declares is the file's size")
    func declaredSize() throws {
        let bytes = try SafeTensorsFile(tensors: ["a": SafeTensor(floats: [1, 2, 3], shape: [3]), "b": SafeTensor(int64s: [4], shape: [])])
            .serialized()
        #expect(SafeTensorsFile.declaredFileSize(bytes[...]) == bytes.count)
        #expect(SafeTensorsFile.declaredFileSize(bytes[..<20]) == nil)
        #expect(SafeTensorsFile.declaredFileSize([UInt8](repeating: 0xFF, count: 16)[...]) == 16)
    }
}

// MARK: - Text and vocabulary

@Suite("Parser limits: text and vocabulary")
struct TextLimitTests {

    @Test("a vocabulary above 16384 characters is refused, saying how many there were")
    func vocabularyTooLarge() throws {
        let bytes = try regression("Text", "finding-20000-distinct-characters.txt")
        let error = dataError { () throws(DataError) in _ = try CharacterText(bytes: bytes, source: "cjk.txt") }
        #expect(error?.kind == .tooLarge && error?.path == "cjk.txt")
        #expect(error?.what.contains("the text has 20000 distinct characters, more than the 16384") == true, "\(error?.description ?? "")")
    }

    @Test("a text of every Unicode scalar (the reported million-input model) is refused")
    func everyScalar() {
        var text = String.UnicodeScalarView()
        for value in UInt32(0)...0x10FFFF { if let scalar = Unicode.Scalar(value) { text.append(scalar) } }
        let error = dataError { () throws(DataError) in _ = try CharacterText(text: String(text), source: "all.txt") }
        #expect(error?.kind == .tooLarge)
        #expect(error?.what.contains("1112064 distinct characters") == true, "\(error?.description ?? "")")
    }

    @Test("exactly the limit is accepted")
    func atTheLimit() throws {
        let text = String(String.UnicodeScalarView((0..<CharacterVocabulary.maximumCount).compactMap { Unicode.Scalar(UInt32(0x4E00 + $0)) }))
        #expect(try CharacterText(text: text).vocabulary.count == CharacterVocabulary.maximumCount)
        let small = dataError { () throws(DataError) in _ = try CharacterVocabulary(Array("abc".unicodeScalars), maximumCount: 2, source: "s") }
        #expect(small?.what.contains("3 distinct characters, more than the 2") == true)
    }
}

// MARK: - Checkpoint metadata

@Suite("Parser limits: checkpoint configuration JSON")
struct CheckpointMetadataLimitTests {
    func configuration(_ text: String) throws -> ModelConfiguration {
        try Checkpoint.configuration(of: SafeTensorsFile(tensors: SmallCheckpoint.tensors, metadata: [Checkpoint.configurationKey: text]))
    }

    @Test("a configuration longer than 64 KiB is refused before decoding")
    func tooLong() throws {
        let text = #"{"pad":""# + String(repeating: "x", count: 70_000) + #""}"#
        let error = try #require(#expect(throws: CheckpointError.self) { try configuration(text) })
        #expect(error.message.contains("70010 bytes long, more than the 65536-byte limit"), "\(error)")
        #expect(error.message.contains("remove it to infer the model"))
    }

    @Test("a configuration nested deeper than 16 levels is refused before decoding")
    func tooDeep() throws {
        let deep = String(repeating: #"{"a":"#, count: 17) + "1" + String(repeating: "}", count: 17)
        let error = try #require(#expect(throws: CheckpointError.self) { try configuration(deep) })
        #expect(error.message.contains("nested deeper than 16 levels"), "\(error)")
        let syntax = try #require(#expect(throws: CheckpointError.self) { try configuration("{\"hiddenSize\":3,}") })
        #expect(syntax.message.contains("expected a string key"), "\(syntax)")
    }

    @Test("a real configuration still loads")
    func valid() throws {
        let json = #"{"hiddenSize":3,"readout":"last","inputInit":{"gaussian":{"std":0.001}},"biasInit":{"zeros":{}},"activation":{"relu":{}},"cell":"rnn","inputSize":2,"outputs":1,"recurrentInit":{"identity":{"scale":1}},"layers":1}"#
        let config = try configuration(json)
        #expect(config.hiddenSize == 3 && config.activation == .relu && config.recurrentInit == .identity(scale: 1))
    }
}

// MARK: - Spec parsers

@Suite("Parser limits: spec parsers")
struct SpecLimitTests {
    enum Parser: String, Sendable { case activation, initializer, schedule, model }

    static func parse(_ parser: Parser, _ text: String) throws(ConfigurationError) {
        switch parser {
        case .activation: _ = try Activation(parsing: text)
        case .initializer: _ = try Initializer(parsing: text)
        case .schedule: _ = try LearningRateSchedule(parsing: text, totalSteps: 100)
        case .model: _ = try ModelSpec(parsing: text)
        }
    }

    @Test("refused specs say why", arguments: [
        (Parser.activation, String(repeating: "x", count: 201), "201 characters long, more than the 200"),
        (.initializer, "gaussian:" + String(repeating: "1", count: 300), "more than the 200"),
        (.schedule, "step:" + String(repeating: "9", count: 300), "more than the 200"),
        (.model, "irnn:" + String(repeating: "a", count: 300), "more than the 200"),
        (.activation, "leaky_relu:nan", "must be a finite number"),
        (.activation, "clipped_relu:inf", "must be a finite number"),
        (.activation, "clipped_relu:0", "must be positive"),
        (.activation, "tanh:3", "'tanh' takes no number"),
        (.schedule, "step:10:inf", "finite FACTOR"),
        (.schedule, "cosine:inf", "finite MIN"),
        (.model, "irnn:hidden=1e300", "hidden=1e300: '1e300' is not a whole number in 1...1000000"),
        (.model, "irnn:layers=nan", "not a whole number"),
        (.model, "irnn:hidden=2.5", "not a whole number"),
        (.model, "irnn:lr=abc", "lr=abc: 'abc' is not a number"),
        (.model, "irnn:momentum=inf", "must be a finite number"),
        (.model, "irnn:optimizer=lbfgs", "unknown optimizer 'lbfgs'"),
        (.model, "irnn:activation=swish", "unknown activation 'swish'"),
        (.model, "irnn:recurrent-init=gaussian", "needs a number"),
    ])
    func refused(parser: Parser, text: String, fragment: String) {
        do {
            try Self.parse(parser, text)
            Issue.record("\(parser) accepted '\(text.prefix(50))'")
        } catch {
            #expect(error.message.contains(fragment), "\(error.message)")
            #expect(error.message.count < 600)
        }
    }

    @Test("valid specs still parse")
    func accepted() throws {
        #expect(try Activation(parsing: "leaky-relu:0.02") == .leakyRelu(slope: 0.02))
        #expect(try Activation(parsing: "clipped_relu") == .clippedRelu(max: 6))
        #expect(try LearningRateSchedule(parsing: "step:1000:0.5", totalSteps: 10) == .step(every: 1000, factor: 0.5))
        let spec = try ModelSpec(parsing: "rnn-relu-gaussian:recurrent-init=gaussian:0.01:hidden=1e2:lr=1e-4")
        #expect(spec.overrides == ["recurrent-init": "gaussian:0.01", "hidden": "1e2", "lr": "1e-4"])
        #expect(try spec.configuration(for: AddingTask(length: 5, testSize: 1), hidden: 8).hiddenSize == 100)
        #expect(try ModelSpec(parsing: "lstm:hidden=128:forget-bias=1").overrides.count == 2)
    }
}
