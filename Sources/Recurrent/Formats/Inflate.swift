// MARK: - DEFLATE decoder
//
// A compact decoder for raw DEFLATE streams (RFC 1951, "DEFLATE Compressed Data Format
// Specification version 1.3", P. Deutsch, 1996), written in Swift so that gzip-compressed data
// sets can be read without linking zlib. It handles all three block types:
//
// - `BTYPE = 00` stored blocks (byte-aligned `LEN`, `NLEN = ~LEN`, then `LEN` raw bytes),
// - `BTYPE = 01` blocks coded with the fixed Huffman codes of RFC 1951 §3.2.6,
// - `BTYPE = 10` blocks with dynamic Huffman codes (RFC 1951 §3.2.7),
//
// and rejects `BTYPE = 11`, over-subscribed codes, incomplete codes where zlib does (see
// `Huffman.defect`), invalid code-length repeats, length/distance symbols outside the alphabet,
// distances reaching before the start of the output, truncated input, and output beyond the
// caller's limit. It accepts exactly the streams zlib's `inflate` accepts (raw mode, 32 KiB
// window), with the same output: `Fuzz/InflateDifferential.swift` checks this against zlib. Huffman codes are decoded through a 10-bit lookup table with a canonical-code fallback
// for longer codes (the method of Mark Adler's `puff.c`).

/// Raw DEFLATE (RFC 1951) decoder.
///
/// The output is bounded: the caller passes the largest output it accepts (`maximumSize`), and
/// decoding stops with a ``DataError/Kind/tooLarge`` error as soon as the stream would write
/// more (DEFLATE expands up to 1032:1, so a small file can otherwise claim gigabytes). Memory
/// never exceeds `maximumSize` plus the input.
enum Inflate {
    /// Decodes the raw DEFLATE stream that starts at `input[start]`.
    ///
    /// - Parameters:
    ///   - input: the whole file (the stream may be followed by other data, e.g. a gzip trailer).
    ///   - start: index of the first byte of the stream in `input`.
    ///   - expectedSize: a hint for the output size (e.g. gzip's ISIZE); only used to size the
    ///     initial buffer, never trusted beyond 1032 × the input size (DEFLATE's maximal ratio)
    ///     or `maximumSize`.
    ///   - maximumSize: the largest output accepted; more is a `.tooLarge` error, whose `what`
    ///     callers may reword to say where their limit comes from.
    ///   - path: the file name used in errors; byte offsets in errors are indices into `input`.
    /// - Returns: the decoded bytes and the index in `input` of the first byte after the stream.
    static func decode(
        _ input: [UInt8], from start: Int = 0, expectedSize: Int = 0, maximumSize: Int = Int.max,
        path: String
    ) throws(DataError) -> (bytes: [UInt8], end: Int) {
        try run(input, from: start, expectedSize: expectedSize, limit: maximumSize, stopsAtLimit: false, path: path)
    }

    /// The first `count` decoded bytes of the stream at `input[start]` (all of them if the
    /// stream is shorter), decoding no further: for reading a header without inflating the rest.
    static func prefix(_ input: [UInt8], from start: Int = 0, count: Int, path: String) throws(DataError) -> [UInt8] {
        try run(input, from: start, expectedSize: count, limit: count, stopsAtLimit: true, path: path).bytes
    }

    private static func run(
        _ input: [UInt8], from start: Int, expectedSize: Int, limit: Int, stopsAtLimit: Bool, path: String
    ) throws(DataError) -> (bytes: [UInt8], end: Int) {
        let limit = max(0, limit)
        let hintLimit = (input.count - start) &* 1032 &+ 1024
        let capacity = min(max(1024, min(expectedSize, hintLimit)), limit)
        var sink = ByteSink(capacity: capacity, limit: limit)
        defer { sink.release() }
        let end: Int
        do {
            end = try input.withUnsafeBufferPointer { (buffer) throws(DataError) -> Int in
                var decoder = Decoder(input: buffer, position: start, path: path)
                try decoder.run(into: &sink)
                return decoder.streamEnd
            }
        } catch {
            guard stopsAtLimit, error.kind == .tooLarge else { throw error }
            end = start
        }
        return (sink.array(), end)
    }
}

