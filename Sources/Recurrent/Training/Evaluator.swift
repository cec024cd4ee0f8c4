/// Loss and metric of a model on a task's fixed evaluation splits: what `Trainer.run`
/// reports at its evaluations, `recurrent eval` prints and a comparison's curves are made of.
/// It needs no optimizer and changes nothing: a forward-only pass per batch (`forwardOnly`), the state carried
/// across batches for truncated-BPTT tasks (starting from zero).
public struct Evaluator<Cell: RecurrentCell>: Sendable where Cell.Scalar == Float {
    public var model: RecurrentModel<Cell>
    public var task: any TrainingTask
    /// Sequences per forward pass (charlm: parallel streams, so it changes the numbers).
    public var batchSize: Int

    /// Throws when the model does not read the task's inputs or write its outputs.
    public init(model: RecurrentModel<Cell>, task: any TrainingTask,
                batchSize: Int = TrainingDefaults.evaluationBatch) throws(ConfigurationError) {
        try Self.check(model, fits: task)
        guard batchSize >= 1 else { throw ConfigurationError("the evaluation batch must be at least 1, got \(batchSize)") }
        self.model = model
        self.task = task
        self.batchSize = batchSize
    }

    /// The one check that a model fits a task: inputs per step, outputs, readout.
    static func check(_ model: RecurrentModel<Cell>, fits task: any TrainingTask) throws(ConfigurationError) {
        guard task.inputSize == model.inputSize else {
            throw ConfigurationError("the task '\(task.name)' has \(task.inputSize) input features per step but the model reads \(model.inputSize)")
        }
        guard task.outputSize == model.outputSize else {
            throw ConfigurationError("the task '\(task.name)' needs \(task.outputSize) outputs but the model has \(model.outputSize)")
        }
        guard task.readout == model.readout else {
            throw ConfigurationError("the task '\(task.name)' needs the \(task.readout.rawValue)-step readout but the model has \(model.readout.rawValue)")
        }
    }

    /// Loss and metric over one split, averaged over its targets (class ids of -1 do not
    /// count); `step` is recorded as given. Lays the split out as its passes first
    /// (`passes(_:)`), then `evaluate(_ set:step:)`.
    public func evaluate(_ split: EvaluationSplit, step: Int = 0) throws -> EvaluationRecord {
        try evaluate(passes(split), step: step)
    }

