/// One recurrent layer: its step forward and backward, and everything the rest of the
/// library needs to know about it, so that a new cell is one new file and one line in
/// `CellRegistry`. The unroller over time (`forward(_:initial:)`, `backward(...)` in
/// BPTT.swift), models, checkpoints, configurations, the diagnostics, the trainer and the
/// command line read a cell only through these requirements and never name one.
///
/// A cell sees one time step t of a `SequenceTrace` (see its shape legend): the input
/// projection `preInput[t]` has already been computed for all steps in one product, and the
/// input gradients are formed after the backward loop in one product. The cell owns only
/// the recurrent part.
///
/// What a cell declares (most have defaults, written for PyTorch's four-tensor layout):
/// - identity and structure: `kind`, `gateCount`, `hasMemory`, `separateHiddenGradient`,
///   `usesBackwardScratch`, `carriesUnmaskedState` (variational dropout),
///   `keepsOneChunkOfGradients` (the backward reaches dPreInput only through
///   `BackwardBuffers.stepGradient`; the step reads its input through `SequenceTrace.stepInput`);
/// - its tensors: `tensors` (names, shapes, file shapes, roles), `sizes(fromLayer0:)` (how
///   a file without metadata is recognised), `pytorchModule`;
/// - its setup: `fixedActivation`, `hyperparameters`, `presets`, `validate(_:)`,
///   `initializer(for:...)`, `initialParameters(...)` (which initialiser draws which
///   tensor, gate biases such as LSTM's forget bias), `applyConstraints()` (IndRNN's bound);
/// - how the diagnostics read it: `gateNames`, `recurrentStructure`.
public protocol RecurrentCell<Scalar>: Sendable {
    associatedtype Scalar: NeuralScalar

    // MARK: - What the cell is

    /// The cell's name in checkpoints, configurations and on the command line.
    static var kind: CellKind { get }
    /// G: gate blocks in the fused input weight [G*H, I] (RNN 1, LSTM 4, GRU 3, IndRNN 1).
    static var gateCount: Int { get }
    /// True when the state carries a second [B, H] part besides h in `memory` (LSTM's c,
    /// coRNN's z). Default false.
    static var hasMemory: Bool { get }
    /// True when dL/d preHidden differs from dL/d preInput (GRU's reset gate). Default false.
    static var separateHiddenGradient: Bool { get }
    /// True when the weight gradients are PyTorch's four from one gradient, as the defaults form
    /// them: dW_ih, db_ih from `dPreInput` and dW_hh [G*H, H], db_hh from `dPreHidden`, the same
    /// buffer (`recurrentWeightGradients` not overridden): the unroller then sums all four chunk by
    /// chunk of the backward loop (`backwardSummingByChunks`, `WeightGradientSums`; under a state
    /// mask in one pass after it, `Kernels.weightGradients`) and does not call
    /// `recurrentWeightGradients`. Default: PyTorch's tensors (`CellTensor.pytorchLayout`) and
    /// no `separateHiddenGradient` (RNN, LSTM); a cell that overrides `recurrentWeightGradients`
    /// must say false.
    static var formsWeightGradientsInOnePass: Bool { get }
    /// True when `backwardStep` needs `BackwardBuffers.scratch` [B, H]. Default false.
    static var usesBackwardScratch: Bool { get }
    /// True when the cell reaches step t's rows of `dPreInput` and `dPreHidden` only through
    /// `BackwardBuffers.stepGradient(_:row:)` (in `backwardStep`, with no `backwardSequence` of its
    /// own) and `formsWeightGradientsInOnePass`: then, where nothing reads dL/dx, the chunked loop
    /// keeps only one chunk of steps of dPreInput (`BackwardBuffers.chunkSteps`). Default false.
    static var keepsOneChunkOfGradients: Bool { get }
    /// Variational dropout of the state (`SequenceTrace.stateMask`): true when the step also
    /// carries h_{t-1} itself, not through a weight (GRU's z ⊙ h_{t-1}, coRNN's y_{t-1} + Δt z_t), and reads it there
    /// unmasked (`SequenceTrace.unmaskedPrevious`) while its products read the masked h_{t-1},
    /// as Gal & Ghahramani and Keras's `recurrent_dropout` mask only the inputs of the weights;
    /// its `backwardStep` then applies the mask to the products' part of dL/dh_{t-1} itself.
    /// Default false: the unroller scales all of dL/dh_{t-1}.
    static var carriesUnmaskedState: Bool { get }

