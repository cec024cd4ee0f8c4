import CRecurrentKernels

// MARK: - IndRNN's time loop

extension Kernels {
    /// IndRNN (relu) forward over all T steps for the batch rows `rows` of a trace of `batch`
    /// rows: for t = 0 ..< T, `preHidden[t] = u ⊙ hidden[t] + bias`, `gates[t] = preInput[t] +
    /// preHidden[t]`, `hidden[t+1] = relu(gates[t])`, with u, bias [H] and the buffers
    /// time-major (row t*B + b; `hidden` [(T+1)*B, H]). The same operations per element as
    /// `IndRNNCell.forwardStep`, so the same bits. Returns false (doing nothing) when no fast
    /// body applies (not Float, or the naive backend): the caller runs its per-step loop.
    @inlinable
    public static func indRNNForward<T: NeuralScalar>(
        steps: Int, batch: Int, rows: Range<Int>, hidden h: Int, u: UnsafePointer<T>, bias: UnsafePointer<T>,
        preInput: UnsafePointer<T>, preHidden: UnsafeMutablePointer<T>, gates: UnsafeMutablePointer<T>,
        states: UnsafeMutablePointer<T>
    ) -> Bool {
        guard T.self == Float.self && Compute.backend == .fast else { return false }
        rk_indrnn_forward(steps, batch, rows.lowerBound, rows.count, h, floats(u), floats(bias), floats(preInput),
                          floats(preHidden), floats(gates), floats(states))
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
}
