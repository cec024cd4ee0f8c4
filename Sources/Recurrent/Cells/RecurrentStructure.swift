/// How the seed's diagnostics (and the trainer's spectral radii) read a cell's recurrence
/// (`RecurrentCell.recurrentStructure`).
///
/// - `elman`: the cell is net_t = U x_t + W h_{t-1} + b, h_t = f(net_t) for some W [H, H]:
///   the RNN as it is, IndRNN with W = diag(u). Forward growth (10.11), the Jacobian
///   (10.12) and the spectrum all apply as written.
/// - `blocks`: another update (gates, a second state); only the spectrum of each named
///   [H, H] block of the recurrent weights is reported, with a note saying why.
public enum RecurrentStructure<Scalar: NeuralScalar>: Sendable {
    case elman(ElmanRecurrence<Scalar>)
    case blocks([RecurrentBlock<Scalar>], note: String)

    /// The blocks of a fused [G*H, H] recurrent weight, one per gate name, in order.
    public static func gateBlocks(of weight: Matrix<Scalar>, names: [String], note: String) -> RecurrentStructure {
        let h = weight.cols
        return .blocks(names.enumerated().map { g, name in
            RecurrentBlock(name: name, weight: weight.rows((g * h)..<((g + 1) * h)))
        }, note: note)
    }

    /// ρ of each part: one value with a nil name for `elman` (IndRNN's diagonal W: max |u_j|,
    /// exactly), one per block otherwise. A part whose eigenvalues cannot be computed
    /// (non-finite weights) is left out. Cost: one Hessenberg QR, about 10 H³ flops, per part.
    public var spectralRadii: [(name: String?, value: Double)] {
        func radius(_ w: Matrix<Scalar>) -> Double? {
            try? LinearAlgebra.spectralRadius(w.storage.map { Double($0) }, n: w.rows)
        }
        switch self {
        case .elman(let e):
            if e.isDiagonal { return [(nil, e.recurrentWeight.maxAbs)] }
            return radius(e.recurrentWeight).map { [(nil, $0)] } ?? []
        case .blocks(let blocks, _):
            return blocks.compactMap { b in radius(b.weight).map { (b.name, $0) } }
        }
    }
}

/// A cell read as net_t = U x_t + W h_{t-1} + b_ih + b_hh, h_t = f(net_t).
public struct ElmanRecurrence<Scalar: NeuralScalar>: Sendable {
    /// U [H, I]
    public var inputWeight: Matrix<Scalar>
    /// W [H, H]
    public var recurrentWeight: Matrix<Scalar>
    /// b_ih [1, H]
    public var inputBias: Matrix<Scalar>
    /// b_hh [1, H]
    public var recurrentBias: Matrix<Scalar>
    public var activation: Activation
    /// W is diagonal by construction (IndRNN's diag(u)): ρ(W) = max |W_jj|.
    public var isDiagonal: Bool
    /// What a report should say about the reading (e.g. "IndRNN: u diagnosed as ..."), if anything.
    public var note: String?

    public init(inputWeight: Matrix<Scalar>, recurrentWeight: Matrix<Scalar>, inputBias: Matrix<Scalar>,
                recurrentBias: Matrix<Scalar>, activation: Activation, isDiagonal: Bool = false, note: String? = nil) {
        self.inputWeight = inputWeight
        self.recurrentWeight = recurrentWeight
        self.inputBias = inputBias
        self.recurrentBias = recurrentBias
        self.activation = activation
        self.isDiagonal = isDiagonal
        self.note = note
    }
}

/// One named [H, H] block of a cell's recurrent weights: a gate block of LSTM's or GRU's
/// W_hh (i, f, g, o; r, z, n), or one of coRNN's two matrices.
public struct RecurrentBlock<Scalar: NeuralScalar>: Sendable {
    public var name: String
    public var weight: Matrix<Scalar>
}
