/// The element type of a tensor stored in a safetensors file, spelled as in the
/// file's JSON header (`"F32"`, `"BF16"`, ...).
///
/// Only the dtypes Recurrent can use are listed. Other dtypes defined by the
/// safetensors format (`U16`, `U32`, `U64`, the 8-bit floats, ...) are rejected
/// with a ``SafeTensorsError`` that names them.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case f64 = "F64"
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case i64 = "I64"
    case i32 = "I32"
    case i16 = "I16"
    case i8 = "I8"
    case u8 = "U8"
    case bool = "BOOL"

    // MARK: - Properties

    /// The size of one element in bytes.
    public var byteCount: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .f16, .bf16, .i16: 2
        case .i8, .u8, .bool: 1
        }
    }

    /// Whether the dtype is a floating-point type (`F64`, `F32`, `F16`, `BF16`).
    public var isFloatingPoint: Bool {
        switch self {
        case .f64, .f32, .f16, .bf16: true
        default: false
        }
    }

    /// Whether the dtype is a signed or unsigned integer type (`BOOL` is not).
    public var isInteger: Bool {
        switch self {
        case .i64, .i32, .i16, .i8, .u8: true
        default: false
        }
    }

    // MARK: - Reference writer order

    /// The position of this dtype in the reference writer's layout order: the
    /// Hugging Face library stores tensors sorted by descending dtype (its enum
    /// order, which follows element size), then by name. Writing in the same
    /// order keeps every tensor naturally aligned and makes our files
    /// byte-identical to the reference writer's.
    var referenceWriteRank: Int {
        switch self {
        case .i64: 0
        case .f64: 1
        case .f32: 2
        case .i32: 3
        case .bf16: 4
        case .f16: 5
        case .i16: 6
        case .i8: 7
        case .u8: 8
        case .bool: 9
        }
    }

    // MARK: - Other format dtypes

    /// Dtype names defined by the safetensors format that Recurrent does not
    /// load; used to give a more precise error than "unknown dtype".
    static let unsupportedFormatNames: Set<String> = [
        "U16", "U32", "U64", "C64",
        "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4",
    ]

    /// The supported dtype names, comma separated, for error messages.
    static var supportedNameList: String {
        allCases.map(\.rawValue).joined(separator: ", ")
    }
}
