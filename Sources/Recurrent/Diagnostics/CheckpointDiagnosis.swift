import Foundation

// MARK: - Diagnosing a trained model's weights

/// The spectrum of one gate block [H, H] of a gated cell's W_hh (LSTM i, f, g, o; GRU r, z, n).
public struct GateSpectrum: Sendable {
    public var gate: String
    public var spectrum: Spectrum
}

extension Diagnosis {
    /// Diagnoses the first layer of a checkpoint instead of a fresh initialisation.
    ///
    /// - RNN: its W, U, b and activation, as they are.
    /// - IndRNN: net_t = U x_t + u ⊙ h_{t-1} + b is the RNN with W = diag(u); diagnosed as such.
    /// - LSTM, GRU: the state update is not net_t = U x_t + W h_{t-1} (LSTM: c_t = f ⊙ c_{t-1} + i ⊙ g;
    ///   GRU: h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}), so neither 10.11 nor 10.12 applies as written;
    ///   only the spectrum of each gate block of W_hh is reported.
    ///
    /// Inputs are x_t ~ N(0, 1) with the checkpoint's input size I, drawn from `seed`: not the
    /// data the model was trained on, which may sit in another range.
    ///
    /// A checkpoint with NaN or infinite weights is refused (`NonFiniteTensorsError`)
    /// unless `allowNonFinite` is set; then the NaN shows in the measurements.
    public init(checkpoint url: URL, length: Int, batch: Int, seed: UInt64, jacobianSequences: Int = 1,
                allowNonFinite: Bool = false) throws {
        let (model, configuration, _) = try Checkpoint.load(from: url, allowNonFinite: allowNonFinite)
        try MemoryEstimate.diagnosis(hiddenSize: configuration.hiddenSize, inputSize: configuration.inputSize, length: length,
                                     batch: batch, jacobianSequences: jacobianSequences).check()
        var rng = SeededGenerator(seed: seed)
        var notes: [String] = []
        if configuration.layers > 1 {
            notes.append("layer 0 of \(configuration.layers) diagnosed; layers 1...\(configuration.layers - 1) read the layer below, not x_t, and are not diagnosed")
        }
        let label = "checkpoint:\(url.lastPathComponent)"
        var context = ["source": url.path, "cell": configuration.cell.rawValue, "hidden": "\(configuration.hiddenSize)",
                       "length": "\(length)", "batch": "\(batch)", "inputSize": "\(configuration.inputSize)",
                       "inputInit": "checkpoint", "biasInit": "checkpoint", "seed": "\(seed)"]
        switch model {
        case .rnn(let m):
            let run = try DiagnosisRun(cell: m.layers[0], recurrentInit: label, length: length, batch: batch,
                                       jacobianSequences: jacobianSequences, using: &rng)
            self.init(runs: [run], feedforward: [], context: context, notes: notes)
        case .indrnn(let m):
            let c = m.layers[0], h = c.hiddenSize
            var w = Matrix<Float>(rows: h, cols: h)
            for j in 0..<h { w[j, j] = c.parameters.weightHH.storage[j] }
            var p = c.parameters
            p.weightHH = w
            notes.append("IndRNN: u diagnosed as the diagonal recurrent matrix W = diag(u)")
            let run = try DiagnosisRun(cell: RNNCell(parameters: p, activation: c.activation), recurrentInit: label,
                                       length: length, batch: batch, jacobianSequences: jacobianSequences, using: &rng)
            self.init(runs: [run], feedforward: [], context: context, notes: notes)
        case .lstm(let m):
            let gates = try Self.gateSpectra(m.layers[0].parameters.weightHH, names: ["i", "f", "g", "o"])
            notes.append("LSTM: c_t = f ⊙ c_{t-1} + i ⊙ g is not net_t = U x_t + W h_{t-1}; forward growth (10.11) and the Jacobian (10.12) are not diagnosed, only the spectrum of each gate block of W_hh")
            context["cell"] = "lstm"
            self.init(runs: [], feedforward: [], gateSpectra: gates, context: context, notes: notes)
        case .gru(let m):
            let gates = try Self.gateSpectra(m.layers[0].parameters.weightHH, names: ["r", "z", "n"])
            notes.append("GRU: h_t = (1 - z) ⊙ n + z ⊙ h_{t-1} is not net_t = U x_t + W h_{t-1}; forward growth (10.11) and the Jacobian (10.12) are not diagnosed, only the spectrum of each gate block of W_hh")
            self.init(runs: [], feedforward: [], gateSpectra: gates, context: context, notes: notes)
        }
    }

    /// The spectrum of each [H, H] block of a fused [G*H, H] W_hh.
    static func gateSpectra(_ w: Matrix<Float>, names: [String]) throws -> [GateSpectrum] {
        let h = w.cols
        return try names.enumerated().map { g, name in
            GateSpectrum(gate: name, spectrum: try Spectrum(w.rows((g * h)..<((g + 1) * h))))
        }
    }
}
