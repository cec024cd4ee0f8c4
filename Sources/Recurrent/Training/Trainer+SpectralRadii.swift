// MARK: - The spectral radius of every layer, as training goes

/// The spectral radius of one layer's recurrent weights, or of one gate block of them.
public struct LayerSpectralRadius: Sendable, Codable, Equatable {
    /// 0 for the first layer.
    public var layer: Int
    /// The block of a cell's recurrent weights (LSTM's gates i, f, g, o; GRU's r, z, n; the
    /// names of its `recurrentStructure`); nil for RNN and IndRNN.
    public var gate: String?
    public var value: Double
    /// True for the reverse cell of a bidirectional layer (PyTorch's `_reverse`); nil otherwise.
    public var reverse: Bool?

    public init(layer: Int, gate: String?, value: Double, reverse: Bool? = nil) {
        self.layer = layer
        self.gate = gate
        self.value = value
        self.reverse = reverse
    }
}

/// Every layer's spectral radius at one step (`TrainingEvent.spectralRadii`).
public struct SpectralRadiusRecord: Sendable, Codable, Equatable {
    public var step: Int
    public var layers: [LayerSpectralRadius]
}

extension Trainer {
    /// ρ of every layer's recurrent weights, as the cell's `recurrentStructure` reads them:
    /// for RNN the largest |eigenvalue| of W_hh [H, H] (the rate at which h_t and the gradient
    /// through time scale, seed eq. 10.11-10.12); for IndRNN, whose W is diag(u), max |u_i|;
    /// for LSTM and GRU, of each gate block [H, H] of W_hh (their state update is not
    /// net_t = U x_t + W h_{t-1}, so no single ρ governs it), named by the block.
    /// A block whose eigenvalues cannot be computed (non-finite weights) is left out.
    ///
    /// Cost: one Hessenberg QR, about 10 H³ flops, per block.
    public func recurrentSpectralRadii() -> [LayerSpectralRadius] {
        var out: [LayerSpectralRadius] = []
        for (index, layer) in model.layers.enumerated() {
            for r in layer.recurrentStructure.spectralRadii {
                out.append(LayerSpectralRadius(layer: index / model.directions, gate: r.name, value: r.value,
                                               reverse: index % model.directions == 1 ? true : nil))
            }
        }
        return out
    }
}
