import ArgumentParser
import Foundation
import Recurrent

/// `--cell`: a preset of a registered cell (`ModelConfiguration.presetNames`: irnn, rnn,
/// lstm, ...), spelled as the registry spells it.
struct CellName: ExpressibleByArgument, Codable, Sendable, Equatable {
    var rawValue: String

    init?(argument: String) {
        guard let found = CellRegistry.preset(named: argument.lowercased()) else { return nil }
        rawValue = found.preset.name
    }

    static var allValueStrings: [String] { ModelConfiguration.presetNames }

    /// "irnn (relu, W = identity, ...), rnn (tanh), ..., lstm, gru": every preset with its summary.
    static var helpList: String {
        CellRegistry.presets.map { entry in entry.preset.summary.map { "\(entry.preset.name) (\($0))" } ?? entry.preset.name }
            .joined(separator: ", ")
    }
}

/// The model's architecture and initialisation. Any explicit option overrides the preset.
struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Cell: \(CellName.helpList); the others start with PyTorch's defaults. (default: irnn)",
                               valueName: "cell"))
    var cell: CellName?

    @Option(help: "f for rnn, irnn and indrnn: relu, tanh, sigmoid, identity, leaky_relu[:slope], clipped_relu[:max], softplus.")
    var activation: String?

    @Option(name: .customLong("recurrent-init"), help: "Initialiser of W (weight_hh): identity[:s], gaussian:STD, uniform:B, xavier[:g], he, orthogonal[:g], nprnn, zeros, constant:V, default.")
    var recurrentInit: String?

    @Option(name: .customLong("input-init"), help: "Initialiser of U (weight_ih), same forms as --recurrent-init.")
    var inputInit: String?

    /// `--hidden`, `--layers` (shared with `compare`).
    @Flag(help: "Bidirectional layers (PyTorch's bidirectional=True): a second cell per layer reads each sequence backwards from its last step; layers above and the head read [forward | reverse] (2H).")
    var bidirectional = false

    @Flag(name: .customLong("no-bias"), help: "Layers without biases (PyTorch's bias=False): b_ih and b_hh are 0, not trained and not saved; the head keeps its bias.")
    var noBias = false

    @Option(help: ArgumentHelp("Dropout p between stacked layers in training (PyTorch's dropout=p; needs --layers 2 or more). (default: 0)", valueName: "p"))
    var dropout: Double?

    @Option(name: .customLong("input-dropout"), help: ArgumentHelp("Variational dropout p on each layer's input in training: one mask per sequence, the same at every step (Keras's dropout=). (default: 0)", valueName: "p"))
    var inputDropout: Double?

    @Option(name: .customLong("recurrent-dropout"), help: ArgumentHelp("Variational dropout p on the state h_{t-1} each step reads in training: one mask per sequence, the same at every step (Keras's recurrent_dropout=: h_{t-1} where it meets a weight; LSTM's c is not masked). (default: 0)", valueName: "p"))
    var recurrentDropout: Double?

    @OptionGroup var size: ModelSizeOptions
    var hidden: Int? { size.hidden }
    var layers: Int? { size.layers }

    @Option(name: .customLong("cell-option"),
            help: ArgumentHelp("A cell's hyper-parameter, NAME=VALUE (repeat, or separate with commas): \(Self.cellOptionList).",
                               valueName: "name=value"))
    var cellOptions: [String] = []

    /// "forget-bias (lstm: ...), bound (indrnn: ...)": every hyper-parameter of every cell.
    static var cellOptionList: String {
        CellRegistry.hyperparameters.map { p in
            let cells = CellRegistry.cells(declaring: p.key).map(\.rawValue).joined(separator: ", ")
            return "\(p.option) (\(cells): \(p.summary)\(p.defaultValue.map { ", default \($0)" } ?? ""))"
        }.joined(separator: ", ")
    }

    /// The `--cell-option` values as (hyper-parameter, value), in order; throws on an unknown
    /// name or a value that is not a number in the hyper-parameter's range.
    func parsedCellOptions() throws -> [(CellHyperparameter, Double)] {
        var out: [(CellHyperparameter, Double)] = []
        for item in cellOptions.flatMap({ $0.split(separator: ",") }) {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let names = CellRegistry.hyperparameters.map(\.option).joined(separator: ", ")
            guard parts.count == 2, let p = CellRegistry.hyperparameter(option: parts[0].lowercased()) else {
                throw ValidationError("--cell-option '\(item)': expected NAME=VALUE with NAME one of \(names)")
            }
            guard let v = Double(parts[1]) else {
                throw ValidationError("--cell-option \(p.option): '\(parts[1])' is not a number")
            }
            do { try p.validate(v) } catch { throw ValidationError("--cell-option \(p.option): \(error)") }
            out.append((p, v))
        }
        return out
    }

    func validate() throws {
        // Parsed here too, so that a bad value (unknown, NaN, too large for Float32) is refused before any data is read.
        do {
            if let a = activation { _ = try Activation(parsing: a) }
        } catch { throw ValidationError("--activation: \(error)") }
        for (option, text) in [("--recurrent-init", recurrentInit), ("--input-init", inputInit)] {
            guard let text else { continue }
            do { _ = try Initializer(parsing: text) } catch { throw ValidationError("\(option): \(error)") }
        }
        _ = try parsedCellOptions()
    }

    /// The configuration for a task's sizes: an explicit `--cell` starts from its preset,
    /// otherwise from `stored` (a checkpoint's configuration) when there is one, else irnn;
    /// then every explicit option overrides.
    func configuration(inputSize: Int, outputs: Int, readout: Readout, stored: ModelConfiguration? = nil) throws -> ModelConfiguration {
        var c: ModelConfiguration
        if cell == nil, let s = stored {
            c = s
            c.inputSize = inputSize
            c.outputs = outputs
            c.readout = readout
            if let h = hidden { c.hiddenSize = h }
            if let l = layers { c.layers = l }
        } else {
            c = try ModelConfiguration.preset(cell?.rawValue ?? TrainingDefaults.preset, inputSize: inputSize,
                                              hiddenSize: hidden ?? stored?.hiddenSize ?? TrainingDefaults.hidden,
                                              layers: layers ?? stored?.layers ?? TrainingDefaults.layers, outputs: outputs, readout: readout)
        }
        if bidirectional { c.bidirectional = true }
        if noBias { c.bias = false }
        if let p = dropout { c.dropout = p }
        if let p = inputDropout { c.inputDropout = p }
        if let p = recurrentDropout { c.recurrentDropout = p }
        do {
            if let a = activation { c.activation = try Activation(parsing: a) }
            if let r = recurrentInit { c.recurrentInit = try Initializer(parsing: r) }
            if let u = inputInit { c.inputInit = try Initializer(parsing: u) }
            for (p, v) in try parsedCellOptions() { c[p] = v }
            try c.validate()
        } catch {
            throw ValidationError("\(error)")
        }
        return c
    }
}

