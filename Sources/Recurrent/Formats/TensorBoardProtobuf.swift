// MARK: - Protocol buffers, as much as TensorBoard's events need

/// Writes the proto3 wire format: a key (field number << 3 | wire type) before each value;
/// varints for integers, 8 little-endian bytes for a double, 4 for a float, and a varint
/// length before strings, bytes and nested messages.
/// (https://protobuf.dev/programming-guides/encoding/)
struct ProtobufWriter {
    enum WireType: UInt8 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    private(set) var bytes: [UInt8] = []

    /// An unsigned LEB128 varint: 7 bits a byte, low bits first, the high bit set on all but the last.
    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func key(_ field: Int, _ wire: WireType) {
        varint(UInt64(field) << 3 | UInt64(wire.rawValue))
    }

    /// An `int64` field: negative values take ten bytes (two's complement), as protobuf does.
    mutating func int64(_ field: Int, _ value: Int64) {
        key(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    mutating func double(_ field: Int, _ value: Double) {
        key(field, .fixed64)
        littleEndian(value.bitPattern)
    }

    mutating func float(_ field: Int, _ value: Float) {
        key(field, .fixed32)
        littleEndian(value.bitPattern)
    }

    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        key(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes += value
    }

    mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }

    private mutating func littleEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}

/// Reads the proto3 wire format field by field; unknown fields are returned like known ones
/// so that callers can skip them (protobuf's rule for forward compatibility).
struct ProtobufReader {
    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case bytes([UInt8])
    }

    /// What is wrong with the bytes, and at which offset of the message.
    struct Malformed: Error {
        var what: String
        var offset: Int
    }

    let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The next field, or nil at the end of the message.
    mutating func next() throws(Malformed) -> (field: Int, value: Value)? {
        guard offset < bytes.count else { return nil }
        let start = offset
        let key = try varint()
        let field = Int(truncatingIfNeeded: key >> 3)
        guard field > 0 else { throw Malformed(what: "field number 0", offset: start) }
        switch key & 7 {
        case 0: return (field, .varint(try varint()))
        case 1: return (field, .fixed64(try fixed(8)))
        case 5: return (field, .fixed32(UInt32(truncatingIfNeeded: try fixed(4))))
        case 2:
            let lengthAt = offset
            let length = try varint()
            guard length <= UInt64(bytes.count - offset) else {
                throw Malformed(what: "a field of \(length) bytes runs past the end (\(bytes.count - offset) left)", offset: lengthAt)
            }
            let value = Array(bytes[offset..<(offset + Int(length))])
            offset += Int(length)
            return (field, .bytes(value))
        default:
            throw Malformed(what: "unsupported wire type \(key & 7) (groups are not used by TensorBoard)", offset: start)
        }
    }

    private mutating func varint() throws(Malformed) -> UInt64 {
        let start = offset
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            guard offset < bytes.count else { throw Malformed(what: "a varint runs past the end", offset: start) }
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte & 0x80 == 0 { return value }
        }
        throw Malformed(what: "a varint is longer than 10 bytes", offset: start)
    }

    private mutating func fixed(_ count: Int) throws(Malformed) -> UInt64 {
        guard bytes.count - offset >= count else {
            throw Malformed(what: "a \(count * 8)-bit value runs past the end", offset: offset)
        }
        var value: UInt64 = 0
        for i in 0..<count { value |= UInt64(bytes[offset + i]) << UInt64(8 * i) }
        offset += count
        return value
    }
}
