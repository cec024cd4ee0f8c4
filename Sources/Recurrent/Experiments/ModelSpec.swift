/// A model in a comparison: a preset name with per-model overrides, written
/// `name[:option=value[:option=value ...]]`, e.g. `irnn`, `irnn:lr=1e-4`,
/// `rnn-relu-gaussian:recurrent-init=gaussian:0.01` (an override's value may contain ':'
/// only as the last one), `lstm:hidden=128:forget-bias=1`.
///
/// Options: `lr`, `optimizer`, `clip-norm`, `hidden`, `layers`, `activation`,
/// `recurrent-init`, `input-init`, `momentum`, `forget-bias`, `bound` (IndRNN).
public struct ModelSpec: Sendable, Codable, Hashable, CustomStringConvertible {
    public var name: String
    public var overrides: [String: String]

    public static let options = ["lr", "optimizer", "clip-norm", "hidden", "layers", "activation", "recurrent-init",
                                 "input-init", "momentum", "forget-bias", "bound"]

    public init(name: String, overrides: [String: String] = [:]) {
        self.name = name
        self.overrides = overrides
    }

    /// Texts longer than ``ConfigurationError/maximumSpecLength`` are refused; every override's
    /// value is checked here (numbers finite, sizes whole and positive, names known), so that a
    /// comparison never starts with a model it cannot build.
    public init(parsing text: String) throws(ConfigurationError) {
        try ConfigurationError.checkLength(text, of: "model")
        var rest = Substring(text)
        guard let colon = rest.firstIndex(of: ":") else {
            self.init(name: text)
            try check()
            return
        }
        let name = String(rest[..<colon])
        rest = rest[rest.index(after: colon)...]
        var overrides: [String: String] = [:]
        while !rest.isEmpty {
            guard let eq = rest.firstIndex(of: "=") else {
                throw ConfigurationError("model '\(text)': expected option=value after ':', e.g. irnn:lr=1e-4")
            }
            let key = String(rest[..<eq])
            var valueEnd = rest.endIndex
            // the value runs to the next ":key=" (so values like gaussian:0.01 survive)
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
            overrides[key] = String(rest[rest.index(after: eq)..<valueEnd])
            rest = valueEnd == rest.endIndex ? rest[rest.endIndex...] : rest[rest.index(after: valueEnd)...]
        }
        self.init(name: name, overrides: overrides)
        try check()
    }

    func check() throws(ConfigurationError) {
        guard ModelConfiguration.presetNames.contains(name) else {
            throw ConfigurationError("unknown model '\(name)'. Accepted: \(ModelConfiguration.presetNames.joined(separator: ", ")), each optionally followed by :option=value")
        }
        for key in overrides.keys.sorted() {
            guard Self.options.contains(key) else {
                throw ConfigurationError("model '\(name)': unknown option '\(key)'. Accepted: \(Self.options.joined(separator: ", "))")
            }
            let value = overrides[key] ?? ""
            switch key {
            case "hidden", "layers": _ = try wholeNumber(key)
            case "lr", "clip-norm", "momentum", "forget-bias", "bound": _ = try number(key)
            case "activation": _ = try Activation(parsing: value)
            case "recurrent-init", "input-init": _ = try Initializer(parsing: value)
            case "optimizer":
                guard ["sgd", "rmsprop", "adam", "adamw"].contains(value.lowercased()) else {
                    throw ConfigurationError("model '\(name)': unknown optimizer '\(value)'. Accepted: sgd, rmsprop, adam, adamw.")
                }
            default: break
            }
        }
    }

    /// The override `key` as a finite number, or `nil` when it is not given.
    private func number(_ key: String) throws(ConfigurationError) -> Double? {
        guard let text = overrides[key] else { return nil }
        guard let value = Double(text), value.isFinite else {
            throw ConfigurationError("model '\(self)': \(key)=\(text) is not a finite number")
        }
        return value
    }

    /// The override `key` as a whole number in 1...1_000_000 (written `128`, `128.0` or `1e2`),
    /// or `nil` when it is not given.
    private func wholeNumber(_ key: String) throws(ConfigurationError) -> Int? {
        guard let text = overrides[key] else { return nil }
        guard let value = Double(text), value == value.rounded(), value >= 1, value <= 1_000_000 else {
            throw ConfigurationError("model '\(self)': \(key)=\(text) is not a whole number in 1...1000000")
        }
        return Int(value)
    }

    public var description: String {
        ([name] + overrides.keys.sorted().map { "\($0)=\(overrides[$0]!)" }).joined(separator: ":")
    }

    /// A file-system-safe label.
    public var slug: String {
        String(description.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
    }

    /// The model's configuration for a task, with overrides applied over the preset.
    public func configuration(for task: any TrainingTask, hidden defaultHidden: Int) throws(ConfigurationError) -> ModelConfiguration {
        let hidden = try wholeNumber("hidden") ?? defaultHidden
        let layers = try wholeNumber("layers") ?? 1
        var c = try ModelConfiguration.preset(name, inputSize: task.inputSize, hiddenSize: hidden, layers: layers,
                                              outputs: task.outputSize, readout: task.readout)
        if let a = overrides["activation"] { c.activation = try Activation(parsing: a) }
        if let r = overrides["recurrent-init"] { c.recurrentInit = try Initializer(parsing: r) }
        if let i = overrides["input-init"] { c.inputInit = try Initializer(parsing: i) }
        if let f = try number("forget-bias") { c.forgetGateBias = f }
        if let b = try number("bound") { c.recurrentBound = b }
        try c.validate()
        return c
    }
}
