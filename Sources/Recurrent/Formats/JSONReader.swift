// MARK: - Bounded JSON reading

/// A pull reader for JSON text (RFC 8259) from users' files: safetensors headers, and the JSON
/// stored in their metadata strings.
///
/// It exists instead of `JSONSerialization` for three reasons: memory (values are read straight
/// into the caller's structures, never into a tree of Foundation objects: a safetensors header
/// of 1.7 million entries took 3.7 GB that way), bounds (nesting deeper than `maximumDepth` is an
/// error, and nothing recurses on the input's depth: containers are counted on an explicit
/// stack), and error positions (every failure carries the byte offset in the text).
///
/// The grammar is strict RFC 8259: no comments, no trailing commas, no leading zeros, no raw
/// control characters in strings, no lone UTF-16 surrogates in `\u` escapes. The text must be
/// valid UTF-8 (callers check it first; ill-formed bytes inside strings are replaced by U+FFFD).
struct JSONReader {
    /// A syntax error, or nesting beyond the limit, at `offset` (bytes from the start of the text).
    struct Failure: Error, Equatable {
        var reason: String
        var offset: Int
        /// Whether the failure is the nesting limit rather than a syntax error.
        var isDepthLimit = false
    }

    /// The type of the next value.
    enum Kind: Equatable { case object, array, string, number, bool, null }

    /// A number as written: an integer that fits `Int`, or anything else (fraction, exponent,
    /// out of range), kept as its text.
    enum Number: Equatable {
        case integer(Int)
        case other(String)
    }

    private let text: ArraySlice<UInt8>
    private var position: Int
    /// The open containers, innermost last: whether each is an object, and whether it has
    /// yielded an element yet (so a comma is due before the next).
    private var open: [(isObject: Bool, started: Bool)] = []
    /// The most containers that may be open at once.
    let maximumDepth: Int

    init(_ text: ArraySlice<UInt8>, maximumDepth: Int) {
        self.text = text
        self.position = text.startIndex
        self.maximumDepth = maximumDepth
    }

    /// Offset of the next unread byte from the start of the text.
    var offset: Int { position - text.startIndex }

    private func failure(_ reason: String, at index: Int? = nil) -> Failure {
        Failure(reason: reason, offset: (index ?? position) - text.startIndex)
    }