    // MARK: - Its tensors

    /// The layer's tensors in `state_dict` order; tensor 0 is the input weight [G*H, I].
    /// Default: PyTorch's `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`.
    static var tensors: [CellTensor] { get }
    /// I and H of a layer 0 whose tensors (suffix -> shape as stored, e.g. `"weight_hh": [12, 3]`)
    /// have this cell's names and shapes, or nil: how a file without metadata is recognised.
    /// Default: I from the input weight's columns, H from the first tensor whose columns are
    /// H; every tensor must be present with its shape (`CellTensor.fileShapeFits`), no other.
    static func sizes(fromLayer0 shapes: [String: [Int]]) -> (inputSize: Int, hiddenSize: Int)?
    /// The PyTorch module a matching `state_dict` comes from, for messages (`nn.RNN` is "RNN").
    /// Default: the kind in capitals.
    static var pytorchModule: String { get }

    // MARK: - Its setup

    /// The activation the cell is defined with (LSTM and GRU: tanh), or nil when any may be
    /// chosen (RNN, IndRNN). Default nil.
    static var fixedActivation: Activation? { get }
    /// The cell's hyper-parameters. Default none.
    static var hyperparameters: [CellHyperparameter] { get }
    /// Named setups; the first is the cell's default. Default: one, named after the kind,
    /// with PyTorch's initialisers and the hyper-parameters' defaults.
    static var presets: [CellPreset] { get }
    /// Throws when `settings` do not fit the cell: another activation than its own, a
    /// hyper-parameter it does not have or out of range, an impossible initialiser.
    static func validate(_ settings: CellSettings) throws(ConfigurationError)
    /// The initialiser of `tensor`. Default by role: `inputInit`, `recurrentInit`, and
    /// `biasInit` for biases (`pytorchDefault`: U(-1/sqrt(H), 1/sqrt(H))).
    static func initializer(for tensor: CellTensor, settings: CellSettings, inputSize: Int, hiddenSize: Int) -> Initializer
    /// Fresh parameters, drawn tensor by tensor in `state_dict` order (a [G*H, n] weight
    /// per gate block). Default: `drawParameters`; LSTM then sets its forget-gate bias.
    static func initialParameters<G: RandomNumberGenerator>(inputSize: Int, hiddenSize: Int, settings: CellSettings,
                                                            using rng: inout G) -> CellParameters<Scalar>

    /// Wraps parameters, reading from `settings` what applies to the cell (activation,
    /// hyper-parameters); the settings are assumed valid (`validate(_:)`).
    init(parameters: CellParameters<Scalar>, settings: CellSettings)

    var parameters: CellParameters<Scalar> { get set }
    /// The nonlinearity f of h_t = f(net_t) for RNN and IndRNN; the cell's own otherwise.
    var activation: Activation { get }
    /// The hyper-parameters this cell runs with, by key (what a checkpoint records). Default none.
    var hyperparameterValues: [String: Double] { get }

    // MARK: - How the diagnostics read it

    /// The names of the gate blocks of the fused weights, in PyTorch's order (LSTM i, f, g,
    /// o; GRU r, z, n); empty for one-block cells. Default empty.
    static var gateNames: [String] { get }
    /// The recurrence as the seed's analyses see it (RNN: W; IndRNN: diag(u); gated cells:
    /// their gate blocks). Default: every recurrent weight, split into its gate blocks.
    var recurrentStructure: RecurrentStructure<Scalar> { get }

    // MARK: - The step

    /// Once per forward pass, before the time loop: caches derived from the parameters.
    /// Default: W_hhᵀ [H, G*H] into `trace.transposedRecurrentWeight` when the cell has one
    /// recurrent weight [G*H, H], so that the per-step product reads unit-stride rows, or
    /// (H > 256, Float, fast kernels) W_hhᵀ and W_hh as panels (`cachePackedRecurrentWeights`) instead.
    func prepare(_ trace: SequenceTrace<Scalar>)

