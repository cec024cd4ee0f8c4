// MARK: - Character-level language modelling text
//
// A UTF-8 text file for next-character prediction (as in A. Graves, "Generating Sequences With
// Recurrent Neural Networks", arXiv:1308.0850, 2013, and A. Karpathy's char-rnn).
//
// - The file must be non-empty, valid UTF-8 (an invalid file is an error giving the byte offset
//   of the first ill-formed sequence, see `UTF8Decoding.swift`).
// - Tokens are Unicode scalars; the vocabulary is the sorted set of scalars of the *whole* file
//   (see ``CharacterVocabulary``), so the validation and test splits have no unknown characters.
// - Splits by position, no shuffling: with n scalars, `train` is the first ⌊0.90·n⌋
//   (computed as `n * 90 / 100` in integers), `validation` the next ⌊0.05·n⌋ (`n * 5 / 100`) and
//   `test` the remaining `n − train − validation` scalars.
// - Batching for truncated backpropagation through time: ``TruncatedBPTTBatches``.
// - Limits: files of at most ``CharacterText/maximumFileSize`` bytes (pipes and devices are read
//   no further), vocabularies of at most ``CharacterVocabulary/maximumCount`` characters; each
//   is refused with an error naming the file, the size found and the limit.

/// A UTF-8 text as character ids, with vocabulary and 90/5/5 train/validation/test splits.
public struct CharacterText: Sendable {
    /// One of the three splits.
    public enum Split: String, Sendable, Hashable, CaseIterable {
        case train, validation, test
    }

    /// File path (or label for in-memory text), used in errors.
    public let source: String
    public let vocabulary: CharacterVocabulary
    /// First 90 % of the text, as token ids.
    public let train: [Int32]
    /// Next 5 %.
    public let validation: [Int32]
    /// Remaining 5 %.
    public let test: [Int32]

    /// Largest text file accepted, in bytes (256 MiB; enwik8 is 100 MB). The text is held in
    /// memory as 4-byte scalars and ids, about 12 bytes per character at the peak.
    public static let maximumFileSize = 1 << 28

    /// Reads and splits a UTF-8 text file.
    public init(path: String) throws(DataError) {
        try self.init(path: path, maximumFileSize: Self.maximumFileSize, maximumVocabulary: CharacterVocabulary.maximumCount)
    }

    /// ``init(path:)`` with other limits (tests use small ones).
    init(path: String, maximumFileSize: Int, maximumVocabulary: Int) throws(DataError) {
        let bytes = try FileIO.read(
            path, limit: maximumFileSize, what: "text files",
            fix: "train on a part of it, e.g. `head -c \(maximumFileSize >> 20)M FILE > part.txt`")
        try self.init(bytes: bytes, source: path, maximumVocabulary: maximumVocabulary)
    }

    /// Splits the UTF-8 text in `bytes`; `source` names it in errors.
    init(bytes: [UInt8], source: String, maximumVocabulary: Int = CharacterVocabulary.maximumCount) throws(DataError) {
        try self.init(scalars: UTF8Decoding.scalars(bytes, path: source), source: source, maximumVocabulary: maximumVocabulary)
    }

    /// Splits an in-memory text; `source` names it in errors.
    public init(text: String, source: String = "<memory>") throws(DataError) {
        try self.init(scalars: Array(text.unicodeScalars), source: source, maximumVocabulary: CharacterVocabulary.maximumCount)
    }

    private init(scalars: [Unicode.Scalar], source: String, maximumVocabulary: Int) throws(DataError) {
        guard !scalars.isEmpty else {
            throw DataError(
                .invalidText, "the text is empty", path: source, byteOffset: 0,
                fix: "pass a non-empty UTF-8 text file (several MB for a useful language model)")
        }
        let vocabulary = try CharacterVocabulary(scalars, maximumCount: maximumVocabulary, source: source)
        var ids: [Int32] = []
        ids.reserveCapacity(scalars.count)
        for scalar in scalars {
            // Every scalar is in the vocabulary built from the same scalars.
            ids.append(Int32(vocabulary.id(of: scalar) ?? 0))
        }
        let n = ids.count
        let trainCount = n * 90 / 100
        let validationCount = n * 5 / 100
        self.source = source
        self.vocabulary = vocabulary
        self.train = Array(ids[0..<trainCount])
        self.validation = Array(ids[trainCount..<(trainCount + validationCount)])
        self.test = Array(ids[(trainCount + validationCount)...])
    }

    /// The token ids of `split`.
    public func tokens(_ split: Split) -> [Int32] {
        switch split {
        case .train: train
        case .validation: validation
        case .test: test
        }
    }

    /// Truncated-BPTT batches of `split` with `streams` parallel streams and windows of `bptt` steps.
    public func batches(_ split: Split, streams: Int, bptt: Int) throws(DataError) -> TruncatedBPTTBatches {
        try TruncatedBPTTBatches(
            tokens: tokens(split), vocabularySize: vocabulary.count, streams: streams, bptt: bptt,
            source: "\(source) (\(split.rawValue) split)")
    }
}
