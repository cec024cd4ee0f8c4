/// How a batch of variable-length sequences runs: PyTorch's packed sequences
/// (`pack_padded_sequence(..., enforce_sorted=False)`) without the packing. The batch is
/// sorted longest first (stably), so at each step the sequences still running are a
/// prefix of the rows and every time step stays one contiguous block for the cell; a
/// finished sequence's state is carried unchanged (`SequenceTrace.liveRows`). The user's
/// order is restored on the way out, and the gradients are sorted back on the way in.
///
/// Shapes: lengths [B] in the user's order; `order` [B] (sorted row i holds sequence
/// `order[i]`); `liveRows` [T]; the matrices it reorders are time-major [T*B, C].
public struct PackedOrder: Sendable, Equatable {
    /// [B], the user's order.
    public let lengths: [Int]
    /// [B]: sorted row i holds the user's sequence `order[i]` (longest first, ties in order).
    public let order: [Int]
    /// [T]: the number of sequences longer than t (the running prefix at step t).
    public let liveRows: [Int]
    /// True when the lengths are already non-increasing, so no row moves.
    public let isIdentity: Bool

    /// `lengths` [B], each in 0 ... `steps`; 0 only for a truncated-BPTT window past a
    /// sequence's end (`TruncatedSequenceTask`): no step runs, the state is carried unchanged.
    public init(lengths: [Int], steps: Int) {
        precondition(lengths.allSatisfy { (0...max(1, steps)).contains($0) }, "lengths must lie in 0...\(steps), got \(lengths)")
        self.lengths = lengths
        order = lengths.indices.sorted { lengths[$0] != lengths[$1] ? lengths[$0] > lengths[$1] : $0 < $1 }
        isIdentity = order.enumerated().allSatisfy { $0.offset == $0.element }
        var live = [Int](repeating: 0, count: steps)
        for n in lengths { for t in 0..<n { live[t] += 1 } }
        liveRows = live
    }

    public var batch: Int { lengths.count }
    /// The lengths in sorted order (non-increasing).
    public var sortedLengths: [Int] { order.map { lengths[$0] } }

    /// Time-major rows [steps*B, C] of the user's order into sorted order: out row t*B + i =
    /// in row t*B + order[i]. With `zeroPadding`, rows of steps past a sequence's end are 0.
    public func sorted<S: NeuralScalar>(_ m: Matrix<S>, steps: Int, zeroPadding: Bool = false) -> Matrix<S> {
        permuted(m, steps: steps, zeroPadding: zeroPadding, toSorted: true)
    }

    /// The inverse of `sorted`: out row t*B + order[i] = in row t*B + i.
    public func unsorted<S: NeuralScalar>(_ m: Matrix<S>, steps: Int, zeroPadding: Bool = false) -> Matrix<S> {
        permuted(m, steps: steps, zeroPadding: zeroPadding, toSorted: false)
    }

    func permuted<S: NeuralScalar>(_ m: Matrix<S>, steps: Int, zeroPadding: Bool, toSorted: Bool) -> Matrix<S> {
        let b = batch, c = m.cols
        precondition(m.rows == steps * b, "expected [T*B, C] = [\(steps * b), \(c)], got \(m.shape)")
        var out = Matrix<S>(rows: m.rows, cols: c)
        m.storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                for t in 0..<steps {
                    for i in 0..<b {
                        let user = order[i]
                        if zeroPadding && t >= lengths[user] { continue }       // out starts at 0
                        let (from, to) = toSorted ? (t * b + user, t * b + i) : (t * b + i, t * b + user)
                        for k in 0..<c { dst[to * c + k] = src[from * c + k] }
                    }
                }
            }
        }
        return out
    }

    /// A state's rows [B, ·] into sorted order (or back), every layer.
    public func sorted<S: NeuralScalar>(_ state: RecurrentState<S>) -> RecurrentState<S> {
        RecurrentState(layers: state.layers.map {
            LayerState(hidden: sorted($0.hidden, steps: 1),
                       memory: $0.memory.rows == 0 ? $0.memory : sorted($0.memory, steps: 1))
        })
    }

    public func unsorted<S: NeuralScalar>(_ state: RecurrentState<S>) -> RecurrentState<S> {
        RecurrentState(layers: state.layers.map {
            LayerState(hidden: unsorted($0.hidden, steps: 1),
                       memory: $0.memory.rows == 0 ? $0.memory : unsorted($0.memory, steps: 1))
        })
    }
}