    /// `evaluate(_:step:)` over a split already laid out as its passes (`passes(_:)`: built
    /// once, evaluated as often as the weights change; `Trainer.run` keeps them for the run).
    ///
    /// Batches are independent unless the task carries its state across them: then they run
    /// in order on the caller, each in one pass from the state the one before left. Otherwise
    /// every batch runs as passes of a few rows (`passRows`), and given at least
    /// `passesPerThread` passes a thread, runs of consecutive passes (of any batches) run at
    /// once on the kernel pool, one per thread (`Compute.threads`; each run on one thread, in
    /// workspaces of its own), then the batches are scored, split among the threads the same
    /// way. Every pass's outputs are the same bits on any thread (rows are independent), and
    /// the sums below add the batches' scores in batch order, so the loss and metric are the
    /// same bits for any thread count. A forward pass of one pass is too little work per time
    /// step to split across threads step by step (a 63-row pass of the IRNN at H = 128: a
    /// fork and join every ~30 µs), so with fewer passes each is split by rows instead.
    @_specialize(where Cell == RNNCell<Float>)
    @_specialize(where Cell == LSTMCell<Float>)
    @_specialize(where Cell == GRUCell<Float>)
    @_specialize(where Cell == IndRNNCell<Float>)
    public func evaluate(_ set: EvaluationPasses, step: Int = 0) throws -> EvaluationRecord {
        let batches = set.batches
        var scores: [BatchScore] = []
        if task.carriesState {
            var state: RecurrentState<Float>?
            // One workspace per pass size (by rows): the forward-only traces (a window of a few
            // steps per layer, not the training trace) of a pass of the same shape are written
            // over instead of allocated (and page-faulted in) again.
            var workspaces: [Int: ModelWorkspace<Float>] = [:]
            for batch in batches {
                let initial = !batch.resetState ? state.flatMap { $0.layers.first?.hidden.rows == batch.batch ? $0 : nil } : nil
                let pass = forwardOnly(batch.passes[0], steps: batch.steps, initial: initial, workspaces: &workspaces)
                scores.append(try score(batch, outputs: pass.outputs))
                state = pass.finalState
            }
        } else {
            let passes = batches.indices.flatMap { i in batches[i].passes.indices.map { (batch: i, pass: $0) } }
            let threads = Compute.threads, byPass = threads > 1 && passes.count >= Self.passesPerThread * threads
            var outputs = [Matrix<Float>?](repeating: nil, count: passes.count)      // [R, O] or [T*R, O] a pass
            outputs.withUnsafeMutableBufferPointer { outputs in
                Compute.forEachSlice(of: passes.count, parts: byPass ? threads : 1, threadsPerSlice: byPass ? 1 : threads) { run in
                    var workspaces: [Int: ModelWorkspace<Float>] = [:]
                    for p in run {
                        let batch = batches[passes[p].batch]
                        outputs[p] = forwardOnly(batch.passes[passes[p].pass], steps: batch.steps, initial: nil,
                                                 workspaces: &workspaces).outputs
                    }
                }
            }
            let first = batches.reduce(into: [0]) { $0.append($0.last! + $1.passes.count) }   // batch i's passes: first[i] ..< first[i + 1]
            var results = [Result<BatchScore, any Error>?](repeating: nil, count: batches.count)
            results.withUnsafeMutableBufferPointer { results in
                Compute.forEachSlice(of: batches.count, parts: byPass ? threads : 1) { run in
                    for i in run {
                        let parts = (first[i]..<first[i + 1]).map { outputs[$0]! }
                        results[i] = Result { try score(batches[i], outputs: joined(parts, batches[i])) }
                    }
                }
            }
            scores = try results.map { try $0!.get() }          // the first failing batch's error, as in order
        }
        var totalLoss = 0.0, totalCorrect = 0.0, counted = 0.0
        for s in scores {
            totalLoss += s.loss * s.count
            totalCorrect += s.accuracy * s.count
            counted += s.count
        }
        let loss = counted > 0 ? totalLoss / counted : .nan
        let accuracy = counted > 0 ? totalCorrect / counted : nil
        return EvaluationRecord(step: step, split: set.split, loss: loss, metric: task.metric(loss: loss, accuracy: accuracy),
                                metricName: task.metricName, seconds: 0)
    }

    /// The fewest passes a thread gets when the passes are split among the threads (below
    /// that, the threads split each pass's rows instead).
    static var passesPerThread: Int { 4 }

    /// One batch's mean loss and accuracy (0 without one) over its `count` targets.
    struct BatchScore {
        var loss: Double
        var accuracy: Double
        var count: Double
    }

    /// Scores one batch from the model's `outputs` for it ([B, O] or [T*B, O]).
    func score(_ batch: EvaluationPasses.Batch, outputs: Matrix<Float>) throws -> BatchScore {
        let target = try batch.targets.lossTarget(batch: batch.batch, steps: batch.steps, lengths: batch.lengths)
        let (value, _) = try task.loss.evaluate(outputs, target)
        let n: Double
        switch target {
        case .classes(let ids): n = Double(ids.filter { $0 >= 0 }.count)
        case .valuesOnRows(_, let counted): n = Double(counted.filter { $0 }.count)
        case .values: n = Double(outputs.rows)
        }
        return BatchScore(loss: value, accuracy: task.loss.accuracy(outputs, target) ?? 0, count: n)
    }

