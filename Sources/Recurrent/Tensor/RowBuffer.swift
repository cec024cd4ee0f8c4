/// A fixed-size row-major buffer `[rows, cols]` at a stable address, for the caches
/// that the time loop reads and writes step by step without allocating.
///
/// Unlike `Matrix` it is a reference: a `SequenceTrace` owns its buffers and frees
/// them when it goes away. Contents start uninitialised unless `zeroed` is asked for;
/// every producer in the library writes a buffer before anything reads it.
public final class RowBuffer<Scalar: NeuralScalar>: @unchecked Sendable {
    public let rows: Int
    public let cols: Int
    /// `[rows * cols]`
    public let base: UnsafeMutablePointer<Scalar>

    /// Bytes every buffer's first element is aligned to: a cache line, so that a row whose
    /// offset is a multiple of 16 floats (every [B, H] step of a trace when H is, and every
    /// 16-column panel of packed weights) starts on one and the kernels' 64-byte loads and stores
    /// do not straddle two lines. glibc's malloc returns 16 bytes past a page for large blocks,
    /// which split every such load in two. No value depends on it.
    public static var alignment: Int { 64 }

    public init(rows: Int, cols: Int, zeroed: Bool = false) {
        self.rows = rows
        self.cols = cols
        let count = max(1, rows * cols)
        base = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Scalar>.stride, alignment: Self.alignment)
            .bindMemory(to: Scalar.self, capacity: count)
        if zeroed || rows * cols == 0 { base.initialize(repeating: 0, count: max(1, rows * cols)) }
    }

    deinit { base.deallocate() }

    /// The first element of row `r`.
    @inlinable
    public func row(_ r: Int) -> UnsafeMutablePointer<Scalar> { base + r * cols }

    /// Sets every element to zero.
    public func zero() { base.update(repeating: 0, count: rows * cols) }

    /// Rows `range` copied into a `Matrix`.
    public func matrix(rows range: Range<Int>? = nil) -> Matrix<Scalar> {
        let r = range ?? 0..<rows
        return Matrix(rows: r.count, cols: cols,
                      Array(UnsafeBufferPointer(start: base + r.lowerBound * cols, count: r.count * cols)))
    }

    /// Copies `m` (same column count) into rows starting at `row`.
    public func copy(from m: Matrix<Scalar>, toRow row: Int = 0) {
        precondition(m.cols == cols && row + m.rows <= rows, "RowBuffer.copy: shape \(m.shape) does not fit [\(rows), \(cols)] at row \(row)")
        m.storage.withUnsafeBufferPointer { src in
            if let s = src.baseAddress { (base + row * cols).update(from: s, count: m.count) }
        }
    }
}
