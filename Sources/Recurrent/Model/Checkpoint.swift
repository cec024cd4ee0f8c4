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
/// Tensors: each layer's, as its cell declares them (`RecurrentCell.tensors`), named
/// `rnn.<tensor>_l{k}`: for PyTorch's layout `rnn.weight_ih_l{k}` [G*H, I],
/// `rnn.weight_hh_l{k}` [G*H, H] (IndRNN: [H]), `rnn.bias_ih_l{k}` [G*H], `rnn.bias_hh_l{k}`
/// [G*H]; then `head.weight` [O, H], `head.bias` [O].
/// Metadata: `cell`, `activation` (PyTorch's `nonlinearity` for RNN), `readout`, the full
/// `configuration` as JSON, and the cell's hyper-parameters marked `inMetadata` under their
/// keys. Where metadata is missing, the cell kind, layer count and sizes come from the
/// tensor names and shapes (each cell's `sizes(fromLayer0:)`; activation defaults to tanh,
/// PyTorch's default; readout to the last step; hyper-parameters to their defaults).
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
        let specs = Cell.tensors
        for (l, layer) in model.layers.enumerated() {
            for (k, spec) in specs.enumerated() where model.bias || !spec.isBias {     // bias=False: no b_ih, b_hh
                let m = layer.parameters[k]
                tensors["rnn.\(spec.name)_\(layerSuffix(l, directions: model.directions))"] = SafeTensor(floats: m.storage.map { Float($0) },
                                                               shape: spec.savedAsVector ? [m.count] : [m.rows, m.cols])
            }
        }
        tensors["head.weight"] = SafeTensor(floats: model.head.weight.storage.map { Float($0) }, shape: [model.head.weight.rows, model.head.weight.cols])
        tensors["head.bias"] = SafeTensor(floats: model.head.bias.storage.map { Float($0) }, shape: [model.head.bias.count])
        var config = configuration ?? model.architecture
        config.cell = Cell.kind
        var metadata = extra
        metadata["cell"] = Cell.kind.rawValue
        metadata["activation"] = model.layers[0].activation.name
        metadata["readout"] = model.readout.rawValue
        metadata["format"] = "recurrent/1"
        for p in Cell.hyperparameters where p.inMetadata {
            if let v = config[p] { metadata[p.key] = "\(v)" }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys        // same bytes in every process (a dictionary's order is not)
        if let json = try? encoder.encode(config), let text = String(data: json, encoding: .utf8) {
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

    /// `save(_:to:configuration:metadata:)` for a model of whichever cell.
    public static func save(_ model: AnyRecurrentModel, to url: URL, configuration: ModelConfiguration? = nil,
                            metadata: [String: String] = [:]) throws {
        struct Save: ModelVisitor {
            let url: URL, configuration: ModelConfiguration?, metadata: [String: String]
            func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws where Cell.Scalar == Float {
                try Checkpoint.save(model, to: url, configuration: configuration, metadata: metadata)
            }
        }
        try model.visit(Save(url: url, configuration: configuration, metadata: metadata))
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
        for p in config.cellType.hyperparameters where p.inMetadata {
            guard let text = meta[p.key] else { continue }
            guard let v = Double(text) else {
                throw CheckpointError("metadata '\(p.key)' = '\(text)' is not a number (the \(p.noun) of the \(config.cell) cell)")
            }
            config[p] = v
        }
        try checkTensors(of: config, in: file)
        return config
    }

    /// For tensors named after other modules (`lstm.weight_ih_l0`, `fc.weight`: a PyTorch
    /// model whose attributes are not `rnn` and `head`), how to rename them; else "".
    static func renamingHint(_ names: some Collection<String>) -> String {
        let recurrent = Set(names.compactMap { n in n.hasSuffix(".weight_ih_l0") && !n.hasPrefix("rnn.") ? String(n.dropLast(".weight_ih_l0".count)) : nil })
        let heads = Set(names.compactMap { n in n.hasSuffix(".weight") && !n.contains("_l") && !n.hasPrefix("head.") ? String(n.dropLast(".weight".count)) : nil })
        guard let r = recurrent.sorted().first else { return "" }
        let h = heads.sorted().first
        let replacements = "k.replace('\(r).', 'rnn.', 1)" + (h.map { ".replace('\($0).', 'head.', 1)" } ?? "")
        return ". The tensors look like a PyTorch module whose recurrent layer is '\(r)'\(h.map { " and head '\($0)'" } ?? ""): this program reads them as 'rnn.*' and 'head.*'; save them renamed, e.g. {\(replacements): v for k, v in model.state_dict().items()}"
    }

    /// Cell kind, sizes and layer count from the tensor names and shapes alone (and the
    /// metadata `cell`, when there is one): layer 0's tensors are matched against every
    /// registered cell's (`RecurrentCell.sizes(fromLayer0:)`).
    static func inferConfiguration(_ file: SafeTensorsFile) throws -> ModelConfiguration {
        let t = file.tensors
        guard let ih = t["rnn.weight_ih_l0"], ih.shape.count == 2, t["rnn.weight_hh_l0"] != nil,
              let head = t["head.weight"], head.shape.count == 2 else {
            throw CheckpointError("cannot infer the model: expected 2-D tensors 'rnn.weight_ih_l0' and 'head.weight' and a tensor 'rnn.weight_hh_l0'; found \(t.keys.sorted().joined(separator: ", "))"
                + renamingHint(t.keys))
        }
        var layers = 0
        while t["rnn.weight_ih_l\(layers)"] != nil { layers += 1 }
        var layer0: [String: [Int]] = [:]
        for (name, tensor) in t where name.hasPrefix("rnn.") && name.hasSuffix("_l0") {
            layer0[String(name.dropFirst(4).dropLast(3))] = tensor.shape
        }
        let found = layer0.keys.sorted().map { "rnn.\($0)_l0 \(layer0[$0]!)" }.joined(separator: ", ")
        let cells = CellRegistry.cells
        // PyTorch's bias=False: no bias tensor at all; each cell is then matched with its biases
        // filled in at the shapes its weights imply.
        let bias = layer0.keys.contains { $0.hasPrefix("bias") }
        func layer0Shapes(_ type: any RecurrentCell<Float>.Type) -> [String: [Int]] {
            guard !bias, let sizes = type.definingSizes(layer0) else { return layer0 }
            var shapes = layer0
            for t in type.tensors where t.isBias {
                shapes[t.name] = t.fileShape(inputSize: sizes.inputSize, hiddenSize: sizes.hiddenSize, gateCount: type.gateCount)
            }
            return shapes
        }
        if let metaCell = file.metadata["cell"] {
            guard let kind = CellKind(rawValue: metaCell) else {
                throw CheckpointError("metadata 'cell' = '\(metaCell)' is not one of: \(CellKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let type = CellRegistry.cell(kind)
            // The sizes from the defining tensors; `checkTensors` then lists every mismatch.
            guard let sizes = type.sizes(fromLayer0: layer0Shapes(type)) ?? looseSizes(type, layer0) else {
                throw CheckpointError("metadata 'cell' = '\(metaCell)', but layer 0 (\(found)) does not fit it: \(kind) expects \(layout(type))")
            }
            var config = ModelConfiguration(cell: kind, activation: .tanh, inputSize: sizes.inputSize, hiddenSize: sizes.hiddenSize,
                                            layers: layers, outputs: head.shape[0])
            config.bidirectional = t["rnn.weight_ih_l0_reverse"] != nil
            config.bias = bias
            return config
        }
        var matches = cells.compactMap { type in type.sizes(fromLayer0: layer0Shapes(type)).map { (type, $0) } }
        if matches.count > 1 {   // e.g. IndRNN's u [1, 1] saved 2-D also reads as an RNN's W [1, 1]: prefer the shapes as written
            let exact = matches.filter { type, sizes in
                type.tensors.allSatisfy { layer0Shapes(type)[$0.name] == $0.fileShape(inputSize: sizes.inputSize, hiddenSize: sizes.hiddenSize, gateCount: type.gateCount) }
            }
            if !exact.isEmpty { matches = exact }
        }
        if matches.isEmpty {   // no cell fits every tensor: read the sizes from the weights, and let checkTensors list the rest
            matches = cells.compactMap { type in weightSizes(type, layer0Shapes(type)).map { (type, $0) } }
        }
        guard matches.count == 1, let (type, sizes) = matches.first else {
            let expected = cells.map { "\($0.kind): \(layout($0))" }.joined(separator: "; ")
            if matches.isEmpty {
                throw CheckpointError("the layer-0 tensors (\(found)) fit no cell. Expected one of: \(expected). Add the metadata 'cell' to say which")
            }
            throw CheckpointError("the layer-0 tensors (\(found)) fit several cells (\(matches.map { $0.0.kind.rawValue }.joined(separator: ", "))); add the metadata 'cell' to say which")
        }
        var config = ModelConfiguration(cell: type.kind, activation: .tanh, inputSize: sizes.inputSize, hiddenSize: sizes.hiddenSize,
                                        layers: layers, outputs: head.shape[0])
        config.bidirectional = t["rnn.weight_ih_l0_reverse"] != nil       // PyTorch's bidirectional=True
        config.bias = bias
        return config
    }

    /// I and H read from the input weight [G*H, I] alone, for a file whose metadata names the
    /// cell but whose other tensors are wrong (so that the error can list them).
    static func looseSizes(_ type: any RecurrentCell<Float>.Type, _ layer0: [String: [Int]]) -> (inputSize: Int, hiddenSize: Int)? {
        guard let ih = layer0[type.tensors[0].name], ih.count == 2, ih[0] > 0, ih[0] % type.gateCount == 0 else { return nil }
        return (ih[1], ih[0] / type.gateCount)
    }

    /// I and H of a layer 0 that has the cell's tensor names and whose weights (input and
    /// recurrent) have the cell's shapes; its biases may be wrong (`checkTensors` says how).
    static func weightSizes(_ type: any RecurrentCell<Float>.Type, _ layer0: [String: [Int]]) -> (inputSize: Int, hiddenSize: Int)? {
        guard Set(layer0.keys) == Set(type.tensors.map(\.name)), let sizes = type.definingSizes(layer0) else { return nil }
        for t in type.tensors where t.role == .inputWeight || t.role == .recurrentWeight {
            let (r, c) = t.shape(inputSize: sizes.inputSize, hiddenSize: sizes.hiddenSize, gateCount: type.gateCount)
            guard CellTensor.fileShapeFits(layer0[t.name]!, rows: r, cols: c) else { return nil }
        }
        return sizes
    }

    /// A cell's layer-0 tensors in symbols: `weight_ih [4H, I], weight_hh [4H, H], bias_ih [4H], bias_hh [4H]`.
    static func layout(_ type: any RecurrentCell<Float>.Type) -> String {
        type.tensors.map { $0.formula(gateCount: type.gateCount) }.joined(separator: ", ")
    }

    /// Builds the model of `configuration` and fills it strictly from the file.
    public static func model(from file: SafeTensorsFile, configuration: ModelConfiguration,
                             allowNonFinite: Bool = false) throws -> AnyRecurrentModel {
        try checkTensors(of: configuration, in: file)   // before allocating: the sizes must be the tensors'
        var rng = SeededGenerator(seed: 0)   // the values are all overwritten below
        var init0 = configuration
        init0.inputInit = .zeros; init0.recurrentInit = .zeros; init0.biasInit = .zeros
        let empty: AnyRecurrentModel
        do { empty = try AnyRecurrentModel(init0, using: &rng) } catch {
            throw CheckpointError("the checkpoint's configuration is impossible: \(error)")
        }
        return try empty.visit(Filler(file: file, allowNonFinite: allowNonFinite))
    }

    /// Fills a model of whichever cell from a file (`fill`).
    struct Filler: ModelVisitor {
        let file: SafeTensorsFile
        let allowNonFinite: Bool
        func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> AnyRecurrentModel where Cell.Scalar == Float {
            AnyRecurrentModel(try Checkpoint.fill(model, from: file, allowNonFinite: allowNonFinite))
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
        let absent = model.bias ? [] : Set(model.layers.indices.flatMap { k in       // bias=False: b_ih, b_hh stay 0
            Cell.tensors.filter(\.isBias).map { "rnn.\($0.name)_\(layerSuffix(k, directions: model.directions))" }
        })
        model.updateEachParameter { _, name, m in
            if absent.contains(name) { return }
            expected.insert(name)
            guard let tensor = file.tensors[name] else { missing.append(name); return }
            let fits = tensor.elementCount == m.count
                && (tensor.shape == [m.rows, m.cols] || (tensor.shape == [m.count] && (m.rows == 1 || m.cols == 1)))
            // Biases (and IndRNN's u) are 1-D in the file; a head of one output is [1, H], as in PyTorch.
            let vector = m.rows == 1 && !name.hasPrefix("head.weight")
            guard fits else { wrong.append("\(name) is \(tensor.shape), expected \(vector ? [m.cols] : [m.rows, m.cols])"); return }
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
                + ". Check that the file was saved from Model(rnn=nn.\(Cell.pytorchModule)(...), head=nn.Linear(...)) with the same sizes.")
        }
        if !allowNonFinite { try file.requireFinite(.loading, path: nil, names: expected) }
        return model
    }
}
