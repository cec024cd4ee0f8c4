/// A stack of L recurrent layers of one cell kind and a linear readout head: the
/// model of PyTorch's `Model.rnn = nn.RNN/LSTM/GRU(I, H, L, batch_first=True)`,
/// `Model.head = nn.Linear(H, O)`, with the same parameter names (other cells: the names
/// their `tensors` declare, under the same `rnn.` prefix).
///
/// Shapes: inputs [B, T, I] (batch-first); per-layer traces time-major [T*B, ·];
/// outputs [B, O] (`.lastStep`) or time-major [T*B, O] (`.everyStep`).
public struct RecurrentModel<Cell: RecurrentCell>: Sendable {
    public typealias Scalar = Cell.Scalar

    /// Bottom layer first; layer 0 reads the inputs, layer l > 0 reads h of layer l-1.
    public var layers: [Cell]
    public var head: Linear<Scalar>
    public var readout: Readout

    public init(layers: [Cell], head: Linear<Scalar>, readout: Readout) {
        precondition(!layers.isEmpty, "a model needs at least one layer")
        for l in 1..<max(1, layers.count) {
            precondition(layers[l].inputSize == layers[l - 1].hiddenSize,
                         "layer \(l) reads \(layers[l].inputSize) inputs but layer \(l - 1) has \(layers[l - 1].hiddenSize) units")
        }
        precondition(head.inputSize == layers[layers.count - 1].hiddenSize, "the head must read the last layer's hidden size")
        self.layers = layers
        self.head = head
        self.readout = readout
    }

    /// A freshly initialised model. Draws each layer's tensors in `state_dict` order (the
    /// cell's `initialParameters`: for PyTorch's layout U, W, b_ih, b_hh), layer by layer,
    /// then the head.
    public init(_ configuration: ModelConfiguration, using rng: inout some RandomNumberGenerator) throws(ConfigurationError) {
        try configuration.validate()
        guard configuration.cell == Cell.kind else {
            throw ConfigurationError("configuration is for \(configuration.cell.rawValue) but the model type holds \(Cell.kind.rawValue) cells")
        }
        let c = configuration, h = c.hiddenSize, settings = c.settings
        var cells: [Cell] = []
        for l in 0..<c.layers {
            let parameters = Cell.initialParameters(inputSize: l == 0 ? c.inputSize : h, hiddenSize: h, settings: settings, using: &rng)
            var cell = Cell(parameters: parameters, settings: settings)
            cell.applyConstraints()
            cells.append(cell)
        }
        self.init(layers: cells, head: Linear(inputSize: h, outputSize: c.outputs, using: &rng), readout: c.readout)
    }

    public var inputSize: Int { layers[0].inputSize }
    public var hiddenSize: Int { layers[0].hiddenSize }
    public var outputSize: Int { head.outputSize }

    /// h = 0 (and c = 0) for every layer.
    public func zeroState(batch: Int) -> RecurrentState<Scalar> {
        RecurrentState(layers: layers.map { LayerState.zeros(batch: batch, hiddenSize: $0.hiddenSize, hasMemory: Cell.hasMemory) })
    }

    // MARK: - Forward

    /// What a forward pass keeps: one trace per layer, the head's input and the outputs.
    public struct ForwardPass: Sendable {
        public var batch: Int
        public var steps: Int
        public var traces: [SequenceTrace<Scalar>]
        /// The head's input: h_T [B, H] or every h_t time-major [T*B, H].
        public var headInput: Matrix<Scalar>
        /// [B, O] or time-major [T*B, O].
        public var outputs: Matrix<Scalar>
        public var finalState: RecurrentState<Scalar> { RecurrentState(layers: traces.map(\.finalState)) }
    }

    /// Runs the stack and the head. `initial` defaults to the zero state.
    public func forward(_ inputs: SequenceBatch<Scalar>, initial: RecurrentState<Scalar>? = nil) -> ForwardPass {
        var workspace = ModelWorkspace<Scalar>()
        return forward(inputs, initial: initial, workspace: &workspace)
    }

    /// The same, reusing the traces cached in `workspace` when their shapes match.
    public func forward(_ inputs: SequenceBatch<Scalar>, initial: RecurrentState<Scalar>? = nil,
                        workspace: inout ModelWorkspace<Scalar>) -> ForwardPass {
        precondition(inputs.features == inputSize, "the model reads \(inputSize) features per step, the batch has \(inputs.features)")
        let b = inputs.batch, t = inputs.steps
        let state = initial ?? zeroState(batch: b)
        var x = inputs.timeMajor
        var traces: [SequenceTrace<Scalar>] = []
        workspace.prepare(layers: layers.count)
        for (l, cell) in layers.enumerated() {
            let trace = cell.forward(x, steps: t, batch: b, initial: state.layers[l], reusing: &workspace.traces[l])
            traces.append(trace)
            if l + 1 < layers.count { x = trace.outputs }
        }
        let last = traces[traces.count - 1]
        let headInput = readout == .lastStep ? last.hidden.matrix(rows: (t * b)..<((t + 1) * b)) : last.outputs
        return ForwardPass(batch: b, steps: t, traces: traces, headInput: headInput, outputs: head.forward(headInput))
    }

    // MARK: - Backward (mirror order)

    /// Backpropagates dL/d outputs through the head and every layer (BPTT).
    /// Returns the gradients of every parameter, dL/dx [B, T, I] ([B, T, 0] when the
    /// workspace's `inputGradient` is off) and dL/d(initial state).
    public func backward(_ pass: ForwardPass, outputGradient: Matrix<Scalar>,
                         finalStateGradient: RecurrentState<Scalar>? = nil)
        -> (gradients: ModelGradients<Scalar>, inputs: SequenceBatch<Scalar>, initial: RecurrentState<Scalar>) {
        var workspace = ModelWorkspace<Scalar>()
        return backward(pass, outputGradient: outputGradient, finalStateGradient: finalStateGradient, workspace: &workspace)
    }

