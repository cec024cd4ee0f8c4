/// One parameter tensor of a recurrent layer as its cell declares it: PyTorch-style name,
/// shape in terms of I, H and G, what it does (which initialiser it starts from, which
/// product the unroller forms with it), and its shape in a file.
///
/// A cell lists its tensors in `state_dict` order (`RecurrentCell.tensors`); the first is
/// always the input weight `weight_ih` [G*H, I], which the unroller multiplies with all
/// inputs at once. The checkpoint name of tensor `weight_hh` of layer k is
/// `rnn.weight_hh_l{k}`.
public struct CellTensor: Sendable, Hashable {
    /// A dimension: 1, I (the layer's input size), H, or G*H.
    public enum Extent: Sendable, Hashable {
        case one, inputs, hidden, gates
    }

    /// What the tensor is for. It decides the initialiser (`RecurrentCell.initializer(for:...)`)
    /// and, for the input weight and bias, the product the unroller forms with them.
    /// True for b_ih and b_hh: the tensors a layer without biases (PyTorch's `bias=False`) lacks.
    public var isBias: Bool { role == .inputBias || role == .recurrentBias }

    public enum Role: Sendable, Hashable {
        /// U = `weight_ih` [G*H, I]: preInput = x W_ihᵀ + b_ih, one product for all steps.
        case inputWeight
        /// b_ih [1, G*H], added to preInput.
        case inputBias
        /// A recurrent weight (W_hh, IndRNN's u, coRNN's W and 𝒲): the cell's own step uses it.
        case recurrentWeight
        /// b_hh, used by the cell's own step.
        case recurrentBias
    }

    /// The `state_dict` suffix before `_l{k}`: `weight_ih`, `weight_hh`, `bias_ih`, ...
    public var name: String
    public var rows: Extent
    public var cols: Extent
    public var role: Role
    /// Saved 1-D, [rows * cols], instead of [rows, cols]: PyTorch's biases, IndRNN's u.
    public var savedAsVector: Bool

    /// `savedAsVector` defaults to true for a single row (a vector).
    public init(_ name: String, rows: Extent, cols: Extent, role: Role, savedAsVector: Bool? = nil) {
        self.name = name
        self.rows = rows
        self.cols = cols
        self.role = role
        self.savedAsVector = savedAsVector ?? (rows == .one)
    }

    /// PyTorch's four tensors of `nn.RNN`, `nn.LSTM` and `nn.GRU`, in `state_dict` order:
    /// `weight_ih` [G*H, I], `weight_hh` [G*H, H], `bias_ih` [G*H], `bias_hh` [G*H].
    public static let pytorchLayout: [CellTensor] = [
        CellTensor("weight_ih", rows: .gates, cols: .inputs, role: .inputWeight),
        CellTensor("weight_hh", rows: .gates, cols: .hidden, role: .recurrentWeight),
        CellTensor("bias_ih", rows: .one, cols: .gates, role: .inputBias),
        CellTensor("bias_hh", rows: .one, cols: .gates, role: .recurrentBias),
    ]

    /// The size of `extent` for a layer of `inputSize` inputs and `hiddenSize` units.
    public static func size(_ extent: Extent, inputSize: Int, hiddenSize: Int, gateCount: Int) -> Int {
        switch extent {
        case .one: return 1
        case .inputs: return inputSize
        case .hidden: return hiddenSize
        case .gates: return gateCount * hiddenSize
        }
    }

    /// The in-memory shape [rows, cols].
    public func shape(inputSize: Int, hiddenSize: Int, gateCount: Int) -> (rows: Int, cols: Int) {
        (Self.size(rows, inputSize: inputSize, hiddenSize: hiddenSize, gateCount: gateCount),
         Self.size(cols, inputSize: inputSize, hiddenSize: hiddenSize, gateCount: gateCount))
    }

    /// The shape written to a file: [rows * cols] when `savedAsVector`, else [rows, cols].
    public func fileShape(inputSize: Int, hiddenSize: Int, gateCount: Int) -> [Int] {
        let (r, c) = shape(inputSize: inputSize, hiddenSize: hiddenSize, gateCount: gateCount)
        return savedAsVector ? [r * c] : [r, c]
    }

    /// The shapes a file may hold: the written one, or [rows, cols] for a vector (and
    /// [rows * cols] for a matrix with one row or column), as `Checkpoint.fill` accepts.
    public static func fileShapeFits(_ shape: [Int], rows: Int, cols: Int) -> Bool {
        shape == [rows, cols] || (shape == [rows * cols] && (rows == 1 || cols == 1))
    }

    /// The file shape in symbols, e.g. `weight_ih [4H, I]`, `bias_ih [3H]`, `weight_hh [H]`.
    public func formula(gateCount: Int) -> String {
        func symbol(_ e: Extent) -> String {
            switch e {
            case .one: return "1"
            case .inputs: return "I"
            case .hidden: return "H"
            case .gates: return gateCount == 1 ? "H" : "\(gateCount)H"
            }
        }
        if savedAsVector { return "\(name) [\(rows == .one ? symbol(cols) : cols == .one ? symbol(rows) : symbol(rows) + "*" + symbol(cols))]" }
        return "\(name) [\(symbol(rows)), \(symbol(cols))]"
    }
}
