/// A gradient with a NaN or infinity: training must stop before it reaches the weights.
public struct NonFiniteGradientError: AdvisedError, Equatable, Sendable {
    /// The `state_dict` name of the parameter, e.g. `rnn.weight_hh_l0`.
    public var parameter: String
    /// The flat index of the first non-finite entry.
    public var index: Int
    public var value: Double
    public var problem: String {
        "the gradient of \(parameter) is not finite (\(value) at flat index \(index)); the weights were not updated"
    }
    public var remedies: [Remedy] { [.lowerLearningRate(factor: 10), .clipGradients(norm: 1), .useIdentityInit] }
}

/// Gradient clipping (Pascanu, Mikolov & Bengio 2013, "On the difficulty of training
/// recurrent neural networks"). Both forms refuse a non-finite gradient, naming the
/// parameter, so that NaN never reaches the weights.
extension ModelGradients {
    /// Throws if any gradient entry is NaN or infinite.
    public func checkFinite() throws(NonFiniteGradientError) {
        var finite = true
        forEachStorage { values in if finite && !Self.isFinite(values) { finite = false } }
        if finite { return }
        // Something is not finite: find the first tensor and index, with its name.
        var failure: NonFiniteGradientError?
        forEachTensor { _, name, m in
            guard failure == nil else { return }
            if let i = m.storage.firstIndex(where: { !$0.isFinite }) {
                failure = NonFiniteGradientError(parameter: name, index: i, value: Double(m.storage[i]))
            }
        }
        if let failure { throw failure }
    }

    /// The quick test before the scan that finds the index: one vectorised pass for Float
    /// (`allFinite`), the plain test for other scalars.
    static func isFinite(_ values: [Scalar]) -> Bool {
        if let floats = values as? [Float] { return allFinite(floats) }
        return values.allSatisfy(\.isFinite)
    }

    /// Scales every gradient by min(1, maxNorm / (‖g‖ + 1e-6)), ‖g‖ the global L2 norm
    /// over all parameters (PyTorch `clip_grad_norm_`). Returns ‖g‖ before clipping.
    @discardableResult
    public mutating func clipGlobalNorm(_ maxNorm: Double) throws(NonFiniteGradientError) -> Double {
        try checkFinite()
        let norm = globalNorm
        let factor = maxNorm / (norm + 1e-6)
        if factor < 1 {
            let f = Scalar(factor)
            updateEachStorage { values in for i in values.indices { values[i] *= f } }
        }
        return norm
    }

    /// Clamps every entry to [-maxValue, maxValue] (PyTorch `clip_grad_value_`).
    /// Returns the global norm before clipping.
    @discardableResult
    public mutating func clipValues(_ maxValue: Double) throws(NonFiniteGradientError) -> Double {
        try checkFinite()
        let norm = globalNorm
        let m = Scalar(maxValue)
        updateEachStorage { values in for i in values.indices { values[i] = Swift.min(Swift.max(values[i], -m), m) } }
        return norm
    }
}