    /// Step t for the batch rows `rows` (a slice of 0 ..< B): reads `preInput[t]`,
    /// `hidden[t]` (h_{t-1}) and `memory[t]`; writes `preHidden[t]`, `gates[t]`,
    /// `hidden[t+1]` (h_t) and `memory[t+1]`, each only in those rows. Batch rows never
    /// interact, so the unroller may run disjoint slices on different threads.
    func forwardStep(_ t: Int, _ trace: SequenceTrace<Scalar>, rows: Range<Int>)

    /// Step t in reverse for the batch rows `rows`: reads `dHidden` = dL/dh_t (and
    /// `dMemory` = dL/dc_t), writes step t of `dPreInput` and `dPreHidden`, and leaves
    /// dL/dh_{t-1} (dL/dc_{t-1}) in `dHidden` (`dMemory`), each only in those rows.
    func backwardStep(_ t: Int, _ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>, rows: Range<Int>)

    /// The whole time loop forward for the batch rows `rows`, t = 0 ..< T, with the bits that
    /// `forwardStep` for each t would give; or false, doing nothing, where the cell has no
    /// such loop for this trace (the unroller then calls `forwardStep` per step). Called only
    /// when every row runs all T steps and no state mask is set. Default false.
    func forwardSequence(_ trace: SequenceTrace<Scalar>, rows: Range<Int>) -> Bool

    /// The time loop forward for the trace's first `steps` steps (at most T; the forward-only
    /// pass's last window is shorter) for the batch rows `rows`, with the bits of `forwardStep`
    /// for each t; or false, doing nothing. Called under the conditions of `forwardSequence`.
    /// Default: `forwardSequence(trace, rows:)` when `steps` is all of T, else false.
    func forwardSequence(_ trace: SequenceTrace<Scalar>, steps: Int, rows: Range<Int>) -> Bool

    /// The whole time loop in reverse for the batch rows `rows`, with the bits of the
    /// unroller's per-step loop: for t = T-1 ... 0, `dHidden` += `outputGradient[t]` (when
    /// given, [T*B, H]) and then `backwardStep(t, ...)`; or false, doing nothing. Called under
    /// the conditions of `forwardSequence`. Default false.
    func backwardSequence(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                          outputGradient: Matrix<Scalar>?, rows: Range<Int>) -> Bool

    /// `backwardSequence` for the steps `steps` only (t = steps.upperBound - 1 ... steps.lowerBound;
    /// `dHidden` holds dL/dh_{steps.upperBound - 1} without that step's `outputGradient` on entry,
    /// and is left as the step by step loop leaves it): the unroller's chunks, whose weight
    /// gradients it sums right after each. Default: `backwardSequence(trace, grad, outputGradient:,
    /// rows:)` when `steps` is all of T, else false.
    func backwardSequence(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                          outputGradient: Matrix<Scalar>?, steps: Range<Int>, rows: Range<Int>) -> Bool

    /// True when `forwardSequenceProjecting(_:rows:)` runs this trace's whole time loop and
    /// forms the input projection U x_t + b_ih itself from `trace.inputs`, step by step (small
    /// I: one pass over [T*B, G*H] less; IndRNN, RNN); `forward(_:)` then skips its product.
    /// Asked only for a trace without live rows or a state mask; the answer depends on the cell
    /// and the trace's shapes, never on rows. Default false (then, for 1 <= I <= 8 in Float,
    /// the unroller itself forms step t's projection just before `forwardStep(t)`).
    func projectsInputsInSequence(_ trace: SequenceTrace<Scalar>) -> Bool

    /// The whole time loop forward for the batch rows `rows` from `trace.inputs`, with the bits
    /// of the unroller's input product followed by `forwardStep` for each t; `preInput` may be
    /// left unwritten (IndRNN) where nothing else reads it. Called only where
    /// `projectsInputsInSequence(trace)` is true. Default: a precondition failure.
    func forwardSequenceProjecting(_ trace: SequenceTrace<Scalar>, rows: Range<Int>)

