// MARK: - NDArray: the n-dimensional array the IDX and NumPy readers produce

/// An n-dimensional array of one element type in C (row-major) order: what ``IDX`` and
/// ``NumPy`` read and write, and what a safetensors tensor becomes for the data loaders
/// (``SafeTensorsFile/array(_:path:)``).
///
/// Safetensors tensors themselves stay ``SafeTensor`` values: they keep the file's raw
/// little-endian bytes (so a file is rewritten byte for byte) and have element types with no
/// Swift array here (`F16`, `BF16`, `BOOL`).
public struct NDArray: Sendable, Equatable {
    /// The element types of the formats: IDX's six and NumPy's `int64`.
    public enum ElementType: Sendable, CaseIterable {
        case uint8, int8, int16, int32, int64, float32, float64

        /// Size of one element in bytes.
        public var byteWidth: Int {
            switch self {
            case .uint8, .int8: 1
            case .int16: 2
            case .int32, .float32: 4
            case .int64, .float64: 8
            }
        }

        /// Whether the elements are floating point.
        public var isFloatingPoint: Bool { self == .float32 || self == .float64 }
    }

    /// The elements in row-major order, in the host byte order.
    public enum Elements: Sendable, Equatable {
        case uint8([UInt8])
        case int8([Int8])
        case int16([Int16])
        case int32([Int32])
        case int64([Int64])
        case float32([Float])
        case float64([Double])

        public var count: Int {
            switch self {
            case .uint8(let v): v.count
            case .int8(let v): v.count
            case .int16(let v): v.count
            case .int32(let v): v.count
            case .int64(let v): v.count
            case .float32(let v): v.count
            case .float64(let v): v.count
            }
        }

        public var elementType: ElementType {
            switch self {
            case .uint8: .uint8
            case .int8: .int8
            case .int16: .int16
            case .int32: .int32
            case .int64: .int64
            case .float32: .float32
            case .float64: .float64
            }
        }
    }

    /// Dimension sizes, outermost first (e.g. `[60000, 28, 28]`); `[]` for a 0-d array holding
    /// one element.
    public let shape: [Int]
    public let elements: Elements

    /// Creates an array; `elements.count` must equal the product of `shape`.
    public init(shape: [Int], elements: Elements) throws(DataError) {
        var product = 1
        for size in shape {
            let (p, overflow) = product.multipliedReportingOverflow(by: size)
            guard size >= 0, !overflow else {
                throw DataError(
                    .invalidArgument, "shape \(shape) has a negative or overflowing size", path: "<memory>",
                    fix: "use non-negative sizes")
            }
            product = p
        }
        guard product == elements.count else {
            throw DataError(
                .mismatch, "shape \(shape) holds \(product) elements but \(elements.count) were given",
                path: "<memory>", fix: "pass as many elements as the product of the shape")
        }
        self.shape = shape
        self.elements = elements
    }

    /// An array whose reader has already checked that `shape` holds `elements.count` elements.
    init(unchecked shape: [Int], elements: Elements) {
        self.shape = shape
        self.elements = elements
    }

    public var elementType: ElementType { elements.elementType }

    /// Total number of elements.
    public var count: Int { elements.count }

    /// The elements converted to `S` (integers exactly when representable, others rounded).
    public func scalars<S: NeuralScalar>(_ type: S.Type = S.self) -> [S] {
        switch elements {
        case .uint8(let v): v.map { S($0) }
        case .int8(let v): v.map { S($0) }
        case .int16(let v): v.map { S($0) }
        case .int32(let v): v.map { S($0) }
        case .int64(let v): v.map { S($0) }
        case .float32(let v): v.map { S($0) }
        case .float64(let v): v.map { S($0) }
        }
    }

    /// The elements converted to `Double` (exact for every type but large `int64` values).
    public func doubles() -> [Double] { scalars(Double.self) }

