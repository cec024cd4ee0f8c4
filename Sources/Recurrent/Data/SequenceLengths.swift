// MARK: - The lengths of variable-length sequences, from a file or from padding
//
// A user's sequences of uneven length come padded to one T, with their lengths either
// given (`lengths` [N] integers, each in 1...T: a .npy file or a safetensors tensor) or
// implied by a pad value (a sequence ends after its last step holding any other value).
// Steps past a sequence's length are never read (not even checked for NaN).

public enum SequenceLengths {
    /// The lengths of `values` [N, T, I]: from `lengths` (see `read`), else from `padValue`
    /// (see `fromPadding`), else nil (every sequence has T). Refuses both at once.
    public static func resolve<S: NeuralScalar>(lengths: NDArray?, lengthsPath: String, padValue: Double?, values: [S],
                                                count: Int, steps: Int, features: Int, path: String) throws(DataError) -> [Int]? {
        if let lengths {
            if padValue != nil {
                throw DataError(.invalidArgument, "both lengths and a pad value were given", path: lengthsPath,
                                fix: "give the lengths or a pad value, not both")
            }
            return try read(lengths, count: count, steps: steps, path: lengthsPath)
        }
        guard let padValue else { return nil }
        return try fromPadding(values, count: count, steps: steps, features: features, padValue: padValue, path: path)
    }

    /// The lengths [N] in `array`: integers, shape [N], each in 1 ... `steps`. Errors name
    /// the file and the first bad sequence.
    public static func read(_ array: NDArray, count: Int, steps: Int, path: String) throws(DataError) -> [Int] {
        guard array.shape == [count] else {
            throw DataError(.mismatch, "lengths have shape \(array.shape) but the inputs hold \(count) sequences", path: path,
                            fix: "save one length per input sequence, shape [\(count)], in the inputs' order")
        }
        guard let lengths = array.integers() else {
            throw DataError(.malformed, "lengths must be integers, found \(array.elementType)", path: path,
                            fix: "save the lengths as integers, e.g. numpy.save('lengths.npy', lengths.astype('int64'))")
        }
        if let bad = lengths.firstIndex(where: { $0 < 1 || $0 > steps }) {
            throw DataError(.malformed, "length \(lengths[bad]) of sequence \(bad) is outside 1...\(steps) (the inputs have T = \(steps) steps)",
                            path: path, recordIndex: bad, fix: "give each sequence its number of real steps, at least 1 and at most T")
        }
        return lengths
    }

    /// The lengths implied by padding with `padValue` (NaN matches NaN): sequence n ends
    /// after its last step with any feature other than the pad value. Values [N, T, I]
    /// row-major. Throws, naming the sequence, when one is padding only.
    public static func fromPadding<S: NeuralScalar>(_ values: [S], count: Int, steps: Int, features: Int, padValue: Double,
                                                    path: String) throws(DataError) -> [Int] {
        let marker = S(padValue)
        func isPadding(_ v: S) -> Bool { padValue.isNaN ? v.isNaN : v == marker }
        var lengths: [Int] = []
        lengths.reserveCapacity(count)
        for n in 0..<count {
            var length = steps
            while length > 0 {
                let start = (n * steps + length - 1) * features
                if !values[start..<(start + features)].allSatisfy(isPadding) { break }
                length -= 1
            }
            guard length > 0 else {
                throw DataError(.malformed, "sequence \(n) holds only the pad value \(padValue): it has no step", path: path,
                                recordIndex: n, fix: "remove empty sequences, or choose a pad value that no real step holds")
            }
            lengths.append(length)
        }
        return lengths
    }
}
