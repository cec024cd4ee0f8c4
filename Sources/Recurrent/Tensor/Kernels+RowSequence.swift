import CRecurrentKernels

// MARK: - The simple RNN's time loop at batch 1

extension Kernels {
    /// The relu or tanh RNN over `steps` steps of one sequence in one C call (seqrow.c): for
    /// t = 0 ..< steps, `net[t] = x[t] + (bias + states[t] W_hhᵀ)` and `states[t+1] = f(net[t])`,
    /// with x, net [steps, H], states [steps+1, H] (row 0 = h_{-1}), bias [H], and W_hhᵀ [H, H]
    /// (`packed` false) or its panels from `packPanels(transposed: true, ...)` (`packed` true).
    /// Every value is the chain of `recurrentStep` with one row (b, then fma over p in order,
    /// then x + that, then f), so the bits are the same, for any `Compute.threads` (a step's
    /// columns are split among them from 100,000 multiply-adds a step). False (doing nothing)
    /// where no fast body applies: the caller runs its steps one by one.
    @inlinable
    public static func rnnForwardRow<T: NeuralScalar>(
        steps: Int, hidden h: Int, transposedWeight: UnsafePointer<T>, packed: Bool, bias: UnsafePointer<T>,
        x: UnsafePointer<T>, net: UnsafeMutablePointer<T>?, states: UnsafeMutablePointer<T>, activation: StepActivation
    ) -> Bool {
        guard T.self == Float.self && Compute.backend == .fast, steps > 0 else { return false }
        return rk_rnn_forward_row(steps, h, h, floats(transposedWeight), packed ? 1 : 0, floats(bias), floats(x),
                                  net.map { floats($0) }, floats(states), activation.rawValue,
                                  Int32(clamping: max(1, Compute.threads))) != 0
    }
}

// MARK: - The simple RNN's time loop for a slice of the batch

extension Kernels {
    /// The relu or tanh RNN over `steps` steps for the batch rows `rows` of a trace of `batch`
    /// rows, in one C call (`rk_rnn_forward_rows`): for t = 0 ..< steps, `gates[t] = preInput[t] +
    /// (bias + states[t] W_hhᵀ)` and `states[t+1] = f(gates[t])` in those rows, the buffers
    /// time-major (row t*B + b; states [(T+1)*B, H]); W_hhᵀ [H, H] or its panels (`packed`). Each
    /// step is `recurrentStep`'s call, so the same bits, for any `Compute.threads`. With
    /// `projecting` (inputs [T*B, I], W_ih [H, I], b_ih [H]) step t's rows of `preInput` are formed
    /// just before the step reads them, as `inputProjection` forms them (the same bits), instead
    /// of by the caller for all steps first; where the AVX2 step runs (no AVX-512, more than one row,
    /// I <= 8, H > 2; H <= 256 or W_hhᵀ in place) it forms them in its epilogue and leaves `preInput` unwritten (nothing reads it
    /// after the step); for I > 8, W_ihᵀ is packed once per call and each step's rows are one product
    /// (b_ih, then fma over I in order: the same chain), formed the same way in the epilogue of
    /// avx2_large.c's step (AVX2 without AVX-512, more than one row, H > 256 on W_hhᵀ's panels).
    /// `gates` nil (relu only): net is not kept, h is the same (`reluRNNBackwardRows` reads h).
    /// False (doing nothing) where no fast body applies:
    /// the caller runs its steps one by one.
    @inlinable
    public static func rnnForwardRows<T: NeuralScalar>(
        steps: Int, batch: Int, rows: Range<Int>, hidden h: Int, transposedWeight: UnsafePointer<T>, packed: Bool,
        bias: UnsafePointer<T>, projecting: (inputs: UnsafePointer<T>, inputSize: Int, weight: UnsafePointer<T>,
                                              bias: UnsafePointer<T>)? = nil,
        preInput: UnsafeMutablePointer<T>, gates: UnsafeMutablePointer<T>?,
        states: UnsafeMutablePointer<T>, activation: StepActivation
    ) -> Bool {
        guard T.self == Float.self && Compute.backend == .fast else { return false }
        return rk_rnn_forward_rows(steps, batch, rows.lowerBound, rows.count, h, floats(transposedWeight), packed ? 1 : 0,
                                   floats(bias), projecting?.inputSize ?? 0, projecting.map { floats($0.inputs) },
                                   projecting.map { floats($0.weight) }, projecting.map { floats($0.bias) },
                                   floats(preInput), gates.map { floats($0) }, floats(states), activation.rawValue,
                                   Int32(clamping: max(1, Compute.threads))) != 0
    }

    /// The relu RNN's backward loop for the batch rows `rows`, t = T-1 ... 0, in one C call
    /// (`rk_relu_rnn_backward_rows`): `dHidden` [B, H] holds dL/dh_T on entry; per step dh +=
    /// `outputGradient[t]` (when given, [T*B, H]), `dPreInput[t] = h_t <= 0 ? 0 : dh` with h_t =
    /// `states[t+1]` = max(0, net_t) (states [(T+1)*B, H]; the selection net_t <= 0 gives: a NaN
    /// passes), dh = dPreInput[t] W_hh (W_hh [H, H], or the panels of `packPanels(transposed:
    /// false, ...)` when `packed`); dL/dh_0 is left in `dHidden`. The operations of the unroller's
    /// loop around `RNNCell.backwardStep`, so the same bits. False where no fast body applies.
    /// With `only`, the steps `only` alone (chunk after chunk, last first, with the bits of one call
    /// over all steps: `rk_relu_rnn_backward_rows`).
    @inlinable
    public static func reluRNNBackwardRows<T: NeuralScalar>(
        steps: Int, only chunk: Range<Int>? = nil, batch: Int, rows: Range<Int>, hidden h: Int, weight: UnsafePointer<T>,
        packed: Bool, states: UnsafePointer<T>, outputGradient: UnsafePointer<T>?, dHidden: UnsafeMutablePointer<T>,
        dPreInput: UnsafeMutablePointer<T>
    ) -> Bool {
        guard T.self == Float.self && Compute.backend == .fast else { return false }
        let range = chunk ?? 0..<steps
        precondition(range.lowerBound >= 0 && range.upperBound <= steps, "steps \(range) outside 0 ..< \(steps)")
        rk_relu_rnn_backward_rows(steps, range.lowerBound, range.upperBound, batch, rows.lowerBound, rows.count, h,
                                  floats(weight), packed ? 1 : 0, floats(states),
                                  outputGradient.map { floats($0) }, floats(dHidden), floats(dPreInput),
                                  Int32(clamping: max(1, Compute.threads)))
        return true
    }
}