    /// The elements as `Int`, or `nil` for floating-point arrays.
    public func integers() -> [Int]? {
        switch elements {
        case .float32, .float64: nil
        case .uint8(let v): v.map(Int.init)
        case .int8(let v): v.map(Int.init)
        case .int16(let v): v.map(Int.init)
        case .int32(let v): v.map(Int.init)
        case .int64(let v): v.map(Int.init)
        }
    }

    // MARK: - Bytes

    /// Decodes `count` elements of `type` from `data`, each `type.byteWidth` bytes in the given
    /// byte order (IDX is big-endian, NumPy says which). The caller has checked the length.
    static func decode(
        _ type: ElementType, _ data: ArraySlice<UInt8>, count: Int, bigEndian: Bool
    ) -> Elements {
        let width = type.byteWidth
        var o = data.startIndex
        func word() -> UInt64 {
            var value: UInt64 = 0
            if bigEndian {
                for k in 0..<width { value = value << 8 | UInt64(data[o + k]) }
            } else {
                for k in stride(from: width - 1, through: 0, by: -1) { value = value << 8 | UInt64(data[o + k]) }
            }
            o += width
            return value
        }
        func words<T>(_ make: (UInt64) -> T) -> [T] {
            var result: [T] = []
            result.reserveCapacity(count)
            for _ in 0..<count { result.append(make(word())) }
            return result
        }
        switch type {
        case .uint8: return .uint8(Array(data.prefix(count)))
        case .int8: return .int8(data.prefix(count).map { Int8(bitPattern: $0) })
        case .int16: return .int16(words { Int16(bitPattern: UInt16(truncatingIfNeeded: $0)) })
        case .int32: return .int32(words { Int32(bitPattern: UInt32(truncatingIfNeeded: $0)) })
        case .int64: return .int64(words { Int64(bitPattern: $0) })
        case .float32: return .float32(words { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) })
        case .float64: return .float64(words { Double(bitPattern: $0) })
        }
    }

    /// Appends the elements to `bytes`, each `elementType.byteWidth` bytes in the given order.
    func appendElements(to bytes: inout [UInt8], bigEndian: Bool) {
        let width = elementType.byteWidth
        bytes.reserveCapacity(bytes.count + count * width)
        func append(_ value: UInt64) {
            if bigEndian {
                for k in stride(from: width - 1, through: 0, by: -1) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(8 * k))) }
            } else {
                for k in 0..<width { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(8 * k))) }
            }
        }
        switch elements {
        case .uint8(let v): bytes += v
        case .int8(let v): bytes += v.map { UInt8(bitPattern: $0) }
        case .int16(let v): for x in v { append(UInt64(UInt16(bitPattern: x))) }
        case .int32(let v): for x in v { append(UInt64(UInt32(bitPattern: x))) }
        case .int64(let v): for x in v { append(UInt64(bitPattern: x)) }
        case .float32(let v): for x in v { append(UInt64(x.bitPattern)) }
        case .float64(let v): for x in v { append(x.bitPattern) }
        }
    }
}

extension SafeTensorsFile {
    /// A tensor as an ``NDArray`` (floats stay floats, `F16`/`BF16` become `float32`, integers
    /// become `int64`), for the data loaders that accept both formats.
    public func array(_ name: String, path: String) throws -> NDArray {
        guard let tensor = tensors[name] else {
            throw DataError(.malformed, "no tensor '\(name)' (found: \(tensors.keys.sorted().joined(separator: ", ")))", path: path,
                            fix: "save the tensors under the names 'inputs' [N, T, I] and 'targets'")
        }
        if tensor.dtype.isInteger { return try NDArray(shape: tensor.shape, elements: .int64(try tensor.int64s())) }
        if tensor.dtype == .f64 { return try NDArray(shape: tensor.shape, elements: .float64(try tensor.doubles())) }
        return try NDArray(shape: tensor.shape, elements: .float32(try tensor.floats()))
    }
}
