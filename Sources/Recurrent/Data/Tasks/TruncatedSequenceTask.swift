// MARK: - Truncated BPTT for any task
//
// Wraps a task whose batches are whole sequences of T steps (adding, copy, the MNIST
// variants, a user's tensors) and hands them out in windows of K steps: window w is steps
// w·K ..< min((w+1)·K, T) of the same batch, ⌈T / K⌉ windows per batch, the first with
// `resetState` (start from zero), the others continuing from the state the window before
// ended with (the trainer carries it, as for charlm; the gradient stops at each window's
// start because each window is its own forward and backward pass).
//
// Loss per window (Williams & Peng 1990, "An efficient gradient-based algorithm for on-line
// training of recurrent network trajectories"; what a PyTorch loop with `h = h.detach()`
// between chunks does):
// - per-step targets (copy, tensors read out at every step): each window's loss is the mean
//   over its own steps' targets, and each window is one optimizer step; a window whose steps
//   carry no target at all (class ids all -1) runs forward only.
// - one target per sequence (last-step readout: adding, the MNIST tasks): only the last window
//   has a loss. The windows before it run forward only (no loss, no optimizer step), carrying
//   the state, and the last window takes the one optimizer step, its gradient reaching back K
//   steps (the last window's length). So an optimizer step is still one batch of sequences.
//
// K >= T gives one window: the base task's batch unchanged, the same bits as no truncation.
// Evaluation runs whole sequences (the base task's batches, each from the zero state).
// Variable-length sequences (per-step targets): window w of sequence b is its steps
// w·K ..< min((w+1)·K, L_b), so its state stops at its own last step and is carried unchanged
// through the windows past its end, which have no live steps for it (window length 0); a
// window with no live step that has a target runs forward only. One target per sequence with
// uneven lengths is refused: the loss is in the last window, which a sequence that ended
// before it would reach through its carried state only, with no gradient into the recurrence.
// Resuming mid-batch needs the same K (a run stopped between batches may change it).

/// A task whose training sequences are cut into windows of `bptt` steps (truncated BPTT).
public struct TruncatedSequenceTask: TrainingTask {
    public private(set) var base: any TrainingTask
    /// K, the window length in steps.
    public let bptt: Int
    /// The batch being cut, and the base task's position and the generator before it was
    /// drawn (to draw it again on resume).
    var current: TaskBatch?
    var basePositionBefore: [String: Int] = [:]
    var rngBefore = SeededGenerator(seed: 0)
    var batchSize = 0
    /// The next window of `current` to hand out.
    var window = 0

    public init(_ base: any TrainingTask, bptt: Int) throws {
        guard bptt >= 1 else { throw ConfigurationError("the truncated-BPTT window must be at least 1 step, got \(bptt)") }
        guard !base.carriesState else {
            throw ConfigurationError("the task '\(base.name)' already cuts its sequences into truncated-BPTT windows")
        }
        if let data = (base as? DatasetTask<SequenceDataset<Float>>)?.train, data.lengths != nil, base.readout == .lastStep {
            throw Self.unevenLengths(base.name)
        }
        self.base = base
        self.bptt = bptt
    }

    static func unevenLengths(_ name: TaskKind) -> DataError {
        DataError(.unsupported, "truncated BPTT over sequences of uneven length with one target per sequence is not supported: the loss is taken in the last window, and a sequence that ends before it would get no gradient through its steps",
                  path: name.rawValue,
                  fix: "train these sequences without a truncation window, give them a target per step, or pad them to one length")
    }

    public var name: TaskKind { base.name }
    public var inputSize: Int { base.inputSize }
    public var outputSize: Int { base.outputSize }
    public var readout: Readout { base.readout }
    public var loss: Loss { base.loss }
    public var metricName: TaskMetric { base.metricName }
    public var baseline: (value: Double, description: String)? { base.baseline }
    public var carriesState: Bool { true }
    public var evaluationSplits: [EvaluationSplit] { base.evaluationSplits }
    /// T of the whole sequences: evaluation runs them, and memory is estimated for them.
    public var sequenceLength: Int { base.sequenceLength }
    public var evaluationSequences: Int { base.evaluationSequences }
    public var allEvaluationSequences: Int { base.allEvaluationSequences }

    /// Windows per batch of sequences of `steps` steps.
    public func windows(steps: Int) -> Int { (steps + bptt - 1) / bptt }

    /// Optimizer steps per epoch: one per batch for a last-step readout, one per window for
    /// per-step targets (windows without targets counted too: an upper bound then).
    public func batchesPerEpoch(batchSize: Int) throws -> Int? {
        try base.batchesPerEpoch(batchSize: batchSize).map { readout == .everyStep ? $0 * windows(steps: sequenceLength) : $0 }
    }

    public mutating func nextTrainingBatch(size: Int, using rng: inout SeededGenerator) throws -> TaskBatch {
        if current == nil || window >= windows(steps: current!.inputs.steps) || size != batchSize {
            basePositionBefore = base.position
            rngBefore = rng
            batchSize = size
            try draw(using: &rng)
        }
        let batch = current!
        defer { window += 1 }
        return try Self.window(window, of: batch, bptt: bptt)
    }

