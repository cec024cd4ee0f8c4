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

// MARK: - A layer's input projection

extension Kernels {
    /// The largest input size I for which the time loops form U x_t + b_ih step by step, next to
    /// the step that reads it (RNN, LSTM, GRU, coRNN: `rnnForwardRows` and the unroller), or
    /// inside it (IndRNN: `indRNNForwardProjecting`, `indRNNGradients`): I fused multiply-adds
    /// per element and step instead of a pass of its own over a [T*B, G*H] buffer (beyond it, one
    /// product for all steps is cheaper).
    public static let fusedInputLimit = 8

    /// True when the time loops form the input projection themselves for scalars `T` and input
    /// size I (Float on the fast backend, 1 <= I <= `fusedInputLimit`).
    @inlinable
    public static func fusesInputs<T: NeuralScalar>(_: T.Type, inputSize: Int) -> Bool {
        T.self == Float.self && Compute.backend == .fast && (1...fusedInputLimit).contains(inputSize)
    }

    /// out [rows, n] = b + x Wᵀ for x [rows, k] (row stride k), W [n, k] and b [n]: the bias copied
    /// into every row, then `gemm(transA: false, transB: true, ..., accumulate: true)`, as one call;
    /// with AVX-512 and k <= 8 (`rk_input_projection`) one pass writing each value once, the same
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
