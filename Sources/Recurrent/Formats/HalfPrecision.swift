/// Bit-level conversions from 16-bit floating-point formats to `Float`.
///
/// Written by hand because `Float16` is not available on every x86-64 Linux
/// toolchain configuration. Both conversions are exact: every half and bfloat16
/// value is representable as a `Float`.
enum HalfPrecision {

    // MARK: - IEEE 754 binary16 (F16)

    /// Converts IEEE 754 half-precision bits (1 sign, 5 exponent, 10 mantissa bits)
    /// to `Float`, including signed zeros, subnormals, infinities and NaN payloads.
    static func float(fromF16Bits bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x03FF)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa * 2^-24, exact in Float.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:
            // Infinity (mantissa 0) or NaN (payload kept in the high mantissa bits).
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        default:
            // Normal: rebias the exponent from 15 to 127.
            return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        }
    }

    // MARK: - bfloat16 (BF16)

    /// Converts bfloat16 bits (the upper half of a `Float`) to `Float`.
    static func float(fromBF16Bits bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }
}
