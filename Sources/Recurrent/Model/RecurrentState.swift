/// The state of a stack of L layers: one `LayerState` per layer, bottom first.
public struct RecurrentState<Scalar: NeuralScalar>: Sendable, Equatable {
    public var layers: [LayerState<Scalar>]
    public init(layers: [LayerState<Scalar>]) { self.layers = layers }

    /// The hidden states stacked as PyTorch's h_n: [L, B, H] flattened to [L*B, H].
    public var hiddenStack: Matrix<Scalar> {
        let cols = layers.first?.hidden.cols ?? 0
        return Matrix(rows: layers.reduce(0) { $0 + $1.hidden.rows }, cols: cols, layers.flatMap { $0.hidden.storage })
    }
}
