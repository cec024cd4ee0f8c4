import Foundation
import Testing

@testable import Recurrent

// MARK: - DEFLATE and gzip

@Suite("Inflate and gzip")
struct InflateTests {
    /// Payloads exercising literals, long matches, incompressible data (stored blocks at low
    /// levels) and tiny inputs (fixed Huffman blocks).
    static let payloads: [(String, [UInt8])] = [
        ("empty", []),
        ("tiny", Array("hello".utf8)),
        ("text", Array(String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 2000).utf8)),
        ("random", pseudoRandomBytes(200_000, seed: 7)),
        ("mixed", (0..<300_000).map { i in UInt8(truncatingIfNeeded: (i % 1000 < 500) ? i / 7 : (i * i) >> 3) }),
    ]

    @Test func crc32CheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
        let whole = CRC32.checksum(Array("hello world".utf8))
        let split = CRC32.checksum(Array(" world".utf8), continuing: CRC32.checksum(Array("hello".utf8)))
        #expect(whole == split)
    }

    @Test(.enabled(if: gzipPath != nil), arguments: [1, 6, 9])
    func systemGzipRoundTrip(level: Int) throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        for (name, payload) in Self.payloads {
            let path = directory + "/\(name).bin"
            try writeBytes(payload, to: path)
            // Level 9 without the file name in the header, others with FNAME set.
            let gz = try gzipFile(path, level: level, extra: level == 9 ? ["-n"] : [])
            let decoded = try Gzip.decompress(readBytes(gz), path: gz)
            #expect(decoded == payload, "payload \(name) at level \(level)")
        }
    }

    @Test(.enabled(if: gzipPath != nil))
    func concatenatedMembers() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let a = Array("first member\n".utf8), b = Array("second member\n".utf8)
        try writeBytes(a, to: directory + "/a")
        try writeBytes(b, to: directory + "/b")
        let joined = try readBytes(gzipFile(directory + "/a")) + readBytes(gzipFile(directory + "/b"))
        #expect(try Gzip.decompress(joined, path: "joined") == a + b)
    }

    /// Stored blocks written by hand (RFC 1951 §3.2.4): header bits, LEN, NLEN, raw bytes.
    @Test func handMadeStoredBlocks() throws {
        func stored(_ data: [UInt8], final: Bool) -> [UInt8] {
            let n = data.count
            return [final ? 0x01 : 0x00, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)] + data
        }
        let one = stored(Array("abc".utf8), final: true)
        #expect(try Inflate.decode(one, path: "one").bytes == Array("abc".utf8))
        #expect(try Inflate.decode(one, path: "one").end == one.count)
        let big = pseudoRandomBytes(65535, seed: 3)
        let three = stored([], final: false) + stored(big, final: false) + stored([42], final: true)
        #expect(try Inflate.decode(three, path: "three").bytes == big + [42])

        // The same stream wrapped in a gzip member with a CRC computed here.
        let content = big + [42]
        let crc = CRC32.checksum(content)
        let size = UInt32(content.count)
        let header: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3]
        let trailer = (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) }
            + (0..<4).map { UInt8(truncatingIfNeeded: size >> (8 * $0)) }
        #expect(try Gzip.decompress(header + three + trailer, path: "stored.gz") == content)
    }

    /// Fixed-Huffman streams produced once by Python's zlib (level 9, raw deflate):
    /// `zlib.compressobj(9, zlib.DEFLATED, -15)`.
    @Test func fixedHuffmanBlocks() throws {
        let hello: [UInt8] = [0xCB, 0x48, 0xCD, 0xC9, 0xC9, 0x57, 0xC8, 0x40, 0x27, 0x01]
        #expect(try Inflate.decode(hello, path: "hello").bytes == Array("hello hello hello hello".utf8))
        #expect(try Inflate.decode([0x4B, 0x04, 0x00], path: "a").bytes == Array("a".utf8))
    }

    @Test func corruptStreamsAreRejected() {
        // Block type 3 is reserved.
        let reserved = expectDataError { () throws(DataError) in _ = try Inflate.decode([0x07], path: "bt3") }
        #expect(reserved?.kind == .corrupt)
        #expect(reserved?.what.contains("block type 3") == true)
        // LEN and NLEN disagree.
        let lengths = expectDataError { () throws(DataError) in
            _ = try Inflate.decode([0x01, 3, 0, 0, 0, 1, 2, 3], path: "len")
        }
        #expect(lengths?.what.contains("one's complement") == true)
        // A fixed block whose first symbol is a match (distance reaches before the output).
        // Bits: BFINAL=1, BTYPE=01, length code 257 (0000001), distance code 0 (00000).
        let far = expectDataError { () throws(DataError) in _ = try Inflate.decode([0x03, 0x02, 0x00], path: "far") }
        #expect(far?.what.contains("before the start") == true)
        // A stream that stops early.
        let short = expectDataError { () throws(DataError) in
            _ = try Inflate.decode([0xCB, 0x48, 0xCD], path: "short")
        }
        #expect(short?.kind == .truncated)
        #expect(short?.path == "short")
    }

    /// Random corruption must give a `DataError` (or, rarely, other valid data) — never a trap.
    @Test(.enabled(if: gzipPath != nil))
    func randomCorruptionNeverTraps() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let payload = Array(String(repeating: "adding problem, copy memory, pixel MNIST; ", count: 400).utf8)
            + pseudoRandomBytes(3000, seed: 1)
        try writeBytes(payload, to: directory + "/data")
        let good = try readBytes(gzipFile(directory + "/data", level: 9, extra: ["-n"]))
        var rng = SeededGenerator(seed: 99)
        var failures = 0
        for _ in 0..<300 {
            var bad = good
            for _ in 0..<(1 + Draw.index(below: 3, &rng)) {
                let position = 10 + Draw.index(below: bad.count - 18, &rng)  // inside the DEFLATE data
                bad[position] ^= UInt8(truncatingIfNeeded: 1 + Draw.index(below: 255, &rng))
            }
            do {
                _ = try Gzip.decompress(bad, path: "fuzz.gz")
            } catch {
                failures += 1
                #expect(error.path == "fuzz.gz")
            }
        }
        #expect(failures == 300)  // the CRC catches whatever the decoder accepts
    }

    @Test(.enabled(if: gzipPath != nil))
    func corruptedGzipFilesNameThePath() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let payload = Array(String(repeating: "recurrent networks of rectified linear units ", count: 300).utf8)
        try writeBytes(payload, to: directory + "/data")
        let gz = try gzipFile(directory + "/data", level: 6, extra: ["-n"])
        let good = try readBytes(gz)

        var badCRC = good
        badCRC[good.count - 8] ^= 0xFF
        let crcError = expectDataError { () throws(DataError) in _ = try Gzip.decompress(badCRC, path: gz) }
        #expect(crcError?.kind == .corrupt)
        #expect(crcError?.path == gz)
        #expect(crcError?.byteOffset == good.count - 8)
        #expect(crcError?.description.contains("CRC32") == true)

        var badSize = good
        badSize[good.count - 1] ^= 0x01
        #expect(expectDataError { () throws(DataError) in _ = try Gzip.decompress(badSize, path: gz) }?.what.contains("ISIZE") == true)

        for length in [0, 1, 5, 10, 11, good.count / 2, good.count - 8, good.count - 1] {
            let error = expectDataError { () throws(DataError) in _ = try Gzip.decompress(Array(good[..<length]), path: gz) }
            #expect(error?.path == gz, "truncated at \(length)")
            #expect(error?.kind == .truncated || error?.kind == .corrupt, "truncated at \(length)")
        }

        let garbage = expectDataError { () throws(DataError) in _ = try Gzip.decompress(good + [1, 2, 3], path: gz) }
        #expect(garbage?.byteOffset == good.count)
        #expect(try Gzip.decompress(good + [0, 0, 0, 0], path: gz) == payload)
    }
}