// MARK: - Output buffer

/// A growable byte buffer with manual storage, fast in unoptimised builds too, that never grows
/// beyond `limit` bytes: the growing calls return `false` instead (after writing what fits).
private struct ByteSink {
    var base: UnsafeMutablePointer<UInt8>
    var capacity: Int
    var count = 0
    let limit: Int

    init(capacity: Int, limit: Int) {
        base = .allocate(capacity: max(capacity, 1))
        self.capacity = capacity
        self.limit = limit
    }

    /// Makes room for `extra` more bytes; `false` if that would pass the limit.
    @inline(__always)
    mutating func reserve(_ extra: Int) -> Bool {
        count + extra <= capacity || grow(to: count + extra)
    }

    /// Grows the storage to at least `minimum` bytes (doubling, capped at the limit); `false`
    /// (and no change) if `minimum` is above the limit.
    mutating func grow(to minimum: Int) -> Bool {
        guard minimum <= limit else { return false }
        var newCapacity = max(capacity, 1)
        while newCapacity < minimum { newCapacity = newCapacity > limit / 2 ? limit : newCapacity * 2 }
        if newCapacity <= capacity { return true }
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
        return true
    }

    /// Appends `length` bytes copied from `distance` bytes back (LZ77 match; may overlap).
    /// Past the limit, copies what fits and returns `false`.
    mutating func copyMatch(distance: Int, length: Int) -> Bool {
        var length = length
        let fits = reserve(length)
        if !fits {
            length = limit - count
            guard length > 0, grow(to: limit) else { return false }
        }
        let destination = base + count
        let source = destination - distance
        if distance >= length {
            destination.update(from: source, count: length)
        } else {
            for i in 0..<length { destination[i] = source[i] }
        }
        count += length
        return fits
    }

    /// Appends `length` bytes from `source`; past the limit, appends what fits and returns `false`.
    mutating func append(_ source: UnsafePointer<UInt8>, count length: Int) -> Bool {
        let fits = reserve(length)
        let written = fits ? length : max(0, limit - count)
        if !fits && (written == 0 || !grow(to: limit)) { return false }
        (base + count).update(from: source, count: written)
        count += written
        return fits
    }

    func array() -> [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    func release() { base.deallocate() }
}

// MARK: - Huffman code

/// A canonical Huffman code built from code lengths (RFC 1951 §3.2.2).
struct Huffman: Sendable {
    static let fastBits = 10
    /// Indexed by the next `fastBits` input bits (LSB first); entry = symbol << 4 | length, or 0
    /// when the code is longer than `fastBits` bits or the bit pattern is not a code.
    var fast: [UInt16]
    /// Number of codes of each length 0...15.
    var counts: [Int]
    /// Symbols ordered by (length, symbol value), i.e. by canonical code.
    var symbols: [Int]

    /// Why a set of code lengths is refused.
    enum Defect { case overSubscribed, incomplete }

    /// Checks code lengths as zlib's `inflate_table` does, so that both accept the same streams:
    /// over-subscribed codes are refused; incomplete codes only when `allowsIncomplete` is false
    /// (the code-length code), or when they hold more than one code (zlib's rule for the
    /// literal/length and distance codes: an empty code, or a single code of length 1, is allowed,
    /// and an unused bit pattern is then an error only if it is met while decoding).
    static func defect(_ lengths: ArraySlice<UInt8>, allowsIncomplete: Bool) -> Defect? {
        var counts = [Int](repeating: 0, count: 16)
        for length in lengths { counts[Int(length)] += 1 }
        let longest = (1...15).last { counts[$0] != 0 } ?? 0
        if longest == 0 { return nil }  // no codes at all: refused only if a symbol is decoded
        var left = 1
        for length in 1...15 {
            left <<= 1
            left -= counts[length]
            if left < 0 { return .overSubscribed }
        }
        if left > 0 && (!allowsIncomplete || longest != 1) { return .incomplete }
        return nil
    }

