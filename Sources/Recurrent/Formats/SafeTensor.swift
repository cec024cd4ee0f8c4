/// One tensor of a safetensors file: a dtype, a row-major shape and the raw
/// little-endian element bytes exactly as stored in the file.
///
/// The typed initialisers encode values; ``floats()``, ``doubles()`` and
/// ``int64s()`` decode them, converting between dtypes where that is defined.
/// A shape of `[]` is a scalar (one element); a shape containing `0` is empty.
public struct SafeTensor: Sendable, Equatable {
    /// The element type.
    public var dtype: SafeTensorsDType
    /// The dimensions, outermost first (row-major).
    public var shape: [Int]
    /// The raw little-endian element bytes; `dtype.byteCount * elementCount` of them.
    public var bytes: [UInt8]

    // MARK: - Initialisers

    /// Wraps raw little-endian bytes. Nothing is checked here; a mismatch between
    /// `bytes.count` and `dtype`/`shape` is reported by the decoding methods and
    /// by ``SafeTensorsFile/serialized()``.
    public init(dtype: SafeTensorsDType, shape: [Int], bytes: [UInt8]) {
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// An `F32` tensor holding `floats` in row-major order.
    public init(floats: [Float], shape: [Int]) {
        self.init(dtype: .f32, shape: shape, bytes: Self.encode(floats) { $0.bitPattern })
    }

    /// An `F64` tensor holding `doubles` in row-major order.
    public init(doubles: [Double], shape: [Int]) {
        self.init(dtype: .f64, shape: shape, bytes: Self.encode(doubles) { $0.bitPattern })
    }

    /// An `I64` tensor holding `int64s` in row-major order.
    public init(int64s: [Int64], shape: [Int]) {
        self.init(dtype: .i64, shape: shape, bytes: Self.encode(int64s) { UInt64(bitPattern: $0) })
    }

    // MARK: - Size

    /// The number of elements: the product of `shape` (1 for a scalar). Saturates
    /// at `Int.max` if the product overflows; negative dimensions are counted as
    /// written. Tensors loaded from a file never have either problem.
    public var elementCount: Int {
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return Int.max }
            count = product
        }
        return count
    }

    /// The element count, after checking that the shape is valid and agrees with
    /// the number of bytes.
    func validatedElementCount(name: String?) throws(SafeTensorsError) -> Int {
        let count = SafeTensorsHeader.elementCount(of: shape)
        guard let count,
              case let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteCount),
              !overflow, byteCount == bytes.count
        else {
            throw SafeTensorsError(.inconsistentTensor(
                tensor: name, dtype: dtype.rawValue, shape: shape, byteCount: bytes.count))
        }
        return count
    }

    // MARK: - Decoding

    /// The elements as `Float`, in row-major order. Floating-point dtypes are
    /// converted exactly where possible (`F64` is rounded to nearest); integer
    /// dtypes are converted to the nearest `Float`.
    /// - Throws: ``SafeTensorsError`` for `BOOL`, or if the bytes do not match the shape.
    public func floats() throws(SafeTensorsError) -> [Float] {
        let count = try validatedElementCount(name: nil)
        switch dtype {
        case .f32: return decode(count, UInt32.self) { Float(bitPattern: $0) }
        case .f64: return decode(count, UInt64.self) { Float(Double(bitPattern: $0)) }
        case .f16: return decode(count, UInt16.self) { HalfPrecision.float(fromF16Bits: $0) }
        case .bf16: return decode(count, UInt16.self) { HalfPrecision.float(fromBF16Bits: $0) }
        case .bool: throw SafeTensorsError(.unsupportedConversion(dtype: dtype.rawValue, target: "Float"))
        case .i64, .i32, .i16, .i8, .u8: return try decodeIntegers(count).map { Float($0) }
        }
    }

    /// The elements as `Double`, in row-major order. Floating-point dtypes convert
    /// exactly; integer dtypes convert to the nearest `Double`.
    /// - Throws: ``SafeTensorsError`` for `BOOL`, or if the bytes do not match the shape.
    public func doubles() throws(SafeTensorsError) -> [Double] {
        let count = try validatedElementCount(name: nil)
        switch dtype {
        case .f64: return decode(count, UInt64.self) { Double(bitPattern: $0) }
        case .f32: return decode(count, UInt32.self) { Double(Float(bitPattern: $0)) }
        case .f16: return decode(count, UInt16.self) { Double(HalfPrecision.float(fromF16Bits: $0)) }
        case .bf16: return decode(count, UInt16.self) { Double(HalfPrecision.float(fromBF16Bits: $0)) }
        case .bool: throw SafeTensorsError(.unsupportedConversion(dtype: dtype.rawValue, target: "Double"))
        case .i64, .i32, .i16, .i8, .u8: return try decodeIntegers(count).map { Double($0) }
        }
    }

    /// The elements as `Int64`, in row-major order, for integer dtypes
    /// (`I64`, `I32`, `I16`, `I8`, `U8`).
    /// - Throws: ``SafeTensorsError`` for floating-point and `BOOL` tensors, or if
    ///   the bytes do not match the shape.
    public func int64s() throws(SafeTensorsError) -> [Int64] {
        try decodeIntegers(try validatedElementCount(name: nil))
    }

    private func decodeIntegers(_ count: Int) throws(SafeTensorsError) -> [Int64] {
        switch dtype {
        case .i64: return decode(count, UInt64.self) { Int64(bitPattern: $0) }
        case .i32: return decode(count, UInt32.self) { Int64(Int32(bitPattern: $0)) }
        case .i16: return decode(count, UInt16.self) { Int64(Int16(bitPattern: $0)) }
        case .i8: return decode(count, UInt8.self) { Int64(Int8(bitPattern: $0)) }
        case .u8: return decode(count, UInt8.self) { Int64($0) }
        case .f64, .f32, .f16, .bf16, .bool:
            throw SafeTensorsError(.unsupportedConversion(dtype: dtype.rawValue, target: "Int64"))
        }
    }

    // MARK: - Byte helpers

    /// Reads `count` little-endian words of type `Word` and maps each one.
    /// The caller has checked that `bytes` holds exactly `count` words.
    private func decode<Word: FixedWidthInteger, Element>(
        _ count: Int, _: Word.Type, _ transform: (Word) -> Element
    ) -> [Element] {
        let stride = MemoryLayout<Word>.size
        return bytes.withUnsafeBytes { raw in
            (0..<count).map { index in
                transform(Word(littleEndian: raw.loadUnaligned(fromByteOffset: index * stride, as: Word.self)))
            }
        }
    }

    /// Encodes values as little-endian words.
    private static func encode<Value, Word: FixedWidthInteger>(
        _ values: [Value], _ bits: (Value) -> Word
    ) -> [UInt8] {
        let stride = MemoryLayout<Word>.size
        return [UInt8](unsafeUninitializedCapacity: values.count * stride) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            for (index, value) in values.enumerated() {
                raw.storeBytes(of: bits(value).littleEndian, toByteOffset: index * stride, as: Word.self)
            }
            initialized = values.count * stride
        }
    }
}