    mutating func draw(using rng: inout SeededGenerator) throws {
        let batch = try base.nextTrainingBatch(size: batchSize, using: &rng)
        if batch.inputs.unevenLengths != nil && readout == .lastStep { throw Self.unevenLengths(name) }
        current = batch
        window = 0
    }

    /// Window `w` of `batch`: steps w·K ..< min((w+1)·K, T), the targets of those steps (per
    /// step) or, for one target per sequence, `forwardOnly` unless it is the last window.
    /// Uneven lengths L [B]: sequence b runs min(max(L_b - w·K, 0), k) steps of the window (0
    /// past its end: its state is carried), and a window none of whose live steps has a
    /// target runs forward only.
    static func window(_ w: Int, of batch: TaskBatch, bptt: Int) throws -> TaskBatch {
        let (n, t, f) = (batch.inputs.batch, batch.inputs.steps, batch.inputs.features)
        let count = (t + bptt - 1) / bptt
        guard count > 1 else { return TaskBatch(inputs: batch.inputs, targets: batch.targets, resetState: true) }
        let start = w * bptt, k = min(bptt, t - start)
        func slice<S>(_ v: [S], width: Int) -> [S] {               // [B, T, width] -> [B, k, width]
            var out: [S] = []
            out.reserveCapacity(n * k * width)
            for b in 0..<n { out += v[((b * t + start) * width)..<((b * t + start + k) * width)] }
            return out
        }
        let lengths = batch.inputs.unevenLengths.map { $0.map { min(max($0 - start, 0), k) } }   // [B], each in 0...k
        let inputs = SequenceBatch(batch: n, steps: k, features: f, values: slice(batch.inputs.values, width: f), lengths: lengths)
        var out = TaskBatch(inputs: inputs, targets: batch.targets, resetState: w == 0)
        func live(_ i: Int) -> Bool { lengths.map { i % k < $0[i / k] } ?? true }   // element i of [B, k]
        switch batch.targets {
        case .classes, .values:
            out.forwardOnly = w < count - 1
        case .classesPerStep(let ids):
            let window = slice(ids, width: 1)
            out.targets = .classesPerStep(window)
            out.forwardOnly = !window.indices.contains { window[$0] >= 0 && live($0) }
        case .valuesPerStep(let v, let columns):
            out.targets = .valuesPerStep(slice(v, width: columns), columns: columns)
            out.forwardOnly = !(0..<(n * k)).contains(where: live)
        }
        return out
    }

    /// Whole sequences, each batch from the zero state.
    public func evaluationBatches(_ split: EvaluationSplit, batchSize: Int) throws -> [TaskBatch] {
        try base.evaluationBatches(split, batchSize: batchSize).map { b in
            var b = b
            b.resetState = true
            return b
        }
    }

    // MARK: - Position
    //
    // The base task's position before the current batch was drawn, the generator then (its
    // four words as eight 32-bit halves, so every value is non-negative), the batch size and
    // the next window: restoring draws the same batch again and continues mid-sequence.

    public var position: [String: Int] {
        guard current != nil else { return base.position }
        var p = basePositionBefore
        for (i, word) in rngBefore.stateWords.enumerated() {
            p["bpttRng\(2 * i)"] = Int(word >> 32)
            p["bpttRng\(2 * i + 1)"] = Int(word & 0xffff_ffff)
        }
        p["bpttBatchSize"] = batchSize
        p["bpttWindow"] = window
        p["bpttSteps"] = bptt
        return p
    }

    public mutating func restore(position: [String: Int]) throws {
        let halves = (0..<8).compactMap { position["bpttRng\($0)"] }
        guard halves.count == 8, let size = position["bpttBatchSize"], let w = position["bpttWindow"] else {
            try base.restore(position: position)
            current = nil
            return
        }
        guard halves.allSatisfy({ (0...0xffff_ffff).contains($0) }), size >= 1, w >= 0 else {
            throw DataError(.malformed, "the saved truncated-BPTT position is not valid", path: name.rawValue,
                            fix: "resume from an intact training state")
        }
        if let k = position["bpttSteps"], k != bptt, w > 0 {
            // Not damage: an intact state that another window cannot continue.
            throw ConfigurationError("the run stopped at window \(w) of a batch cut into windows of \(k) steps; this task uses \(bptt): resume with the truncation window the run was trained with")
        }
        let words = (0..<4).map { UInt64(halves[2 * $0]) << 32 | UInt64(halves[2 * $0 + 1]) }
        var rng = try SeededGenerator(validating: words)
        let basePosition = position.filter { !$0.key.hasPrefix("bptt") }
        try base.restore(position: basePosition)
        basePositionBefore = basePosition
        rngBefore = rng
        batchSize = size
        try draw(using: &rng)
        guard w <= windows(steps: current!.inputs.steps) else {
            throw DataError(.malformed, "the saved position is window \(w) of sequences cut into \(windows(steps: current!.inputs.steps)) windows",
                            path: name.rawValue, fix: "resume from an intact training state")
        }
        window = w
    }
}