/// H and L of the model (of every model of a comparison unless its `hidden=` / `layers=`
/// says otherwise).
struct ModelSizeOptions: ParsableArguments {
    @Option(help: "Hidden units H per layer. (default: \(TrainingDefaults.hidden))")
    var hidden: Int?

    @Option(help: "Stacked recurrent layers L. (default: \(TrainingDefaults.layers))")
    var layers: Int?

    func validate() throws {
        if let h = hidden, h < 1 { throw ValidationError("--hidden must be at least 1, got \(h)") }
        if let l = layers, l < 1 { throw ValidationError("--layers must be at least 1, got \(l)") }
    }
}

extension ModelConfiguration {
    /// "1-layer rnn (relu, W identity), I=2, H=64, O=1"; a cell's hyper-parameters follow
    /// the activation where it has one (coRNN: "dt 0.076, gamma 0.4, epsilon 8.0").
    var summary: String {
        var detail = cellType.fixedActivation == nil ? [activation.name] : []
        for p in cellType.hyperparameters { if let v = self[p] { detail.append("\(p.option) \(v)") } }
        if recurrentInit != .pytorchDefault { detail.append("W \(recurrentInit.name)") }
        return "\(layers)-layer \(bidirectional ? "bidirectional " : "")\(bias ? "" : "bias-free ")\(cell.rawValue)\(detail.isEmpty ? "" : " (\(detail.joined(separator: ", ")))"), I=\(inputSize), H=\(hiddenSize), O=\(outputs)"
            + (dropout > 0 ? ", dropout \(dropout)" : "") + (inputDropout > 0 ? ", input dropout \(inputDropout)" : "")
            + (recurrentDropout > 0 ? ", recurrent dropout \(recurrentDropout)" : "")
    }
}
