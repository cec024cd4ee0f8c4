import Foundation

// MARK: - Diagnosing a trained model's weights

/// The spectrum of one block [H, H] of a cell's recurrent weights (LSTM's gate blocks i, f, g,
/// o; GRU's r, z, n; the cell's `recurrentStructure` names them).
public struct GateSpectrum: Sendable {
    public var gate: String
    public var spectrum: Spectrum
}

extension Diagnosis {
    /// Diagnoses the first layer of a checkpoint instead of a fresh initialisation, as its
    /// cell's `recurrentStructure` reads it:
    ///
    /// - an Elman recurrence net_t = U x_t + W h_{t-1} + b (RNN: its W, U, b and activation as
    ///   they are; IndRNN: W = diag(u)) gets every measurement;
    /// - any other update (LSTM: c_t = f ⊙ c_{t-1} + i ⊙ g; GRU: h_t = (1 - z) ⊙ n + z ⊙ h_{t-1})
    ///   is not net_t = U x_t + W h_{t-1}, so neither 10.11 nor 10.12 applies as written;
    ///   only the spectrum of each block of its recurrent weights is reported, with the
    ///   cell's note saying why.
    ///
    /// Inputs are x_t ~ N(0, 1) with the checkpoint's input size I, drawn from `seed`: not the
    /// data the model was trained on, which may sit in another range.
    ///
    /// A checkpoint with NaN or infinite weights is refused (`NonFiniteTensorsError`)
    /// unless `allowNonFinite` is set; then the NaN shows in the measurements.
    public init(checkpoint url: URL, length: Int, batch: Int, seed: UInt64, jacobianSequences: Int = 1,
                allowNonFinite: Bool = false, overriding overrides: ConfigurationOverrides = .init()) throws {
        let (model, configuration, _, assumed) = try Checkpoint.load(from: url, allowNonFinite: allowNonFinite, overriding: overrides)
        try MemoryEstimate.diagnosis(hiddenSize: configuration.hiddenSize, inputSize: configuration.inputSize, length: length,
                                     batch: batch, jacobianSequences: jacobianSequences).check()
        var rng = SeededGenerator(seed: seed)
        var notes: [String] = assumed.filter { $0.hasPrefix("activation") }.map { "the file records no activation: assumed \($0)" }
        if configuration.layers > 1 {
            notes.append("layer 0 of \(configuration.layers) diagnosed; layers 1...\(configuration.layers - 1) read the layer below, not x_t, and are not diagnosed")
        }
        let label = "checkpoint:\(url.lastPathComponent)"
        let context = ["source": url.path, "cell": configuration.cell.rawValue, "hidden": "\(configuration.hiddenSize)",
                       "length": "\(length)", "batch": "\(batch)", "inputSize": "\(configuration.inputSize)",
                       "inputInit": "checkpoint", "biasInit": "checkpoint", "seed": "\(seed)"]
        switch try model.visit(FirstLayerStructure()) {
        case .elman(let e):
            if let note = e.note { notes.append(note) }
            let cell = RNNCell(weightIH: e.inputWeight, weightHH: e.recurrentWeight, biasIH: e.inputBias, biasHH: e.recurrentBias,
                               activation: e.activation)
            let run = try DiagnosisRun(cell: cell, recurrentInit: label, length: length, batch: batch,
                                       jacobianSequences: jacobianSequences, using: &rng)
            self.init(runs: [run], feedforward: [], context: context, notes: notes)
        case .blocks(let blocks, let note):
            let gates = try blocks.map { GateSpectrum(gate: $0.name, spectrum: try Spectrum($0.weight)) }
            notes.append(note)
            self.init(runs: [], feedforward: [], gateSpectra: gates, context: context, notes: notes)
        }
    }

    /// The first layer's `recurrentStructure`.
    struct FirstLayerStructure: ModelVisitor {
        func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> RecurrentStructure<Float> where Cell.Scalar == Float {
            model.layers[0].recurrentStructure
        }
    }
}
