import Foundation
import Testing
@testable import Recurrent

/// CRC-32C, the protobuf wire format and TFRecord framing of TensorBoard event files, against
/// bytes made by independent implementations: TensorBoard 2.21's own `RecordWriter` and
/// `masked_crc32c` (tensorboard/summary/writer/record_writer.py) and protobuf 7's
/// `Event.SerializeToString()` (tensorboard.compat.proto.event_pb2), printed once and pasted here.
@Suite("TensorBoard: CRC-32C, protobuf, records")
struct TensorBoardFormatTests {
    // MARK: CRC-32C

    @Test func crc32cMatchesTheCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
        let whole = CRC32C.checksum(Array("hello world".utf8))
        #expect(CRC32C.checksum(Array(" world".utf8), continuing: CRC32C.checksum(Array("hello".utf8))) == whole)
        // The shared table code did not change plain CRC-32.
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func maskedCRC32CIsTensorFlows() {
        // masked(crc32c("")) = rotate(0) + 0xa282ead8; masked(crc32c(8 zero bytes)) from TensorBoard's framing of b"".
        #expect(CRC32C.masked([]) == 0xA282_EAD8)
        #expect(CRC32C.masked([UInt8](repeating: 0, count: 8)) == 0x0798_0329)
    }

    // MARK: Varints

    /// (value, its varint): protobuf's encoding documentation gives 1 and 300.
    static let varints: [(UInt64, [UInt8])] = [
        (0, [0x00]), (1, [0x01]), (127, [0x7F]), (128, [0x80, 0x01]), (300, [0xAC, 0x02]),
        (16_384, [0x80, 0x80, 0x01]), (UInt64.max, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
    ]

    @Test(arguments: varints)
    func varintBytes(value: UInt64, bytes: [UInt8]) throws {
        var w = ProtobufWriter()
        w.varint(value)
        #expect(w.bytes == bytes)
        // Read back as field 1 of a message: key 0x08 then the varint.
        var r = ProtobufReader([0x08] + bytes)
        let (field, read) = try #require(try r.next())
        guard case .varint(let v) = read else { Issue.record("not a varint: \(read)"); return }
        #expect(field == 1 && v == value)
        #expect(try r.next() == nil)
    }

    @Test func negativeInt64TakesTenBytesLikeProtobuf() {
        var w = ProtobufWriter()
        w.int64(2, -1)
        #expect(w.bytes == [0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
    }

    @Test(arguments: [[UInt8]([0x08]), [0x08, 0x80], [0x0A, 0x05, 0x61], [0x09, 0x00, 0x00], [0x0B, 0x00],
                      [0x08] + [UInt8](repeating: 0x80, count: 10) + [0x01], [0x00, 0x01]])
    func malformedMessagesAreRefused(bytes: [UInt8]) {
        var r = ProtobufReader(bytes)
        #expect(throws: ProtobufReader.Malformed.self) { while try r.next() != nil {} }
    }

    // MARK: Records

    static let emptyRecord: [UInt8] = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x29, 0x03, 0x98, 0x07, 0xD8, 0xEA, 0x82, 0xA2]
    static let helloRecord: [UInt8] = [0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xEA, 0xB2, 0x04, 0x3E,
                                       0x68, 0x65, 0x6C, 0x6C, 0x6F, 0xBB, 0x1F, 0x1C, 0x19]

    @Test func framingMatchesTensorBoardsRecordWriter() throws {
        #expect(TensorBoardRecord.framed([]) == Self.emptyRecord)
        #expect(TensorBoardRecord.framed(Array("hello".utf8)) == Self.helloRecord)
        let records = try TensorBoardRecord.records(in: Self.emptyRecord + Self.helloRecord, path: "<memory>")
        #expect(records == [[], Array("hello".utf8)])
    }

    @Test func aCutFileIsRefusedWithTheRecordAndOffset() throws {
        for cut in [1, 4, 8, 17] {   // inside the footer, the data, the header's CRC, the length
            let bytes = Array((Self.emptyRecord + Self.helloRecord).dropLast(cut))
            let error = expectDataError { () throws(DataError) in _ = try TensorBoardRecord.records(in: bytes, path: "run/events") }
            #expect(error?.kind == .truncated && error?.recordIndex == 1 && error?.byteOffset == 16, "cut \(cut): \(String(describing: error))")
            #expect(error?.description.hasPrefix("run/events at byte 16, record 1: ") == true)
        }
    }

    @Test(arguments: [3, 9, 14, 19])   // the length, its CRC, the data, the data's CRC of "hello"
    func aFlippedBitIsCaughtByACRC(index: Int) throws {
        var bytes = Self.emptyRecord + Self.helloRecord
        bytes[16 + index] ^= 0x04
        let error = expectDataError { () throws(DataError) in _ = try TensorBoardRecord.records(in: bytes, path: "run/events") }
        #expect(error?.kind == .corrupt && error?.recordIndex == 1, "\(String(describing: error))")
        #expect(error?.what.contains("CRC-32C does not match") == true)
    }

    // MARK: Events

