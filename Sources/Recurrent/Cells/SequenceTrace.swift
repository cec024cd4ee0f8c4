/// Everything the forward pass of one layer over a batch of sequences keeps for the
/// backward pass, time-major: rows `t*B ..< (t+1)*B` hold step t for all B sequences.
///
/// Shapes (B batch, T steps, I input, H hidden, G gate blocks):
/// ```
/// inputs     [T*B, I]      x_1 ... x_T
/// preInput   [T*B, G*H]    x_t W_ihᵀ + b_ih         (all steps in one product; for small I step by step,
///                                                    just before the step, into rows 0 ..< B only:
///                                                    `stepInput(_:row:)`; IndRNN does not write it)
/// preHidden  [T*B, G*H]    h_{t-1} W_hhᵀ + b_hh     (IndRNN: u ⊙ h_{t-1} + b_hh, its per-step loop only)
/// gates      [T*B, G*H]    RNN/IndRNN: net_t; LSTM: i, f, g, o; GRU: r, z, n (activated)
/// hidden     [(T+1)*B, H]  h_0 ... h_T
/// memory     [(T+1)*B, H]  c_0 ... c_T for cells with `hasMemory` (LSTM); [0, H] for the others
/// ```
public final class SequenceTrace<Scalar: NeuralScalar>: @unchecked Sendable {
    public let steps: Int
    public let batch: Int
    public let inputs: RowBuffer<Scalar>
    public let preInput: RowBuffer<Scalar>
    public let preHidden: RowBuffer<Scalar>
    public let gates: RowBuffer<Scalar>
    public let hidden: RowBuffer<Scalar>
    public let memory: RowBuffer<Scalar>
    /// W_hhᵀ [H, G*H], written by the cell's `prepare(_:)` before the time loop so that the
    /// per-step product h_{t-1} W_hhᵀ reads unit-stride rows; nil for IndRNN (no matrix) and
    /// until a forward pass runs (then `recurrentProjection` reads W_hh itself). A cell with
    /// other recurrent matrices may keep their transposes here in its own layout.
    @usableFromInline var transposedRecurrentWeight: RowBuffer<Scalar>?
    /// Variable-length sequences, sorted longest first: [T], the rows still running at
    /// step t (`liveRows[t]` = the number of sequences longer than t, so the live rows are
    /// the prefix 0 ..< liveRows[t]). A finished row's state is carried unchanged to the
    /// end: hidden[t+1] = hidden[t] (memory too), so `finalState` is each sequence's own
    /// last state. nil: every row runs every step (today's loop, untouched).
    public internal(set) var liveRows: [Int]?
    /// True while the unroller forms each step's input projection just before the step
    /// (`InputProjectionPlace.stepByStep`): step t's U x_t + b_ih is then in rows 0 ..< B of
    /// `preInput` (one block, written over at every step and read back from cache) instead of
    /// in its rows t*B ..< (t+1)*B, which would cost a write and a read of [T*B, G*H] in memory.
    /// Nothing reads step t's projection after step t. Set by `forward(_:)`.
    public internal(set) var projectsInputsStepByStep = false
    /// False: the relu RNN's C time loops leave `gates` (net_t) unwritten, since its backward reads
    /// relu'(net_t) off h_t = max(0, net_t) (the same selection, NaN included): a [T*B, H] stream
    /// less to write in the forward pass and to read back in the backward. `RecurrentModel.forward`
    /// sets it, whose traces only `backward` reads; a layer's `forward` keeps net by default
    /// (diagnostics read it). Other cells and activations write `gates` either way.
    public internal(set) var keepsNet = true
    /// For large H (Float, fast kernels): W_hhᵀ and W_hh as 16-column panels (`Kernels.packPanels`),
    /// packed once per pass by `prepare(_:)` for the forward step and for dh_{t-1} = dnet W_hh;
    /// nil otherwise.
    @usableFromInline var packedRecurrentWeights: (transposed: RowBuffer<Scalar>, plain: RowBuffer<Scalar>)?
    /// Variational dropout of the state (Gal & Ghahramani 2016; Keras's `recurrent_dropout`):
    /// [B, H] in the trace's row order, each sequence's factor (0 or 1/(1-p)) on h_{t-1} as the
    /// cell's step reads it, the same at every step. nil: no dropout (the loop as it was).
    public internal(set) var stateMask: RowBuffer<Scalar>?
    /// [T*B, H] with `stateMask`: row block t keeps the unmasked h_{t-1} while a step reads the
    /// masked rows in place (`SequenceTrace.hidden` holds the unmasked states between steps).
    var unmaskedHidden: RowBuffer<Scalar>?

