// MARK: - Reflected CRC-32 (shared table and loop)

/// The table-driven, bit-reflected 32-bit CRC that both checksums below use; they differ
/// only in the (reflected) polynomial. Initial value and final XOR are 0xFFFFFFFF.
enum ReflectedCRC32 {
    /// The 256-entry table of a reflected polynomial.
    static func table(polynomial: UInt32) -> [UInt32] {
        (0..<256).map { (n: UInt32) -> UInt32 in
            var c = n
            for _ in 0..<8 { c = (c & 1) != 0 ? polynomial ^ (c >> 1) : c >> 1 }
            return c
        }
    }

    /// The checksum of `bytes` with `table`, continuing from a previous `crc` (0 for a fresh one).
    static func checksum(_ bytes: [UInt8], table: [UInt32], continuing crc: UInt32) -> UInt32 {
        var c = ~crc
        table.withUnsafeBufferPointer { table in
            bytes.withUnsafeBufferPointer { bytes in
                for byte in bytes {
                    c = table[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8)
                }
            }
        }
        return ~c
    }
}

// MARK: - CRC-32

/// The CRC-32 of gzip, zip and PNG (ISO 3309 / ITU-T V.42): reflected polynomial 0xEDB88320,
/// initial value 0xFFFFFFFF, final XOR 0xFFFFFFFF. `CRC32.checksum(Array("123456789".utf8))`
/// is 0xCBF43926.
enum CRC32 {
    static let table = ReflectedCRC32.table(polynomial: 0xEDB8_8320)

    /// The CRC-32 of `bytes`, continuing from a previous `crc` (0 for a fresh checksum).
    static func checksum(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        ReflectedCRC32.checksum(bytes, table: table, continuing: crc)
    }
}

// MARK: - CRC-32C

/// CRC-32C (Castagnoli), the checksum of TFRecord files (TensorBoard's event files), iSCSI and
/// ext4: reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF.
/// `CRC32C.checksum(Array("123456789".utf8))` is 0xE3069283.
enum CRC32C {
    static let table = ReflectedCRC32.table(polynomial: 0x82F6_3B78)

    /// The CRC-32C of `bytes`, continuing from a previous `crc` (0 for a fresh checksum).
    static func checksum(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        ReflectedCRC32.checksum(bytes, table: table, continuing: crc)
    }

    /// TFRecord's masked CRC-32C: ((c >> 15) | (c << 17)) + 0xa282ead8 (mod 2³²). The mask keeps
    /// a record that embeds CRCs of other records from checksumming to a fixed value.
    static func masked(_ bytes: [UInt8]) -> UInt32 {
        let c = checksum(bytes)
        return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
    }
}