    /// After the backward loop: every weight gradient, the input weight's and bias's included,
    /// in one pass with the bits of the unroller's products (dW_ih, db_ih) followed by
    /// `recurrentWeightGradients`; or false, doing nothing. Called with h_0 ... h_{T-1} as the
    /// steps read them (a state mask applied). Default (BPTT.swift): the four PyTorch tensors
    /// in one product where `formsWeightGradientsInOnePass`, else false.
    func weightGradientsInOnePass(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                  into gradients: inout CellParameters<Scalar>) -> Bool

    /// The whole backward pass over all batch rows (split among the threads as `batchSplit`
    /// says) with every weight gradient summed inside the time loop instead of in products
    /// afterwards, storing dPreInput only when `storeInputGradient` (dL/dx needs it); or false,
    /// doing nothing. Called, before anything else of the backward pass, for equal lengths
    /// without a state mask. Its sums may run in another order than the products' (other
    /// bits: say so), but never depend on the thread count. Default false.
    func backwardSequenceSummingGradients(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                          outputGradient: Matrix<Scalar>?, storeInputGradient: Bool,
                                          into gradients: inout CellParameters<Scalar>) -> Bool

    /// After the loop: the gradients of the recurrent tensors from all rows of
    /// `dPreHidden` [T*B, G*H] and h_0 ... h_{T-1} (`trace.hidden` rows 0 ..< T*B).
    /// Default: one full recurrent weight and one recurrent bias, one product each.
    func recurrentWeightGradients(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                  into gradients: inout CellParameters<Scalar>)

    /// Projects the parameters back onto their allowed set after an update
    /// (IndRNN's bound |u| <= u_max). Default: nothing.
    mutating func applyConstraints()
}

// MARK: - Defaults

extension RecurrentCell {
    public static var hasMemory: Bool { false }
    public static var separateHiddenGradient: Bool { false }
    public static var usesBackwardScratch: Bool { false }
    public static var keepsOneChunkOfGradients: Bool { false }
    public static var formsWeightGradientsInOnePass: Bool { !separateHiddenGradient && tensors == CellTensor.pytorchLayout }
    public static var carriesUnmaskedState: Bool { false }
    public static var tensors: [CellTensor] { CellTensor.pytorchLayout }
    public static var pytorchModule: String { kind.rawValue.uppercased() }
    public static var fixedActivation: Activation? { nil }
    public static var hyperparameters: [CellHyperparameter] { [] }
    public static var gateNames: [String] { [] }
    public var hyperparameterValues: [String: Double] { [:] }
    public mutating func applyConstraints() {}
    public func forwardSequence(_ trace: SequenceTrace<Scalar>, rows: Range<Int>) -> Bool { false }
    public func forwardSequence(_ trace: SequenceTrace<Scalar>, steps: Int, rows: Range<Int>) -> Bool {
        steps == trace.steps && forwardSequence(trace, rows: rows)
    }
    public func backwardSequence(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                 outputGradient: Matrix<Scalar>?, rows: Range<Int>) -> Bool { false }
    public func backwardSequence(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                 outputGradient: Matrix<Scalar>?, steps: Range<Int>, rows: Range<Int>) -> Bool {
        steps == 0..<trace.steps && backwardSequence(trace, grad, outputGradient: outputGradient, rows: rows)
    }
    public func projectsInputsInSequence(_ trace: SequenceTrace<Scalar>) -> Bool { false }
    public func forwardSequenceProjecting(_ trace: SequenceTrace<Scalar>, rows: Range<Int>) {
        preconditionFailure("\(Self.kind) does not project its inputs in its time loop (projectsInputsInSequence is false)")
    }
    public func backwardSequenceSummingGradients(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                                 outputGradient: Matrix<Scalar>?, storeInputGradient: Bool,
                                                 into gradients: inout CellParameters<Scalar>) -> Bool { false }

    /// I, from the input weight (tensor 0) [G*H, I].
    public var inputSize: Int { parameters.tensors[0].cols }
    /// H, from the input weight (tensor 0) [G*H, I].
    public var hiddenSize: Int { parameters.tensors[0].rows / Self.gateCount }

    /// The settings of a cell with no preset: its activation (tanh where it takes any),
    /// PyTorch's initialisers, the hyper-parameters' defaults.
    public static var defaultSettings: CellSettings {
        var values: [String: Double] = [:]
        for p in hyperparameters { if let v = p.defaultValue { values[p.key] = v } }
        return CellSettings(activation: fixedActivation ?? .tanh, hyperparameters: values)
    }

