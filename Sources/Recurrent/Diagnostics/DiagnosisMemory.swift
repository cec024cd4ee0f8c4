// MARK: - What a diagnosis needs, before it allocates

extension MemoryEstimate {
    /// The memory one `DiagnosisRun` of an RNN with `hiddenSize` H and `inputSize` I over
    /// `length` T steps and `batch` B sequences needs: the Float32 forward pass (a one-layer
    /// inference run), the inputs, the `jacobianSequences` k trajectories redone in Double
    /// with their derivatives, and the H x H Double matrices of the Jacobian products, the
    /// spectrum and the feed-forward contrast (a few copies each).
    public static func diagnosis(hiddenSize h: Int, inputSize i: Int, length t: Int, batch b: Int,
                                 jacobianSequences k: Int) -> MemoryEstimate {
        let cell = ModelConfiguration(cell: .rnn, activation: .relu, inputSize: i, hiddenSize: h, outputs: 1)
        var e = MemoryEstimate(parts: weightParts(cell, training: false))
        e.parts += passParts(cell, steps: t, batch: b, training: false, label: "")
        let (hd, td, kd, id) = (Double(h), Double(t), Double(Swift.max(1, k)), Double(i))
        e.add(.trace, elements: td * kd * (id + 5 * hd), bytesPerElement: 8,
              "the Double trajectories for the Jacobian (\(t) steps x \(k) sequences x \(h) units)")
        e.add(.analysis, elements: 8 * hd * hd, bytesPerElement: 8, "the \(h) x \(h) Double matrices of the Jacobian, spectrum and contrast")
        return e
    }
}
