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
    /// Bidirectional: L*2 cells, each layer's forward cell then its reverse cell (PyTorch's
    /// order: `l0`, `l0_reverse`, `l1`, ...); layer l > 0 reads [h_fwd | h_rev] of layer l-1.
    public var layers: [Cell]
    public var head: Linear<Scalar>
    public var readout: Readout
    /// D: 1, or 2 for bidirectional layers.
    public let directions: Int
    /// False for layers without biases (PyTorch's `bias=False`): every layer's b_ih and b_hh
    /// (the tensors whose role is a bias) stay 0: their gradients are 0, so no optimizer
    /// moves them, and checkpoints leave them out.
    public let bias: Bool
    /// p of the dropout between stacked layers (PyTorch's `dropout=p`); applied only when a
    /// training step passes a seed (`gradients(..., dropoutSeed:)`) or masks to `forward`.
    public var dropout: Double = 0
    /// p of variational dropout on each layer's input (Keras's `dropout=`) and on the state
    /// h_{t-1} each step reads (Keras's `recurrent_dropout=`): one mask per sequence, the same
    /// at every step (`VariationalMasks`); applied only when a training step passes a seed or
    /// masks to `forward`.
    public var inputDropout: Double = 0
    public var recurrentDropout: Double = 0

    public init(layers: [Cell], head: Linear<Scalar>, readout: Readout, directions: Int = 1, bias: Bool = true) {
        precondition(!layers.isEmpty && (directions == 1 || directions == 2) && layers.count % directions == 0,
                     "a model needs at least one layer, and a cell per direction (D = \(directions)) in each")
        for k in directions..<max(directions, layers.count) {
            let below = directions * layers[k - 1].hiddenSize
            precondition(layers[k].inputSize == below, "cell \(k) reads \(layers[k].inputSize) inputs but the layer below gives \(below)")
        }
        precondition(head.inputSize == directions * layers[layers.count - 1].hiddenSize, "the head must read the last layer's D*H outputs")
        self.layers = layers
        self.head = head
        self.readout = readout
        self.directions = directions
        self.bias = bias
        if !bias {
            for k in self.layers.indices {
                for (i, t) in Cell.tensors.enumerated() where t.isBias {
                    self.layers[k].parameters.tensors[i].storage = [Scalar](repeating: 0, count: self.layers[k].parameters.tensors[i].count)
                }
            }
        }
    }

    /// A freshly initialised model. Draws each layer's tensors in `state_dict` order (the
    /// cell's `initialParameters`: for PyTorch's layout U, W, b_ih, b_hh), layer by layer,
    /// then the head.
    public init(_ configuration: ModelConfiguration, using rng: inout some RandomNumberGenerator) throws(ConfigurationError) {
        try configuration.validate()
        guard configuration.cell == Cell.kind else {
            throw ConfigurationError("configuration is for \(configuration.cell.rawValue) but the model type holds \(Cell.kind.rawValue) cells")
        }
        let c = configuration, h = c.hiddenSize, settings = c.settings, d = c.directions
        var cells: [Cell] = []
        for k in 0..<(c.layers * d) {                            // state_dict order: l0, (l0_reverse,) l1, ...
            let parameters = Cell.initialParameters(inputSize: k < d ? c.inputSize : d * h, hiddenSize: h, settings: settings, using: &rng)
            var cell = Cell(parameters: parameters, settings: settings)
            cell.applyConstraints()
            cells.append(cell)
        }
        self.init(layers: cells, head: Linear(inputSize: d * h, outputSize: c.outputs, using: &rng), readout: c.readout, directions: d,
                  bias: c.bias)
        dropout = c.dropout
        inputDropout = c.inputDropout
        recurrentDropout = c.recurrentDropout
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
        /// What `backward` reads (a relu RNN's traces keep no net_t: `SequenceTrace.keepsNet`).
        public var traces: [SequenceTrace<Scalar>]
        /// The head's input: h_T [B, H] or every h_t time-major [T*B, H].
        public var headInput: Matrix<Scalar>
        /// [B, O] or time-major [T*B, O].
        public var outputs: Matrix<Scalar>
        /// Variable-length sequences: the order the traces run in (longest first); nil when
        /// every sequence has T steps. `headInput`, `outputs` and `finalState` are in the
        /// batch's own order either way.
        public var packing: PackedOrder? = nil
        /// Dropout: the masks applied to the outputs of layers 0 ..< L-1, each [T*B, D*H] in
        /// the traces' row order (0 or 1/(1-p)); nil when no dropout ran.
        public var dropoutMasks: [Matrix<Scalar>]? = nil
        /// Variational dropout: the masks of every cell's input and state, in the batch's own
        /// order; nil when none ran.
        public var variationalMasks: VariationalMasks<Scalar>? = nil
        /// Each layer's final state, [B, H] per layer: for variable lengths, each sequence's
        /// state at its own last step (PyTorch's h_n of packed sequences).
        public var finalState: RecurrentState<Scalar> {
            let state = RecurrentState(layers: traces.map(\.finalState))
            return packing.map { $0.unsorted(state) } ?? state
        }
    }

    /// Runs the stack and the head. `initial` defaults to the zero state.
    public func forward(_ inputs: SequenceBatch<Scalar>, initial: RecurrentState<Scalar>? = nil) -> ForwardPass {
        var workspace = ModelWorkspace<Scalar>()
        return forward(inputs, initial: initial, workspace: &workspace)
    }

    /// The same, reusing the traces cached in `workspace` when their shapes match.
    ///
    /// `dropoutMasks` (training only; see `dropoutMasks(batch:steps:using:)`): one [T*B, D*H]
    /// mask per layer but the last, multiplied into that layer's outputs. `variationalMasks`
    /// (training only; see `variationalMasks(batch:using:)`): per cell, [B, I_k] on its input
    /// and [B, H] on h_{t-1}, the same at every step.
    public func forward(_ inputs: SequenceBatch<Scalar>, initial: RecurrentState<Scalar>? = nil,
                        workspace: inout ModelWorkspace<Scalar>, dropoutMasks: [Matrix<Scalar>]? = nil,
                        variationalMasks: VariationalMasks<Scalar>? = nil) -> ForwardPass {
        var traces: [SequenceTrace<Scalar>] = []
        workspace.prepare(layers: layers.count)
        let stacked = stackLayers(inputs.timeMajor, batch: inputs.batch, steps: inputs.steps, lengths: inputs.unevenLengths,
                                  initial: initial, dropoutMasks: dropoutMasks, variationalMasks: variationalMasks) {
            k, x, state, liveRows, stateMask, _ in
            let trace = layers[k].forward(x, steps: inputs.steps, batch: inputs.batch, initial: state, liveRows: liveRows,
                                          stateMask: stateMask, keepsNet: false, reusing: &workspace.traces[k])
            traces.append(trace)
            return trace
        }
        return ForwardPass(batch: inputs.batch, steps: inputs.steps, traces: traces, headInput: stacked.headInput,
                           outputs: head.forward(stacked.headInput), packing: stacked.packing, dropoutMasks: dropoutMasks,
                           variationalMasks: variationalMasks)
    }

    /// The forward pass without what only a backward pass needs (evaluation, `predict`): the
    /// same outputs and final state as `forward`, bit for bit, from `RecurrentCell.forwardOnly`
    /// (a window of a few steps per layer instead of the whole trace; every h_t kept only
    /// where the next layer or a per-step readout reads it). Outputs [B, O] or time-major
    /// [T*B, O]; the final state in the batch's own order. Reuses the workspace's
    /// forward-only traces when their shapes match.
    public func forwardOnly(_ inputs: SequenceBatch<Scalar>, initial: RecurrentState<Scalar>? = nil,
                            workspace: inout ModelWorkspace<Scalar>) -> (outputs: Matrix<Scalar>, finalState: RecurrentState<Scalar>) {
        forwardOnly(timeMajor: inputs.timeMajor, batch: inputs.batch, steps: inputs.steps, lengths: inputs.unevenLengths,
                    initial: initial, workspace: &workspace)
    }

    /// `forwardOnly` of inputs already time-major, `x` [T*B, I] (row t*B + b: x_t of sequence
    /// b, as `SequenceBatch.timeMajor`), with the `lengths` [B] of uneven sequences (nil: every
    /// sequence has T steps): the evaluator lays its passes out so, without a batch-first copy.
    public func forwardOnly(timeMajor x: Matrix<Scalar>, batch: Int, steps: Int, lengths: [Int]?,
                            initial: RecurrentState<Scalar>? = nil,
                            workspace: inout ModelWorkspace<Scalar>) -> (outputs: Matrix<Scalar>, finalState: RecurrentState<Scalar>) {
        var passes: [ForwardOnlyTrace<Scalar>] = []
        workspace.prepare(layers: layers.count)
        let stacked = stackLayers(x, batch: batch, steps: steps, lengths: lengths, initial: initial, dropoutMasks: nil, variationalMasks: nil) {
            k, x, state, liveRows, _, keepOutputs in
            let pass = layers[k].forwardOnly(x, steps: steps, batch: batch, initial: state, liveRows: liveRows,
                                             keepOutputs: keepOutputs, chunkSteps: workspace.forwardOnlyChunkSteps,
                                             reusing: &workspace.forwardOnlyTraces[k])
            passes.append(pass)
            return pass
        }
        let state = RecurrentState(layers: passes.map(\.finalState))
        return (head.forward(stacked.headInput), stacked.packing.map { $0.unsorted(state) } ?? state)
    }

    /// The stacking of the layers, shared by `forward` and `forwardOnly`: each cell k runs
    /// (`run(k, x, initial, liveRows, stateMask, keepOutputs)`) over its layer's input x
    /// [T*B, I_k] (bidirectional: the reverse cell over x reversed in time within each
    /// length), layer l+1 reads layer l's outputs ([h_fwd | h_rev] [T*B, D*H]), dropout
    /// masks between them; `keepOutputs` is false where nothing reads a cell's h_1 ... h_T
    /// (the top layer's cells with a last-step readout, which read only h_T and h_1).
    /// The inputs: `inputs` [T*B, I] time-major, `lengths` [B] of uneven sequences or nil.
    /// Returns the head's input in the batch's own order and the packing of variable lengths.
    func stackLayers<Pass: LayerPass<Scalar>>(_ inputs: Matrix<Scalar>, batch b: Int, steps t: Int, lengths: [Int]?,
                                               initial: RecurrentState<Scalar>?,
                                               dropoutMasks: [Matrix<Scalar>]?, variationalMasks: VariationalMasks<Scalar>?,
                                               run: (_ k: Int, _ x: Matrix<Scalar>, _ initial: LayerState<Scalar>, _ liveRows: [Int]?,
                                                     _ stateMask: Matrix<Scalar>?, _ keepOutputs: Bool) -> Pass)
        -> (headInput: Matrix<Scalar>, packing: PackedOrder?) {
        precondition(inputs.cols == inputSize, "the model reads \(inputSize) features per step, the batch has \(inputs.cols)")
        precondition(inputs.rows == t * b, "time-major inputs [T*B, I] = [\(t * b), \(inputSize)], got \(inputs.shape)")
        var state = initial ?? zeroState(batch: b)
        var x = inputs
        // Variable lengths: run sorted longest first, the padding zeroed (so no value of it,
        // not even a NaN, reaches a product); nil keeps the equal-length path as it was.
        let packing = lengths.flatMap { $0.contains { $0 != t } ? PackedOrder(lengths: $0, steps: t) : nil }
        if let packing {
            x = packing.sorted(x, steps: t, zeroPadding: true)
            if initial != nil { state = packing.sorted(state) }
        }
        let d = directions, rowLengths = packing?.sortedLengths
        if let m = variationalMasks {
            precondition(m.inputs.count == layers.count && m.states.count == layers.count
                         && zip(m.inputs, layers).allSatisfy { mask, cell in mask.map { $0.shape == [b, cell.inputSize] } ?? true }
                         && m.states.allSatisfy { mask in mask.map { $0.shape == [b, hiddenSize] } ?? true },
                         "variational dropout needs per cell (\(layers.count)) masks [B, I_k] and [B, H] with B = \(b), H = \(hiddenSize)")
        }
        let variational = variationalMasks?.sorted(by: packing)         // rows in the order they run
        let keepTop = readout == .everyStep
        var top: Pass?, topReverse: Pass?
        for k in stride(from: 0, to: layers.count, by: d) {
            let keep = k + d < layers.count || keepTop
            let pass = run(k, Self.droppedPerSequence(x, variational?.inputs[k]), state.layers[k], packing?.liveRows,
                           variational?.states[k], keep)
            top = pass
            if d == 1 {
                if k + 1 < layers.count { x = Self.dropped(pass.outputs, dropoutMasks?[k]) }
                continue
            }
            // The reverse cell reads each sequence from its own last step back.
            let reversed = Bidirectional.reversedInTime(x, steps: t, batch: b, lengths: rowLengths)
            let reverse = run(k + 1, Self.droppedPerSequence(reversed, variational?.inputs[k + 1]), state.layers[k + 1],
                              packing?.liveRows, variational?.states[k + 1], keep)
            topReverse = reverse
            guard keep else { continue }
            x = Bidirectional.concatenated(pass.outputs,                                  // [T*B, 2H]
                                           Bidirectional.reversedInTime(reverse.outputs, steps: t, batch: b, lengths: rowLengths))
            if k + d < layers.count { x = Self.dropped(x, dropoutMasks?[k / d]) }
        }
        var headInput: Matrix<Scalar>
        if d == 1 {
            headInput = readout == .lastStep ? top!.lastHidden : top!.outputs
        } else {                         // last step: [h_fwd at the last step | h_rev that read it, its first output]
            headInput = readout == .lastStep ? Bidirectional.concatenated(top!.lastHidden, topReverse!.firstOutput) : x
        }
        if let packing {                 // back to the batch's order; padded steps read 0, as pad_packed_sequence gives
            headInput = readout == .lastStep ? packing.unsorted(headInput, steps: 1)
                                             : packing.unsorted(headInput, steps: t, zeroPadding: true)
        }
        return (headInput, packing)
    }

    // MARK: - Dropout between layers

    /// x ⊙ mask (x itself without a mask).
    static func dropped(_ x: Matrix<Scalar>, _ mask: Matrix<Scalar>?) -> Matrix<Scalar> {
        guard let mask else { return x }
        precondition(mask.rows == x.rows && mask.cols == x.cols, "dropout mask \(mask.shape) for outputs \(x.shape)")
        var out = x
        for i in out.storage.indices { out.storage[i] *= mask.storage[i] }
        return out
    }

    /// Masks for `dropout` p between the L layers: L-1 matrices [T*B, D*H], each element 0
    /// with probability p, else 1/(1-p) (PyTorch's inverted dropout), drawn in order; nil
    /// when p = 0 or there is one layer.
    public func dropoutMasks(batch: Int, steps: Int, using rng: inout some RandomNumberGenerator) -> [Matrix<Scalar>]? {
        let count = layers.count / directions - 1
        guard dropout > 0, count > 0 else { return nil }
        return (0..<count).map { _ in Self.bernoulliMask(rows: steps * batch, cols: directions * hiddenSize, drop: dropout, using: &rng) }
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
        let dHeadInputUser = head.backward(pass.headInput, outputGradient: outputGradient, into: &gradients.head)
        let b = pass.batch, t = pass.steps
        let packing = pass.packing
        // Variable lengths: the gradients from above into the sorted order the traces ran in
        // (a final state's gradient enters at each sequence's own last step: the carried
        // steps pass it through unchanged).
        let finalStateGradient = packing.flatMap { p in finalStateGradient.map { p.sorted($0) } } ?? finalStateGradient
        let dHeadInput = packing.map { readout == .lastStep ? $0.sorted(dHeadInputUser, steps: 1)
                                                            : $0.sorted(dHeadInputUser, steps: t, zeroPadding: true) } ?? dHeadInputUser
        // dL/dh_t of the top layer from the head: only the last step for many-to-one (the
        // forward cell's h_T; bidirectional: also the reverse cell's first output).
        let d = directions, h = hiddenSize, top = layers.count - d, rowLengths = packing?.sortedLengths
        var dOutputs: Matrix<Scalar>?
        var dFinalTop = finalStateGradient?.layers[top]
        var dReverseTop: Matrix<Scalar>?                         // [T*B, H]: step 0 of the top reverse cell
        if readout == .everyStep {
            dOutputs = dHeadInput
        } else {
            let (dForward, dReverse) = d == 1 ? (dHeadInput, nil) : Bidirectional.split(dHeadInput, left: h)
            var state = dFinalTop ?? LayerState.zeros(batch: b, hiddenSize: h, hasMemory: Cell.hasMemory)
            for i in state.hidden.storage.indices { state.hidden.storage[i] += dForward.storage[i] }
            dFinalTop = state
            if let dReverse {
                var m = Matrix<Scalar>(rows: t * b, cols: h)
                for i in dReverse.storage.indices { m.storage[i] = dReverse.storage[i] }
                dReverseTop = m
            }
        }
        workspace.prepare(layers: layers.count)
        let variational = pass.variationalMasks?.sorted(by: packing)    // dL/dx ⊙ the input's mask
        var initial = [LayerState<Scalar>](repeating: LayerState(hidden: Matrix(rows: 0, cols: 0), memory: Matrix(rows: 0, cols: 0)),
                                           count: layers.count)
        var dInputs = Matrix<Scalar>(rows: 0, cols: 0)
        for k in stride(from: top, through: 0, by: -d) {
            let dFinal = k == top ? dFinalTop : finalStateGradient?.layers[k]
            if d == 1 {
                let result = layers[k].backward(pass.traces[k], outputGradient: dOutputs, finalStateGradient: dFinal,
                                                into: &gradients.layers[k], reusing: &workspace.buffers[k],
                                                inputGradient: k > 0 || workspace.inputGradient)
                initial[k] = result.initial
                let dx = Self.droppedPerSequence(result.inputs, variational?.inputs[k])
                dOutputs = k > 0 ? Self.dropped(dx, pass.dropoutMasks?[k - 1]) : dx
                dInputs = dx
                continue
            }
            // Bidirectional: [dF | dR] from above; dR back into the reverse cell's time order.
            var dForward: Matrix<Scalar>?, dReverse = k == top ? dReverseTop : nil
            if let dOut = dOutputs {
                let (f, r) = Bidirectional.split(dOut, left: h)
                dForward = f
                dReverse = Bidirectional.reversedInTime(r, steps: t, batch: b, lengths: rowLengths)
            }
            // Layer 0's dL/dx ([T*B, 0] when skipped) only where something reads it (workspace.inputGradient).
            let forward = layers[k].backward(pass.traces[k], outputGradient: dForward, finalStateGradient: dFinal,
                                             into: &gradients.layers[k], reusing: &workspace.buffers[k],
                                             inputGradient: k > 0 || workspace.inputGradient)
            let reverse = layers[k + 1].backward(pass.traces[k + 1], outputGradient: dReverse,
                                                 finalStateGradient: finalStateGradient?.layers[k + 1],
                                                 into: &gradients.layers[k + 1], reusing: &workspace.buffers[k + 1],
                                                 inputGradient: k > 0 || workspace.inputGradient)
            initial[k] = forward.initial
            initial[k + 1] = reverse.initial
            var dx = Self.droppedPerSequence(forward.inputs, variational?.inputs[k])   // dL/dx = forward's + reverse's, back in time order
            let back = Bidirectional.reversedInTime(Self.droppedPerSequence(reverse.inputs, variational?.inputs[k + 1]),
                                                    steps: t, batch: b, lengths: rowLengths)
            for i in dx.storage.indices { dx.storage[i] += back.storage[i] }
            dOutputs = k > 0 ? Self.dropped(dx, pass.dropoutMasks?[k / d - 1]) : dx
            dInputs = dx
        }
        if !bias {                                               // b_ih, b_hh are not parameters: they stay 0
            for k in gradients.layers.indices {
                for (i, tensor) in Cell.tensors.enumerated() where tensor.isBias {
                    gradients.layers[k].tensors[i].storage = [Scalar](repeating: 0, count: gradients.layers[k].tensors[i].count)
                }
            }
        }
        if let packing {
            let dx = SequenceBatch(timeMajor: packing.unsorted(dInputs, steps: t), batch: b, steps: t)
            return (gradients, dx, packing.unsorted(RecurrentState(layers: initial)))
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

    /// Loss and gradients of every parameter for one batch. With variable lengths
    /// (`inputs.lengths`), per-step targets past a sequence's end carry no loss.
    public func gradients(_ inputs: SequenceBatch<Scalar>, _ targets: Targets<Scalar>, loss: Loss,
                          initial: RecurrentState<Scalar>? = nil) throws(ConfigurationError) -> StepResult {
        var workspace = ModelWorkspace<Scalar>()
        return try gradients(inputs, targets, loss: loss, initial: initial, workspace: &workspace)
    }

    /// The same, reusing the traces and backward buffers cached in `workspace` (see
    /// `ModelWorkspace`): what a training loop calls every step.
    ///
    /// `dropoutSeed`: a training step's seed for the dropout masks (`usesDropout`): those
    /// between layers first, then the variational ones; nil runs without dropout, as
    /// evaluation does.
    public func gradients(_ inputs: SequenceBatch<Scalar>, _ targets: Targets<Scalar>, loss: Loss,
                          initial: RecurrentState<Scalar>? = nil,
                          workspace: inout ModelWorkspace<Scalar>, dropoutSeed: UInt64? = nil) throws(ConfigurationError) -> StepResult {
        if targets.isPerStep != (readout == .everyStep) {
            throw ConfigurationError(readout == .everyStep
                ? "the model reads out every step but the targets are one per sequence"
                : "the model reads out the last step only but the targets are per step")
        }
        let masks = dropoutSeed.map { trainingMasks(batch: inputs.batch, steps: inputs.steps, seed: $0) }
        let pass = forward(inputs, initial: initial, workspace: &workspace, dropoutMasks: masks?.between,
                           variationalMasks: masks?.variational)
        let target = try targets.lossTarget(batch: inputs.batch, steps: inputs.steps, lengths: inputs.unevenLengths)
        let (value, dOut) = try loss.evaluate(pass.outputs, target)
        let back = backward(pass, outputGradient: dOut, workspace: &workspace)
        return StepResult(loss: value, accuracy: loss.accuracy(pass.outputs, target), gradients: back.gradients,
                          pass: pass, inputGradient: back.inputs, initialStateGradient: back.initial)
    }

    /// Outputs batch-first: [B, O] for many-to-one, [B*T, O] (rows b*T + t) for many-to-many
    /// (with variable lengths, steps past a sequence's end hold the head's output for a zero
    /// state, its bias, as `head(pad_packed_sequence(out)[0])` in PyTorch).
    public func predict(_ inputs: SequenceBatch<Scalar>, initial: RecurrentState<Scalar>? = nil) -> (outputs: Matrix<Scalar>, finalState: RecurrentState<Scalar>) {
        var workspace = ModelWorkspace<Scalar>()
        return predict(inputs, initial: initial, workspace: &workspace)
    }

    /// The same, reusing the forward-only traces cached in `workspace` when their shapes
    /// match. Runs `forwardOnly`: the same bits as `forward`.
    public func predict(_ inputs: SequenceBatch<Scalar>, initial: RecurrentState<Scalar>? = nil,
                        workspace: inout ModelWorkspace<Scalar>) -> (outputs: Matrix<Scalar>, finalState: RecurrentState<Scalar>) {
        let pass = forwardOnly(inputs, initial: initial, workspace: &workspace)
        if readout == .lastStep { return pass }
        let batchFirst = SequenceBatch(timeMajor: pass.outputs, batch: inputs.batch, steps: inputs.steps)
        return (Matrix(rows: inputs.batch * inputs.steps, cols: outputSize, batchFirst.values), pass.finalState)
    }
}
