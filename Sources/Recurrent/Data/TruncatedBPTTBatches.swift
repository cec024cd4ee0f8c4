// MARK: - Truncated-BPTT batching
//
// The layout of PyTorch's examples/word_language_model (`batchify` and `get_batch`), batch-first:
//
// - **Streams.** A token sequence of length N is cut into B (`streams`) equal contiguous streams of
//   S = ⌊N / B⌋ tokens; the last N − B·S tokens are dropped. Stream b holds tokens
//   `[b·S, (b+1)·S)`. (PyTorch stores this as a [S, B] matrix whose column b is stream b.)
// - **Windows.** Window w covers stream positions `i = w·bptt ..< w·bptt + T`, with
//   T = min(bptt, S − 1 − w·bptt); the input at `[b, t]` is token `b·S + w·bptt + t` and the target
//   is the following token `b·S + w·bptt + t + 1`. There are ⌈(S − 1) / bptt⌉ windows per epoch;
//   only the last may be shorter than `bptt`.
// - **State.** Window w+1 of stream b continues exactly where window w ended, so the hidden
//   state after window w is the right initial state for window w+1 (detach it from the graph:
//   that is the truncation). Reset the state at the first window of each epoch (`resetState`).
//
// Inputs are one-hot `[B, T, V]` (`Float`), targets `.classesPerStep` `[B, T]`. The order is
// fixed (no shuffling), so the position (epoch, window) is enough to resume.

/// Where a ``TruncatedBPTTBatches`` iterator stands; save and ``TruncatedBPTTBatches/restore(_:)``.
public struct TBPTTPosition: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Current epoch, from 0.
    public var epoch: Int
    /// Index of the next window within the epoch, from 0.
    public var window: Int
    /// Number of parallel streams B (checked on restore).
    public var streams: Int
    /// Window length (checked on restore).
    public var bptt: Int
    /// Number of tokens of the split (checked on restore).
    public var tokenCount: Int

    public init(epoch: Int, window: Int, streams: Int, bptt: Int, tokenCount: Int) {
        self.epoch = epoch
        self.window = window
        self.streams = streams
        self.bptt = bptt
        self.tokenCount = tokenCount
    }

    public var description: String {
        "epoch \(epoch), window \(window) (\(streams) streams, bptt \(bptt), \(tokenCount) tokens)"
    }
}

/// Consecutive windows over B parallel streams of a token sequence (see the layout above).
public struct TruncatedBPTTBatches: IteratorProtocol, Sendable {
    public typealias Element = (inputs: SequenceBatch<Float>, targets: Targets<Float>, resetState: Bool)

    /// The token ids (all of them; only the first `streams × streamLength` are used).
    public let tokens: [Int32]
    /// Number of classes V (one-hot width).
    public let vocabularySize: Int
    /// Tokens per stream, S = ⌊N / B⌋.
    public let streamLength: Int
    public private(set) var position: TBPTTPosition
    private let source: String

    public init(tokens: [Int32], vocabularySize: Int, streams: Int, bptt: Int, source: String = "<tokens>") throws(DataError) {
        guard streams > 0, bptt > 0 else {
            throw DataError(
                .invalidArgument, "streams = \(streams) and bptt = \(bptt) must both be positive", path: source,
                fix: "use e.g. 32 streams and windows of 100 steps")
        }
        guard tokens.count / streams >= 2 else {
            throw DataError(
                .invalidArgument,
                "\(tokens.count) tokens cannot fill \(streams) streams of at least 2 tokens (one input and its next-token target)",
                path: source, fix: "use fewer streams or a longer text")
        }
        if let bad = tokens.firstIndex(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            throw DataError(
                .invalidArgument, "token id \(tokens[bad]) is outside 0..<\(vocabularySize)", path: source,
                recordIndex: bad, fix: "encode the text with the same vocabulary")
        }
        self.tokens = tokens
        self.vocabularySize = vocabularySize
        self.streamLength = tokens.count / streams
        self.source = source
        self.position = TBPTTPosition(epoch: 0, window: 0, streams: streams, bptt: bptt, tokenCount: tokens.count)
    }

    public var streams: Int { position.streams }
    public var bptt: Int { position.bptt }

    /// Windows per epoch, ⌈(S − 1) / bptt⌉.
    public var windowsPerEpoch: Int { (streamLength - 1 + bptt - 1) / bptt }

    /// Window `index` (in `0..<windowsPerEpoch`): one-hot inputs `[B, T, V]` and next-token targets.
    public func window(_ index: Int) -> (inputs: SequenceBatch<Float>, targets: Targets<Float>) {
        let start = max(0, index) * bptt
        let steps = max(0, min(bptt, streamLength - 1 - start))
        let v = vocabularySize
        var values = [Float](repeating: 0, count: streams * steps * v)
        var targets = [Int](repeating: 0, count: streams * steps)
        for b in 0..<streams {
            let base = b * streamLength + start
            for t in 0..<steps {
                values[(b * steps + t) * v + Int(tokens[base + t])] = 1
                targets[b * steps + t] = Int(tokens[base + t + 1])
            }
        }
        return (SequenceBatch(batch: streams, steps: steps, features: v, values: values), .classesPerStep(targets))
    }

    /// The next window, or `nil` at the end of an epoch (then moves to the next epoch).
    /// `resetState` is true for the first window of an epoch.
    public mutating func next() -> Element? {
        guard position.window < windowsPerEpoch else {
            position.epoch += 1
            position.window = 0
            return nil
        }
        let (inputs, targets) = window(position.window)
        let reset = position.window == 0
        position.window += 1
        return (inputs, targets, reset)
    }

    /// Jumps to a saved position; streams, bptt and the token count must match.
    public mutating func restore(_ saved: TBPTTPosition) throws(DataError) {
        guard saved.streams == streams, saved.bptt == bptt, saved.tokenCount == tokens.count else {
            throw DataError(
                .mismatch,
                "cannot restore position (\(saved)) into batches of \(streams) streams, bptt \(bptt), \(tokens.count) tokens",
                path: source, fix: "restore a position saved from the same text, split and batch settings")
        }
        guard saved.epoch >= 0, (0...windowsPerEpoch).contains(saved.window) else {
            throw DataError(
                .mismatch, "cannot restore position (\(saved)): window must be in 0...\(windowsPerEpoch)",
                path: source, recordIndex: saved.window, fix: "restore a position saved by this iterator")
        }
        position = saved
    }
}
