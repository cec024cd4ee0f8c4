@_exported import RecurrentPlot

/// Recurrent: recurrent neural networks on the CPU, built around the IRNN of Le, Jaitly
/// & Hinton (2015): a ReLU RNN whose recurrent matrix starts at the identity.
public enum Recurrent {
    /// The library's version (semantic versioning).
    public static let version = "0.1.0"
}
