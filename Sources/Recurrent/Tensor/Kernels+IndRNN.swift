import CRecurrentKernels

// MARK: - IndRNN's time loop

extension Kernels {
    /// IndRNN (relu) forward over all T steps for the batch rows `rows` of a trace of `batch`
    /// rows: for t = 0 ..< T, `preHidden[t] = u ⊙ hidden[t] + bias`, `gates[t] = preInput[t] +
    /// preHidden[t]`, `hidden[t+1] = relu(gates[t])`, with u, bias [H] and the buffers
    /// time-major (row t*B + b; `hidden` [(T+1)*B, H]). The same operations per element as
    /// `IndRNNCell.forwardStep`, so the same bits (`preHidden` nil: not stored). Returns false (doing nothing) when no fast
    /// body applies (not Float, or the naive backend): the caller runs its per-step loop.
    @inlinable
    public static func indRNNForward<T: NeuralScalar>(
        steps: Int, batch: Int, rows: Range<Int>, hidden h: Int, u: UnsafePointer<T>, bias: UnsafePointer<T>,
        preInput: UnsafePointer<T>, preHidden: UnsafeMutablePointer<T>?, gates: UnsafeMutablePointer<T>,
        states: UnsafeMutablePointer<T>
    ) -> Bool {
        guard T.self == Float.self && Compute.backend == .fast else { return false }
        rk_indrnn_forward(steps, batch, rows.lowerBound, rows.count, h, floats(u), floats(bias), floats(preInput),
                          preHidden.map { floats($0) }, floats(gates), floats(states))
        return true
    }

    /// The mirror of `indRNNForward` for the same rows, t = T-1 ... 0: `dHidden` [B, H] holds
    /// dL/dh_T on entry; per step dh += `outputGradient[t]` (when given, [T*B, H]),
    /// `dPreInput[t] = gates[t] <= 0 ? 0 : dh` (a NaN passes), dh = dPreInput[t] ⊙ u; dL/dh_0
    /// is left in `dHidden`. The operations of the unroller's loop around
    /// `IndRNNCell.backwardStep`. Returns false (doing nothing) where no fast body applies.
    @inlinable
    public static func indRNNBackward<T: NeuralScalar>(
        steps: Int, batch: Int, rows: Range<Int>, hidden h: Int, u: UnsafePointer<T>, gates: UnsafePointer<T>,
        outputGradient: UnsafePointer<T>?, dHidden: UnsafeMutablePointer<T>, dPreInput: UnsafeMutablePointer<T>
    ) -> Bool {
        guard T.self == Float.self && Compute.backend == .fast else { return false }
        rk_indrnn_backward(steps, batch, rows.lowerBound, rows.count, h, floats(u), floats(gates),
                           outputGradient.map { floats($0) }, floats(dHidden), floats(dPreInput))
        return true
    }

    /// du[j] += Σ_r dnet[r, j] · hidden[r, j], db[j] += Σ_r dnet[r, j] over the `rows` rows in
    /// order (dnet, hidden [rows, H]): the plain loop's additions, vectorised across j. Returns
    /// false (doing nothing) where no fast body applies.
    @inlinable
    public static func indRNNWeightGradients<T: NeuralScalar>(
        rows: Int, hidden h: Int, dnet: UnsafePointer<T>, states: UnsafePointer<T>,
        du: UnsafeMutablePointer<T>, db: UnsafeMutablePointer<T>
    ) -> Bool {
        guard T.self == Float.self && Compute.backend == .fast else { return false }
        rk_indrnn_weight_gradients(rows, h, floats(dnet), floats(states), floats(du), floats(db))
        return true
    }

    /// `indRNNForward` with the input projection formed in the loop from `inputs` [T*B, I]
    /// instead of read from preInput: per element b_ih[j], then one fma per input q with
    /// `inputWeightT` = W_ihᵀ [I, H] (the chain of `gemm`'s preInput = b_ih + X W_ihᵀ, so the
    /// same bits); writes `gates` (net) and `states` (h_1 ... h_T) only. Returns false (doing
    /// nothing) unless `fusesInputs`.
    @inlinable
    public static func indRNNForwardProjecting<T: NeuralScalar>(
        steps: Int, batch: Int, rows: Range<Int>, hidden h: Int, inputSize: Int, inputs: UnsafePointer<T>,
        inputWeightT: UnsafePointer<T>, inputBias: UnsafePointer<T>, u: UnsafePointer<T>, bias: UnsafePointer<T>,
        gates: UnsafeMutablePointer<T>, states: UnsafeMutablePointer<T>
    ) -> Bool {
        guard fusesInputs(T.self, inputSize: inputSize) else { return false }
        rk_indrnn_forward_projecting(steps, batch, rows.lowerBound, rows.count, h, inputSize, floats(inputs),
                                     floats(inputWeightT), floats(inputBias), floats(u), floats(bias),
                                     floats(gates), floats(states))
        return true
    }