    public static var presets: [CellPreset] { [CellPreset(kind.rawValue, settings: defaultSettings)] }

    /// The index of the first tensor with `role`, or nil.
    public static func tensorIndex(_ role: CellTensor.Role) -> Int? { tensors.firstIndex { $0.role == role } }

    public static func validate(_ settings: CellSettings) throws(ConfigurationError) {
        if let own = fixedActivation, settings.activation != own {
            let free = CellRegistry.presets.filter { $0.cell.fixedActivation == nil }.map(\.preset.name)
            throw ConfigurationError("\(kind) uses \(own.name) by definition; the activation \(settings.activation.name) applies to \(free.joined(separator: ", ")) only")
        }
        for key in settings.hyperparameters.keys.sorted() {
            guard let parameter = hyperparameters.first(where: { $0.key == key }) else {
                if let other = CellRegistry.hyperparameter(key: key) {
                    let owners = CellRegistry.cells(declaring: key).map(\.rawValue)
                    throw ConfigurationError("a \(other.noun) applies to \(owners.joined(separator: ", ")) only, not \(kind)")
                }
                throw ConfigurationError("unknown cell hyper-parameter '\(key)'. \(kind) has \(hyperparameters.isEmpty ? "none" : hyperparameters.map(\.key).joined(separator: ", "))")
            }
            try parameter.validate(settings.hyperparameters[key]!)
        }
        try settings.activation.validate()
        try settings.inputInit.validate()
        try settings.recurrentInit.validate()
        try settings.biasInit.validate()
    }

    public static func initializer(for tensor: CellTensor, settings: CellSettings, inputSize: Int, hiddenSize: Int) -> Initializer {
        roleInitializer(for: tensor, settings: settings, hiddenSize: hiddenSize)
    }

    /// The default `initializer(for:...)`: by the tensor's role.
    public static func roleInitializer(for tensor: CellTensor, settings: CellSettings, hiddenSize: Int) -> Initializer {
        switch tensor.role {
        case .inputWeight: return settings.inputInit
        case .recurrentWeight: return settings.recurrentInit
        case .inputBias, .recurrentBias:
            if case .pytorchDefault = settings.biasInit { return .uniform(bound: 1 / Double(hiddenSize).squareRoot()) }
            return settings.biasInit
        }
    }

    public static func initialParameters<G: RandomNumberGenerator>(inputSize: Int, hiddenSize: Int, settings: CellSettings,
                                                                   using rng: inout G) -> CellParameters<Scalar> {
        drawParameters(inputSize: inputSize, hiddenSize: hiddenSize, settings: settings, using: &rng)
    }

    /// Every tensor drawn from its `initializer(for:...)`, in `state_dict` order; a tensor
    /// of G*H rows is drawn per gate block (identity and orthogonal apply to each block).
    public static func drawParameters<G: RandomNumberGenerator>(inputSize: Int, hiddenSize: Int, settings: CellSettings,
                                                                using rng: inout G) -> CellParameters<Scalar> {
        var out: [Matrix<Scalar>] = []
        for tensor in tensors {
            let (rows, cols) = tensor.shape(inputSize: inputSize, hiddenSize: hiddenSize, gateCount: gateCount)
            let initializer = initializer(for: tensor, settings: settings, inputSize: inputSize, hiddenSize: hiddenSize)
            out.append(initializer.matrix(rows: rows, cols: cols, blocks: tensor.rows == .gates ? gateCount : 1, using: &rng))
        }
        return CellParameters(out)
    }

    public static func sizes(fromLayer0 shapes: [String: [Int]]) -> (inputSize: Int, hiddenSize: Int)? {
        let specs = tensors
        guard Set(shapes.keys) == Set(specs.map(\.name)), let sizes = definingSizes(shapes) else { return nil }
        for spec in specs {
            let (r, c) = spec.shape(inputSize: sizes.inputSize, hiddenSize: sizes.hiddenSize, gateCount: gateCount)
            guard CellTensor.fileShapeFits(shapes[spec.name]!, rows: r, cols: c) else { return nil }
        }
        return sizes
    }

