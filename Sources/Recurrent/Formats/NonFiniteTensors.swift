// MARK: - Finite or nothing
//
// A checkpoint is finite or it is not written, and a checkpoint that is not finite is not
// loaded unless the caller asks for it: a model with one NaN weight computes NaN for every
// input, so such a file is never a "last good" state to continue from.

/// A tensor holding NaN or ±infinity: its name, how many of its values, and the first.
public struct NonFiniteTensor: Sendable, Equatable, CustomStringConvertible {
    /// The tensor's name as stored, e.g. `rnn.weight_hh_l0` or `optimizer.exp_avg_sq.rnn.weight_hh_l0`.
    public var name: String
    /// Values that are NaN or ±infinity.
    public var count: Int
    /// Values in the tensor.
    public var total: Int
    /// The flat (row-major) index of the first one.
    public var firstIndex: Int
    public var firstValue: Double

    public init(name: String, count: Int, total: Int, firstIndex: Int, firstValue: Double) {
        self.name = name
        self.count = count
        self.total = total
        self.firstIndex = firstIndex
        self.firstValue = firstValue
    }

    /// "rnn.weight_hh_l0 (3 of 256 values; the first, at flat index 17, is nan)"
    public var description: String {
        "\(name) (\(count) of \(total) values; the first, at flat index \(firstIndex), is \(firstValue))"
    }

    /// Scans `values` (row-major); nil when every one is finite.
    @inlinable
    public static func scan<C: Collection>(_ name: String, _ values: C) -> NonFiniteTensor? where C.Element: BinaryFloatingPoint {
        guard !allFinite(values) else { return nil }
        var count = 0, first = 0, firstValue = 0.0
        for (index, value) in values.enumerated() where !value.isFinite {
            if count == 0 { first = index; firstValue = Double(value) }
            count += 1
        }
        return NonFiniteTensor(name: name, count: count, total: values.count, firstIndex: first, firstValue: firstValue)
    }

    /// True when no value is NaN or ±infinity (the fast check; `scan` says where).
    @inlinable
    public static func allFinite<C: Collection>(_ values: C) -> Bool where C.Element: BinaryFloatingPoint {
        for value in values where !value.isFinite { return false }
        return true
    }
}

/// Tensors with NaN or ±infinity where only finite values belong: refused when a
/// checkpoint is written (nothing is written) and when one is loaded (unless the caller
/// allows it, e.g. to look at a diverged model).
public struct NonFiniteTensorsError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Operation: String, Sendable {
        case loading, saving
    }

    public var operation: Operation
    /// The file, when known.
    public var path: String?
    /// Every tensor concerned, in the order found.
    public var tensors: [NonFiniteTensor]

    public init(_ operation: Operation, path: String?, tensors: [NonFiniteTensor]) {
        self.operation = operation
        self.path = path
        self.tensors = tensors
    }

    /// The tensors, at most `limit` of them named.
    public static func list(_ tensors: [NonFiniteTensor], limit: Int = 6) -> String {
        tensors.prefix(limit).map(\.description).joined(separator: "; ")
            + (tensors.count > limit ? "; and \(tensors.count - limit) more tensor\(tensors.count - limit == 1 ? "" : "s")" : "")
    }

    public var description: String {
        let file = path.map { "\($0): " } ?? ""
        let subject = tensors.count == 1 ? "1 tensor holds" : "\(tensors.count) tensors hold"
        switch operation {
        case .loading:
            let state = tensors.allSatisfy { $0.name.hasPrefix("optimizer.") || $0.name.hasPrefix("carried.") }
            return "\(file)\(subject) NaN or infinite values, so \(state ? "training would continue from NaN" : "the model would compute NaN"): \(Self.list(tensors)). "
                + "The file was written after training diverged (or elsewhere with these values); use an earlier "
                + "checkpoint of the run, or train again with a lower learning rate or gradient clipping"
        case .saving:
            return "\(file)not written: \(subject) NaN or infinite values (\(Self.list(tensors))); a checkpoint is "
                + "finite or it is not written, and any file already there is unchanged"
        }
    }
}

extension SafeTensorsFile {
    /// The floating-point tensors holding NaN or ±infinity, sorted by name: all of them,
    /// or only those in `names`. Tensors whose bytes do not decode are left to the reader,
    /// which reports them.
    public func nonFiniteTensors(named names: Set<String>? = nil) -> [NonFiniteTensor] {
        tensors.keys.sorted().compactMap { name in
            guard names?.contains(name) ?? true, let tensor = tensors[name], tensor.dtype.isFloatingPoint,
                  let values = try? tensor.doubles() else { return nil }
            return NonFiniteTensor.scan(name, values)
        }
    }

    /// Throws `NonFiniteTensorsError` unless every floating-point tensor (of `names`, when
    /// given) is finite: the one check that the checkpoint save and load paths call.
    public func requireFinite(_ operation: NonFiniteTensorsError.Operation, path: String?,
                              names: Set<String>? = nil) throws(NonFiniteTensorsError) {
        let bad = nonFiniteTensors(named: names)
        if !bad.isEmpty { throw NonFiniteTensorsError(operation, path: path, tensors: bad) }
    }
}
