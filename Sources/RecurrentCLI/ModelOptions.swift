import ArgumentParser
import Recurrent

/// `--cell`: a cell kind with its preset initialisation.
enum CellName: String, ExpressibleByArgument, CaseIterable, Codable, Sendable {
    /// relu, W = I, U ~ N(0, 0.001²), zero biases (Le, Jaitly & Hinton 2015).
    case irnn
    /// tanh with PyTorch's defaults.
    case rnn
    case lstm, gru
    /// relu, u = 1, zero biases (Li et al. 2018).
    case indrnn
}

/// The model's architecture and initialisation. Any explicit option overrides the preset.
struct ModelOptions: ParsableArguments {
    @Option(help: "Cell: irnn (relu, W = identity, U ~ N(0, 0.001^2), zero biases), rnn (tanh), lstm, gru, indrnn; the others start with PyTorch's defaults. (default: irnn)")
    var cell: CellName?

    @Option(help: "f for rnn, irnn and indrnn: relu, tanh, sigmoid, identity, leaky_relu[:slope], clipped_relu[:max], softplus.")
    var activation: String?

    @Option(name: .customLong("recurrent-init"), help: "Initialiser of W (weight_hh): identity[:s], gaussian:STD, uniform:B, xavier[:g], he, orthogonal[:g], nprnn, zeros, constant:V, default.")
    var recurrentInit: String?

    @Option(name: .customLong("input-init"), help: "Initialiser of U (weight_ih), same forms as --recurrent-init.")
    var inputInit: String?

    /// `--hidden`, `--layers` (shared with `compare`).
    @OptionGroup var size: ModelSizeOptions
    var hidden: Int? { size.hidden }
    var layers: Int? { size.layers }

    func validate() throws {
        // Parsed here too, so that a bad value (unknown, NaN, too large for Float32) is refused before any data is read.
        do {
            if let a = activation { _ = try Activation(parsing: a) }
        } catch { throw ValidationError("--activation: \(error)") }
        for (option, text) in [("--recurrent-init", recurrentInit), ("--input-init", inputInit)] {
            guard let text else { continue }
            do { _ = try Initializer(parsing: text) } catch { throw ValidationError("\(option): \(error)") }
        }
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
        do {
            if let a = activation { c.activation = try Activation(parsing: a) }
            if let r = recurrentInit { c.recurrentInit = try Initializer(parsing: r) }
            if let u = inputInit { c.inputInit = try Initializer(parsing: u) }
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
    /// "1-layer irnn (relu), I=2, H=64, O=1".
    var summary: String {
        var detail = cell == .rnn || cell == .indrnn ? [activation.name] : []
        if recurrentInit != .pytorchDefault { detail.append("W \(recurrentInit.name)") }
        return "\(layers)-layer \(cell.rawValue)\(detail.isEmpty ? "" : " (\(detail.joined(separator: ", ")))"), I=\(inputSize), H=\(hiddenSize), O=\(outputs)"
    }
}
