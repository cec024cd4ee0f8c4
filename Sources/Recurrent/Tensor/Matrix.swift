/// A dense row-major matrix `[rows, cols]`: the one storage type of the library.
///
/// Vectors are `[1, n]` matrices; sequences are stored time-major as `[T * B, F]`
/// (row `t * B + b` holds step `t` of sequence `b`), so that the rows of one time
/// step are contiguous and a whole sequence can enter one matrix product.
public struct Matrix<Scalar: NeuralScalar>: Sendable, Equatable {
    public let rows: Int
    public let cols: Int
    /// `[rows * cols]`, row-major: element (r, c) is `storage[r * cols + c]`.
    public var storage: [Scalar]

    /// A matrix filled with `value`.
    @inlinable
    public init(rows: Int, cols: Int, repeating value: Scalar = 0) {
        precondition(rows >= 0 && cols >= 0, "Matrix dimensions must be non-negative")
        self.rows = rows
        self.cols = cols
        self.storage = Array(repeating: value, count: rows * cols)
    }

    /// A matrix over existing row-major values; `values.count` must be `rows * cols`.
    @inlinable
    public init(rows: Int, cols: Int, _ values: [Scalar]) {
        precondition(values.count == rows * cols,
                     "Matrix(\(rows), \(cols)) needs \(rows * cols) values, got \(values.count)")
        self.rows = rows
        self.cols = cols
        self.storage = values
    }

    /// A matrix from nested rows (for tests and small literals).
    public init(_ nested: [[Scalar]]) {
        let cols = nested.first?.count ?? 0
        precondition(nested.allSatisfy { $0.count == cols }, "All rows must have the same length")
        self.init(rows: nested.count, cols: cols, nested.flatMap { $0 })
    }

    /// A `[1, n]` row vector.
    public init(row values: [Scalar]) { self.init(rows: 1, cols: values.count, values) }

    public var count: Int { storage.count }
    public var shape: [Int] { [rows, cols] }

    @inlinable
    public subscript(row: Int, col: Int) -> Scalar {
        get { storage[row * cols + col] }
        set { storage[row * cols + col] = newValue }
    }

    /// The values of one row.
    public func row(_ r: Int) -> ArraySlice<Scalar> { storage[(r * cols)..<((r + 1) * cols)] }

    /// The transpose `[cols, rows]`.
    public var transposed: Matrix {
        var out = Matrix(rows: cols, cols: rows)
        for r in 0..<rows { for c in 0..<cols { out.storage[c * rows + r] = storage[r * cols + c] } }
        return out
    }

    /// The same values viewed with another shape of equal size.
    public func reshaped(rows newRows: Int, cols newCols: Int) -> Matrix {
        Matrix(rows: newRows, cols: newCols, storage)
    }

    /// Rows `range` as a new matrix.
    public func rows(_ range: Range<Int>) -> Matrix {
        Matrix(rows: range.count, cols: cols, Array(storage[(range.lowerBound * cols)..<(range.upperBound * cols)]))
    }

    /// The same values in another element type.
    public func converted<Other: NeuralScalar>(to: Other.Type = Other.self) -> Matrix<Other> {
        Matrix<Other>(rows: rows, cols: cols, storage.map { Other($0) })
    }

    /// A matrix of zeros with the same shape.
    public var zerosLike: Matrix { Matrix(rows: rows, cols: cols) }

    /// Sets every element to zero, keeping the allocation.
    @inlinable
    public mutating func zero() {
        storage.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    /// Euclidean (Frobenius) norm, accumulated in Double.
    public var frobeniusNorm: Double {
        var sum = 0.0
        for v in storage { let d = Double(v); sum += d * d }
        return sum.squareRoot()
    }

    /// Largest absolute value (0 for an empty matrix; NaN if any element is NaN).
    public var maxAbs: Double {
        var m = 0.0
        for v in storage { let d = Swift.abs(Double(v)); if d.isNaN { return .nan }; if d > m { m = d } }
        return m
    }

    /// True when every element is finite.
    public var isFinite: Bool { storage.allSatisfy { $0.isFinite } }
}

extension Matrix: CustomStringConvertible {
    public var description: String {
        let shown = (0..<min(rows, 6)).map { r in
            "[" + row(r).prefix(8).map { "\($0)" }.joined(separator: ", ") + (cols > 8 ? ", ..." : "") + "]"
        }
        return "Matrix[\(rows), \(cols)](" + shown.joined(separator: ", ") + (rows > 6 ? ", ..." : "") + ")"
    }
}