    /// IndRNN's four weight gradients in one pass over the `rows` rows in order, for the units
    /// `units` (disjoint unit ranges may run on different threads, the same bits):
    /// dW_ihᵀ [I, H] (`inputWeightT`) += dnetᵀ X as `gemm`'s chain, db_ih += column sums of
    /// dnet as `columnSums`, du += Σ dnet ⊙ h_{t-1} and db_hh += Σ dnet as
    /// `indRNNWeightGradients`. dnet, states [rows, H]; inputs [rows, I]. Returns false
    /// (doing nothing) unless `fusesInputs`.
    @inlinable
    public static func indRNNGradients<T: NeuralScalar>(
        rows: Int, hidden h: Int, units: Range<Int>, inputSize: Int, dnet: UnsafePointer<T>, inputs: UnsafePointer<T>,
        states: UnsafePointer<T>, inputWeightT: UnsafeMutablePointer<T>, inputBias: UnsafeMutablePointer<T>,
        du: UnsafeMutablePointer<T>, db: UnsafeMutablePointer<T>
    ) -> Bool {
        guard fusesInputs(T.self, inputSize: inputSize) else { return false }
        rk_indrnn_gradients(rows, h, units.lowerBound, units.upperBound, inputSize, floats(dnet), floats(inputs),
                            floats(states), floats(inputWeightT), floats(inputBias), floats(du), floats(db))
        return true
    }

    /// `indRNNBackward` for the rows `rows` that also sums the weight gradients per batch row
    /// while it walks t downwards, into `partials` [B][I+2][H] (zeroed by the caller; row r:
    /// dW_ihᵀ [I, H] by fma with x, then db, then du = Σ dnet ⊙ h_{t-1}); stores dPreInput only
    /// when given. A row's sums never depend on the split of the rows; their order (t
    /// descending) differs from the products'. Returns false (doing nothing) unless `fusesInputs`.
    @inlinable
    public static func indRNNBackwardSumming<T: NeuralScalar>(
        steps: Int, batch: Int, rows: Range<Int>, hidden h: Int, inputSize: Int, u: UnsafePointer<T>,
        gates: UnsafePointer<T>, outputGradient: UnsafePointer<T>?, inputs: UnsafePointer<T>, states: UnsafePointer<T>,
        dHidden: UnsafeMutablePointer<T>, dPreInput: UnsafeMutablePointer<T>?, partials: UnsafeMutablePointer<T>
    ) -> Bool {
        guard fusesInputs(T.self, inputSize: inputSize) else { return false }
        rk_indrnn_backward_sum(steps, batch, rows.lowerBound, rows.count, h, inputSize, floats(u), floats(gates),
                               outputGradient.map { floats($0) }, floats(inputs), floats(states), floats(dHidden),
                               dPreInput.map { floats($0) }, floats(partials))
        return true
    }

    /// Adds `indRNNBackwardSumming`'s partials of rows 0 ..< B in order: dW_ihᵀ [I, H], db_ih
    /// and db_hh, du. Returns false (doing nothing) unless `fusesInputs`.
    @inlinable
    public static func indRNNSumPartials<T: NeuralScalar>(
        batch: Int, hidden h: Int, inputSize: Int, partials: UnsafePointer<T>, inputWeightT: UnsafeMutablePointer<T>,
        inputBias: UnsafeMutablePointer<T>, du: UnsafeMutablePointer<T>, db: UnsafeMutablePointer<T>
    ) -> Bool {
        guard fusesInputs(T.self, inputSize: inputSize) else { return false }
        rk_indrnn_sum_partials(batch, h, inputSize, floats(partials), floats(inputWeightT), floats(inputBias), floats(du), floats(db))
        return true
    }
}

