import CRecurrentKernels

// MARK: - A layer's weight gradients in one pass

extension Kernels {
    /// The four weight gradients of a layer whose input and recurrent pre-activations share one
    /// gradient dnet = dL/d preInput = dL/d preHidden [rows, m] (m = G*H):
    ///
    ///     dW_hh [m, H] += dnetᵀ h,   dW_ih [m, I] += dnetᵀ x,   db_hh, db_ih [m] += Σ_r dnet[r, ·]
    ///
    /// from the states h [rows, H] and the inputs x [rows, I] of the same rows. Each value is
    /// what `gemm(transA: true, ..., accumulate: true)` and `columnSums(accumulate: true)` give, bit
    /// for bit, for any thread count (a column sum is the product's chain with a column of ones:
    /// fma(d, 1, acc) = acc + d exactly). With AVX-512 one TN product on B = [h | x | 1 1] reads
    /// dnet once instead of four times (`rk_weight_gradients`). Float with the fast backend only;
    /// false (doing nothing) otherwise: the caller forms the four separately.
    @inlinable
    public static func weightGradients<T: NeuralScalar>(
        rows: Int, width m: Int, dnet: UnsafePointer<T>, hidden: UnsafePointer<T>, hiddenSize: Int,
        inputs: UnsafePointer<T>, inputSize: Int,
        dWhh: UnsafeMutablePointer<T>, dWih: UnsafeMutablePointer<T>?, dbhh: UnsafeMutablePointer<T>,
        dbih: UnsafeMutablePointer<T>
    ) -> Bool {
        guard T.self == Float.self && Compute.backend == .fast, inputSize == 0 || dWih != nil else { return false }
        rk_weight_gradients(rows, m, floats(dnet), floats(hidden), hiddenSize, hiddenSize, floats(inputs), inputSize,
                            inputSize, floats(dWhh), dWih.map { floats($0) }, floats(dbhh), floats(dbih),
                            Int32(clamping: max(1, Compute.threads)))
        return true
    }
}

// MARK: - A layer's weight gradients chunk by chunk of the backward loop

extension Kernels {
    /// Rows (t*B + b) per chunk of the backward loop whose weight gradients are summed right after
    /// the chunk, while its dnet rows are still in cache (`BPTT.backward`): [256, G*H] is 100 KiB
    /// for the H = 100 RNN and 400 KiB for the LSTM, in a 2 MiB L2 next to the chunk's trace.
    public static let weightGradientChunkRows = 256

    /// Time steps per chunk for a batch of B: max(1, 256 / B). It depends on B only, never on the
    /// thread count or the instruction set, so the order of the sums (and the bits) does not either.
    public static func weightGradientChunkSteps(batch: Int) -> Int { max(1, weightGradientChunkRows / max(1, batch)) }
}

/// A layer's four weight gradients summed chunk by chunk of rows (the sums of
/// `Kernels.weightGradients` over all rows, in another order: other bits once there are two chunks):
///
///     dW_hh [m, H] += dnet[r]ᵀ h[r],  dW_ih [m, I] += dnet[r]ᵀ x[r],  db_hh, db_ih [m] += Σ_r dnet[r, ·]
///
/// for each chunk r of rows as `add` is called (the backward loop's last chunk first). Each call's
/// values are `gemm(transA: true, ..., accumulate: true)` and `columnSums(accumulate: true)` over
/// its rows, bit for bit, on every backend and thread count; with AVX-512 the four live gathered
/// in one [m, H + I + 2] buffer from `init` to `finish` (`rk_weight_gradients_into`: one TN
/// product per chunk, dnet read once), elsewhere each call runs the four products.
public struct WeightGradientSums<T: NeuralScalar> {
    let m: Int, hiddenSize: Int, inputSize: Int
    let dWhh: UnsafeMutablePointer<T>, dWih: UnsafeMutablePointer<T>?, dbhh: UnsafeMutablePointer<T>
    let dbih: UnsafeMutablePointer<T>
    /// [m, H + I + 2] = [dW_hh | dW_ih | db_hh db_ih], or nil where the four are summed in place.
    let gathered: UnsafeMutablePointer<Float>?

