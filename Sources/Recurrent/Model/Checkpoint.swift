import Foundation

/// A checkpoint that cannot be loaded into the model asked for: missing, unexpected or
/// wrongly shaped tensors (all listed), or metadata that names an unknown cell; `remedies`
/// say what to do instead where there is something (a front end words them).
public struct CheckpointError: AdvisedError, Equatable, Sendable {
    public var message: String
    public var path: String?
    public var remedies: [Remedy]
    public init(_ message: String, path: String? = nil, remedies: [Remedy] = []) {
        self.message = message
        self.path = path
        self.remedies = remedies
    }
    public var problem: String { (path.map { "\($0): " } ?? "") + message }
}

/// Model weights as safetensors with PyTorch's `state_dict` names, so that
///
///     class Model(nn.Module):      # rnn = nn.RNN / nn.LSTM / nn.GRU(I, H, L, batch_first=True)
///         rnn: nn.Module            # head = nn.Linear(H, O)
///     model.load_state_dict(safetensors.torch.load_file(path))
///
/// loads them with no glue, and a file saved that way from PyTorch loads here.
/// Tensors: `rnn.weight_ih_l{k}` [G*H, I], `rnn.weight_hh_l{k}` [G*H, H] (IndRNN: [H]),
/// `rnn.bias_ih_l{k}` [G*H], `rnn.bias_hh_l{k}` [G*H], `head.weight` [O, H], `head.bias` [O].
/// Metadata: `cell`, `activation` (PyTorch's `nonlinearity` for RNN), `readout`, and the
/// full `configuration` as JSON. Where metadata is missing, the cell kind, layer count
/// and sizes come from the tensor shapes (activation defaults to tanh, PyTorch's default;
/// readout to the last step).
public enum Checkpoint {
    /// The metadata key of the JSON-encoded `ModelConfiguration`.
    public static let configurationKey = "recurrent.configuration"

    /// Longest configuration JSON read from metadata (64 KiB; ours are about 400 bytes), and its
    /// deepest nesting (ours nest 3 levels): checked with ``JSONReader`` before `JSONDecoder`
    /// sees the text, since the metadata comes from a file anyone may have written.
    public static let maximumConfigurationLength = 1 << 16
    public static let maximumConfigurationDepth = 16

    // MARK: - Writing

