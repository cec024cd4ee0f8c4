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

    /// Reads and splits a UTF-8 text file.
    public init(path: String) throws(DataError) {
        let bytes = try FileIO.read(path)
        try self.init(scalars: UTF8Decoding.scalars(bytes, path: path), source: path)
    }

    /// Splits an in-memory text; `source` names it in errors.
    public init(text: String, source: String = "<memory>") throws(DataError) {
        try self.init(scalars: Array(text.unicodeScalars), source: source)
    }

    private init(scalars: [Unicode.Scalar], source: String) throws(DataError) {
        guard !scalars.isEmpty else {
            throw DataError(
                .invalidText, "the text is empty", path: source, byteOffset: 0,
                fix: "pass a non-empty UTF-8 text file (several MB for a useful language model)")
        }
        let vocabulary = CharacterVocabulary(scalars)
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
