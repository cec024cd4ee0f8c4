/// Character-level language modelling on a UTF-8 text: many-to-many, the next
/// character at every step, truncated BPTT over `bptt` steps with the state carried
/// from one window to the next (reset at each epoch). Metric: bits per character,
/// cross-entropy / ln 2; baseline: log2 V (a uniform guess over the V characters).
public struct CharacterLMTask: TrainingTask {
    public let text: CharacterText
    public let bptt: Int
    var batches: TruncatedBPTTBatches?

    /// Throws when `bptt` < 1, or when a split is too short for one window (each needs at
    /// least 2 characters: an input and its next-character target), naming the split and
    /// the sizes, so that a short text is refused before any training step.
    public init(text: CharacterText, bptt: Int) throws {
        guard bptt >= 1 else { throw ConfigurationError("the truncated-BPTT window must be at least 1 step, got \(bptt)") }
        let sizes = [("training", text.train.count), ("validation", text.validation.count), ("test", text.test.count)]
        if let (split, _) = sizes.first(where: { $0.1 < 2 }) {
            let total = text.train.count + text.validation.count + text.test.count
            throw DataError(.malformed, "the \(split) split would be empty: \(total) characters split 90/5/5 give \(sizes.map { "\($0.0) \($0.1)" }.joined(separator: ", ")); each split needs at least 2 characters (an input and its target)",
                            path: text.source, fix: "use a text of at least 40 characters (several MB for a useful language model)")
        }
        self.text = text
        self.bptt = bptt
    }

    public var name: TaskKind { .charlm }
    public var inputSize: Int { text.vocabulary.count }
    public var outputSize: Int { text.vocabulary.count }
    public var readout: Readout { .everyStep }
    public var loss: Loss { .crossEntropy }
    public var metricName: TaskMetric { .bpc }
    public var carriesState: Bool { true }
    public var sequenceLength: Int { bptt }
    public var evaluationSequences: Int { Swift.max(text.validation.count, text.test.count) / bptt + 1 }
    public var evaluationSplits: [EvaluationSplit] { [.validation, .test] }
    public var baseline: (value: Double, description: String)? {
        (Double.log(Double(max(1, text.vocabulary.count))) / Double.log(2), "uniform over \(text.vocabulary.count) characters (log2 V bits)")
    }

    public func batchesPerEpoch(batchSize: Int) throws -> Int? {
        try text.batches(.train, streams: batchSize, bptt: bptt).windowsPerEpoch
    }

    public mutating func nextTrainingBatch(size: Int, using rng: inout SeededGenerator) throws -> TaskBatch {
        if batches == nil || batches?.streams != size {
            batches = try text.batches(.train, streams: size, bptt: bptt)
        }
        if let (x, y, reset) = batches!.next() { return TaskBatch(inputs: x, targets: y, resetState: reset) }
        guard let (x, y, _) = batches!.next() else {
            throw DataError(.malformed, "the training text is too short for \(size) streams of \(bptt) steps", path: text.source,
                            fix: "use a longer text, fewer batch streams or a shorter truncated-BPTT window")
        }
        return TaskBatch(inputs: x, targets: y, resetState: true)
    }

    /// The split's windows in order, one stream per sequence of the batch (at most 64).
    public func evaluationBatches(_ split: EvaluationSplit, batchSize: Int) throws -> [TaskBatch] {
        let streams = max(1, min(batchSize, 64, text.tokens(split == .validation ? .validation : .test).count / (bptt + 1)))
        let b = try text.batches(split == .validation ? .validation : .test, streams: streams, bptt: bptt)
        return (0..<b.windowsPerEpoch).map { i in
            let (x, y) = b.window(i)
            return TaskBatch(inputs: x, targets: y, resetState: i == 0)
        }
    }

    public var position: [String: Int] {
        guard let p = batches?.position else { return [:] }
        return ["epoch": p.epoch, "window": p.window, "streams": p.streams, "bptt": p.bptt, "tokenCount": p.tokenCount]
    }

    public mutating func restore(position: [String: Int]) throws {
        guard let e = position["epoch"], let w = position["window"], let s = position["streams"], let b = position["bptt"],
              let n = position["tokenCount"] else { return }
        guard b == bptt else {
            throw DataError(.mismatch, "the saved position is for windows of \(b) steps, this task uses \(bptt)", path: text.source,
                            fix: "resume with the window length the run was trained with")
        }
        let saved = TBPTTPosition(epoch: e, window: w, streams: s, bptt: b, tokenCount: n)
        var batches = try text.batches(.train, streams: s, bptt: b)
        try batches.restore(saved)
        self.batches = batches
    }
}