    /// Builds the code; `nil` if the lengths over-subscribe the code space. Incomplete codes are
    /// built (unused bit patterns are rejected while decoding); use ``defect(_:allowsIncomplete:)``
    /// first to refuse them.
    init?(lengths: ArraySlice<UInt8>) {
        guard Self.defect(lengths, allowsIncomplete: true) != .overSubscribed else { return nil }
        self.init(checkedLengths: lengths)
    }

    /// Builds a code from lengths (each 0...15) that do not over-subscribe the code space.
    private init(checkedLengths lengths: ArraySlice<UInt8>) {
        var counts = [Int](repeating: 0, count: 16)
        for length in lengths { counts[Int(length)] += 1 }
        counts[0] = 0
        var offsets = [Int](repeating: 0, count: 16)
        for length in 1..<15 { offsets[length + 1] = offsets[length] + counts[length] }
        var symbols = [Int](repeating: 0, count: lengths.count)
        var fast = [UInt16](repeating: 0, count: 1 << Self.fastBits)
        var nextCode = [Int](repeating: 0, count: 16)
        // The first code of length L is (first(L-1) + count(L-1)) << 1 (RFC 1951 §3.2.2 step 2).
        var code = 0
        for length in 1...15 {
            nextCode[length] = code
            code = (code + counts[length]) << 1
        }
        for (symbol, length) in zip(0..., lengths) where length != 0 {
            let length = Int(length)
            symbols[offsets[length]] = symbol
            offsets[length] += 1
            let canonical = nextCode[length]
            nextCode[length] += 1
            if length <= Self.fastBits {
                var reversed = 0
                for bit in 0..<length where canonical & (1 << (length - 1 - bit)) != 0 {
                    reversed |= 1 << bit
                }
                let entry = UInt16(symbol << 4 | length)
                var index = reversed
                while index < fast.count {
                    fast[index] = entry
                    index += 1 << length
                }
            }
        }
        self.fast = fast
        self.counts = counts
        self.symbols = symbols
    }

    /// The fixed literal/length code of RFC 1951 §3.2.6.
    static let fixedLiteral: Huffman = {
        var lengths = [UInt8](repeating: 8, count: 288)
        for i in 144..<256 { lengths[i] = 9 }
        for i in 256..<280 { lengths[i] = 7 }
        return Huffman(checkedLengths: lengths[...])  // a complete code (RFC 1951 §3.2.6)
    }()

    /// The fixed distance code of RFC 1951 §3.2.6 (30 used symbols + 2 reserved, all 5 bits).
    static let fixedDistance = Huffman(checkedLengths: [UInt8](repeating: 5, count: 32)[...])
}

// MARK: - Tables (RFC 1951 §3.2.5)

private let lengthBase: [Int] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
]
private let lengthExtra: [Int] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
]
private let distanceBase: [Int] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049,
    3073, 4097, 6145, 8193, 12289, 16385, 24577,
]
private let distanceExtra: [Int] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
]
/// Order in which code-length code lengths are stored (RFC 1951 §3.2.7).
private let codeLengthOrder: [Int] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

// MARK: - Bit-level decoder

private struct Decoder {
    let input: UnsafeBufferPointer<UInt8>
    var position: Int
    let path: String
    /// Pending input bits, least significant first.
    var bitBuffer: UInt64 = 0
    var bitCount = 0

    init(input: UnsafeBufferPointer<UInt8>, position: Int, path: String) {
        self.input = input
        self.position = position
        self.path = path
    }

    /// Index of the input byte holding the next unread bit.
    var currentByte: Int { position - (bitCount + 7) / 8 }

    /// Index of the first byte after the stream once decoding finished (partial byte skipped).
    var streamEnd: Int { position - bitCount / 8 }

    func error(_ what: String, _ kind: DataError.Kind = .corrupt) -> DataError {
        DataError(
            kind, what, path: path, byteOffset: max(0, currentByte),
            fix: kind == .truncated
                ? "the compressed file is incomplete; download or copy it again"
                : "the compressed data is corrupted; download or copy the file again, or check it with `gzip -t`")
    }

    /// The output would pass the caller's limit.
    func limitError(_ sink: ByteSink) -> DataError {
        DataError(
            .tooLarge, "the compressed data decompress to more than \(FileIO.sizeText(sink.limit)), the limit for this file",
            path: path, byteOffset: max(0, currentByte),
            fix: "the file is not what it should be (or is a decompression bomb); check it with `gzip -l` and `zcat FILE | head -c 64 | xxd`")
    }

