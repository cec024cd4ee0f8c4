/// Gradients of every parameter of a `RecurrentModel`, in the same layout and order.
public struct ModelGradients<Scalar: NeuralScalar>: Sendable, Equatable {
    public var layers: [CellParameters<Scalar>]
    public var head: Linear<Scalar>
    /// The `state_dict` suffixes of one layer's tensors (the cell's `tensors` names), for
    /// naming: `weight_ih`, `weight_hh`, ...
    public var tensorNames: [String]
    /// D: 2 when `layers` holds a forward and a reverse cell per layer (l0, l0_reverse, ...).
    public var directions: Int

    public init<Cell: RecurrentCell>(zerosLike model: RecurrentModel<Cell>) where Cell.Scalar == Scalar {
        layers = model.layers.map { $0.parameters.zerosLike }
        head = model.head.zerosLike
        tensorNames = Cell.tensors.map(\.name)
        directions = model.directions
    }

    /// `tensorNames` are the suffixes of one layer's tensors, in the order of `layers[k].tensors`.
    public init(layers: [CellParameters<Scalar>], head: Linear<Scalar>, tensorNames: [String], directions: Int = 1) {
        precondition(layers.allSatisfy { $0.count == tensorNames.count }, "every layer needs one name per tensor: \(tensorNames)")
        self.layers = layers
        self.head = head
        self.tensorNames = tensorNames
        self.directions = directions
    }
}

// MARK: - Parameter naming and traversal (shared by optimizers, clipping, checkpoints)

/// PyTorch's `state_dict` names for `cells` cells (L layers of D directions) whose tensors
/// are called `tensorNames`: `rnn.weight_ih_l0`, `rnn.weight_hh_l0`, `rnn.bias_ih_l0`,
/// `rnn.bias_hh_l0`, (bidirectional: `rnn.weight_ih_l0_reverse`, ...), ..., `head.weight`, `head.bias`.
public func stateDictNames(layers cells: Int, tensorNames: [String], directions: Int = 1) -> [String] {
    (0..<cells).flatMap { k in tensorNames.map { "rnn.\($0)_\(layerSuffix(k, directions: directions))" } } + ["head.weight", "head.bias"]
}

/// PyTorch's name of cell k of a stack of D directions: `l{k/D}`, and `_reverse` for the
/// second direction (`l0`, `l0_reverse`, `l1`, ...).
public func layerSuffix(_ k: Int, directions: Int) -> String {
    "l\(k / directions)" + (k % directions == 1 ? "_reverse" : "")
}

extension RecurrentCell {
    /// The `state_dict` names of a model of L layers (of D directions) of this cell
    /// (`rnn.<tensor>_l<k>[_reverse]`, then the head).
    public static func parameterNames(layers: Int, directions: Int = 1) -> [String] {
        stateDictNames(layers: layers * directions, tensorNames: tensors.map(\.name), directions: directions)
    }
}

extension ModelGradients {
    /// Visits every tensor in `state_dict` order with its index and name.
    public func forEachTensor(_ body: (Int, String, Matrix<Scalar>) throws -> Void) rethrows {
        let names = stateDictNames(layers: layers.count, tensorNames: tensorNames, directions: directions)
        var i = 0
        for l in layers.indices {
            for m in layers[l].tensors { try body(i, names[i], m); i += 1 }
        }
        try body(i, names[i], head.weight)
        try body(i + 1, names[i + 1], head.bias)
    }

    /// Visits every tensor mutably, in `state_dict` order.
    public mutating func updateEachTensor(_ body: (Int, String, inout Matrix<Scalar>) throws -> Void) rethrows {
        let names = stateDictNames(layers: layers.count, tensorNames: tensorNames, directions: directions)
        var i = 0
        for l in layers.indices {
            for k in layers[l].tensors.indices { try body(i, names[i], &layers[l].tensors[k]); i += 1 }
        }
        try body(i, names[i], &head.weight)
        try body(i + 1, names[i + 1], &head.bias)
    }

    /// Visits every tensor's values in `state_dict` order, without names or key paths:
    /// the passes of every training step (clipping, the norm, the update). `forEachTensor`
    /// builds the names and instantiates `CellParameters.keyPaths` on every call (for the
    /// generic type the runtime cannot cache them), thousands of instructions per call.
    func forEachStorage(_ body: ([Scalar]) -> Void) {
        for layer in layers {
            for tensor in layer.tensors { body(tensor.storage) }
        }
        body(head.weight.storage)
        body(head.bias.storage)
    }

    /// The same, mutably.
    mutating func updateEachStorage(_ body: (inout [Scalar]) -> Void) {
        for l in layers.indices {
            for k in layers[l].tensors.indices { body(&layers[l].tensors[k].storage) }
        }
        body(&head.weight.storage)
        body(&head.bias.storage)
    }

    /// sqrt(Σ g^2) over every tensor, in Double.
    public var globalNorm: Double {
        var sum = 0.0
        forEachStorage { values in for v in values { let d = Double(v); sum += d * d } }
        return sum.squareRoot()
    }
}

extension RecurrentModel {
    /// Visits every parameter in `state_dict` order with its index and name (the same
    /// traversal as the gradients': the tensors are shared, not copied).
    public func forEachParameter(_ body: (Int, String, Matrix<Scalar>) throws -> Void) rethrows {
        try ModelGradients(layers: layers.map(\.parameters), head: head, tensorNames: Cell.tensors.map(\.name), directions: directions).forEachTensor(body)
    }

    /// Visits every parameter mutably, in `state_dict` order, then applies the cells'
    /// constraints (IndRNN's bound).
    public mutating func updateEachParameter(_ body: (Int, String, inout Matrix<Scalar>) throws -> Void) rethrows {
        let names = Cell.parameterNames(layers: layers.count / directions, directions: directions)
        var i = 0
        for l in layers.indices {
            for k in layers[l].parameters.tensors.indices { try body(i, names[i], &layers[l].parameters.tensors[k]); i += 1 }
            layers[l].applyConstraints()
        }
        try body(i, names[i], &head.weight)
        try body(i + 1, names[i + 1], &head.bias)
    }

    /// The number of trainable scalars.
    public var parameterCount: Int {
        var n = 0
        forEachParameter { _, _, m in n += m.count }
        return n
    }
}
