import Foundation
import Testing

@testable import Recurrent

// MARK: - Character-level text

@Suite("Character text")
struct CharacterTextTests {
    /// Ill-formed UTF-8 and the offset of the first byte of the first ill-formed sequence
    /// (the offset Python's `bytes.decode('utf-8')` reports as `UnicodeDecodeError.start`).
    static let invalid: [([UInt8], Int)] = [
        (Array("abc".utf8) + [0xFF], 3),
        (Array("h\u{E9}llo".utf8) + [0xC3], 6),  // ends inside a 2-byte sequence
        ([0xE2, 0x28, 0xA1], 0),  // bad continuation
        ([0x61, 0xC0, 0xAF], 1),  // overlong '/'
        (Array("a\n".utf8) + [0xED, 0xA0, 0x80], 2),  // UTF-16 surrogate
        (Array("ab".utf8) + [0x80], 2),  // stray continuation byte
        ([0xF4, 0x90, 0x80, 0x80], 0),  // above U+10FFFF
        (Array("€ok".utf8) + [0xE0, 0x80, 0x80], 5),  // overlong 3-byte
    ]

    @Test(arguments: invalid)
    func invalidUTF8ReportsTheOffset(bytes: [UInt8], offset: Int) throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let path = directory + "/text.txt"
        try writeBytes(bytes, to: path)
        let error = expectDataError { () throws(DataError) in _ = try CharacterText(path: path) }
        #expect(error?.kind == .invalidText)
        #expect(error?.path == path)
        #expect(error?.byteOffset == offset)
    }

    @Test func validUTF8MatchesTheStandardLibrary() throws {
        let text = "ASCII, é, 漢字, 🙂, e\u{301}, \u{FEFF}, \u{10FFFF}"
        #expect(try UTF8Decoding.scalars(Array(text.utf8), path: "x") == Array(text.unicodeScalars))
    }

    @Test func emptyFileIsAnError() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        try writeBytes([], to: directory + "/empty.txt")
        let error = expectDataError { () throws(DataError) in _ = try CharacterText(path: directory + "/empty.txt") }
        #expect(error?.what.contains("empty") == true)
        #expect(error?.path == directory + "/empty.txt")
    }

    @Test func vocabularyAndSplits() throws {
        let text = String(repeating: "abcde fghij", count: 20) + "zz\u{E9}"  // 223 scalars
        let corpus = try CharacterText(text: text)
        #expect(corpus.vocabulary.scalars.map(\.value) == " abcdefghijz\u{E9}".unicodeScalars.map(\.value))
        #expect(corpus.train.count == 223 * 90 / 100)  // 200
        #expect(corpus.validation.count == 223 * 5 / 100)  // 11
        #expect(corpus.test.count == 223 - 200 - 11)
        let all = (corpus.train + corpus.validation + corpus.test).map(Int.init)
        #expect(try corpus.vocabulary.decode(all) == text)
        #expect(try corpus.vocabulary.encode("bad") == [2, 1, 4])
        let unknown = expectDataError { () throws(DataError) in _ = try corpus.vocabulary.encode("abq") }
        #expect(unknown?.recordIndex == 2)
        #expect(expectDataError { () throws(DataError) in _ = try corpus.vocabulary.decode([99]) }?.kind == .invalidArgument)
        let oneHot = corpus.vocabulary.oneHot([1, 0])
        #expect(oneHot.steps == 1 && oneHot.features == 13 && oneHot.values[1] == 1 && oneHot.values[13] == 1)
    }

    @Test func batchifyLayout() throws {
        // 26 tokens, 4 streams of S = 6 (tokens 24 and 25 dropped), windows of 3 steps.
        var batches = try TruncatedBPTTBatches(tokens: (0..<26).map(Int32.init), vocabularySize: 26, streams: 4, bptt: 3)
        #expect(batches.streamLength == 6)
        #expect(batches.windowsPerEpoch == 2)  // ⌈(6 − 1) / 3⌉
        func decode(_ inputs: SequenceBatch<Float>) -> [[Int]] {
            (0..<inputs.batch).map { b in
                (0..<inputs.steps).map { t in
                    let row = inputs.values[((b * inputs.steps + t) * 26)..<((b * inputs.steps + t + 1) * 26)]
                    return (row.firstIndex(of: 1) ?? -1) - row.startIndex
                }
            }
        }
        let firstWindow = batches.next()
        let first = try #require(firstWindow)
        #expect(first.resetState)
        #expect(decode(first.inputs) == [[0, 1, 2], [6, 7, 8], [12, 13, 14], [18, 19, 20]])
        guard case .classesPerStep(let t0) = first.targets else { Issue.record("expected .classesPerStep"); return }
        #expect(t0 == [1, 2, 3, 7, 8, 9, 13, 14, 15, 19, 20, 21])
        let secondWindow = batches.next()
        let second = try #require(secondWindow)
        #expect(!second.resetState)
        #expect(second.inputs.steps == 2)
        #expect(decode(second.inputs) == [[3, 4], [9, 10], [15, 16], [21, 22]])
        guard case .classesPerStep(let t1) = second.targets else { Issue.record("expected .classesPerStep"); return }
        #expect(t1 == [4, 5, 10, 11, 16, 17, 22, 23])
        #expect(batches.next() == nil)
        #expect(batches.position.epoch == 1 && batches.position.window == 0)
        let nextEpoch = batches.next()
        #expect(nextEpoch?.resetState == true)
    }

    @Test func resumedPositionGivesTheSameNextBatch() throws {
        var scalars = String.UnicodeScalarView()
        for i in 0..<5000 {
            let letter = UInt8(97 + (i * i + 3 * i) % 26)
            scalars.append(Unicode.Scalar(letter))
        }
        let text = String(scalars)
        let corpus = try CharacterText(text: text)
        var original = try corpus.batches(.train, streams: 8, bptt: 50)
        for _ in 0..<14 { _ = original.next() }  // 12 windows + end-of-epoch nil: into epoch 1
        let saved = original.position
        #expect(saved.epoch == 1)
        let data = try JSONEncoder().encode(saved)
        var resumed = try corpus.batches(.train, streams: 8, bptt: 50)
        try resumed.restore(JSONDecoder().decode(TBPTTPosition.self, from: data))
        for _ in 0..<15 {
            let a = original.next(), b = resumed.next()
            #expect(a?.inputs.values == b?.inputs.values)
            #expect(a?.resetState == b?.resetState)
            if case .classesPerStep(let x)? = a?.targets, case .classesPerStep(let y)? = b?.targets {
                #expect(x == y)
            } else {
                #expect(a == nil && b == nil)
            }
        }
        var other = try corpus.batches(.train, streams: 4, bptt: 50)
        #expect(expectDataError { () throws(DataError) in try other.restore(saved) }?.kind == .mismatch)
        #expect(expectDataError { () throws(DataError) in _ = try corpus.batches(.validation, streams: 1000, bptt: 5) }?.kind == .invalidArgument)
    }
}
