// MARK: - TFRecord framing

/// TensorBoard event files are TFRecord files: a sequence of records, each
///
///     uint64 length (little endian) | uint32 masked CRC-32C of those 8 bytes | data | uint32 masked CRC-32C of data
///
/// with the masked CRC of `CRC32C.masked` (TensorFlow's core/lib/io/record_writer.cc,
/// TensorBoard's summary/writer/record_writer.py). Each record's data is one `Event`.
public enum TensorBoardRecord {
    /// The 12-byte header and the 4-byte footer around each record's data.
    public static let overhead = 16

    /// One record around `data`.
    public static func framed(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + overhead)
        let length = littleEndianBytes(UInt64(data.count))
        out += length
        out += littleEndianBytes(CRC32C.masked(length))
        out += data
        out += littleEndianBytes(CRC32C.masked(data))
        return out
    }

    /// The data of every record in `bytes`, in order, after checking both CRCs of each.
    /// `path` only names the file in errors.
    public static func records(in bytes: [UInt8], path: String) throws(DataError) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            let index = out.count
            let left = bytes.count - offset
            guard left >= 12 else {
                throw DataError(.truncated, "the file ends inside a record header (\(left) of 12 bytes)", path: path, byteOffset: offset,
                                recordIndex: index, fix: cutFix)
            }
            let lengthBytes = Array(bytes[offset..<(offset + 8)])
            let storedLengthCRC = readUInt32(bytes, at: offset + 8)
            guard storedLengthCRC == CRC32C.masked(lengthBytes) else {
                throw DataError(.corrupt, "the length's CRC-32C does not match (stored \(hex(storedLengthCRC)), computed \(hex(CRC32C.masked(lengthBytes))))",
                                path: path, byteOffset: offset, recordIndex: index, fix: corruptFix)
            }
            let length = lengthBytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard length <= UInt64(left - 12), left - 12 - Int(length) >= 4 else {
                throw DataError(.truncated, "a record of \(length) bytes needs \(length + 16) bytes, the file has \(left) left",
                                path: path, byteOffset: offset, recordIndex: index, fix: cutFix)
            }
            let data = Array(bytes[(offset + 12)..<(offset + 12 + Int(length))])
            let storedDataCRC = readUInt32(bytes, at: offset + 12 + Int(length))
            guard storedDataCRC == CRC32C.masked(data) else {
                throw DataError(.corrupt, "the data's CRC-32C does not match (stored \(hex(storedDataCRC)), computed \(hex(CRC32C.masked(data))))",
                                path: path, byteOffset: offset, recordIndex: index, fix: corruptFix)
            }
            out.append(data)
            offset += 16 + Int(length)
        }
        return out
    }

    static let cutFix = "the file was cut short (a run still writing it, or a full disk); the records before this one are intact"
    static let corruptFix = "the file is damaged; the records before this one are intact"

    static func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << UInt32(8 * $1) }
    }

    static func hex(_ x: UInt32) -> String { "0x" + String(x, radix: 16, uppercase: true) }
}

// MARK: - Reading an event file

/// Reading a whole event file back: the check behind our tests, and a way to inspect a
/// file without TensorBoard.
public enum TensorBoardEventFile {
    /// What TensorBoard globs for in a log directory: `*tfevents*`.
    public static let namePrefix = "events.out.tfevents."
    /// The largest event file `events(atPath:)` reads whole (1 GiB).
    public static let maximumReadSize = 1 << 30

    /// Every event of the file at `path`, in order (records framed and checked, events decoded).
    public static func events(atPath path: String) throws(DataError) -> [TensorBoardEvent] {
        try events(in: try FileIO.read(path, limit: maximumReadSize, what: "TensorBoard event files",
                                       fix: "read a smaller event file (a run writes one per start or resume)"), path: path)
    }

    /// Every event in `bytes`; `path` only names the file in errors.
    public static func events(in bytes: [UInt8], path: String) throws(DataError) -> [TensorBoardEvent] {
        var events: [TensorBoardEvent] = []
        for (index, data) in try TensorBoardRecord.records(in: bytes, path: path).enumerated() {
            do {
                events.append(try TensorBoardEvent(decoding: data))
            } catch {
                throw DataError(.malformed, "the record is not an Event protocol buffer: \(error.what) at byte \(error.offset) of its data",
                                path: path, recordIndex: index, fix: "this is not a TensorBoard event file, or it is damaged")
            }
        }
        return events
    }
}
