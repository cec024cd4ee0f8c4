import Testing
@testable import Recurrent

/// The one UTF-8 validator (the standard library's parser) and the messages it gives.
@Suite struct UTF8DecodingTests {
    /// On random bytes: everything before the reported sequence is well-formed, and the sequence
    /// itself is not the start of a well-formed scalar.
    @Test func firstErrorIsTheFirst() {
        var rng = SeededGenerator(seed: 21)
        for _ in 0..<2000 {
            let count = Draw.index(below: 12, &rng)
            let bytes = (0..<count).map { _ in Draw.index(below: 4, &rng) == 0 ? UInt8(Draw.index(below: 128, &rng)) : UInt8(128 + Draw.index(below: 128, &rng)) }
            guard let (offset, length) = UTF8Decoding.firstError(in: bytes) else {
                #expect(throws: Never.self) { try UTF8Decoding.scalars(bytes, path: "x") }
                continue
            }
            #expect(length >= 1 && length <= 3 && offset + length <= bytes.count)
            #expect(UTF8Decoding.firstError(in: bytes[..<offset]) == nil)
            #expect(UTF8Decoding.firstError(in: bytes[offset..<(offset + length)])?.offset == 0)
        }
    }

    @Test(arguments: [
        (Array("h\u{E9}\nllo".utf8) + [0xE2, 0x82], 7, "invalid UTF-8 (line 2): the file ends inside a 3-byte sequence (0xe2 0x82)"),
        ([0x61, 0xC0, 0xAF], 1, "invalid UTF-8 (line 1): 0xc0 is not a well-formed sequence"),
        ([0xED, 0xA0, 0x80], 0, "invalid UTF-8 (line 1): 0xed is not a well-formed sequence"),
    ] as [([UInt8], Int, String)])
    func messagesSayWhereAndWhat(_ bytes: [UInt8], _ offset: Int, _ start: String) {
        do {
            _ = try UTF8Decoding.scalars(bytes, path: "t.txt")
            Issue.record("no error for \(bytes)")
        } catch {
            #expect(error.byteOffset == offset && error.kind == .invalidText && error.path == "t.txt")
            #expect(error.what.hasPrefix(start), "\(error)")
            #expect(error.description.contains("t.txt at byte \(offset)") && error.fix.contains("iconv"))
        }
    }
}
