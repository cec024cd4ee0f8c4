import Foundation
import Testing
@testable import Recurrent

// MARK: - Helpers

/// Builds a safetensors byte stream from a header string and data bytes; the
/// header is padded with spaces to 8-byte alignment unless `pad` is false.
private func assemble(_ header: String, data: [UInt8] = [], pad: Bool = true) -> [UInt8] {
    assemble(headerBytes: Array(header.utf8), data: data, pad: pad)
}

private func assemble(headerBytes: [UInt8], data: [UInt8] = [], pad: Bool = true) -> [UInt8] {
    var header = headerBytes
    if pad { header += repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8) }
    return lengthPrefix(UInt64(header.count)) + header + data
}

private func lengthPrefix(_ length: UInt64) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) }
}

/// One header entry as JSON text.
private func entry(_ name: String, _ dtype: String, _ shape: String, _ offsets: String) -> String {
    "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
}

/// A fresh, empty directory for one test.
private func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("recurrent-safetensors-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}


/// A file exercising every dtype, a scalar, an empty tensor and metadata.
private func sampleFile() -> SafeTensorsFile {
    SafeTensorsFile(
        tensors: [
            "rnn.weight_ih_l0": SafeTensor(floats: [0.5, -1.25, 2, 0.1, -0.0, .infinity], shape: [2, 3]),
            "rnn.bias": SafeTensor(doubles: [0.1, -2.5, 1e300], shape: [3]),
            "steps": SafeTensor(int64s: [-3, 9_007_199_254_740_993], shape: [2]),
            "scalar": SafeTensor(floats: [42], shape: []),
            "empty": SafeTensor(floats: [], shape: [0, 3]),
            "half": SafeTensor(dtype: .f16, shape: [2], bytes: [0x00, 0x3C, 0x00, 0xC0]),
            "brain": SafeTensor(dtype: .bf16, shape: [1, 1], bytes: [0x80, 0x3F]),
            "i32": SafeTensor(dtype: .i32, shape: [1], bytes: [0xFF, 0xFF, 0xFF, 0xFF]),
            "i16": SafeTensor(dtype: .i16, shape: [2], bytes: [0x01, 0x00, 0x00, 0x80]),
            "i8": SafeTensor(dtype: .i8, shape: [3], bytes: [0x7F, 0x80, 0xFF]),
            "u8": SafeTensor(dtype: .u8, shape: [1], bytes: [0xFF]),
            "mask": SafeTensor(dtype: .bool, shape: [3], bytes: [1, 0, 1]),
            "weird \"name\"\n é/ü": SafeTensor(floats: [1], shape: [1, 1, 1]),
        ],
        metadata: ["format": "pt", "note": "quote \" backslash \\ tab \t ctrl \u{01} é"])
}

// MARK: - Round trips

@Suite("SafeTensors round trip")
struct SafeTensorsRoundTripTests {

    @Test("every dtype, a scalar and an empty tensor survive serialise + parse")
    func roundTrip() throws {
        let original = sampleFile()
        let parsed = try SafeTensorsFile(bytes: try original.serialized())
        #expect(parsed == original)
        #expect(try parsed.tensors["scalar"]?.floats() == [42])
        #expect(parsed.tensors["scalar"]?.shape == [])
        #expect(parsed.tensors["empty"]?.shape == [0, 3])
        #expect(try parsed.tensors["empty"]?.floats() == [])
        #expect(try parsed.tensors["steps"]?.int64s() == [-3, 9_007_199_254_740_993])
        #expect(try parsed.tensors["rnn.bias"]?.doubles() == [0.1, -2.5, 1e300])
    }

    @Test("metadata with escapes and non-ASCII survives, and empty metadata stays empty")
    func metadataRoundTrip() throws {
        let original = sampleFile()
        #expect(try SafeTensorsFile(bytes: try original.serialized()).metadata == original.metadata)
        let bare = SafeTensorsFile(tensors: ["x": SafeTensor(floats: [1], shape: [1])])
        let bytes = try bare.serialized()
        #expect(!String(decoding: bytes, as: UTF8.self).contains("__metadata__"))
        #expect(try SafeTensorsFile(bytes: bytes).metadata == [:])
    }

    @Test("an empty file serialises to the reference bytes and parses back")
    func emptyFile() throws {
        let bytes = try SafeTensorsFile().serialized()
        #expect(bytes == [8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8))
        #expect(try SafeTensorsFile(bytes: bytes) == SafeTensorsFile())
    }

    @Test("serialising is deterministic, whatever the dictionary insertion order")
    func determinism() throws {
        let file = sampleFile()
        let first = try file.serialized()
        #expect(try file.serialized() == first)
        var reordered = SafeTensorsFile()
        for name in file.tensors.keys.sorted().reversed() { reordered.tensors[name] = file.tensors[name] }
        for key in file.metadata.keys.sorted().reversed() { reordered.metadata[key] = file.metadata[key] }
        #expect(try reordered.serialized() == first)
    }

    @Test("header is space-padded to 8 bytes and every tensor is naturally aligned")
    func alignment() throws {
        let bytes = try sampleFile().serialized()
        let headerLength = bytes[..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect(headerLength % 8 == 0)
        let header = try #require(
            try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as? [String: Any])
        for (name, value) in header where name != "__metadata__" {
            let info = try #require(value as? [String: Any])
            let offsets = try #require(info["data_offsets"] as? [Int])
            let dtypeName = try #require(info["dtype"] as? String)
            let dtype = try #require(SafeTensorsDType(rawValue: dtypeName))
            #expect(offsets[0] % dtype.byteCount == 0, "tensor \(name) is misaligned")
        }
    }
}

// MARK: - Independent byte fixture

@Suite("SafeTensors hand-assembled fixture")
struct SafeTensorsFixtureTests {

    /// Built byte by byte from the format description, in the reference writer's
    /// order (I64, F32 by name, BF16, F16, U8); 359 header bytes + 1 space = 360.
    static let header =
        #"{"__metadata__":{"format":"pt"},"#
        + #""n":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"#
        + #""e":{"dtype":"F32","shape":[0,3],"data_offsets":[8,8]},"#
        + #""w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"#
        + #""bf":{"dtype":"BF16","shape":[1],"data_offsets":[16,18]},"#
        + #""h":{"dtype":"F16","shape":[2],"data_offsets":[18,22]},"#
        + #""m":{"dtype":"U8","shape":[2],"data_offsets":[22,24]}}"#
        + " "

    static let bytes: [UInt8] =
        [0x68, 0x01, 0, 0, 0, 0, 0, 0]  // 360, little-endian
        + Array(header.utf8)
        + [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]  // n: Int64 -2
        + [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0]  // w: Float 1.0, -2.5
        + [0x00, 0xBF]  // bf: bfloat16 0xBF00 = -0.5
        + [0x00, 0x3C, 0xFF, 0x7B]  // h: half 0x3C00 = 1.0, 0x7BFF = 65504
        + [0x07, 0xFF]  // m: UInt8 7, 255

    @Test("parses the hand-assembled bytes to the expected values")
    func parse() throws {
        #expect(Self.header.utf8.count == 360)
        let file = try SafeTensorsFile(bytes: Self.bytes)
        #expect(file.metadata == ["format": "pt"])
        #expect(Set(file.tensors.keys) == ["n", "e", "w", "bf", "h", "m"])
        #expect(file.tensors["n"]?.shape == [])
        #expect(try file.tensors["n"]?.int64s() == [-2])
        #expect(file.tensors["e"] == SafeTensor(dtype: .f32, shape: [0, 3], bytes: []))
        #expect(try file.tensors["w"]?.floats() == [1, -2.5])
        #expect(try file.tensors["bf"]?.floats() == [-0.5])
        #expect(try file.tensors["h"]?.floats() == [1, 65504])
        #expect(try file.tensors["m"]?.int64s() == [7, 255])
        #expect(try file.tensors["m"]?.floats() == [7, 255])
    }

    @Test("re-serialising reproduces the hand-assembled bytes exactly")
    func byteExactWriter() throws {
        #expect(try SafeTensorsFile(bytes: Self.bytes).serialized() == Self.bytes)
    }

    @Test("an unpadded header is accepted too")
    func unpaddedHeader() throws {
        let file = try SafeTensorsFile(bytes: assemble(
            "{" + entry("x", "F32", "[1]", "[0,4]") + "}", data: [0, 0, 0x80, 0x3F], pad: false))
        #expect(try file.tensors["x"]?.floats() == [1])
    }
}

// MARK: - Python reference fixture

@Suite("SafeTensors Python interop")
struct SafeTensorsPythonInteropTests {

    /// Written by `Fixtures/make_safetensors_fixture.py` with `safetensors.numpy.save_file`.
    static func fixtureBytes() throws -> [UInt8] {
        let url = try #require(Bundle.module.url(
            forResource: "python_written", withExtension: "safetensors", subdirectory: "Fixtures"))
        return Array(try Data(contentsOf: url))
    }

    @Test("reads the file written by Python safetensors with exact values")
    func readPythonFile() throws {
        let url = try #require(Bundle.module.url(
            forResource: "python_written", withExtension: "safetensors", subdirectory: "Fixtures"))
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.metadata == ["cell": "rnn"])
        #expect(Set(file.tensors.keys) == ["rnn.weight_ih_l0", "b", "idx"])

        let weight = try #require(file.tensors["rnn.weight_ih_l0"])
        #expect(weight.dtype == .f32)
        #expect(weight.shape == [2, 3])
        let floats = try weight.floats()
        #expect(floats == [0.5, -1.25, 2.0, 0.1, -0.0, 3e-8])
        #expect(floats[4].sign == .minus)

        let bias = try #require(file.tensors["b"])
        #expect(bias.dtype == .f64 && bias.shape == [3])
        #expect(try bias.doubles() == [0.1, -2.5, 1e300])

        let index = try #require(file.tensors["idx"])
        #expect(index.dtype == .i64 && index.shape == [2])
        #expect(try index.int64s() == [-3, 9_007_199_254_740_993])
    }

    @Test("re-serialising the Python file reproduces its bytes exactly")
    func byteIdenticalToPython() throws {
        let bytes = try Self.fixtureBytes()
        #expect(try SafeTensorsFile(bytes: bytes).serialized() == bytes)
    }
}