    /// I from the input weight's columns (tensor 0, 2-D) and H from the first tensor whose
    /// columns are H (its last dimension when 1-D and a vector), without checking the rest.
    public static func definingSizes(_ shapes: [String: [Int]]) -> (inputSize: Int, hiddenSize: Int)? {
        let specs = tensors
        guard let input = shapes[specs[0].name], input.count == 2,
              let defining = specs.first(where: { $0.cols == .hidden }), let shape = shapes[defining.name] else { return nil }
        let hidden = shape.count == 2 ? shape[1] : shape.count == 1 && defining.rows == .one ? shape[0] : 0
        return hidden > 0 ? (input[1], hidden) : nil
    }

    /// Every full recurrent weight [G*H, H] split into its gate blocks (named by
    /// `gateNames`, else by the tensor's name), with a note that only spectra are shown.
    public var recurrentStructure: RecurrentStructure<Scalar> {
        var blocks: [RecurrentBlock<Scalar>] = []
        for (k, tensor) in Self.tensors.enumerated() where tensor.role == .recurrentWeight {
            let w = parameters[k], h = hiddenSize
            let names = w.rows == h ? [tensor.name] : w.rows == Self.gateNames.count * h ? Self.gateNames : []
            guard w.cols == h, !names.isEmpty else { continue }
            for (g, name) in names.enumerated() { blocks.append(RecurrentBlock(name: name, weight: w.rows((g * h)..<((g + 1) * h)))) }
        }
        return .blocks(blocks, note: "\(Self.kind): the state update is not net_t = U x_t + W h_{t-1}; forward growth (10.11) and the Jacobian (10.12) are not diagnosed, only the spectrum of each block of the recurrent weights")
    }

    public func prepare(_ trace: SequenceTrace<Scalar>) {
        let recurrent = Self.tensors.enumerated().filter { $0.element.role == .recurrentWeight }
        guard recurrent.count == 1, recurrent[0].element.rows == .gates, recurrent[0].element.cols == .hidden else { return }
        cachePackedRecurrentWeights(parameters[recurrent[0].offset], in: trace)
        // Every reader of W_hhᵀ (`recurrentProjection`, `fusedStepWeight`) takes the panels first:
        // where they exist the transposition (a strided copy of G*H*H floats, 1% of config e1024's
        // step on two threads) would not be read.
        if trace.packedRecurrentWeights == nil { cacheTransposedRecurrentWeight(parameters[recurrent[0].offset], in: trace) }
        else { trace.transposedRecurrentWeight = nil }
    }

    /// The default for one full recurrent weight W_hh [G*H, H] (tensor `recurrentWeight` role)
    /// and its bias: dW_hh = dPreHiddenᵀ [h_0 ... h_{T-1}], db_hh = column sums of dPreHidden,
    /// each one product over all steps.
    public func recurrentWeightGradients(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                         into gradients: inout CellParameters<Scalar>) {
        guard let w = Self.tensorIndex(.recurrentWeight), let b = Self.tensorIndex(.recurrentBias) else {
            preconditionFailure("\(Self.kind) has no recurrent weight and bias of PyTorch's layout: it must implement recurrentWeightGradients")
        }
        let rows = trace.steps * trace.batch, width = Self.gateCount * hiddenSize, h = hiddenSize
        gradients[w].storage.withUnsafeMutableBufferPointer { dW in
            Kernels.gemm(transA: true, transB: false, m: width, n: h, k: rows,
                         a: grad.dPreHidden.base, lda: width, b: trace.hidden.base, ldb: h,
                         c: dW.baseAddress!, ldc: h, accumulate: true)
        }
        gradients[b].storage.withUnsafeMutableBufferPointer { db in
            Kernels.columnSums(grad.dPreHidden.base, rows: rows, cols: width, into: db.baseAddress!, accumulate: true)
        }
    }
}

// MARK: - Helpers for cells with a fused recurrent matrix

extension Activation {
    /// The activation as the fused recurrent step applies it in its epilogue (relu, tanh), or
    /// nil where the step cannot (the cell then applies it after the product).
    @usableFromInline var fusedStep: Kernels.StepActivation? {
        switch self {
        case .relu: return .relu
        case .tanh: return .tanh
        default: return nil
        }
    }
}

