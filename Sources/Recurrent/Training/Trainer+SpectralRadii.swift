// MARK: - The spectral radius of every layer, as training goes

/// The spectral radius of one layer's recurrent weights, or of one gate block of them.
public struct LayerSpectralRadius: Sendable, Codable, Equatable {
    /// 0 for the first layer.
    public var layer: Int
    /// The gate block of a gated cell (LSTM i, f, g, o; GRU r, z, n); nil for RNN and IndRNN.
    public var gate: String?
    public var value: Double

    public init(layer: Int, gate: String?, value: Double) {
        self.layer = layer
        self.gate = gate
        self.value = value
    }
}

/// Every layer's spectral radius at one step (`TrainingEvent.spectralRadii`).
public struct SpectralRadiusRecord: Sendable, Codable, Equatable {
    public var step: Int
    public var layers: [LayerSpectralRadius]
}

extension CellKind {
    /// The names of the gate blocks of W_hh, in PyTorch's order ([] for one-block cells).
    public var gateNames: [String] {
        switch self {
        case .lstm: ["i", "f", "g", "o"]
        case .gru: ["r", "z", "n"]
        case .rnn, .indrnn: []
        }
    }
}

extension Trainer {
    /// ρ of every layer's recurrent weights: for RNN the largest |eigenvalue| of W_hh [H, H]
    /// (the rate at which h_t and the gradient through time scale, seed eq. 10.11-10.12); for
    /// IndRNN, whose W is diag(u), max |u_i|; for LSTM and GRU, of each gate block [H, H] of
    /// W_hh (their state update is not net_t = U x_t + W h_{t-1}, so no single ρ governs it).
    /// A block whose eigenvalues cannot be computed (non-finite weights) is left out.
    ///
    /// Cost: one Hessenberg QR, about 10 H³ flops, per block.
    public func recurrentSpectralRadii() -> [LayerSpectralRadius] {
        var out: [LayerSpectralRadius] = []
        for (index, layer) in model.layers.enumerated() {
            let w = layer.parameters.weightHH
            switch Cell.kind {
            case .indrnn:
                out.append(LayerSpectralRadius(layer: index, gate: nil, value: w.maxAbs))
            case .rnn:
                if let r = try? LinearAlgebra.spectralRadius(w.storage.map(Double.init), n: w.rows) {
                    out.append(LayerSpectralRadius(layer: index, gate: nil, value: r))
                }
            case .lstm, .gru:
                let h = w.cols
                for (g, name) in Cell.kind.gateNames.enumerated() {
                    let block = w.rows((g * h)..<((g + 1) * h))
                    if let r = try? LinearAlgebra.spectralRadius(block.storage.map(Double.init), n: h) {
                        out.append(LayerSpectralRadius(layer: index, gate: name, value: r))
                    }
                }
            }
        }
        return out
    }
}