    /// Rows per forward pass: at most `passRows(batch:)`'s rows of a batch run through the
    /// model at a time. One time step of a pass writes the gates and reads the input
    /// projection, [R, G*H] each; for R = 500 rows of an LSTM with H = 128 that is 2 MiB per
    /// step, which leaves the L2 cache, for 64 rows 256 KiB. Batch rows are independent (every
    /// output element is the same operations on the same values whichever rows run with it),
    /// so the outputs are bit for bit those of one pass over the batch; the loss and metric are
    /// then computed over the whole batch, as before. Passes also keep to `maxPassRows` rows.
    /// (Tests set it to run one pass per batch, or many.)
    var passBytes = 256 << 10

    /// The most rows of a pass. A pass's forward-only window holds as many steps as fit in
    /// 1 MiB (`ForwardOnlyTrace.chunkSteps`) and moves its last state to its step 0 after each
    /// window: a 250-row pass of the IRNN at H = 128 (gates [R, 128]) fits one step, so it
    /// moved [250, 128] after every step, a 64-row pass fits 7. The relu RNN's evaluation at
    /// H = 128, I = 28, T = 28 (benchmarks/kernels/eval_passes.c): 7.7% fewer instructions at
    /// 64 rows than at 250, the same bits (rows are independent).
    static var maxPassRows: Int { 64 }

    /// The balanced row ranges of a batch of `batch` rows, as few as keep each pass to
    /// `passBytes` of gates and input projection per step ([R, G*H] twice, 4-byte floats) or
    /// to 16 rows, whichever is more, and to `maxPassRows` rows (`passBytes` of at least
    /// 8 G H B and B <= `maxPassRows`: one range).
    func passRows(batch: Int) -> [Range<Int>] {
        Self.passRows(batch: batch, width: Cell.gateCount * model.hiddenSize, bytes: passBytes)
    }

    /// `passRows(batch:)` for gates [R, `width`] and a budget of `bytes`.
    static func passRows(batch: Int, width: Int, bytes: Int) -> [Range<Int>] {
        let rows = Swift.max(16, Swift.min(maxPassRows, bytes / Swift.max(1, 8 * width)))
        let parts = Swift.max(1, (batch + rows - 1) / rows)
        return (0..<parts).map { (batch * $0 / parts)..<(batch * ($0 + 1) / parts) }
    }

    /// A split of the task laid out as `evaluate(_ set:step:)` reads it: its batches of
    /// `batchSize` sequences (`TrainingTask.evaluationBatches`), each batch's inputs as the
    /// time-major inputs of its passes (`passRows(batch:)`; one pass per batch when the task
    /// carries its state), so that a pass reads its inputs where they lie. Each batch's
    /// batch-first values are let go once its passes are laid out: the split is held about
    /// once, not twice.
    public func passes(_ split: EvaluationSplit) throws -> EvaluationPasses {
        var batches = try task.evaluationBatches(split, batchSize: batchSize)
        var laidOut: [EvaluationPasses.Batch] = []
        laidOut.reserveCapacity(batches.count)
        for i in batches.indices {
            let inputs = batches[i].inputs, lengths = inputs.unevenLengths
            let ranges = task.carriesState ? [0..<inputs.batch] : passRows(batch: inputs.batch)
            laidOut.append(EvaluationPasses.Batch(
                targets: batches[i].targets, batch: inputs.batch, steps: inputs.steps, lengths: lengths,
                resetState: batches[i].resetState,
                passes: ranges.map { rows in EvaluationPasses.Pass(rows: rows, inputs: inputs.timeMajorCopy(rows),
                                                                   lengths: lengths.map { Array($0[rows]) }) }))
            batches[i].inputs.values = []
        }
        return EvaluationPasses(split: split, batches: laidOut)
    }

