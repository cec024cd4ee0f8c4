/// What a forward-only pass of one layer keeps (`RecurrentCell.forwardOnly`): evaluation
/// and `predict` never run a backward pass, so the input projection, the gates and the
/// states of all T steps (`SequenceTrace`, [T*B, G*H] three times for a training pass) are
/// not kept: a window of C steps is written over chunk after chunk.
///
/// Shapes (B batch, T steps, C = `window.steps` <= T, H hidden, G gate blocks):
/// ```
/// window   a SequenceTrace of C steps: one chunk's input projection [C*B, G*H], gates,
///          states h [(C+1)*B, H] (and c); between chunks its step 0 holds the last state
/// kept     [T*B, H]   h_1 ... h_T when the caller keeps the outputs (the next layer's
///                     input, a per-step readout); nil otherwise
/// first    [B, H]     h_1 (a reverse cell's output for the last step of its layer's input)
/// ```
/// After the pass, `finalState` is h_T (c_T) for every row, each sequence's own last state
/// for variable lengths, as `SequenceTrace.finalState`.
public final class ForwardOnlyTrace<Scalar: NeuralScalar>: @unchecked Sendable {
    public let steps: Int
    public let batch: Int
    let window: SequenceTrace<Scalar>
    let kept: RowBuffer<Scalar>?
    let first: RowBuffer<Scalar>
    /// The parameters (and backend) that the window's caches from `RecurrentCell.prepare` (W_hhᵀ,
    /// its panels) were made from, so that passes over unchanged weights (`predict` of one
    /// sequence after another with one workspace) skip it. Holding them keeps their storage
    /// alive, so a model changed since has other storage (copy on write) and compares by value.
    private var preparedFrom: (parameters: CellParameters<Scalar>, backend: Compute.Backend)?

    /// Floats a window may hold (1 MiB): the chunk's projection is still in L2 when its
    /// steps read it, and at B = 500, T = 784 the pass needs a few MB instead of the
    /// training trace's hundreds.
    static var windowFloats: Int { 1 << 18 }

    /// C: the steps of a window of at most `windowFloats` floats (at least 1, at most T).
    /// `requested` (clamped to 1 ... T) instead when given.
    static func chunkSteps(steps: Int, batch: Int, inputSize: Int, hiddenSize: Int, gateCount: Int, hasMemory: Bool,
                           requested: Int?) -> Int {
        if let requested { return Swift.max(1, Swift.min(steps, requested)) }
        let perStep = batch * (inputSize + 3 * gateCount * hiddenSize + (hasMemory ? 2 : 1) * hiddenSize)
        return Swift.max(1, Swift.min(steps, windowFloats / Swift.max(1, perStep)))
    }

    /// `chunkSteps`: C, clamped to 1 ... T; nil picks it from `windowFloats`.
    public init(steps: Int, batch: Int, inputSize: Int, hiddenSize: Int, gateCount: Int, hasMemory: Bool, keepOutputs: Bool,
                chunkSteps: Int? = nil) {
        self.steps = steps
        self.batch = batch
        let c = Self.chunkSteps(steps: steps, batch: batch, inputSize: inputSize, hiddenSize: hiddenSize,
                                gateCount: gateCount, hasMemory: hasMemory, requested: chunkSteps)
        window = SequenceTrace(steps: c, batch: batch, inputSize: inputSize, hiddenSize: hiddenSize,
                               gateCount: gateCount, hasMemory: hasMemory)
        kept = keepOutputs ? RowBuffer(rows: steps * batch, cols: hiddenSize) : nil
        first = RowBuffer(rows: batch, cols: hiddenSize, zeroed: true)
    }

    /// True when the window's prepared caches were made from `parameters` under the current
    /// backend (the same storage, or equal values: a NaN compares unequal and prepares again).
    func isPrepared(for parameters: CellParameters<Scalar>) -> Bool {
        guard let preparedFrom else { return false }
        return preparedFrom.backend == Compute.backend && preparedFrom.parameters == parameters
    }

    /// Records that `RecurrentCell.prepare` has just run on the window for `parameters`.
    func notePrepared(for parameters: CellParameters<Scalar>) {
        preparedFrom = (parameters, Compute.backend)
    }

    /// True when `init` with these arguments would give the same shapes.
    public func matches(steps: Int, batch: Int, inputSize: Int, hiddenSize: Int, gateCount: Int, hasMemory: Bool,
                        keepOutputs: Bool, chunkSteps: Int? = nil) -> Bool {
        self.steps == steps && self.batch == batch && (kept != nil) == keepOutputs
            && window.steps == Self.chunkSteps(steps: steps, batch: batch, inputSize: inputSize, hiddenSize: hiddenSize,
                                               gateCount: gateCount, hasMemory: hasMemory, requested: chunkSteps)
            && window.matches(steps: window.steps, batch: batch, inputSize: inputSize, hiddenSize: hiddenSize,
                              gateCount: gateCount, hasMemory: hasMemory)
    }

    /// h_1 ... h_T [T*B, H], time-major; only for a pass that kept them.
    public var outputs: Matrix<Scalar> {
        guard let kept else { preconditionFailure("this forward-only pass did not keep its outputs (keepOutputs: false)") }
        return kept.matrix()
    }

    /// h_T [B, H] (each sequence's own last state for variable lengths).
    public var lastHidden: Matrix<Scalar> { window.hidden.matrix(rows: 0..<batch) }

    /// h_1 [B, H].
    public var firstOutput: Matrix<Scalar> { first.matrix() }

    /// The final state (h_T, and c_T for cells with a memory).
    public var finalState: LayerState<Scalar> {
        LayerState(hidden: lastHidden,
                   memory: window.memory.rows == 0 ? Matrix(rows: 0, cols: window.hidden.cols) : window.memory.matrix(rows: 0..<batch))
    }
}

/// What the stacking of layers (`RecurrentModel.stackLayers`) reads of one cell's pass, the
/// training pass's full `SequenceTrace` or a `ForwardOnlyTrace`.
protocol LayerPass<Scalar> {
    associatedtype Scalar: NeuralScalar
    /// h_1 ... h_T [T*B, H], time-major.
    var outputs: Matrix<Scalar> { get }
    /// h_T [B, H].
    var lastHidden: Matrix<Scalar> { get }
    /// h_1 [B, H].
    var firstOutput: Matrix<Scalar> { get }
}

extension ForwardOnlyTrace: LayerPass {}

extension SequenceTrace: LayerPass {
    var lastHidden: Matrix<Scalar> { hidden.matrix(rows: (steps * batch)..<((steps + 1) * batch)) }
    var firstOutput: Matrix<Scalar> { hidden.matrix(rows: batch..<(2 * batch)) }
}