    /// Step t's input projection U x_t + b_ih for batch row `row` (a [G*H] row of `preInput`):
    /// its row t*B + row, or row `row` while `projectsInputsStepByStep`.
    @inlinable
    public func stepInput(_ t: Int, row: Int) -> UnsafeMutablePointer<Scalar> {
        preInput.row(projectsInputsStepByStep ? row : t * batch + row)
    }

    /// Row `row` of `hidden` (h_{t-1} at row t*B + b) without variational dropout's mask: the
    /// saved copy while a masked step runs, else `hidden` itself.
    public func unmaskedPrevious(row: Int) -> UnsafeMutablePointer<Scalar> { (unmaskedHidden ?? hidden).row(row) }

    public init(steps: Int, batch: Int, inputSize: Int, hiddenSize: Int, gateCount: Int, hasMemory: Bool) {
        self.steps = steps
        self.batch = batch
        let gateWidth = gateCount * hiddenSize
        inputs = RowBuffer(rows: steps * batch, cols: inputSize)
        preInput = RowBuffer(rows: steps * batch, cols: gateWidth)
        preHidden = RowBuffer(rows: steps * batch, cols: gateWidth)
        gates = RowBuffer(rows: steps * batch, cols: gateWidth)
        hidden = RowBuffer(rows: (steps + 1) * batch, cols: hiddenSize)
        memory = RowBuffer(rows: hasMemory ? (steps + 1) * batch : 0, cols: hiddenSize)
    }

    /// True when this trace has the shape `init` would give these arguments (then a
    /// forward pass may overwrite it instead of allocating a new one).
    public func matches(steps: Int, batch: Int, inputSize: Int, hiddenSize: Int, gateCount: Int, hasMemory: Bool) -> Bool {
        self.steps == steps && self.batch == batch && inputs.cols == inputSize && hidden.cols == hiddenSize
            && preInput.cols == gateCount * hiddenSize && (memory.rows > 0) == hasMemory
    }

    /// The hidden states h_1 ... h_T as a time-major matrix [T*B, H].
    public var outputs: Matrix<Scalar> { hidden.matrix(rows: batch..<((steps + 1) * batch)) }

    /// The final state (h_T, and c_T for LSTM).
    public var finalState: LayerState<Scalar> {
        LayerState(hidden: hidden.matrix(rows: (steps * batch)..<((steps + 1) * batch)),
                   memory: memory.rows == 0 ? Matrix(rows: 0, cols: hidden.cols)
                                            : memory.matrix(rows: (steps * batch)..<((steps + 1) * batch)))
    }
}

/// The state of one layer between steps: h [B, H], and the LSTM's cell c [B, H]
/// (a [0, H] matrix for cells without one). Zero state is explicit: `LayerState.zeros`.
public struct LayerState<Scalar: NeuralScalar>: Sendable, Equatable {
    /// h: [B, H]
    public var hidden: Matrix<Scalar>
    /// c: [B, H] for LSTM, [0, H] otherwise
    public var memory: Matrix<Scalar>

    public init(hidden: Matrix<Scalar>, memory: Matrix<Scalar>) {
        self.hidden = hidden
        self.memory = memory
    }

    /// h = 0 (and c = 0 when the cell has a memory).
    public static func zeros(batch: Int, hiddenSize: Int, hasMemory: Bool) -> LayerState {
        LayerState(hidden: Matrix(rows: batch, cols: hiddenSize),
                   memory: Matrix(rows: hasMemory ? batch : 0, cols: hiddenSize))
    }
}

