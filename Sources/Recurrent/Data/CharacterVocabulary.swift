// MARK: - Character vocabulary

/// A character vocabulary: the sorted set of Unicode scalars of a text.
///
/// Characters are Unicode **scalars**, not extended grapheme clusters: "é" written as U+0065 U+0301
/// is two tokens, as in most character-level language models (Karpathy's char-rnn, Graves 2013),
/// and the vocabulary does not depend on the Unicode version's segmentation rules. Token id `i` is
/// the `i`-th scalar in increasing code-point order.
public struct CharacterVocabulary: Sendable, Hashable {
    /// The scalars, sorted by code point; id = index.
    public let scalars: [Unicode.Scalar]
    private let ids: [UInt32: Int32]

    /// Most distinct characters a vocabulary read from a text may hold. Each character is an
    /// input and an output class of the model (one-hot inputs `[B, T, V]`, a `V`-way softmax), so
    /// a text of every Unicode scalar would build a model with a million inputs; 16,384 holds
    /// any alphabet, and the Chinese or Japanese characters of ordinary text.
    public static let maximumCount = 16_384

    /// The vocabulary of the given scalars (duplicates removed, sorted by code point).
    public init(_ scalars: some Sequence<Unicode.Scalar>) {
        self.init(sortedValues: Set(scalars.lazy.map(\.value)).sorted())
    }

    /// The vocabulary of the given scalars, refusing more than `maximumCount` distinct ones.
    /// - Parameter source: the file (or label) the scalars come from, for the error.
    public init(
        _ scalars: some Sequence<Unicode.Scalar>, maximumCount: Int = Self.maximumCount, source: String
    ) throws(DataError) {
        let distinct = Set(scalars.lazy.map(\.value))  // at most 1,112,064 values (every scalar)
        guard distinct.count <= maximumCount else {
            throw DataError(
                .tooLarge,
                "the text has \(distinct.count) distinct characters, more than the \(maximumCount) a character vocabulary may hold (each one is an input and an output class of the model)",
                path: source,
                fix: "use a text with fewer distinct characters: keep one language or script, or drop rare characters (e.g. `iconv -c -f utf-8 -t ascii//TRANSLIT`)")
        }
        self.init(sortedValues: distinct.sorted())
    }

    /// The vocabulary of distinct scalar values sorted in increasing order.
    private init(sortedValues sorted: [UInt32]) {
        self.scalars = sorted.compactMap(Unicode.Scalar.init)
        var ids: [UInt32: Int32] = [:]
        ids.reserveCapacity(sorted.count)
        for (id, value) in sorted.enumerated() { ids[value] = Int32(id) }
        self.ids = ids
    }

    /// Number of distinct characters (input features and output classes).
    public var count: Int { scalars.count }

    /// The id of `scalar`, if it is in the vocabulary.
    public func id(of scalar: Unicode.Scalar) -> Int? {
        ids[scalar.value].map(Int.init)
    }

    /// Token ids of `text`, e.g. a sampling prompt. Throws on characters not in the vocabulary.
    public func encode(_ text: String) throws(DataError) -> [Int] {
        var result: [Int] = []
        for (index, scalar) in text.unicodeScalars.enumerated() {
            guard let id = ids[scalar.value] else {
                throw DataError(
                    .invalidText,
                    "character U+\(String(scalar.value, radix: 16, uppercase: true)) \(scalar.escaped(asASCII: true)) is not in the vocabulary of \(count) characters",
                    path: "<text>", recordIndex: index,
                    fix: "use only characters that occur in the training text")
            }
            result.append(Int(id))
        }
        return result
    }

    /// The text of token ids (e.g. sampled ones). Throws on ids outside `0..<count`.
    public func decode(_ tokens: [Int]) throws(DataError) -> String {
        var text = String.UnicodeScalarView()
        for (index, token) in tokens.enumerated() {
            guard scalars.indices.contains(token) else {
                throw DataError(
                    .invalidArgument, "token id \(token) is outside 0..<\(count)", path: "<tokens>",
                    recordIndex: index, fix: "decode ids produced by a model with \(count) output classes")
            }
            text.append(scalars[token])
        }
        return String(text)
    }

    /// One-hot inputs `[tokens.count, 1, count]`: one step per sequence, e.g. to feed the last
    /// sampled token of each of several samples. Ids outside the vocabulary give all-zero rows.
    public func oneHot(_ tokens: [Int]) -> SequenceBatch<Float> {
        var values = [Float](repeating: 0, count: tokens.count * count)
        for (row, token) in tokens.enumerated() where scalars.indices.contains(token) {
            values[row * count + token] = 1
        }
        return SequenceBatch(batch: tokens.count, steps: 1, features: count, values: values)
    }
}
