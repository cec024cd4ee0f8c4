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
