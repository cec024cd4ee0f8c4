/// The time-major helpers of bidirectional layers (PyTorch's `bidirectional=True`).
///
/// The reverse cell of a layer reads each sequence from its last step back: its input at
/// step t is x at step len-1-t of the same sequence (len its length, T without lengths), so
/// with variable lengths it starts at each sequence's own last step, as PyTorch's packed
/// sequences do; steps past the end stay where they are (padding, never read). The layer's
/// output at step t is [h_fwd(t) | h_rev(t)] (2H), h_rev(t) being the reverse cell's output
/// that read x_t, so the reverse cell's outputs go through the same reversal back.
enum Bidirectional {
    /// Each sequence reversed within its length: out row t*B + b = in row (len_b-1-t)*B + b
    /// for t < len_b, in row t*B + b after. `lengths` [B] per row (nil: T each). An involution.
    static func reversedInTime<S: NeuralScalar>(_ m: Matrix<S>, steps: Int, batch: Int, lengths: [Int]?) -> Matrix<S> {
        let c = m.cols
        precondition(m.rows == steps * batch, "expected [T*B, C] = [\(steps * batch), \(c)], got \(m.shape)")
        var out = Matrix<S>(rows: m.rows, cols: c)
        m.storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                for b in 0..<batch {
                    let n = lengths?[b] ?? steps
                    for t in 0..<steps {
                        let from = (t < n ? n - 1 - t : t) * batch + b, to = t * batch + b
                        for k in 0..<c { dst[to * c + k] = src[from * c + k] }
                    }
                }
            }
        }
        return out
    }

    /// [a | b] row by row: [R, Ca] and [R, Cb] into [R, Ca + Cb].
    static func concatenated<S: NeuralScalar>(_ a: Matrix<S>, _ b: Matrix<S>) -> Matrix<S> {
        precondition(a.rows == b.rows, "concatenating \(a.shape) and \(b.shape)")
        var out = Matrix<S>(rows: a.rows, cols: a.cols + b.cols)
        let w = out.cols
        for r in 0..<a.rows {
            for k in 0..<a.cols { out.storage[r * w + k] = a.storage[r * a.cols + k] }
            for k in 0..<b.cols { out.storage[r * w + a.cols + k] = b.storage[r * b.cols + k] }
        }
        return out
    }

    /// The first `left` columns and the rest: the inverse of `concatenated`.
    static func split<S: NeuralScalar>(_ m: Matrix<S>, left: Int) -> (Matrix<S>, Matrix<S>) {
        var a = Matrix<S>(rows: m.rows, cols: left), b = Matrix<S>(rows: m.rows, cols: m.cols - left)
        for r in 0..<m.rows {
            for k in 0..<left { a.storage[r * left + k] = m.storage[r * m.cols + k] }
            for k in 0..<b.cols { b.storage[r * b.cols + k] = m.storage[r * m.cols + left + k] }
        }
        return (a, b)
    }
}
