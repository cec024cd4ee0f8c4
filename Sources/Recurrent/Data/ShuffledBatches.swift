// MARK: - Indexed sequence sources

/// A data set of `count` labelled sequences that can assemble any subset of them into a batch.
public protocol IndexedSequenceSource: Sendable {
    associatedtype Scalar: NeuralScalar
    /// Number of sequences.
    var count: Int { get }
    /// The sequences at `indices` (each in `0..<count`), in that order, as one batch.
    func batch(indices: [Int]) -> (SequenceBatch<Scalar>, Targets<Scalar>)
}

// MARK: - Batch position

/// Where a ``ShuffledBatches`` iterator stands; save it with a checkpoint and pass it to
/// ``ShuffledBatches/restore(_:)`` to continue with exactly the same batches.
public struct BatchPosition: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Current epoch, from 0.
    public var epoch: Int
    /// Index of the next batch within the epoch, from 0.
    public var batchIndex: Int
    /// Seed from which every epoch's permutation is derived (see ``ShuffledBatches``).
    public var shuffleSeed: UInt64
    /// Number of sequences in the data set (checked on restore).
    public var sampleCount: Int
    /// Batch size (checked on restore).
    public var batchSize: Int
    /// Whether a final incomplete batch is dropped (checked on restore).
    public var dropLast: Bool

    public init(epoch: Int, batchIndex: Int, shuffleSeed: UInt64, sampleCount: Int, batchSize: Int, dropLast: Bool) {
        self.epoch = epoch
        self.batchIndex = batchIndex
        self.shuffleSeed = shuffleSeed
        self.sampleCount = sampleCount
        self.batchSize = batchSize
        self.dropLast = dropLast
    }

    public var description: String {
        "epoch \(epoch), batch \(batchIndex) (shuffle seed \(shuffleSeed), \(sampleCount) samples, batch size \(batchSize)\(dropLast ? ", drop last" : ""))"
    }
}

// MARK: - Shuffled epoch iterator

/// Iterates over a data set in mini-batches, reshuffled every epoch, with a resumable position.
///
/// **Order.** Epoch `e` visits the sequences in the order of
/// `Draw.permutation(count: n, SeededGenerator(seed: SplitMix64.mixed(shuffleSeed &+ SplitMix64.mixed(UInt64(e)))))`
/// (see `Draw.swift`; `SplitMix64.mixed` is the first output of a SplitMix64 seeded with its argument) and cuts it into consecutive
/// batches of `batchSize`; the last batch of an epoch is smaller when `batchSize` does not divide
/// `n`, or is dropped when `dropLast` is set. The caller's generator is used once, by
/// ``init(source:batchSize:dropLast:using:)``, to draw `shuffleSeed`; every epoch's permutation
/// is then a pure function of (`shuffleSeed`, epoch), so ``position`` — epoch, batch index and
/// seed — is all a resumed run needs to produce exactly the same batches, in this epoch and all
/// later ones, without saving the generator's internal state.
///
/// `next()` returns `nil` once at the end of each epoch and moves to the next epoch, so
/// `while let (inputs, targets) = batches.next() { … }` runs one epoch.
public struct ShuffledBatches<Source: IndexedSequenceSource>: IteratorProtocol, Sendable {
    public let source: Source
    public private(set) var position: BatchPosition
    /// The current epoch's order of sequence indices.
    private var order: [Int]

    /// A shuffled iterator whose `shuffleSeed` is drawn (one `next()` call) from `rng`.
    public init(
        source: Source, batchSize: Int, dropLast: Bool = false, using rng: inout some RandomNumberGenerator
    ) throws(DataError) {
        try self.init(source: source, batchSize: batchSize, dropLast: dropLast, shuffleSeed: rng.next())
    }

    /// A shuffled iterator with an explicit `shuffleSeed`, starting at epoch 0, batch 0.
    public init(source: Source, batchSize: Int, dropLast: Bool = false, shuffleSeed: UInt64) throws(DataError) {
        guard batchSize > 0 else {
            throw DataError(
                .invalidArgument, "batch size \(batchSize) is not positive", path: "<batches>",
                fix: "pass a batch size of at least 1")
        }
        guard source.count > 0, !(dropLast && source.count < batchSize) else {
            throw DataError(
                .invalidArgument,
                "the data set has \(source.count) sequences, not enough for one batch of \(batchSize)\(dropLast ? " with dropLast" : "")",
                path: "<batches>",
                fix: "use a non-empty split (e.g. a validation fraction > 0) or a smaller batch size")
        }
        self.source = source
        self.position = BatchPosition(
            epoch: 0, batchIndex: 0, shuffleSeed: shuffleSeed, sampleCount: source.count, batchSize: batchSize,
            dropLast: dropLast)
        self.order = Self.permutation(count: source.count, seed: shuffleSeed, epoch: 0)
    }

    /// Number of batches in each epoch.
    public var batchesPerEpoch: Int {
        position.dropLast
            ? position.sampleCount / position.batchSize
            : (position.sampleCount + position.batchSize - 1) / position.batchSize
    }

    /// The order in which epoch `epoch` visits the sequences.
    public static func permutation(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var generator = SeededGenerator(seed: SplitMix64.mixed(seed &+ SplitMix64.mixed(UInt64(truncatingIfNeeded: epoch))))
        return Draw.permutation(count: count, &generator)
    }

    /// The indices of the next batch, or `nil` at the end of an epoch (then moves to the next).
    public mutating func nextIndices() -> [Int]? {
        guard position.batchIndex < batchesPerEpoch else {
            position.epoch += 1
            position.batchIndex = 0
            order = Self.permutation(count: position.sampleCount, seed: position.shuffleSeed, epoch: position.epoch)
            return nil
        }
        let start = position.batchIndex * position.batchSize
        let end = min(start + position.batchSize, position.sampleCount)
        position.batchIndex += 1
        return Array(order[start..<end])
    }

    /// The next batch, or `nil` at the end of an epoch (then moves to the next epoch).
    public mutating func next() -> (SequenceBatch<Source.Scalar>, Targets<Source.Scalar>)? {
        nextIndices().map { source.batch(indices: $0) }
    }

    /// Jumps to a saved position. The data set size, batch size and `dropLast` must match.
    public mutating func restore(_ saved: BatchPosition) throws(DataError) {
        func mismatch(_ what: String) -> DataError {
            DataError(
                .mismatch, "cannot restore batch position (\(saved)): \(what)", path: "<batches>",
                fix: "restore a position saved from the same data set and batch settings")
        }
        guard saved.sampleCount == position.sampleCount else {
            throw mismatch("it was saved for \(saved.sampleCount) sequences, this data set has \(position.sampleCount)")
        }
        guard saved.batchSize == position.batchSize, saved.dropLast == position.dropLast else {
            throw mismatch("it was saved with batch size \(saved.batchSize), dropLast \(saved.dropLast); this iterator uses \(position.batchSize), \(position.dropLast)")
        }
        guard saved.epoch >= 0, saved.batchIndex >= 0, saved.batchIndex <= batchesPerEpoch else {
            throw mismatch("epoch and batch index must be >= 0 and the batch index <= \(batchesPerEpoch)")
        }
        position = saved
        order = Self.permutation(count: saved.sampleCount, seed: saved.shuffleSeed, epoch: saved.epoch)
    }
}
