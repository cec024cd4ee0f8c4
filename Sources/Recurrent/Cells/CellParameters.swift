/// The parameters of one recurrent layer: the tensors its cell declares
/// (`RecurrentCell.tensors`), in `state_dict` order, each as a matrix [rows, cols].
///
/// PyTorch's `nn.RNN`, `nn.LSTM` and `nn.GRU` (and our RNN, LSTM, GRU and IndRNN) hold
/// four: `weight_ih` [G*H, I], `weight_hh` [G*H, H] (IndRNN: u, [1, H]), `bias_ih` and
/// `bias_hh` [1, G*H]; other cells hold others (coRNN has a second recurrent matrix and one
/// bias). Tensor 0 is always the input weight. Each cell reads its tensors through typed
/// accessors with fixed indices (`RNNCell.weightHH` is tensor 1), so the hot path does no
/// lookup. The same struct holds the gradients of these parameters.
public struct CellParameters<Scalar: NeuralScalar>: Sendable, Equatable {
    /// The tensors in `state_dict` order.
    public var tensors: [Matrix<Scalar>]

    public init(_ tensors: [Matrix<Scalar>]) {
        self.tensors = tensors
    }

    /// PyTorch's four tensors in `state_dict` order (the layout of RNN, LSTM, GRU and IndRNN):
    /// `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`.
    public init(weightIH: Matrix<Scalar>, weightHH: Matrix<Scalar>, biasIH: Matrix<Scalar>, biasHH: Matrix<Scalar>) {
        self.init([weightIH, weightHH, biasIH, biasHH])
    }

    /// Tensor `index` (in `state_dict` order), read and written in place.
    @inlinable
    public subscript(index: Int) -> Matrix<Scalar> {
        get { tensors[index] }
        _modify { yield &tensors[index] }
    }

    /// The number of tensors.
    public var count: Int { tensors.count }

    /// Zeros with the same shapes (a gradient accumulator).
    public var zerosLike: CellParameters {
        CellParameters(tensors.map(\.zerosLike))
    }
}
