/// The largest magnitude of `count` Floats at `values`, and with it whether all are
/// finite: the scan that the training step makes of gradients (before clipping), of the
/// whole state after an update, and of the hidden states of a logged step.
///
/// Returns max |v| as a Double, +infinity when a value is NaN or ±infinity, 0 when
/// `count` is 0. On the bit patterns with the sign cleared, the unsigned integer order is
/// the order of |v|, and NaN and ±infinity are the largest (>= 0x7f800000), so one
/// unsigned max per element, which vectorises, replaces a conversion, a compare and a test
/// of finiteness with an early exit (which does not).
func largestMagnitude(_ values: UnsafePointer<Float>, count: Int) -> Double {
    var largest: UInt32 = 0
    values.withMemoryRebound(to: UInt32.self, capacity: count) { bits in
        for i in 0..<count { largest = Swift.max(largest, bits[i] & 0x7fff_ffff) }
    }
    return largest >= 0x7f80_0000 ? .infinity : Double(Float(bitPattern: largest))
}

/// True when no value of `values` is NaN or ±infinity (`largestMagnitude` is finite).
func allFinite(_ values: [Float]) -> Bool {
    values.withUnsafeBufferPointer { p in
        guard let base = p.baseAddress else { return true }
        return largestMagnitude(base, count: p.count).isFinite
    }
}