    @inline(__always)
    mutating func refill() {
        while bitCount <= 56 && position < input.count {
            bitBuffer |= UInt64(input[position]) << UInt64(bitCount)
            position += 1
            bitCount += 8
        }
    }

    @inline(__always)
    mutating func bits(_ count: Int) throws(DataError) -> Int {
        if count == 0 { return 0 }
        if bitCount < count {
            refill()
            if bitCount < count { throw error("DEFLATE stream ends in the middle of a block", .truncated) }
        }
        let value = Int(bitBuffer & ((1 << UInt64(count)) - 1))
        bitBuffer >>= UInt64(count)
        bitCount -= count
        return value
    }

    @inline(__always)
    mutating func decodeSymbol(_ code: Huffman) throws(DataError) -> Int {
        try code.fast.withUnsafeBufferPointer { (fast) throws(DataError) -> Int in
            try decodeSymbol(code, fast: fast)
        }
    }

    /// Decodes one symbol; `fast` is `code.fast` (passed as a pointer for speed in debug builds).
    @inline(__always)
    mutating func decodeSymbol(_ code: Huffman, fast: UnsafeBufferPointer<UInt16>) throws(DataError) -> Int {
        if bitCount < 15 { refill() }
        let entry = Int(fast[Int(bitBuffer & UInt64((1 << Huffman.fastBits) - 1))])
        let length = entry & 15
        if entry != 0 && length <= bitCount {
            bitBuffer >>= UInt64(length)
            bitCount -= length
            return entry >> 4
        }
        return try decodeSlow(code)
    }

    /// Canonical decoding one bit at a time (codes longer than the fast table, or errors).
    mutating func decodeSlow(_ huffman: Huffman) throws(DataError) -> Int {
        var code = 0
        var first = 0
        var index = 0
        for length in 1...15 {
            guard length <= bitCount else {
                throw error("DEFLATE stream ends in the middle of a Huffman code", .truncated)
            }
            code |= Int((bitBuffer >> UInt64(length - 1)) & 1)
            let count = huffman.counts[length]
            if code - first < count {
                bitBuffer >>= UInt64(length)
                bitCount -= length
                return huffman.symbols[index + code - first]
            }
            index += count
            first = (first + count) << 1
            code <<= 1
        }
        throw error("invalid Huffman code (bit pattern not assigned to any symbol)")
    }

    mutating func run(into sink: inout ByteSink) throws(DataError) {
        var isFinal = false
        while !isFinal {
            isFinal = try bits(1) == 1
            switch try bits(2) {
            case 0: try storedBlock(into: &sink)
            case 1: try huffmanBlock(literal: Huffman.fixedLiteral, distance: Huffman.fixedDistance, into: &sink)
            case 2:
                let (literal, distance) = try dynamicCodes()
                try huffmanBlock(literal: literal, distance: distance, into: &sink)
            default: throw error("invalid DEFLATE block type 3 (reserved)")
            }
        }
    }

    mutating func storedBlock(into sink: inout ByteSink) throws(DataError) {
        // Skip to the byte boundary, then give whole buffered bytes back to the input.
        let partial = bitCount & 7
        bitBuffer >>= UInt64(partial)
        bitCount -= partial
        position -= bitCount / 8
        bitBuffer = 0
        bitCount = 0
        guard position + 4 <= input.count else {
            throw error("DEFLATE stream ends inside a stored block header", .truncated)
        }
        let length = Int(input[position]) | Int(input[position + 1]) << 8
        let complement = Int(input[position + 2]) | Int(input[position + 3]) << 8
        guard length == complement ^ 0xFFFF else {
            throw error("stored block length \(length) does not match its one's complement \(complement)")
        }
        position += 4
        guard position + length <= input.count else {
            throw error(
                "stored block needs \(length) bytes but only \(input.count - position) remain", .truncated)
        }
        if length > 0, let source = input.baseAddress {
            guard sink.append(source + position, count: length) else { throw limitError(sink) }
        }
        position += length
    }

