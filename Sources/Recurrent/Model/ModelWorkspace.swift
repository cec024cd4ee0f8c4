/// The per-layer caches of `RecurrentModel.forward` / `backward` / `gradients`, kept
/// by the caller between training steps so that a step allocates no trace or
/// backward buffer once the shapes have been seen (for pixel MNIST at B = 16 that is
/// about 5 MB per step; at B = 128, 40 MB).
///
/// ```swift
/// var workspace = ModelWorkspace<Float>()
/// for batch in batches {
///     let r = try model.gradients(batch.inputs, batch.targets, loss: .crossEntropy, workspace: &workspace)
///     model.apply(r.gradients, using: &sgd)
/// }
/// ```
/// A cached trace or buffer is overwritten only when nothing else holds it: a
/// `ForwardPass` or `StepResult` that the caller still keeps is never changed behind
/// its back (the call allocates afresh instead). Copies of a workspace are independent
/// for the same reason. Results are the same with or without a workspace.
public struct ModelWorkspace<Scalar: NeuralScalar>: Sendable {
    /// One per layer, bottom first; nil until a pass has run.
    var traces: [SequenceTrace<Scalar>?] = []
    var buffers: [BackwardBuffers<Scalar>?] = []
    /// One per layer for `forwardOnly` (evaluation, `predict`); nil until such a pass has run.
    var forwardOnlyTraces: [ForwardOnlyTrace<Scalar>?] = []
    /// Whether `backward` computes dL/dx of layer 0 (`StepResult.inputGradient`); a training
    /// loop that never reads it turns it off (then it is [B, T, 0]). Weights' gradients are
    /// the same either way.
    public var inputGradient: Bool

    /// The steps C of a forward-only pass's window (`RecurrentCell.forwardOnly`); nil picks
    /// it from a 1 MiB budget. Results are the same for any C.
    public var forwardOnlyChunkSteps: Int?

    public init(inputGradient: Bool = true) {
        self.inputGradient = inputGradient
    }

    mutating func prepare(layers: Int) {
        if traces.count != layers { traces = Array(repeating: nil, count: layers) }
        if buffers.count != layers { buffers = Array(repeating: nil, count: layers) }
        if forwardOnlyTraces.count != layers { forwardOnlyTraces = Array(repeating: nil, count: layers) }
    }
}