    private mutating func skipWhitespace() {
        while position < text.endIndex {
            switch text[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private func describeByte(_ index: Int) -> String {
        guard index < text.endIndex else { return "the end of the text" }
        let byte = text[index]
        return byte >= 0x21 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
    }

    // MARK: - Values

    /// The kind of the next value (whitespace skipped), without consuming it.
    mutating func peek() throws(Failure) -> Kind {
        skipWhitespace()
        guard position < text.endIndex else { throw failure("a value is expected before the end of the text") }
        switch text[position] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        default: throw failure("unexpected \(describeByte(position)) where a value should start")
        }
    }

    /// Consumes `{`; then call ``nextKey()`` until it returns `nil`.
    mutating func beginObject() throws(Failure) { try begin(UInt8(ascii: "{"), isObject: true) }

    /// Consumes `[`; then call ``nextElement()`` until it returns `false`.
    mutating func beginArray() throws(Failure) { try begin(UInt8(ascii: "["), isObject: false) }

    private mutating func begin(_ byte: UInt8, isObject: Bool) throws(Failure) {
        skipWhitespace()
        guard position < text.endIndex, text[position] == byte else {
            throw failure("expected '\(Character(Unicode.Scalar(byte)))', found \(describeByte(position))")
        }
        guard open.count < maximumDepth else {
            var limit = failure("arrays and objects are nested deeper than \(maximumDepth) levels")
            limit.isDepthLimit = true
            throw limit
        }
        position += 1
        open.append((isObject, false))
    }

    /// The next key of the innermost object (its value is to be read next), or `nil` after
    /// consuming the closing `}`.
    mutating func nextKey() throws(Failure) -> String? {
        guard try advance(closing: UInt8(ascii: "}")) else { return nil }
        skipWhitespace()
        guard position < text.endIndex, text[position] == UInt8(ascii: "\"") else {
            throw failure("expected a string key, found \(describeByte(position))")
        }
        let key = try readString()
        skipWhitespace()
        guard position < text.endIndex, text[position] == UInt8(ascii: ":") else {
            throw failure("expected ':' after the key, found \(describeByte(position))")
        }
        position += 1
        return key
    }

    /// Whether the innermost array has another element (to be read next); `false` after
    /// consuming the closing `]`.
    mutating func nextElement() throws(Failure) -> Bool {
        try advance(closing: UInt8(ascii: "]"))
    }

    /// Moves to the next member of the innermost container: `false` (container closed) at its
    /// closing byte, otherwise consumes the comma due between members.
    private mutating func advance(closing: UInt8) throws(Failure) -> Bool {
        guard let last = open.indices.last else { throw failure("no open container") }
        skipWhitespace()
        if position < text.endIndex, text[position] == closing {
            position += 1
            open.removeLast()
            return false
        }
        if open[last].started {
            guard position < text.endIndex, text[position] == UInt8(ascii: ",") else {
                throw failure("expected ',' or '\(Character(Unicode.Scalar(closing)))', found \(describeByte(position))")
            }
            position += 1
        }
        open[last].started = true
        return true
    }

    /// Reads a string value.
    mutating func readString() throws(Failure) -> String {
        skipWhitespace()
        guard position < text.endIndex, text[position] == UInt8(ascii: "\"") else {
            throw failure("expected a string, found \(describeByte(position))")
        }
        let start = position
        position += 1
        var decoded: [UInt8] = []  // used once an escape is met
        var escaped = false
        var runStart = position
        while true {
            guard position < text.endIndex else { throw failure("unterminated string", at: start) }
            let byte = text[position]
            if byte == UInt8(ascii: "\"") {
                let run = text[runStart..<position]
                position += 1
                guard escaped else { return String(decoding: run, as: UTF8.self) }
                decoded += run
                return String(decoding: decoded, as: UTF8.self)
            }
            if byte < 0x20 {
                throw failure("control character 0x\(String(byte, radix: 16)) inside a string (it must be escaped)")
            }
            if byte != UInt8(ascii: "\\") {
                position += 1
                continue
            }
            escaped = true
            decoded += text[runStart..<position]
            let escape = position
            position += 1
            guard position < text.endIndex else { throw failure("unterminated string", at: start) }
            let letter = text[position]
            position += 1
            switch letter {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(letter)
            case UInt8(ascii: "b"): decoded.append(0x08)
            case UInt8(ascii: "f"): decoded.append(0x0C)
            case UInt8(ascii: "n"): decoded.append(0x0A)
            case UInt8(ascii: "r"): decoded.append(0x0D)
            case UInt8(ascii: "t"): decoded.append(0x09)
            case UInt8(ascii: "u"):
                var value = try hexQuad(at: escape)
                if (0xD800..<0xDC00).contains(value) {
                    guard position + 1 < text.endIndex, text[position] == UInt8(ascii: "\\"),
                          text[position + 1] == UInt8(ascii: "u") else {
                        throw failure("lone UTF-16 high surrogate in a \\u escape", at: escape)
                    }
                    position += 2
                    let low = try hexQuad(at: escape)
                    guard (0xDC00..<0xE000).contains(low) else {
                        throw failure("UTF-16 high surrogate not followed by a low surrogate", at: escape)
                    }
                    value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(value) {
                    throw failure("lone UTF-16 low surrogate in a \\u escape", at: escape)
                }
                decoded += Array(String(Character(Unicode.Scalar(value) ?? "\u{FFFD}")).utf8)
            default:
                throw failure("invalid escape '\\\(Character(Unicode.Scalar(letter)))' in a string", at: escape)
            }
            runStart = position
        }
    }

    /// The value of the four hex digits at `position` (consumed).
    private mutating func hexQuad(at escape: Int) throws(Failure) -> UInt32 {
        guard position + 4 <= text.endIndex else { throw failure("\\u escape cut short", at: escape) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = text[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("\\u escape with a non-hexadecimal digit", at: escape)
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    /// Reads a number value.
    mutating func readNumber() throws(Failure) -> Number {
        skipWhitespace()
        let start = position
        func digits(_ reader: inout JSONReader) -> Int {
            let first = reader.position
            while reader.position < reader.text.endIndex,
                  (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(reader.text[reader.position]) {
                reader.position += 1
            }
            return reader.position - first
        }
        if position < text.endIndex, text[position] == UInt8(ascii: "-") { position += 1 }
        let integerStart = position
        let integerDigits = digits(&self)
        guard integerDigits > 0 else { throw failure("expected a digit, found \(describeByte(position))") }
        if integerDigits > 1 && text[integerStart] == UInt8(ascii: "0") {
            throw failure("number with a leading zero", at: start)
        }
        var isInteger = true
        if position < text.endIndex, text[position] == UInt8(ascii: ".") {
            position += 1
            isInteger = false
            guard digits(&self) > 0 else { throw failure("expected a digit after '.', found \(describeByte(position))") }
        }
        if position < text.endIndex, text[position] == UInt8(ascii: "e") || text[position] == UInt8(ascii: "E") {
            position += 1
            isInteger = false
            if position < text.endIndex, text[position] == UInt8(ascii: "+") || text[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard digits(&self) > 0 else { throw failure("expected a digit in the exponent, found \(describeByte(position))") }
        }
        let written = text[start..<position]
        if isInteger {
            let negative = text[start] == UInt8(ascii: "-")
            var value = 0
            var overflow = false
            for byte in text[integerStart..<position] where !overflow {
                let digit = Int(byte - UInt8(ascii: "0"))
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (next, o2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
                overflow = o1 || o2
                value = next
            }
            if !overflow { return .integer(value) }
        }
        return .other(String(decoding: written, as: UTF8.self))
    }

    /// Reads `true` or `false`.
    mutating func readBool() throws(Failure) -> Bool {
        if try readLiteral("true") { return true }
        if try readLiteral("false") { return false }
        throw failure("unexpected \(describeByte(position)) where a value should start")
    }

    /// Reads `null`.
    mutating func readNull() throws(Failure) {
        guard try readLiteral("null") else { throw failure("unexpected \(describeByte(position)) where a value should start") }
    }

    private mutating func readLiteral(_ word: StaticString) throws(Failure) -> Bool {
        skipWhitespace()
        let count = word.utf8CodeUnitCount
        guard position + count <= text.endIndex else { return false }
        let matches = word.withUTF8Buffer { text[position..<(position + count)].elementsEqual($0) }
        if matches { position += count }
        return matches
    }

    /// Reads and discards the next value, however nested (iteratively, within `maximumDepth`).
    mutating func skipValue() throws(Failure) {
        let base = open.count
        repeat {
            switch try peek() {
            case .object: try beginObject()
            case .array: try beginArray()
            case .string: _ = try readString()
            case .number: _ = try readNumber()
            case .bool: _ = try readBool()
            case .null: try readNull()
            }
            // Find the next value to read, closing finished containers.
            while open.count > base {
                let more = open[open.count - 1].isObject ? try nextKey() != nil : try nextElement()
                if more { break }
            }
        } while open.count > base
    }

    /// Reads the next value and describes it for an error message: "the string \"F32\"",
    /// "the number 1.5", "true", "null", "an object", "an array of 2 elements".
    mutating func describeNext() throws(Failure) -> String {
        switch try peek() {
        case .object:
            try skipValue()
            return "an object"
        case .array:
            try beginArray()
            var count = 0
            while try nextElement() {
                try skipValue()
                count += 1
            }
            return "an array of \(count) element\(count == 1 ? "" : "s")"
        case .string:
            let string = try readString()
            let shown = string.count > 40 ? String(string.prefix(40)) + "…" : string
            return "the string \(JSONText.quoted(shown))"
        case .number:
            switch try readNumber() {
            case .integer(let value): return "the number \(value)"
            case .other(let text): return "the number \(text.count > 40 ? String(text.prefix(40)) + "…" : text)"
            }
        case .bool:
            return try readBool() ? "true" : "false"
        case .null:
            try readNull()
            return "null"
        }
    }

    /// Checks that only whitespace follows the value read.
    mutating func finish() throws(Failure) {
        skipWhitespace()
        guard position == text.endIndex else {
            throw failure("unexpected \(describeByte(position)) after the end of the JSON value")
        }
    }

    // MARK: - Checking text before a decoder sees it

    /// Checks that `text` is one well-formed JSON value of at most `maximumLength` bytes and
    /// `maximumDepth` levels of nesting, so that a decoder (e.g. `JSONDecoder`) given it next
    /// meets no input larger or deeper than the caller allows. Throws a message for a person.
    static func check(_ text: String, maximumLength: Int, maximumDepth: Int) throws(Failure) {
        let length = text.utf8.count
        guard length <= maximumLength else {
            throw Failure(reason: "it is \(length) bytes long, more than the \(maximumLength)-byte limit", offset: maximumLength)
        }
        let bytes = Array(text.utf8)
        var reader = JSONReader(bytes[...], maximumDepth: maximumDepth)
        try reader.skipValue()
        try reader.finish()
    }
}