    mutating func dynamicCodes() throws(DataError) -> (Huffman, Huffman) {
        let literalCount = try bits(5) + 257
        let distanceCount = try bits(5) + 1
        let codeLengthCount = try bits(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else {
            throw error("dynamic block declares \(literalCount) literal/length and \(distanceCount) distance codes (max 286 and 30)")
        }
        var codeLengthLengths = [UInt8](repeating: 0, count: 19)
        for i in 0..<codeLengthCount { codeLengthLengths[codeLengthOrder[i]] = UInt8(try bits(3)) }
        if let defect = Huffman.defect(codeLengthLengths[...], allowsIncomplete: false) {
            throw error("\(defect == .overSubscribed ? "over-subscribed" : "incomplete") code-length code in dynamic block header")
        }
        guard let codeLengthCode = Huffman(lengths: codeLengthLengths[...]) else {
            throw error("over-subscribed code-length code in dynamic block header")
        }
        let total = literalCount + distanceCount
        var lengths = [UInt8](repeating: 0, count: total)
        var i = 0
        while i < total {
            let symbol = try decodeSymbol(codeLengthCode)
            if symbol < 16 {
                lengths[i] = UInt8(symbol)
                i += 1
                continue
            }
            var value: UInt8 = 0
            let repeatCount: Int
            switch symbol {
            case 16:
                guard i > 0 else { throw error("code-length repeat (16) with no previous length") }
                value = lengths[i - 1]
                repeatCount = 3 + (try bits(2))
            case 17: repeatCount = 3 + (try bits(3))
            default: repeatCount = 11 + (try bits(7))
            }
            guard i + repeatCount <= total else { throw error("code-length repeat runs past the end of the code lengths") }
            for j in i..<(i + repeatCount) { lengths[j] = value }
            i += repeatCount
        }
        guard lengths[256] != 0 else { throw error("dynamic block has no end-of-block code") }
        for (name, part) in [("literal/length", lengths[0..<literalCount]), ("distance", lengths[literalCount...])] {
            if let defect = Huffman.defect(part, allowsIncomplete: true) {
                throw error("\(defect == .overSubscribed ? "over-subscribed" : "incomplete") \(name) code in dynamic block header")
            }
        }
        guard let literal = Huffman(lengths: lengths[0..<literalCount]) else {
            throw error("over-subscribed literal/length code in dynamic block header")
        }
        guard let distance = Huffman(lengths: lengths[literalCount...]) else {
            throw error("over-subscribed distance code in dynamic block header")
        }
        return (literal, distance)
    }

    mutating func huffmanBlock(literal: Huffman, distance: Huffman, into sink: inout ByteSink) throws(DataError) {
        try literal.fast.withUnsafeBufferPointer { (fast) throws(DataError) in
            try huffmanBlock(literal: literal, literalFast: fast, distance: distance, into: &sink)
        }
    }

    mutating func huffmanBlock(
        literal: Huffman, literalFast: UnsafeBufferPointer<UInt16>, distance: Huffman, into sink: inout ByteSink
    ) throws(DataError) {
        while true {
            let symbol = try decodeSymbol(literal, fast: literalFast)
            if symbol < 256 {
                if sink.count == sink.capacity {
                    guard sink.grow(to: sink.count + 1) else { throw limitError(sink) }
                }
                sink.base[sink.count] = UInt8(truncatingIfNeeded: symbol)
                sink.count += 1
            } else if symbol == 256 {
                return
            } else {
                let lengthIndex = symbol - 257
                guard lengthIndex < 29 else { throw error("invalid length symbol \(symbol)") }
                let length = lengthBase[lengthIndex] + (try bits(lengthExtra[lengthIndex]))
                let distanceSymbol = try decodeSymbol(distance)
                guard distanceSymbol < 30 else { throw error("invalid distance symbol \(distanceSymbol)") }
                let offset = distanceBase[distanceSymbol] + (try bits(distanceExtra[distanceSymbol]))
                guard offset <= sink.count else {
                    throw error("back-reference distance \(offset) reaches before the start of the output (\(sink.count) bytes)")
                }
                guard sink.copyMatch(distance: offset, length: length) else { throw limitError(sink) }
            }
        }
    }
}