// MARK: - Malformed input

/// One malformed input and the fragments its error message must contain.
struct SafeTensorsMalformedCase: Sendable, CustomTestStringConvertible {
    let label: String
    let bytes: [UInt8]
    let fragments: [String]
    var testDescription: String { label }

    init(_ label: String, _ bytes: [UInt8], _ fragments: String...) {
        self.init(label: label, bytes: bytes, fragments: fragments)
    }

    init(label: String, bytes: [UInt8], fragments: [String]) {
        self.label = label
        self.bytes = bytes
        self.fragments = fragments
    }

    /// A file with one tensor `w` whose entry fields are given as JSON text.
    static func tensor(_ label: String, dtype: String = "\"F32\"", shape: String = "[1]",
                       offsets: String = "[0,4]", _ fragments: String...) -> SafeTensorsMalformedCase {
        let header = #"{"w":{"dtype":\#(dtype),"shape":\#(shape),"data_offsets":\#(offsets)}}"#
        return SafeTensorsMalformedCase(label: label, bytes: assemble(header, data: [0, 0, 0, 0]), fragments: fragments)
    }

    static let all: [SafeTensorsMalformedCase] = [
        // Framing
        .init("shorter than 8 bytes", [1, 2, 3], "3 bytes", "8-byte", "truncated"),
        .init("empty input", [], "0 bytes"),
        .init("header length beyond the file", lengthPrefix(1000) + Array("{}".utf8), "1000", "only 2 bytes"),
        .init("header length above 100 MB", lengthPrefix(200_000_000) + Array("{}".utf8), "200000000", "100000000"),
        .init("header length UInt64.max", lengthPrefix(.max), "18446744073709551615"),
        .init("zero-length header", lengthPrefix(0), "not valid JSON"),
        // Header text
        .init("header not UTF-8", assemble(headerBytes: [0x7B, 0x22, 0x61, 0xFF, 0x22, 0x3A, 0x31, 0x7D]),
              "UTF-8", "file offset 11"),
        .init("header not JSON", assemble("{abc"), "not valid JSON"),
        .init("header is an array", assemble("[1,2]"), "an array", "must be an object"),
        .init("header is a string", assemble("\"x\""), "the string", "must be an object"),
        // Entries
        .init("entry not an object", assemble(#"{"w":3}"#), "'w'", "the number 3"),
        .init("missing dtype", assemble(#"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]),
              "'w'", "\"dtype\""),
        .init("missing shape", assemble(#"{"w":{"dtype":"F32","data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]),
              "'w'", "\"shape\""),
        .init("missing data_offsets", assemble(#"{"w":{"dtype":"F32","shape":[1]}}"#, data: [0, 0, 0, 0]),
              "'w'", "\"data_offsets\""),
        .tensor("dtype not a string", dtype: "5", "\"dtype\" of tensor 'w'", "the number 5"),
        .tensor("unknown dtype", dtype: "\"F17\"", "'w'", "\"F17\"", "not a safetensors dtype", "F32"),
        .tensor("unsupported dtype", dtype: "\"U16\"", "'w'", "\"U16\"", "does not support"),
        .tensor("shape not an array", shape: "\"1\"", "\"shape\" of tensor 'w'", "the string"),
        .tensor("fractional dimension", shape: "[1.5]", "\"shape\"", "1.5"),
        .tensor("boolean dimension", shape: "[true]", "\"shape\"", "true"),
        .tensor("negative dimension", shape: "[-1,2]", "'w'", "[-1, 2]", "negative"),
        .tensor("element count overflow", shape: "[4611686018427387904,4]", "'w'", "overflow"),
        .tensor("byte size overflow", shape: "[4611686018427387904]", "'w'", "overflow"),
        .tensor("one data offset", offsets: "[0]", "\"data_offsets\" of tensor 'w'", "an array of 1 element,"),
        .tensor("string data offset", offsets: "[0,\"4\"]", "\"data_offsets\"", "the string"),
        .tensor("negative data offset", offsets: "[-1,3]", "\"data_offsets\"", "-1"),
        .tensor("data offset beyond Int", offsets: "[0,18446744073709551615]", "\"data_offsets\""),
        .tensor("end before begin", offsets: "[4,0]", "'w'", "[4, 0]", "before its begin"),
        .tensor("offsets past the data", offsets: "[0,400]", "'w'", "400", "4-byte data section"),
        .tensor("size mismatch", shape: "[2]", "'w'", "needs 8 bytes", "cover 4 bytes"),
        // Layout
        .init("overlapping tensors", assemble("{" + entry("a", "F32", "[2]", "[0,8]") + ","
                                                  + entry("b", "F32", "[2]", "[4,12]") + "}",
                                              data: Array(repeating: 0, count: 12)),
              "'b'", "'a'", "overlap"),
        .init("gap between tensors", assemble("{" + entry("a", "F32", "[1]", "[0,4]") + ","
                                                  + entry("b", "F32", "[1]", "[8,12]") + "}",
                                              data: Array(repeating: 0, count: 12)),
              "4..<8", "'b'", "contiguous", "file offsets"),
        .init("gap before the first tensor", assemble("{" + entry("a", "F32", "[1]", "[4,8]") + "}",
                                                      data: Array(repeating: 0, count: 8)),
              "0..<4", "'a'", "contiguous"),
        .init("trailing bytes", assemble("{" + entry("a", "F32", "[1]", "[0,4]") + "}",
                                         data: Array(repeating: 0, count: 8)),
              "4..<8", "after the last tensor"),
        .init("trailing bytes without tensors", assemble("{}", data: [1]), "0..<1"),
        // Metadata
        .init("metadata not an object", assemble(#"{"__metadata__":[1]}"#), "\"__metadata__\"", "an array"),
        .init("metadata value not a string", assemble(#"{"__metadata__":{"k":1}}"#), "'k'", "the number 1", "strings"),
    ]
}

@Suite("SafeTensors validation")
struct SafeTensorsValidationTests {

    @Test("malformed input throws an actionable error", arguments: SafeTensorsMalformedCase.all)
    func malformed(_ testCase: SafeTensorsMalformedCase) throws {
        let error = try #require(#expect(throws: SafeTensorsError.self) {
            try SafeTensorsFile(bytes: testCase.bytes)
        })
        let message = error.description
        for fragment in testCase.fragments {
            #expect(message.contains(fragment), "\(message)")
        }
        #expect(message.hasPrefix("Cannot read safetensors data: "))
        #expect(message.contains("Re-export") || message.contains("Convert the tensor"), "no remedy: \(message)")
        #expect(message.hasSuffix("."))
        #expect(error.path == nil)
    }

    @Test("lenient cases the reference library (0.8) also accepts")
    func lenientInput() throws {
        #expect(try SafeTensorsFile(bytes: assemble(#"{"__metadata__":null}"#)).metadata == [:])
        #expect(try SafeTensorsFile(bytes: assemble(" \n{}")) == SafeTensorsFile())
        let extraField = "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"extra\":true}}"
        #expect(try SafeTensorsFile(bytes: assemble(extraField, data: [9])).tensors["w"]?.int64s() == [9])
    }

    @Test("an empty tensor inside another tensor's bytes is rejected as overlapping")
    func emptyTensorInsideAnother() throws {
        let bytes = assemble("{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[0]", "[4,4]") + "}",
                             data: Array(repeating: 0, count: 8))
        let error = try #require(#expect(throws: SafeTensorsError.self) { try SafeTensorsFile(bytes: bytes) })
        #expect(error.kind == .overlap(tensor: "b", other: "a", begin: 4, otherEnd: 8))
    }

    @Test("truncating a valid file at every length throws and never crashes")
    func truncation() throws {
        let bytes = try sampleFile().serialized()
        for length in 0..<bytes.count {
            #expect(throws: SafeTensorsError.self, "length \(length)") {
                try SafeTensorsFile(bytes: Array(bytes[..<length]))
            }
        }
    }

    @Test("random byte corruption never crashes; accepted results stay consistent")
    func mutations() throws {
        let original = try sampleFile().serialized()
        var generator = SeededGenerator(seed: 0x5AFE_7E45)
        for _ in 0..<3000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                bytes[index] = UInt8.random(in: 0...255, using: &generator)
            }
            guard let parsed = try? SafeTensorsFile(bytes: bytes) else { continue }
            let reserialized = try parsed.serialized()
            #expect(try SafeTensorsFile(bytes: reserialized) == parsed)
        }
    }
}

// MARK: - Conversions

@Suite("SafeTensor conversions")
struct SafeTensorConversionTests {

    /// Reference value of a binary16 bit pattern, from the IEEE 754 definition.
    static func referenceHalf(_ bits: UInt16) -> Double {
        let sign: Double = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int(bits >> 10) & 0x1F
        let mantissa = Double(bits & 0x3FF)
        if exponent == 0 { return sign * mantissa / 1024 * pow(2, -14) }
        if exponent == 31 { return mantissa == 0 ? sign * .infinity : .nan }
        return sign * (1 + mantissa / 1024) * pow(2, Double(exponent - 15))
    }

    @Test("F16 decoding matches the IEEE 754 definition for all 65536 bit patterns")
    func halfExhaustive() throws {
        let patterns = (0...UInt16.max).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let values = try SafeTensor(dtype: .f16, shape: [65536], bytes: patterns).floats()
        for bits in 0...UInt16.max {
            let value = values[Int(bits)]
            let expected = Self.referenceHalf(bits)
            if expected.isNaN {
                #expect(value.isNaN, "0x\(String(bits, radix: 16))")
            } else {
                #expect(Double(value) == expected && value.sign == (bits & 0x8000 != 0 ? .minus : .plus),
                        "0x\(String(bits, radix: 16))")
            }
        }
    }

    @Test("F16 and BF16 landmark values", arguments: [
        (SafeTensorsDType.f16, UInt16(0x3C00), Float(1)),
        (.f16, 0xC000, -2),
        (.f16, 0x7BFF, 65504),
        (.f16, 0x0001, 0x1p-24),
        (.f16, 0x03FF, 0x1.ff8p-15),
        (.f16, 0x0400, 0x1p-14),
        (.f16, 0x3555, 0.333251953125),
        (.f16, 0x7C00, .infinity),
        (.f16, 0xFC00, -.infinity),
        (.bf16, 0x3F80, 1),
        (.bf16, 0xC0A0, -5),
        (.bf16, 0x0001, 0x1p-133),
        (.bf16, 0x7F80, .infinity),
    ])
    func halfLandmarks(dtype: SafeTensorsDType, bits: UInt16, expected: Float) throws {
        let tensor = SafeTensor(dtype: dtype, shape: [], bytes: [UInt8(bits & 0xFF), UInt8(bits >> 8)])
        #expect(try tensor.floats() == [expected])
        #expect(try tensor.doubles() == [Double(expected)])
    }

    @Test("NaN and negative zero decode correctly")
    func specialValues() throws {
        #expect(try SafeTensor(dtype: .f16, shape: [], bytes: [0x00, 0x7E]).floats()[0].isNaN)
        #expect(try SafeTensor(dtype: .bf16, shape: [], bytes: [0xC0, 0x7F]).floats()[0].isNaN)
        let negativeZero = try SafeTensor(dtype: .f16, shape: [], bytes: [0x00, 0x80]).floats()[0]
        #expect(negativeZero == 0 && negativeZero.sign == .minus)
    }

    @Test("integer dtypes decode sign-correctly and convert to floating point")
    func integers() throws {
        let i32 = SafeTensor(dtype: .i32, shape: [2], bytes: [0xFE, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x80])
        #expect(try i32.int64s() == [-2, Int64(Int32.min)])
        #expect(try i32.floats() == [-2, Float(Int32.min)])
        #expect(try SafeTensor(dtype: .i16, shape: [2], bytes: [0xFF, 0x7F, 0xFF, 0xFF]).int64s() == [32767, -1])
        #expect(try SafeTensor(dtype: .i8, shape: [2], bytes: [0x80, 0x05]).doubles() == [-128, 5])
        #expect(try SafeTensor(dtype: .u8, shape: [1], bytes: [0xFF]).int64s() == [255])
        #expect(try SafeTensor(int64s: [-7], shape: [1]).doubles() == [-7])
    }

    @Test("floating-point conversions between F32 and F64")
    func floatingConversions() throws {
        #expect(try SafeTensor(doubles: [0.1, 1e300], shape: [2]).floats() == [0.1, .infinity])
        #expect(try SafeTensor(floats: [0.1], shape: [1]).doubles() == [Double(Float(0.1))])
    }

    @Test("undefined conversions throw with the dtype named")
    func undefinedConversions() throws {
        let mask = SafeTensor(dtype: .bool, shape: [1], bytes: [1])
        let floatError = try #require(#expect(throws: SafeTensorsError.self) { try mask.floats() })
        #expect(floatError.kind == .unsupportedConversion(dtype: "BOOL", target: "Float"))
        #expect(floatError.description.contains("BOOL") && floatError.description.contains("bytes"))
        #expect(throws: SafeTensorsError.self) { try mask.doubles() }
        #expect(throws: SafeTensorsError.self) { try mask.int64s() }
        let intError = try #require(#expect(throws: SafeTensorsError.self) {
            try SafeTensor(floats: [1], shape: [1]).int64s()
        })
        #expect(intError.description.contains("F32") && intError.description.contains("Int64"))
    }