extension RecurrentCell {
    /// Writes Wᵀ [cols, rows] of `weight` [rows, cols] into `trace.transposedRecurrentWeight`
    /// (reusing its buffer when the size agrees); Wᵀ's rows split among the threads for a large
    /// W (a copy: the same values either way; the training step makes one per pass).
    public func cacheTransposedRecurrentWeight(_ weight: Matrix<Scalar>, in trace: SequenceTrace<Scalar>) {
        let rows = weight.rows, cols = weight.cols
        let wt = trace.transposedRecurrentWeight.flatMap { $0.rows == cols && $0.cols == rows ? $0 : nil }
            ?? RowBuffer<Scalar>(rows: cols, cols: rows)
        weight.storage.withUnsafeBufferPointer { src in
            Compute.forEachSlice(of: cols, parts: rows * cols >= 8192 ? Compute.threads : 1) { slice in
                for c in slice { for r in 0..<rows { wt.base[c * rows + r] = src[r * cols + c] } }
            }
        }
        trace.transposedRecurrentWeight = wt
    }

    /// H above which `prepare(_:)` packs W_hh into panels: there a 16-column slice of W_hhᵀ
    /// [H, G*H] spans H rows G*H floats apart, which no longer stays in L1 (nor in the TLB),
    /// and the per-step products would otherwise repack W_hh at every step.
    @inlinable static var packedRecurrentWeightAbove: Int { 256 }

    /// For H > `packedRecurrentWeightAbove` (Float, fast kernels): W_hhᵀ and W_hh of `weight`
    /// [G*H, H] as panels in `trace.packedRecurrentWeights` (buffers reused when the size
    /// agrees); nil otherwise. Once per pass, where the products read them T times each.
    public func cachePackedRecurrentWeights(_ weight: Matrix<Scalar>, in trace: SequenceTrace<Scalar>) {
        let rows = weight.rows, cols = weight.cols                  // [G*H, H]
        guard hiddenSize > Self.packedRecurrentWeightAbove, Scalar.self == Float.self, Compute.backend == .fast else {
            trace.packedRecurrentWeights = nil
            return
        }
        let tCount = Kernels.packedPanelFloats(k: cols, n: rows), pCount = Kernels.packedPanelFloats(k: rows, n: cols)
        let old = trace.packedRecurrentWeights
        let transposed = old.flatMap { $0.transposed.cols == tCount ? $0.transposed : nil } ?? RowBuffer<Scalar>(rows: 1, cols: tCount)
        let plain = old.flatMap { $0.plain.cols == pCount ? $0.plain : nil } ?? RowBuffer<Scalar>(rows: 1, cols: pCount)
        weight.storage.withUnsafeBufferPointer { w in
            _ = Kernels.packPanels(transposed: true, k: cols, n: rows, b: w.baseAddress!, ldb: cols, into: transposed.base)
            _ = Kernels.packPanels(transposed: false, k: rows, n: cols, b: w.baseAddress!, ldb: cols, into: plain.base)
        }
        trace.packedRecurrentWeights = (transposed, plain)
    }

    /// preHidden[t] = h_{t-1} Wᵀ + b for the batch rows `rows`, with W = `weight` [G*H, H]
    /// and b = `bias` [1, G*H]: the recurrent product of step t ([R, H] x [H, G*H] with
    /// R = rows.count).
    @inlinable
    func recurrentProjection(_ t: Int, _ trace: SequenceTrace<Scalar>, rows: Range<Int>,
                             weight: Matrix<Scalar>, bias: Matrix<Scalar>) {
        let b = trace.batch, h = hiddenSize, width = Self.gateCount * h, m = rows.count
        let out = trace.preHidden.row(t * b + rows.lowerBound)
        let hPrev = trace.hidden.row(t * b + rows.lowerBound)
        bias.storage.withUnsafeBufferPointer { bias in
            for r in 0..<m { (out + r * width).update(from: bias.baseAddress!, count: width) }
        }
        if let packed = trace.packedRecurrentWeights?.transposed {   // panels of W_hhᵀ, from prepare(_:)
            Kernels.gemm(m: m, n: width, k: h, a: hPrev, lda: h, packedB: packed.base, c: out, ldc: width, accumulate: true)
            return
        }
        if let wt = trace.transposedRecurrentWeight {           // [H, G*H], from prepare(_:)
            Kernels.gemm(transA: false, transB: false, m: m, n: width, k: h,
                         a: hPrev, lda: h, b: wt.base, ldb: width,
                         c: out, ldc: width, accumulate: true)
            return
        }
        weight.storage.withUnsafeBufferPointer { w in
            Kernels.gemm(transA: false, transB: true, m: m, n: width, k: h,
                         a: hPrev, lda: h, b: w.baseAddress!, ldb: h,
                         c: out, ldc: width, accumulate: true)
        }
    }

