// MARK: - Prediction over many sequences, in chunks, with the final states stacked

/// A model's outputs and final state for N sequences, as PyTorch returns them: the raw head
/// outputs (logits for classifiers) and h_n (and c_n for cells with a memory), each [L, N, H].
public struct Prediction<Scalar: NeuralScalar>: Sendable {
    /// Row-major values of shape `outputShape`: [N, O] (many-to-one) or [N, T, O] (many-to-many).
    public var outputs: [Scalar]
    public var outputShape: [Int]
    /// h_n: [L*N, H], layer-major (PyTorch's [L, N, H] flattened).
    public var hidden: Matrix<Scalar>
    /// c_n like `hidden` (LSTM), or nil for cells without a memory.
    public var memory: Matrix<Scalar>?
    /// L, for the shapes.
    public var layers: Int
}

extension Prediction where Scalar == Float {
    /// The tensors `recurrent predict` writes: `outputs`, `hidden` [L, N, H] and, for LSTM,
    /// `cell` [L, N, H] (PyTorch's output, h_n, c_n).
    public var tensors: [String: SafeTensor] {
        let n = layers > 0 ? hidden.rows / layers : 0
        var t = ["outputs": SafeTensor(floats: outputs, shape: outputShape),
                 "hidden": SafeTensor(floats: hidden.storage, shape: [layers, n, hidden.cols])]
        if let c = memory { t["cell"] = SafeTensor(floats: c.storage, shape: [layers, n, c.cols]) }
        return t
    }
}

extension RecurrentModel {
    /// Runs the model over `inputs` [N, T, I], `chunkSize` sequences at a time (to bound the
    /// memory of the forward pass), each from the zero state; the result is the same for any
    /// chunk size.
    public func predict(_ inputs: SequenceBatch<Scalar>, chunkSize: Int) -> Prediction<Scalar> {
        var workspace = ModelWorkspace<Scalar>()               // one chunk's traces, reused by the next
        return predict(inputs, chunkSize: chunkSize, workspace: &workspace)
    }

    /// The same with the caller's workspace: a serving loop that predicts batch after batch
    /// (e.g. one sequence at a time) keeps one, so that its buffers and the weights' prepared
    /// forms (W_hhᵀ, its panels) are made once while the weights stay the same.
    public func predict(_ inputs: SequenceBatch<Scalar>, chunkSize: Int, workspace: inout ModelWorkspace<Scalar>) -> Prediction<Scalar> {
        let n = inputs.batch, t = inputs.steps
        let chunk = Swift.max(1, chunkSize)
        var outputs: [Scalar] = []
        outputs.reserveCapacity(n * outputSize * (readout == .everyStep ? t : 1))
        var states: [RecurrentState<Scalar>] = []
        for start in stride(from: 0, to: n, by: chunk) {
            let (y, state) = predict(inputs.sequences(start..<Swift.min(n, start + chunk)), workspace: &workspace)
            outputs += y.storage
            states.append(state)
        }
        let state = RecurrentState.concatenating(states, layers: layers.count, hidden: hiddenSize)
        return Prediction(outputs: outputs, outputShape: readout == .everyStep ? [n, t, outputSize] : [n, outputSize],
                          hidden: state.hiddenStack, memory: Cell.hasMemory ? state.memoryStack : nil, layers: layers.count)
    }
}

extension AnyRecurrentModel {
    /// `RecurrentModel.predict(_:chunkSize:)` for a model whose cell is known only at run time.
    public func predict(_ inputs: SequenceBatch<Float>, chunkSize: Int) throws -> Prediction<Float> {
        try visit(PredictionVisitor(inputs: inputs, chunkSize: chunkSize))
    }
}

/// `AnyRecurrentModel.predict`'s generic half.
struct PredictionVisitor: ModelVisitor {
    var inputs: SequenceBatch<Float>
    var chunkSize: Int

    func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> Prediction<Float> where Cell.Scalar == Float {
        model.predict(inputs, chunkSize: chunkSize)
    }
}

extension RecurrentState {
    /// The states of consecutive chunks of one batch as one state: per layer, the rows of
    /// every chunk in order ([B1 + B2 + ..., H]). `layers` and `hidden` size an empty result.
    public static func concatenating(_ parts: [RecurrentState], layers: Int, hidden: Int) -> RecurrentState {
        RecurrentState(layers: (0..<layers).map { l in
            let h = parts.flatMap { $0.layers[l].hidden.storage }, c = parts.flatMap { $0.layers[l].memory.storage }
            return LayerState(hidden: Matrix(rows: h.count / Swift.max(1, hidden), cols: hidden, h),
                              memory: Matrix(rows: c.count / Swift.max(1, hidden), cols: hidden, c))
        })
    }

    /// The memories (LSTM's c) stacked like `hiddenStack`: [L*B, H].
    public var memoryStack: Matrix<Scalar> {
        let cols = layers.first?.memory.cols ?? 0
        return Matrix(rows: layers.reduce(0) { $0 + $1.memory.rows }, cols: cols, layers.flatMap { $0.memory.storage })
    }
}