/// The per-step buffers of the backward pass.
///
/// ```
/// dHidden     [B, H]      in: dL/dh_t; out: dL/dh_{t-1}
/// dMemory     [B, H]      in: dL/dc_t; out: dL/dc_{t-1} (cells with `hasMemory`; [0, H] otherwise)
/// scratch     [B, H]      a step's temporary (cells with `usesBackwardScratch`, GRU; [0, H] otherwise)
/// dPreInput   [T*B, G*H]  dL/d preInput, all steps (feeds dW_ih, db_ih, dx); or one chunk of
///                         steps (`chunkSteps`)
/// dPreHidden  [T*B, G*H]  dL/d preHidden, all steps (feeds dW_hh, db_hh); the same
///                         buffer as dPreInput unless the cell sets `separateHiddenGradient`
/// ```
public final class BackwardBuffers<Scalar: NeuralScalar>: @unchecked Sendable {
    public let dHidden: RowBuffer<Scalar>
    public let dMemory: RowBuffer<Scalar>
    public let scratch: RowBuffer<Scalar>
    public let dPreInput: RowBuffer<Scalar>
    public let dPreHidden: RowBuffer<Scalar>
    let separateHiddenGradient: Bool
    /// 0, or C while the unroller's chunked loop keeps only one chunk of C steps of `dPreInput`
    /// (`RecurrentCell.keepsOneChunkOfGradients` and no dL/dx wanted): step t's rows are then
    /// rows (t % C)*B ..< (t % C + 1)*B (`stepGradient`), still in cache when the chunk's weight
    /// gradients read them, instead of fresh rows of a [T*B, G*H] buffer in memory. Chunks start
    /// at multiples of C, so after the pass the rows of chunk 0 are where they would be anyway.
    public internal(set) var chunkSteps = 0

    public init(steps: Int, batch: Int, hiddenSize: Int, gateCount: Int, separateHiddenGradient: Bool,
                hasMemory: Bool, scratch: Bool) {
        self.separateHiddenGradient = separateHiddenGradient
        dHidden = RowBuffer(rows: batch, cols: hiddenSize, zeroed: true)
        dMemory = RowBuffer(rows: hasMemory ? batch : 0, cols: hiddenSize, zeroed: true)
        self.scratch = RowBuffer(rows: scratch ? batch : 0, cols: hiddenSize)
        dPreInput = RowBuffer(rows: steps * batch, cols: gateCount * hiddenSize)
        dPreHidden = separateHiddenGradient ? RowBuffer(rows: steps * batch, cols: gateCount * hiddenSize) : dPreInput
    }

    /// dL/d preInput of step t for batch row `row` (a [G*H] row of `dPreInput`): its row
    /// t*B + row, or (t % chunkSteps)*B + row (`chunkSteps`).
    @inlinable
    public func stepGradient(_ t: Int, row: Int) -> UnsafeMutablePointer<Scalar> {
        dPreInput.row(stepRow(t, row: row))
    }

    /// dL/d preHidden of step t for batch row `row`: `stepGradient`'s row of `dPreHidden` (the same
    /// buffer whenever `chunkSteps` is set).
    @inlinable
    public func stepHiddenGradient(_ t: Int, row: Int) -> UnsafeMutablePointer<Scalar> {
        dPreHidden.row(stepRow(t, row: row))
    }

    /// The row of step t's batch row `row` in `dPreInput` / `dPreHidden`: t*B + row, or
    /// (t % chunkSteps)*B + row.
    @inlinable
    func stepRow(_ t: Int, row: Int) -> Int { (chunkSteps > 0 ? t % chunkSteps : t) * dHidden.rows + row }

    /// True when `init` with these arguments would give the same shapes.
    public func matches(steps: Int, batch: Int, hiddenSize: Int, gateCount: Int, separateHiddenGradient: Bool,
                        hasMemory: Bool, scratch: Bool) -> Bool {
        dHidden.rows == batch && dHidden.cols == hiddenSize && dPreInput.rows == steps * batch
            && dPreInput.cols == gateCount * hiddenSize && self.separateHiddenGradient == separateHiddenGradient
            && dMemory.rows == (hasMemory ? batch : 0) && self.scratch.rows == (scratch ? batch : 0)
    }
}