    /// The same, reusing the backward buffers cached in `workspace` when their shapes match.
    public func backward(_ pass: ForwardPass, outputGradient: Matrix<Scalar>,
                         finalStateGradient: RecurrentState<Scalar>? = nil, workspace: inout ModelWorkspace<Scalar>)
        -> (gradients: ModelGradients<Scalar>, inputs: SequenceBatch<Scalar>, initial: RecurrentState<Scalar>) {
        var gradients = ModelGradients(zerosLike: self)
        let dHeadInput = head.backward(pass.headInput, outputGradient: outputGradient, into: &gradients.head)
        let b = pass.batch, t = pass.steps
        // dL/dh_t of the top layer from the head: only h_T for many-to-one.
        var dOutputs: Matrix<Scalar>?
        var dFinalTop = finalStateGradient?.layers.last
        if readout == .everyStep {
            dOutputs = dHeadInput
        } else {
            var top = dFinalTop ?? LayerState.zeros(batch: b, hiddenSize: layers[layers.count - 1].hiddenSize, hasMemory: Cell.hasMemory)
            for i in top.hidden.storage.indices { top.hidden.storage[i] += dHeadInput.storage[i] }
            dFinalTop = top
        }
        workspace.prepare(layers: layers.count)
        var initial = [LayerState<Scalar>](repeating: LayerState(hidden: Matrix(rows: 0, cols: 0), memory: Matrix(rows: 0, cols: 0)),
                                           count: layers.count)
        var dInputs = Matrix<Scalar>(rows: 0, cols: 0)
        for l in stride(from: layers.count - 1, through: 0, by: -1) {
            let dFinal = l == layers.count - 1 ? dFinalTop : finalStateGradient?.layers[l]
            let result = layers[l].backward(pass.traces[l], outputGradient: dOutputs, finalStateGradient: dFinal,
                                            into: &gradients.layers[l], reusing: &workspace.buffers[l],
                                            inputGradient: l > 0 || workspace.inputGradient)
            initial[l] = result.initial
            dOutputs = result.inputs
            dInputs = result.inputs
        }
        return (gradients, SequenceBatch(timeMajor: dInputs, batch: b, steps: t), RecurrentState(layers: initial))
    }

    // MARK: - Loss

    /// The result of one forward and backward pass against targets.
    public struct StepResult: Sendable {
        public var loss: Double
        /// Accuracy for cross-entropy, nil for mse.
        public var accuracy: Double?
        public var gradients: ModelGradients<Scalar>
        public var pass: ForwardPass
        public var inputGradient: SequenceBatch<Scalar>
        public var initialStateGradient: RecurrentState<Scalar>
    }

    /// Loss and gradients of every parameter for one batch.
    public func gradients(_ inputs: SequenceBatch<Scalar>, _ targets: Targets<Scalar>, loss: Loss,
                          initial: RecurrentState<Scalar>? = nil) throws(ConfigurationError) -> StepResult {
        var workspace = ModelWorkspace<Scalar>()
        return try gradients(inputs, targets, loss: loss, initial: initial, workspace: &workspace)
    }

    /// The same, reusing the traces and backward buffers cached in `workspace` (see
    /// `ModelWorkspace`): what a training loop calls every step.
    public func gradients(_ inputs: SequenceBatch<Scalar>, _ targets: Targets<Scalar>, loss: Loss,
                          initial: RecurrentState<Scalar>? = nil,
                          workspace: inout ModelWorkspace<Scalar>) throws(ConfigurationError) -> StepResult {
        if targets.isPerStep != (readout == .everyStep) {
            throw ConfigurationError(readout == .everyStep
                ? "the model reads out every step but the targets are one per sequence"
                : "the model reads out the last step only but the targets are per step")
        }
        let pass = forward(inputs, initial: initial, workspace: &workspace)
        let target = try targets.lossTarget(batch: inputs.batch, steps: inputs.steps)
        let (value, dOut) = try loss.evaluate(pass.outputs, target)
        let back = backward(pass, outputGradient: dOut, workspace: &workspace)
        return StepResult(loss: value, accuracy: loss.accuracy(pass.outputs, target), gradients: back.gradients,
                          pass: pass, inputGradient: back.inputs, initialStateGradient: back.initial)
    }

    /// Outputs batch-first: [B, O] for many-to-one, [B*T, O] (rows b*T + t) for many-to-many.
    public func predict(_ inputs: SequenceBatch<Scalar>, initial: RecurrentState<Scalar>? = nil) -> (outputs: Matrix<Scalar>, finalState: RecurrentState<Scalar>) {
        var workspace = ModelWorkspace<Scalar>()
        return predict(inputs, initial: initial, workspace: &workspace)
    }

    /// The same, reusing the traces cached in `workspace` when their shapes match.
    public func predict(_ inputs: SequenceBatch<Scalar>, initial: RecurrentState<Scalar>? = nil,
                        workspace: inout ModelWorkspace<Scalar>) -> (outputs: Matrix<Scalar>, finalState: RecurrentState<Scalar>) {
        let pass = forward(inputs, initial: initial, workspace: &workspace)
        if readout == .lastStep { return (pass.outputs, pass.finalState) }
        let batchFirst = SequenceBatch(timeMajor: pass.outputs, batch: pass.batch, steps: pass.steps)
        return (Matrix(rows: pass.batch * pass.steps, cols: outputSize, batchFirst.values), pass.finalState)
    }
}