    @Test("a tensor whose bytes do not match its shape is rejected, not misread")
    func inconsistentTensor() throws {
        let bad = SafeTensor(floats: [1, 2, 3], shape: [2, 2])
        let error = try #require(#expect(throws: SafeTensorsError.self) { try bad.floats() })
        #expect(error.description.contains("[2, 2]") && error.description.contains("12 bytes"))
        #expect(throws: SafeTensorsError.self) { try SafeTensor(floats: [1], shape: [-1]).floats() }
        #expect(throws: SafeTensorsError.self) { try SafeTensor(floats: [1], shape: [Int.max, 2]).floats() }

        let writeError = try #require(#expect(throws: SafeTensorsError.self) {
            try SafeTensorsFile(tensors: ["layer.w": bad]).serialized()
        })
        #expect(writeError.description.contains("'layer.w'"))
    }

    @Test("the reserved name __metadata__ cannot be used for a tensor")
    func reservedName() throws {
        let error = try #require(#expect(throws: SafeTensorsError.self) {
            try SafeTensorsFile(tensors: ["__metadata__": SafeTensor(floats: [1], shape: [1])]).serialized()
        })
        #expect(error.kind == .reservedTensorName("__metadata__"))
        #expect(error.description.contains("Rename"))
    }

    @Test("element counts, including scalar, empty and overflowing shapes")
    func elementCounts() {
        #expect(SafeTensor(floats: [1], shape: []).elementCount == 1)
        #expect(SafeTensor(floats: [], shape: [0, 3]).elementCount == 0)
        #expect(SafeTensor(floats: [], shape: [2, 3, 4]).elementCount == 24)
        #expect(SafeTensor(floats: [], shape: [Int.max, 2]).elementCount == Int.max)
    }

    @Test("dtype sizes")
    func dtypeSizes() {
        let sizes = Dictionary(uniqueKeysWithValues: SafeTensorsDType.allCases.map { ($0.rawValue, $0.byteCount) })
        #expect(sizes == ["F64": 8, "I64": 8, "F32": 4, "I32": 4, "F16": 2, "BF16": 2,
                          "I16": 2, "I8": 1, "U8": 1, "BOOL": 1])
    }
}

