/// The parameters of one recurrent layer, laid out exactly as PyTorch's `nn.RNN`,
/// `nn.LSTM` and `nn.GRU` hold them, so that checkpoints move between the two unchanged.
///
/// G is the number of gate blocks (1 for RNN and IndRNN, 4 for LSTM in the order
/// i, f, g, o, 3 for GRU in the order r, z, n); H the hidden size; I the input size.
/// The same struct holds the gradients of these parameters.
public struct CellParameters<Scalar: NeuralScalar>: Sendable, Equatable {
    /// `weight_ih_l{k}`: [G*H, I]
    public var weightIH: Matrix<Scalar>
    /// `weight_hh_l{k}`: [G*H, H]; for IndRNN the recurrent vector u, [1, H]
    /// (saved with PyTorch-style name and shape [H]).
    public var weightHH: Matrix<Scalar>
    /// `bias_ih_l{k}`: [1, G*H]
    public var biasIH: Matrix<Scalar>
    /// `bias_hh_l{k}`: [1, G*H]
    public var biasHH: Matrix<Scalar>

    public init(weightIH: Matrix<Scalar>, weightHH: Matrix<Scalar>, biasIH: Matrix<Scalar>, biasHH: Matrix<Scalar>) {
        self.weightIH = weightIH
        self.weightHH = weightHH
        self.biasIH = biasIH
        self.biasHH = biasHH
    }

    /// Zeros with the same shapes (a gradient accumulator).
    public var zerosLike: CellParameters {
        CellParameters(weightIH: weightIH.zerosLike, weightHH: weightHH.zerosLike,
                       biasIH: biasIH.zerosLike, biasHH: biasHH.zerosLike)
    }

    /// PyTorch's suffixes, in `state_dict` order.
    public static var names: [String] { ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] }

    /// The tensors in `state_dict` order, with writable access.
    public static var keyPaths: [WritableKeyPath<CellParameters, Matrix<Scalar>>] {
        [\.weightIH, \.weightHH, \.biasIH, \.biasHH]
    }
}