    /// Starts the sums onto the current values of the four (dW_ih may be nil when I = 0).
    public init(width m: Int, hiddenSize: Int, inputSize: Int, dWhh: UnsafeMutablePointer<T>, dWih: UnsafeMutablePointer<T>?,
                dbhh: UnsafeMutablePointer<T>, dbih: UnsafeMutablePointer<T>) {
        precondition(inputSize == 0 || dWih != nil, "WeightGradientSums: dW_ih is required when I > 0")
        (self.m, self.hiddenSize, self.inputSize) = (m, hiddenSize, inputSize)
        (self.dWhh, self.dWih, self.dbhh, self.dbih) = (dWhh, dWih, dbhh, dbih)
        let (count, overflow) = m.multipliedReportingOverflow(by: hiddenSize + inputSize + 2)
        if T.self == Float.self && Compute.backend == .fast && rk_weight_gradients_gathered() != 0 && !overflow && m > 0 {
            let c = UnsafeMutablePointer<Float>.allocate(capacity: count)
            rk_weight_gradients_gather(m, hiddenSize, inputSize, Kernels.floats(dWhh), dWih.map { Kernels.floats($0) },
                                       Kernels.floats(dbhh), Kernels.floats(dbih), c)
            gathered = c
        } else {
            gathered = nil
        }
    }

    /// Adds the products of `rows` rows: dnet [rows, m], h [rows, H], x [rows, I] (unit-stride rows).
    public func add(rows: Int, dnet: UnsafePointer<T>, hidden: UnsafePointer<T>, inputs: UnsafePointer<T>) {
        if let c = gathered {
            rk_weight_gradients_into(rows, m, Kernels.floats(dnet), Kernels.floats(hidden), hiddenSize, hiddenSize,
                                     Kernels.floats(inputs), inputSize, inputSize, c, Int32(clamping: max(1, Compute.threads)))
            return
        }
        if let dWih, inputSize > 0 {
            Kernels.gemm(transA: true, transB: false, m: m, n: inputSize, k: rows, a: dnet, lda: m, b: inputs, ldb: inputSize,
                         c: dWih, ldc: inputSize, accumulate: true)
        }
        Kernels.columnSums(dnet, rows: rows, cols: m, into: dbih, accumulate: true)
        Kernels.gemm(transA: true, transB: false, m: m, n: hiddenSize, k: rows, a: dnet, lda: m, b: hidden, ldb: hiddenSize,
                     c: dWhh, ldc: hiddenSize, accumulate: true)
        Kernels.columnSums(dnet, rows: rows, cols: m, into: dbhh, accumulate: true)
    }

    /// Writes the sums back into the four and frees the gathered buffer; call exactly once.
    public func finish() {
        guard let c = gathered else { return }
        rk_weight_gradients_scatter(m, hiddenSize, inputSize, c, Kernels.floats(dWhh), dWih.map { Kernels.floats($0) },
                                    Kernels.floats(dbhh), Kernels.floats(dbih))
        c.deallocate()
    }
}

// MARK: - A layer's input projection

extension Kernels {
    /// The largest input size I for which the time loops form U x_t + b_ih step by step, next to
    /// the step that reads it (RNN, LSTM, GRU, coRNN: `rnnForwardRows` and the unroller), or
    /// inside it (IndRNN: `indRNNForwardProjecting`, `indRNNGradients`): I fused multiply-adds
    /// per element and step instead of a pass of its own over a [T*B, G*H] buffer (beyond it, one
    /// product for all steps is cheaper; the relu and tanh RNN's C loop forms a product of each
    /// step's rows there instead: `RNNCell.projectsInputsInSequence`).
    public static let fusedInputLimit = 8

    /// True when the time loops form the input projection themselves for scalars `T` and input
    /// size I (Float on the fast backend, 1 <= I <= `fusedInputLimit`).
    @inlinable
    public static func fusesInputs<T: NeuralScalar>(_: T.Type, inputSize: Int) -> Bool {
        T.self == Float.self && Compute.backend == .fast && (1...fusedInputLimit).contains(inputSize)
    }

    /// out [rows, n] = b + x Wᵀ for x [rows, k] (row stride k), W [n, k] and b [n]: the bias copied
    /// into every row, then `gemm(transA: false, transB: true, ..., accumulate: true)`, as one call;
    /// with AVX-512 or AVX2 and k <= 8 (`rk_input_projection`) one pass writing each value once, the same
    /// chain per value (start at b, fma over k in order), so the same bits.
    @inlinable
    public static func inputProjection<T: NeuralScalar>(
        rows: Int, width n: Int, inputs k: Int, x: UnsafePointer<T>, weight: UnsafePointer<T>, bias: UnsafePointer<T>,
        into out: UnsafeMutablePointer<T>
    ) {
        if T.self == Float.self && Compute.backend == .fast {
            rk_input_projection(rows, n, k, floats(x), k, floats(weight), floats(bias), floats(out),
                                Int32(clamping: max(1, Compute.threads)))
            return
        }
        for r in 0..<rows { (out + r * n).update(from: bias, count: n) }
        gemm(transA: false, transB: true, m: rows, n: n, k: k, a: x, lda: k, b: weight, ldb: k, c: out, ldc: n, accumulate: true)
    }
}