// MARK: - Files on disk

@Suite("SafeTensors files")
struct SafeTensorsFileIOTests {

    @Test("atomic write creates the file, replaces an existing one and leaves no temporary file")
    func atomicWrite() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.safetensors")

        let first = sampleFile()
        try first.write(to: url)
        #expect(try SafeTensorsFile(contentsOf: url) == first)
        #expect(Array(try Data(contentsOf: url)) == (try first.serialized()))

        let second = SafeTensorsFile(tensors: ["x": SafeTensor(floats: [3], shape: [1])], metadata: ["v": "2"])
        try second.write(to: url)
        #expect(try SafeTensorsFile(contentsOf: url) == second)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.safetensors"])
    }

    @Test("writing into a nonexistent directory throws, names the path and leaves nothing")
    func writeToMissingDirectory() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("missing/model.safetensors")
        let error = try #require(#expect(throws: SafeTensorsError.self) { try sampleFile().write(to: url) })
        #expect(error.path == url.path)
        #expect(error.description.contains(url.path))
        #expect(error.description.contains("No such file or directory"))
        #expect(error.description.contains("directory exists"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test("a failed write leaves the existing destination untouched and no temporary file")
    func failedWriteKeepsDestination() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        try sampleFile().write(to: url)
        let before = try Data(contentsOf: url)

        // Serialisation failure: nothing is written at all.
        let invalid = SafeTensorsFile(tensors: ["bad": SafeTensor(floats: [1], shape: [2])])
        let error = try #require(#expect(throws: SafeTensorsError.self) { try invalid.write(to: url) })
        #expect(error.description.contains(url.path) && error.description.contains("'bad'"))
        #expect(try Data(contentsOf: url) == before)

        // Rename failure: the destination is a non-empty directory.
        let blocked = directory.appendingPathComponent("blocked")
        try FileManager.default.createDirectory(at: blocked.appendingPathComponent("child"), withIntermediateDirectories: true)
        let renameError = try #require(#expect(throws: SafeTensorsError.self) { try sampleFile().write(to: blocked) })
        #expect(renameError.description.contains(blocked.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["blocked", "model.safetensors"])
    }

    @Test("reading a missing file throws and names the path")
    func readMissingFile() throws {
        let url = URL(fileURLWithPath: "/nonexistent-recurrent-dir/weights.safetensors")
        let error = try #require(#expect(throws: SafeTensorsError.self) { try SafeTensorsFile(contentsOf: url) })
        #expect(error.path == url.path)
        #expect(error.description.contains(url.path) && error.description.contains("No such file or directory"))
    }

    @Test("a corrupt file on disk reports its path and the problem")
    func readCorruptFile() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("corrupt.safetensors")
        try Data(assemble("{" + entry("a", "F32", "[1]", "[0,4]") + "}", data: Array(repeating: 0, count: 8)))
            .write(to: url)
        let error = try #require(#expect(throws: SafeTensorsError.self) { try SafeTensorsFile(contentsOf: url) })
        #expect(error.path == url.path)
        #expect(error.description.hasPrefix("Cannot read safetensors file '\(url.path)': "))
        #expect(error.description.contains("after the last tensor"))
    }
}