    /// W_hhᵀ as the fused step reads it (`fusedRecurrentStep`, `RNNCell.forwardSequence`): its
    /// panels where `prepare(_:)` packed them (H > 256), else the plain W_hhᵀ [H, G*H] for
    /// H <= 256 (above, a 16-column slice of it no longer stays in cache); nil when neither applies.
    @inlinable
    func fusedStepWeight(_ trace: SequenceTrace<Scalar>) -> (weight: UnsafeMutablePointer<Scalar>, packed: Bool)? {
        if let packed = trace.packedRecurrentWeights?.transposed { return (packed.base, true) }
        guard hiddenSize <= Self.packedRecurrentWeightAbove, let wt = trace.transposedRecurrentWeight else { return nil }
        return (wt.base, false)
    }

    /// The fused form of `recurrentProjection` plus the input: gates[t] = preInput[t] +
    /// (b + h_{t-1} W_hhᵀ) for the batch rows `rows` in one pass, preHidden never
    /// written; with `hNew` and `activation` (`Activation.fusedStep`: relu or tanh) also
    /// h_t = f(gates[t]). Returns false, doing nothing, where it does not apply (no W_hhᵀ for
    /// the fused step, `fusedStepWeight`; Double): the caller runs the two passes.
    @inlinable
    func fusedRecurrentStep(_ t: Int, _ trace: SequenceTrace<Scalar>, rows: Range<Int>, bias: Matrix<Scalar>,
                            hNew: UnsafeMutablePointer<Scalar>? = nil, activation: Kernels.StepActivation? = nil) -> Bool {
        guard let w = fusedStepWeight(trace) else { return false }
        let (weight, packed) = w
        let first = t * trace.batch + rows.lowerBound
        return bias.storage.withUnsafeBufferPointer { bias in
            Kernels.recurrentStep(rows: rows.count, width: Self.gateCount * hiddenSize, hidden: hiddenSize,
                                  hPrev: trace.hidden.row(first), weight: weight, packed: packed, bias: bias.baseAddress!,
                                  x: trace.stepInput(t, row: rows.lowerBound), net: trace.gates.row(first),
                                  hNew: hNew, activation: activation)
        }
    }

    /// dHidden = dPreHidden[t] W for the batch rows `rows`, W = `weight` [G*H, H]: the
    /// recurrent product of step t, reversed ([R, G*H] x [G*H, H]).
    @inlinable
    func recurrentProjectionBackward(_ t: Int, _ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                     rows: Range<Int>, weight: Matrix<Scalar>, accumulate: Bool) {
        let b = trace.batch, h = hiddenSize, width = Self.gateCount * h
        if let packed = trace.packedRecurrentWeights?.plain {   // panels of W_hh, from prepare(_:)
            Kernels.gemm(m: rows.count, n: h, k: width, a: grad.stepHiddenGradient(t, row: rows.lowerBound), lda: width,
                         packedB: packed.base, c: grad.dHidden.row(rows.lowerBound), ldc: h, accumulate: accumulate)
            return
        }
        weight.storage.withUnsafeBufferPointer { w in
            Kernels.gemm(transA: false, transB: false, m: rows.count, n: h, k: width,
                         a: grad.stepHiddenGradient(t, row: rows.lowerBound), lda: width, b: w.baseAddress!, ldb: h,
                         c: grad.dHidden.row(rows.lowerBound), ldc: h, accumulate: accumulate)
        }
    }
}
