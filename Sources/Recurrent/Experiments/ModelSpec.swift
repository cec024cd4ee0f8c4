/// A model in a comparison: a preset name with per-model overrides, written
/// `name[:option=value[:option=value ...]]`, e.g. `irnn`, `irnn:lr=1e-4`,
/// `rnn-relu-gaussian:recurrent-init=gaussian:0.01` (an override's value may contain ':'
/// only as the last one), `lstm:hidden=128:forget-bias=1`.
///
/// Options: `lr`, `optimizer`, `clip-norm`, `hidden`, `layers`, `activation`,
/// `recurrent-init`, `input-init`, `momentum`, and every cell's hyper-parameters by their
/// `option` spelling (`forget-bias` for LSTM, `bound` for IndRNN, ...).
public struct ModelSpec: Sendable, Codable, Hashable, CustomStringConvertible {
    public var name: String
    public var overrides: [String: String]

    /// The options that are not a cell's hyper-parameter.
    static let commonOptions = ["lr", "optimizer", "clip-norm", "hidden", "layers", "activation", "recurrent-init",
                                "input-init", "momentum"]

    public static var options: [String] { commonOptions + CellRegistry.hyperparameters.map(\.option) }

    public init(name: String, overrides: [String: String] = [:]) {
        self.name = name
        self.overrides = overrides
    }

    /// Texts longer than ``ConfigurationError/maximumSpecLength`` are refused; every override's
    /// value is checked here (numbers finite, sizes whole and positive, names known), so that a
    /// comparison never starts with a model it cannot build.
    public init(parsing text: String) throws(ConfigurationError) {
        let (name, options) = try Self.split(text)
        self.init(name: name, overrides: Dictionary(options) { _, last in last })
        try check()
    }

    /// `name:key=value:key=value` as the name and its options in the order written, unchecked.
    /// A value runs to the next `:key=` with a known key, so values like `gaussian:0.01` survive.
    static func split(_ text: String) throws(ConfigurationError) -> (name: String, options: [(String, String)]) {
        try ConfigurationError.checkLength(text, of: "model")
        var rest = Substring(text)
        guard let colon = rest.firstIndex(of: ":") else { return (text, []) }
        let name = String(rest[..<colon])
        rest = rest[rest.index(after: colon)...]
        var options: [(String, String)] = []
        while !rest.isEmpty {
            guard let eq = rest.firstIndex(of: "=") else {
                throw ConfigurationError("model '\(text)': expected option=value after ':', e.g. irnn:lr=1e-4")
            }
            let key = String(rest[..<eq])
            var valueEnd = rest.endIndex
            var search = rest.index(after: eq)
            while let c = rest[search...].firstIndex(of: ":") {
                let after = rest[rest.index(after: c)...]
                if let nextEq = after.firstIndex(of: "="), !after[..<nextEq].contains(":"),
                   Self.options.contains(String(after[..<nextEq])) {
                    valueEnd = c
                    break
                }
                search = rest.index(after: c)
            }
            options.append((key, String(rest[rest.index(after: eq)..<valueEnd])))
            rest = valueEnd == rest.endIndex ? rest[rest.endIndex...] : rest[rest.index(after: valueEnd)...]
        }
        return (name, options)
    }

    /// The models a grid entry stands for: `irnn:lr=1e-3|3e-4` is `irnn:lr=1e-3` and
    /// `irnn:lr=3e-4`; several options with alternatives give every combination, in the
    /// order written (the first option's values outermost). Without '|', one model.
    public static func alternatives(parsing text: String) throws(ConfigurationError) -> [ModelSpec] {
        let (name, options) = try split(text)
        var combinations: [[String: String]] = [[:]]
        for (key, written) in options {
            let values = written.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            if values.contains(where: \.isEmpty) {
                throw ConfigurationError("model '\(text)': \(key) has an empty alternative; write them as value|value, e.g. lr=1e-3|3e-4")
            }
            combinations = combinations.flatMap { partial in values.map { partial.merging([key: $0]) { _, new in new } } }
        }
        let specs = try combinations.map { overrides throws(ConfigurationError) -> ModelSpec in
            let spec = ModelSpec(name: name, overrides: overrides)
            try spec.check()
            return spec
        }
        guard Set(specs).count == specs.count else {
            throw ConfigurationError("model '\(text)': an alternative is repeated; each run of a grid must differ")
        }
        return specs
    }

