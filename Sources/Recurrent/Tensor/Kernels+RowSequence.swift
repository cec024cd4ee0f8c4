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