    /// The model's forward-only outputs ([R, O] or [T*R, O]) and final state for one pass of
    /// sequences of `steps` steps, from `initial` (nil: zeros), in the workspace of its row
    /// count (the forward-only traces of a pass of the same shape are written over, not
    /// allocated again). The inputs are read where they lie.
    func forwardOnly(_ pass: EvaluationPasses.Pass, steps: Int, initial: RecurrentState<Float>?,
                     workspaces: inout [Int: ModelWorkspace<Float>]) -> (outputs: Matrix<Float>, finalState: RecurrentState<Float>) {
        let rows = pass.rows.count
        var workspace = workspaces.removeValue(forKey: rows) ?? ModelWorkspace<Float>(inputGradient: false)
        defer { workspaces[rows] = workspace }
        return model.forwardOnly(timeMajor: pass.inputs, batch: rows, steps: steps, lengths: pass.lengths, initial: initial,
                                 workspace: &workspace)
    }

    /// A batch's outputs ([B, O] or [T*B, O]) from those of its passes (in order, covering
    /// the batch): per-step outputs interleave, row t*R + i of a pass going to row
    /// t*B + lower + i.
    func joined(_ parts: [Matrix<Float>], _ batch: EvaluationPasses.Batch) -> Matrix<Float> {
        guard parts.count > 1 else { return parts[0] }
        let b = batch.batch, perStep = model.readout == .everyStep, o = model.outputSize
        var outputs = Matrix<Float>(rows: perStep ? batch.steps * b : b, cols: o)   // [B, O] or [T*B, O]
        outputs.storage.withUnsafeMutableBufferPointer { out in
            for (part, pass) in zip(parts, batch.passes) {
                let range = pass.rows
                part.storage.withUnsafeBufferPointer { p in                               // [R, O] or [T*R, O]
                    for t in 0..<(perStep ? batch.steps : 1) {
                        (out.baseAddress! + (t * b + range.lowerBound) * o)
                            .update(from: p.baseAddress! + t * range.count * o, count: range.count * o)
                    }
                }
            }
        }
        return outputs
    }

    /// Every split the task evaluates on (validation first, when it has one).
    public func evaluateAll(step: Int = 0) throws -> [EvaluationRecord] {
        try task.evaluationSplits.map { try evaluate($0, step: step) }
    }
}

extension AnyRecurrentModel {
    /// The model's loss and metric on every evaluation split of `task` (`Evaluator`), for a
    /// model whose cell is known only at run time (a loaded checkpoint).
    public func evaluate(on task: any TrainingTask, batchSize: Int = TrainingDefaults.evaluationBatch,
                         step: Int = 0) throws -> [EvaluationRecord] {
        try visit(EvaluationVisitor(task: task, batchSize: batchSize, step: step))
    }
}

/// `AnyRecurrentModel.evaluate`'s generic half.
struct EvaluationVisitor: ModelVisitor {
    var task: any TrainingTask
    var batchSize: Int
    var step: Int

    func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> [EvaluationRecord] where Cell.Scalar == Float {
        try Evaluator(model: model, task: task, batchSize: batchSize).evaluateAll(step: step)
    }
}

/// A split of a task's evaluation set laid out for the forward-only passes
/// (`Evaluator.passes(_:)`): per batch its targets and shape, and per pass (a few of the
/// batch's rows) the inputs time-major, [T*R, I] (row t*R + r: x_t of sequence
/// `rows.lowerBound + r` of the batch). Built once, it serves every evaluation of a run.
public struct EvaluationPasses: Sendable {
    public var split: EvaluationSplit
    var batches: [Batch]

    struct Batch: Sendable {
        var targets: Targets<Float>
        var batch: Int
        var steps: Int
        /// [B] when some sequence is shorter than T (`SequenceBatch.unevenLengths`), else nil.
        var lengths: [Int]?
        var resetState: Bool
        /// In row order, covering the batch.
        var passes: [Pass]
    }

    struct Pass: Sendable {
        var rows: Range<Int>
        var inputs: Matrix<Float>                 // [T*R, I] time-major
        /// [R]: the lengths of rows `rows` when the batch's are uneven, else nil.
        var lengths: [Int]?
    }

    /// The bytes of the inputs held (what `MemoryEstimate` counts for them).
    public var inputBytes: Int { batches.reduce(0) { $0 + $1.passes.reduce(0) { $0 + 4 * $1.inputs.count } } }
}
