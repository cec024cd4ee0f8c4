import Foundation

// MARK: - Files that do not say everything: what was assumed, and overriding it

/// Settings a checkpoint cannot show in its tensors (activation, readout), given by hand for
/// a file whose metadata does not record them (a PyTorch `state_dict` saved without metadata).
public struct ConfigurationOverrides: Sendable, Equatable {
    /// The hidden activation (cells that have one: RNN, IndRNN).
    public var activation: Activation?
    /// Many-to-one (`last`) or many-to-many (`every`).
    public var readout: Readout?

    public init(activation: Activation? = nil, readout: Readout? = nil) {
        self.activation = activation
        self.readout = readout
    }

    public var isEmpty: Bool { activation == nil && readout == nil }
}

extension Checkpoint {
    /// What loading `file` assumes because its metadata does not say it, one phrase each in
    /// the library's words (empty for files written by `recurrent train`): the activation
    /// PyTorch's `nn.RNN` defaults to (tanh) and the many-to-one readout. A ReLU model saved
    /// without metadata would otherwise load silently as tanh.
    public static func assumptions(of file: SafeTensorsFile, configuration: ModelConfiguration) -> [String] {
        let meta = file.metadata
        guard meta[configurationKey] == nil else { return [] }
        var out: [String] = []
        if configuration.cellType.fixedActivation == nil && meta["activation"] == nil && meta["nonlinearity"] == nil {
            out.append("activation \(configuration.activation.name) (PyTorch's nn.RNN default)")
        }
        if meta["readout"] == nil { out.append("readout \(configuration.readout.rawValue) (many-to-one)") }
        return out
    }

    /// Loads a model as `load(from:allowNonFinite:)` does, with `overrides` replacing the
    /// file's (or the assumed) activation and readout; also returns what was assumed and not
    /// overridden (`assumptions(of:configuration:)`).
    public static func load(from url: URL, allowNonFinite: Bool = false, overriding overrides: ConfigurationOverrides)
        throws -> (model: AnyRecurrentModel, configuration: ModelConfiguration, metadata: [String: String], assumed: [String]) {
        let file = try SafeTensorsFile(contentsOf: url)
        do {
            var config = try configuration(of: file)
            var assumed = assumptions(of: file, configuration: config)
            if let a = overrides.activation {
                guard config.cellType.fixedActivation == nil else {
                    throw CheckpointError("the \(config.cell) cell has no activation to set (it is \(config.cell)'s own)")
                }
                config.activation = a
                assumed.removeAll { $0.hasPrefix("activation") }
            }
            if let r = overrides.readout {
                config.readout = r
                assumed.removeAll { $0.hasPrefix("readout") }
            }
            return (try model(from: file, configuration: config, allowNonFinite: allowNonFinite), config, file.metadata, assumed)
        } catch let error as CheckpointError {
            throw CheckpointError(error.message, path: url.path, remedies: error.remedies)
        } catch var error as NonFiniteTensorsError {
            error.path = url.path
            throw error
        }
    }
}