    /// The model as a safetensors file (Float32 tensors).
    public static func stateDict<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>, configuration: ModelConfiguration? = nil,
                                                      metadata extra: [String: String] = [:]) -> SafeTensorsFile {
        var tensors: [String: SafeTensor] = [:]
        model.forEachParameter { _, name, m in
            let shape: [Int]
            if name.hasPrefix("rnn.bias") || name == "head.bias" || (Cell.kind == .indrnn && name.hasPrefix("rnn.weight_hh")) {
                shape = [m.count]
            } else {
                shape = [m.rows, m.cols]
            }
            tensors[name] = SafeTensor(floats: m.storage.map { Float($0) }, shape: shape)
        }
        var config = configuration ?? model.architecture
        config.cell = Cell.kind
        var metadata = extra
        metadata["cell"] = Cell.kind.rawValue
        metadata["activation"] = model.layers[0].activation.name
        metadata["readout"] = model.readout.rawValue
        metadata["format"] = "recurrent/1"
        if let json = try? JSONEncoder().encode(config), let text = String(data: json, encoding: .utf8) {
            metadata[configurationKey] = text
        }
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }

    /// Writes the model atomically (temporary file, then rename); a model with a NaN or
    /// infinite weight is refused (`NonFiniteTensorsError`) and nothing is written.
    public static func save<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>, to url: URL, configuration: ModelConfiguration? = nil,
                                                 metadata: [String: String] = [:]) throws {
        let file = stateDict(model, configuration: configuration, metadata: metadata)
        try file.requireFinite(.saving, path: url.path)
        try file.write(to: url)
    }

    // MARK: - Reading

    /// Loads a model of whichever cell kind the file holds. A weight that is NaN or
    /// infinite is an error (`NonFiniteTensorsError` naming the tensors) unless
    /// `allowNonFinite` is set, for looking at a diverged model.
    public static func load(from url: URL, allowNonFinite: Bool = false)
        throws -> (model: AnyRecurrentModel, configuration: ModelConfiguration, metadata: [String: String]) {
        let file = try SafeTensorsFile(contentsOf: url)
        do {
            let config = try configuration(of: file)
            return (try model(from: file, configuration: config, allowNonFinite: allowNonFinite), config, file.metadata)
        } catch let error as CheckpointError {
            throw CheckpointError(error.message, path: url.path)
        } catch var error as NonFiniteTensorsError {
            error.path = url.path
            throw error
        }
    }

    /// The configuration stored in (or inferred from) a file.
    public static func configuration(of file: SafeTensorsFile) throws -> ModelConfiguration {
        let meta = file.metadata
        var config: ModelConfiguration
        if let text = meta[configurationKey] {
            do {
                try JSONReader.check(text, maximumLength: maximumConfigurationLength, maximumDepth: maximumConfigurationDepth)
            } catch {
                throw CheckpointError("the metadata '\(configurationKey)' is not a model configuration: \(error.reason) (byte \(error.offset) of its JSON); remove it to infer the model from the tensor shapes")
            }
            do {
                config = try JSONDecoder().decode(ModelConfiguration.self, from: Data(text.utf8))
            } catch {
                throw CheckpointError("the metadata '\(configurationKey)' is not a valid model configuration (\(error)); remove it to infer the model from the tensor shapes")
            }
        } else {
            config = try inferConfiguration(file)
        }
        if let activation = meta["activation"] ?? meta["nonlinearity"] {
            do { config.activation = try Activation(parsing: activation) } catch {
                throw CheckpointError("metadata 'activation' = '\(activation)': \(error)")
            }
        }
        if let readout = meta["readout"] {
            guard let r = Readout(rawValue: readout) else {
                throw CheckpointError("metadata 'readout' = '\(readout)' is not one of: \(Readout.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            config.readout = r
        }
        try checkTensors(of: config, in: file)
        return config
    }

    /// Cell kind, sizes and layer count from the tensor shapes alone.
    static func inferConfiguration(_ file: SafeTensorsFile) throws -> ModelConfiguration {
        let t = file.tensors
        guard let ih = t["rnn.weight_ih_l0"], ih.shape.count == 2, let hh = t["rnn.weight_hh_l0"],
              let head = t["head.weight"], head.shape.count == 2 else {
            throw CheckpointError("cannot infer the model: expected 2-D tensors 'rnn.weight_ih_l0' and 'head.weight' and a tensor 'rnn.weight_hh_l0'; found \(t.keys.sorted().joined(separator: ", "))")
        }
        var layers = 0
        while t["rnn.weight_ih_l\(layers)"] != nil { layers += 1 }
        let kind: CellKind
        let hidden: Int
        if let metaCell = file.metadata["cell"] {
            guard let k = CellKind(rawValue: metaCell) else {
                throw CheckpointError("metadata 'cell' = '\(metaCell)' is not one of: \(CellKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            kind = k
            hidden = kind == .indrnn ? hh.shape.last ?? 0 : ih.shape[0] / (kind == .lstm ? 4 : kind == .gru ? 3 : 1)
        } else if hh.shape.count == 1 {
            kind = .indrnn
            hidden = hh.shape[0]
        } else {
            guard hh.shape.count == 2, hh.shape[1] > 0, ih.shape[0] % hh.shape[1] == 0 else {
                throw CheckpointError("rnn.weight_hh_l0 has shape \(hh.shape), which fits no RNN, LSTM or GRU with weight_ih \(ih.shape)")
            }
            hidden = hh.shape[1]
            switch ih.shape[0] / hidden {
            case 1: kind = .rnn
            case 3: kind = .gru
            case 4: kind = .lstm
            default: throw CheckpointError("rnn.weight_ih_l0 has \(ih.shape[0]) rows for hidden size \(hidden): not 1, 3 or 4 gate blocks")
            }
        }
        return ModelConfiguration(cell: kind, activation: .tanh, inputSize: ih.shape[1], hiddenSize: hidden,
                                  layers: layers, outputs: head.shape[0])
    }

    /// Builds the model of `configuration` and fills it strictly from the file.
    public static func model(from file: SafeTensorsFile, configuration: ModelConfiguration,
                             allowNonFinite: Bool = false) throws -> AnyRecurrentModel {
        try checkTensors(of: configuration, in: file)   // before allocating: the sizes must be the tensors'
        var rng = SeededGenerator(seed: 0)   // the values are all overwritten below
        var init0 = configuration
        init0.inputInit = .zeros; init0.recurrentInit = .zeros; init0.biasInit = .zeros
        init0.forgetGateBias = nil
        let empty: AnyRecurrentModel
        do { empty = try AnyRecurrentModel(init0, using: &rng) } catch {
            throw CheckpointError("the checkpoint's configuration is impossible: \(error)")
        }
        switch empty {
        case .rnn(let m): return .rnn(try fill(m, from: file, allowNonFinite: allowNonFinite))
        case .lstm(let m): return .lstm(try fill(m, from: file, allowNonFinite: allowNonFinite))
        case .gru(let m): return .gru(try fill(m, from: file, allowNonFinite: allowNonFinite))
        case .indrnn(let m): return .indrnn(try fill(m, from: file, allowNonFinite: allowNonFinite))
        }
    }

    /// Copies every tensor into `model`, checking names and shapes strictly: all
    /// problems are listed in one error. Then NaN or infinite weights are refused
    /// (`NonFiniteTensorsError`, without a path) unless `allowNonFinite` is set.
    public static func fill<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>, from file: SafeTensorsFile,
                                                 allowNonFinite: Bool = false) throws -> RecurrentModel<Cell> {
        var model = model
        var missing: [String] = [], wrong: [String] = [], unreadable: [String] = []
        var expected = Set<String>()
        model.updateEachParameter { _, name, m in
            expected.insert(name)
            guard let tensor = file.tensors[name] else { missing.append(name); return }
            let fits = tensor.elementCount == m.count
                && (tensor.shape == [m.rows, m.cols] || (tensor.shape == [m.count] && (m.rows == 1 || m.cols == 1)))
            guard fits else { wrong.append("\(name) is \(tensor.shape), expected \(m.rows == 1 ? [m.cols] : [m.rows, m.cols])"); return }
            do {
                // Read at the model's precision: Double models (tests, checks) keep every bit.
                m.storage = Cell.Scalar.self == Double.self ? try tensor.doubles().map { Cell.Scalar($0) }
                                                             : try tensor.floats().map { Cell.Scalar($0) }
            } catch {
                unreadable.append("\(name): \(error)")
            }
        }
        let unexpected = file.tensors.keys.filter { !expected.contains($0) }.sorted()
        var problems: [String] = []
        if !missing.isEmpty { problems.append("missing tensors: \(missing.joined(separator: ", "))") }
        if !unexpected.isEmpty { problems.append("unexpected tensors: \(unexpected.joined(separator: ", "))") }
        if !wrong.isEmpty { problems.append("wrong shapes: \(wrong.joined(separator: "; "))") }
        if !unreadable.isEmpty { problems.append("unreadable: \(unreadable.joined(separator: "; "))") }
        if !problems.isEmpty {
            throw CheckpointError("the checkpoint does not fit a \(model.layers.count)-layer \(Cell.kind.rawValue) model with I=\(model.inputSize), H=\(model.hiddenSize), O=\(model.outputSize): "
                + problems.joined(separator: "; ")
                + ". Check that the file was saved from Model(rnn=nn.\(Cell.kind == .rnn ? "RNN" : Cell.kind.rawValue.uppercased())(...), head=nn.Linear(...)) with the same sizes.")
        }
        if !allowNonFinite { try file.requireFinite(.loading, path: nil, names: expected) }
        return model
    }
}