    /// (event, protobuf's serialisation of the same Event).
    static let events: [(TensorBoardEvent, [UInt8])] = [
        (TensorBoardEvent(wallTime: 1_700_000_000.5, step: 0, content: .fileVersion("brain.Event:2")),
         [0x09, 0x00, 0x00, 0x20, 0x40, 0xFC, 0x54, 0xD9, 0x41, 0x1A, 0x0D, 0x62, 0x72, 0x61, 0x69, 0x6E, 0x2E, 0x45, 0x76, 0x65,
          0x6E, 0x74, 0x3A, 0x32]),
        (TensorBoardEvent(wallTime: 1.25, step: 300, content: .scalars([TensorBoardScalar("a/b", 0), TensorBoardScalar("lr", -2.5)])),
         [0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF4, 0x3F, 0x10, 0xAC, 0x02, 0x2A, 0x17, 0x0A, 0x0A, 0x0A, 0x03, 0x61, 0x2F,
          0x62, 0x15, 0x00, 0x00, 0x00, 0x00, 0x0A, 0x09, 0x0A, 0x02, 0x6C, 0x72, 0x15, 0x00, 0x00, 0x20, 0xC0]),
        (TensorBoardEvent(wallTime: 2, step: 21, content: .sessionStart),
         [0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x10, 0x15, 0x3A, 0x02, 0x08, 0x01]),
        (TensorBoardEvent(wallTime: 0, step: -1, content: .scalars([])),
         [0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x2A, 0x00]),
    ]

    @Test(arguments: 0..<events.count)
    func eventsEncodeLikeProtobufAndDecodeBack(index: Int) throws {
        let (event, bytes) = Self.events[index]
        #expect(event.encoded == bytes)
        #expect(try TensorBoardEvent(decoding: bytes) == event)
    }

    @Test func decodingSkipsFieldsItDoesNotRead() throws {
        var w = ProtobufWriter()
        w.double(1, 3.5)
        w.int64(2, 7)
        w.bytes(10, [0x0A, 0x01, 0x78])                 // source_metadata { writer: "x" }
        var value = ProtobufWriter()
        value.string(1, "t")
        value.string(7, "node")                          // node_name
        value.float(2, 0.5)
        var histogram = ProtobufWriter()
        histogram.string(1, "h")
        histogram.bytes(5, [0x09, 0, 0, 0, 0, 0, 0, 0, 0])   // a histogram value: not a scalar
        var summary = ProtobufWriter()
        summary.bytes(1, value.bytes)
        summary.bytes(1, histogram.bytes)
        w.bytes(5, summary.bytes)
        let event = try TensorBoardEvent(decoding: w.bytes)
        #expect(event == TensorBoardEvent(wallTime: 3.5, step: 7, content: .scalars([TensorBoardScalar("t", 0.5)])))
    }

    @Test func aRecordThatIsNotAnEventIsNamed() throws {
        let bytes = TensorBoardRecord.framed(Self.events[0].0.encoded) + TensorBoardRecord.framed([0x0A, 0x09, 0x61])
        let error = expectDataError { () throws(DataError) in _ = try TensorBoardEventFile.events(in: bytes, path: "x.tfevents") }
        #expect(error?.kind == .malformed && error?.recordIndex == 1, "\(String(describing: error))")
        #expect(error?.description.contains("is not an Event protocol buffer") == true)
    }

    // MARK: Writer

    func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-tb-\(UInt64.random(in: 0...UInt64.max))")
    }

    @Test func theWriterNamesTheFileLikeTensorBoardAndNeverOverwrites() throws {
        let dir = temporaryDirectory().appendingPathComponent("run")
        var t = 1_700_000_000.75
        let clock = { () -> Double in t += 1; return t }
        let first = try TensorBoardEventWriter(directory: dir, hostname: "box", clock: clock)
        try first.write([TensorBoardScalar("x", 1)], step: 5)
        t = 1_700_000_000.75     // the same second again: a new file beside the first
        let second = try TensorBoardEventWriter(directory: dir, hostname: "box", clock: clock)
        #expect(first.url.lastPathComponent == "events.out.tfevents.1700000001.box")
        #expect(second.url.lastPathComponent == "events.out.tfevents.1700000001.box.1")
        let events = try TensorBoardEventFile.events(atPath: first.url.path)
        #expect(events == [TensorBoardEvent(wallTime: 1_700_000_001.75, step: 0, content: .fileVersion("brain.Event:2")),
                           TensorBoardEvent(wallTime: 1_700_000_002.75, step: 5, content: .scalars([TensorBoardScalar("x", 1)]))])
        #expect(try TensorBoardEventFile.events(atPath: second.url.path).count == 1)
    }

    @Test func eachWriteReachesTheFileAtOnce() throws {
        let writer = try TensorBoardEventWriter(directory: temporaryDirectory(), hostname: "h", clock: { 5 })
        for step in 1...3 {
            try writer.write([TensorBoardScalar("loss", Float(step))], step: step)
            // Read by another handle while the writer is still open: a live TensorBoard's view.
            #expect(try TensorBoardEventFile.events(atPath: writer.url.path).count == 1 + step)
        }
    }

    @Test func anUnwritableFolderIsAnErrorNamingIt() throws {
        let parent = temporaryDirectory()
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        let file = parent.appendingPathComponent("not-a-folder")
        try Data("x".utf8).write(to: file)
        let error = expectDataError { () throws(DataError) in
            _ = try TensorBoardEventWriter(directory: file.appendingPathComponent("run"), hostname: "h", clock: { 1 })
        }
        #expect(error?.kind == .io && error?.path == file.path, "\(String(describing: error))")
        #expect(error?.what.contains("(it is a file, not a folder)") == true)
    }
}