    /// Checks the name and every override's value (numbers finite and in range, names
    /// known, specs parseable), so that `irnn:lr=abc` is refused when parsed instead of
    /// training at the default rate.
    func check() throws(ConfigurationError) {
        guard ModelPreset(rawValue: name) != nil else {
            throw ConfigurationError("unknown model '\(name)'. Accepted: \(ModelPreset.accepted), each optionally followed by :option=value")
        }
        for key in overrides.keys.sorted() {
            guard Self.options.contains(key) else {
                throw ConfigurationError("model '\(name)': unknown option '\(key)'. Accepted: \(Self.options.joined(separator: ", "))")
            }
            let text = overrides[key]!
            do throws(ConfigurationError) {
                switch key {
                case "activation": _ = try Activation(parsing: text)
                case "recurrent-init", "input-init": _ = try Initializer(parsing: text)
                case "optimizer": _ = try OptimizerKind(parsing: text)
                case "hidden", "layers": _ = try size(key)
                default:
                    let v = try number(key)
                    if let p = CellRegistry.hyperparameter(option: key), let v { try p.validate(v) }
                }
            } catch {
                throw ConfigurationError("model '\(self)': \(key)=\(text): \(error.message)")
            }
        }
    }

    /// The number override `key`, checked for its range: lr > 0, momentum in [0, 1),
    /// clip-norm >= 0 (0 = off); all finite and within Float32's range (a cell's
    /// hyper-parameter is then checked by its own domain).
    func number(_ key: String) throws(ConfigurationError) -> Double? {
        guard let text = overrides[key] else { return nil }
        guard let v = Double(text) else { throw ConfigurationError("'\(text)' is not a number") }
        try ParameterValue.float32(v, key)
        switch key {
        case "lr" where !(v > 0): throw ConfigurationError("\(key) must be positive, got \(v)")
        case "momentum" where !(v >= 0 && v < 1): throw ConfigurationError("momentum must be in [0, 1), got \(v)")
        case "clip-norm" where v < 0: throw ConfigurationError("clip-norm must be >= 0 (0 = off), got \(v)")
        default: return v
        }
    }

    /// The whole-number override `key` (hidden, layers) in 1...1_000_000, written `128`, `128.0` or `1e2`.
    func size(_ key: String) throws(ConfigurationError) -> Int? {
        guard let text = overrides[key] else { return nil }
        guard let v = Double(text), v == v.rounded(), v >= 1, v <= 1_000_000 else {
            throw ConfigurationError("'\(text)' is not a whole number in 1...1000000")
        }
        return Int(v)
    }

    /// This model's optimizer: `optimizer=`, `lr=`, `momentum=` and `clip-norm=` (0 turns
    /// clipping off) over `base`, the comparison's. The learning rate and the clipping carry
    /// over to another optimizer; momentum, Nesterov and weight decay only to the same one.
    public func optimizerSpec(over base: OptimizerSpec) throws(ConfigurationError) -> OptimizerSpec {
        var s = base
        if let text = overrides["optimizer"] {
            let kind = try OptimizerKind(parsing: text)
            if kind != base.kind {
                s = OptimizerSpec(kind: kind, learningRate: base.learningRate, clipNorm: base.clipNorm, clipValue: base.clipValue,
                                  schedule: base.schedule)
            }
        }
        if let lr = try number("lr") { s.learningRate = lr }
        if let m = try number("momentum") { s.momentum = m }
        if let c = try number("clip-norm") {
            s.clipNorm = c > 0 ? c : nil
            s.clipValue = nil
        }
        return s
    }

    public var description: String {
        ([name] + overrides.keys.sorted().map { "\($0)=\(overrides[$0]!)" }).joined(separator: ":")
    }

    /// A file-system-safe label.
    public var slug: String {
        String(description.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
    }

    /// The model's configuration for a task, with overrides applied over the preset.
    public func configuration(for task: any TrainingTask, hidden defaultHidden: Int = TrainingDefaults.hidden,
                              layers defaultLayers: Int = TrainingDefaults.layers) throws(ConfigurationError) -> ModelConfiguration {
        try check()
        let hidden = try size("hidden") ?? defaultHidden
        let layers = try size("layers") ?? defaultLayers
        var c = try ModelConfiguration.preset(name, inputSize: task.inputSize, hiddenSize: hidden, layers: layers,
                                              outputs: task.outputSize, readout: task.readout)
        if let a = overrides["activation"] { c.activation = try Activation(parsing: a) }
        if let r = overrides["recurrent-init"] { c.recurrentInit = try Initializer(parsing: r) }
        if let i = overrides["input-init"] { c.inputInit = try Initializer(parsing: i) }
        for p in CellRegistry.hyperparameters { if let v = try number(p.option) { c[p] = v } }
        try c.validate()
        return c
    }
}
