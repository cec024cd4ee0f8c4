/// How a weight matrix or bias starts. Given separately for the input matrix U
/// (`weight_ih`), the recurrent matrix W (`weight_hh`) and the biases.
///
/// On a fused gated matrix ([G*H, n] for LSTM and GRU) `identity` and `orthogonal`
/// apply to each gate block [H, n] separately, and the fans of `xavier` and `he` are
/// those of one block. On a non-square block `identity` is the zero-padded eye
/// (ones on the main diagonal, zeros elsewhere), like PyTorch's `nn.init.eye_`.
public enum Initializer: Sendable, Hashable, Codable {
    /// All zeros.
    case zeros
    /// Every entry `value`.
    case constant(Double)
    /// `scale * I`. IRNN uses 1 (Le et al. 2015); their "iRNN" variant 0.01.
    case identity(scale: Double)
    /// Entries ~ N(0, std^2).
    case gaussian(std: Double)
    /// Entries ~ U(-bound, bound).
    case uniform(bound: Double)
    /// Glorot & Bengio (2010) uniform: bound = gain * sqrt(6 / (fan_in + fan_out)).
    case xavier(gain: Double)
    /// He et al. (2015) normal: std = sqrt(2 / fan_in) (PyTorch `kaiming_normal_`, relu).
    case he
    /// A (semi-)orthogonal matrix times `gain`: QR of a Gaussian matrix with the signs
    /// of R's diagonal folded into Q (Saxe et al. 2014; PyTorch `orthogonal_`).
    case orthogonal(gain: Double)
    /// npRNN (Talathi & Vartak 2016): W = (RᵀR / N + I) / λ_max with R ~ N(0, 1) [N, N],
    /// a positive definite matrix whose largest eigenvalue is exactly 1.
    case npRNN
    /// PyTorch's default for recurrent layers: U(-1/sqrt(H), 1/sqrt(H)), H the hidden
    /// size (one gate block's rows); for `nn.Linear`, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    case pytorchDefault

    // MARK: - Drawing

    /// A [rows, cols] matrix made of `blocks` gate blocks of [rows / blocks, cols].
    /// `fanIn` overrides the fan used by `pytorchDefault` (the Linear layer's input size).
    public func matrix<T: NeuralScalar>(rows: Int, cols: Int, blocks: Int = 1, using rng: inout some RandomNumberGenerator,
                                        as _: T.Type = T.self) -> Matrix<T> {
        precondition(blocks >= 1 && rows % blocks == 0, "Initializer: \(rows) rows do not split into \(blocks) gate blocks")
        let blockRows = rows / blocks
        var values = [Double]()
        values.reserveCapacity(rows * cols)
        for _ in 0..<blocks { values += block(rows: blockRows, cols: cols, using: &rng) }
        return Matrix(rows: rows, cols: cols, values.map { T($0) })
    }

    /// One [rows, cols] block, row-major, in Double.
    func block(rows: Int, cols: Int, using rng: inout some RandomNumberGenerator) -> [Double] {
        let n = rows * cols
        switch self {
        case .zeros:
            return Array(repeating: 0, count: n)
        case .constant(let v):
            return Array(repeating: v, count: n)
        case .identity(let scale):
            var out = Array(repeating: 0.0, count: n)
            for i in 0..<min(rows, cols) { out[i * cols + i] = scale }
            return out
        case .gaussian(let std):
            return (0..<n).map { _ in std * Draw.gaussian(&rng) }
        case .uniform(let bound):
            return (0..<n).map { _ in Draw.uniform(-bound, bound, &rng) }
        case .xavier(let gain):
            let bound = gain * (6.0 / Double(max(1, rows + cols))).squareRoot()
            return (0..<n).map { _ in Draw.uniform(-bound, bound, &rng) }
        case .he:
            let std = (2.0 / Double(max(1, cols))).squareRoot()
            return (0..<n).map { _ in std * Draw.gaussian(&rng) }
        case .orthogonal(let gain):
            let g = (0..<n).map { _ in Draw.gaussian(&rng) }
            return LinearAlgebra.orthogonal(rows: rows, cols: cols, gaussian: g).map { gain * $0 }
        case .npRNN:
            // R [N, N] with N = cols; A = RᵀR / N + I, then A / λ_max(A). For a non-square
            // block the top-left min(rows, cols) part of A is used.
            let size = cols
            let r = (0..<(size * size)).map { _ in Draw.gaussian(&rng) }
            var a = LinearAlgebra.matmul(LinearAlgebra.transpose(r, rows: size, cols: size), r, m: size, k: size, n: size)
            for i in 0..<(size * size) { a[i] /= Double(size) }
            for i in 0..<size { a[i * size + i] += 1 }
            let lambdaMax = LinearAlgebra.symmetricEigenvalues(a, n: size).first ?? 1
            var out = Array(repeating: 0.0, count: n)
            for i in 0..<min(rows, size) { for j in 0..<cols { out[i * cols + j] = a[i * size + j] / lambdaMax } }
            return out
        case .pytorchDefault:
            let bound = 1 / Double(max(1, rows)).squareRoot()
            return (0..<n).map { _ in Draw.uniform(-bound, bound, &rng) }
        }
    }

    // MARK: - Text form (shared by `train`, `diagnose` and presets)

    /// Parses `identity`, `identity:0.5`, `gaussian:0.01` (entry standard deviation),
    /// `uniform:0.1`, `xavier`, `xavier:2`, `he`, `orthogonal`, `orthogonal:1.2`, `nprnn`,
    /// `zeros`, `constant:0.5`, `default` (PyTorch's).
    /// Texts longer than ``ConfigurationError/maximumSpecLength`` and non-finite numbers are refused.
    public init(parsing text: String) throws(ConfigurationError) {
        try ConfigurationError.checkLength(text, of: "initializer")
        let parts = text.lowercased().split(separator: ":", maxSplits: 1).map(String.init)
        guard let head = parts.first else { throw ConfigurationError("empty initializer. \(Self.accepted)") }
        var number: Double?
        if parts.count == 2 {
            guard let v = Double(parts[1]) else {
                throw ConfigurationError("initializer '\(text)': '\(parts[1])' is not a number. \(Self.accepted)")
            }
            number = try ParameterValue.float32(v, "the number of initializer '\(text)'")
        }
        func needs(_ name: String) throws(ConfigurationError) -> Double {
            guard let v = number else { throw ConfigurationError("initializer '\(name)' needs a number, e.g. '\(name):0.01'. \(Self.accepted)") }
            return v
        }
        func takesNone() throws(ConfigurationError) {
            if number != nil { throw ConfigurationError("initializer '\(head)' takes no number. \(Self.accepted)") }
        }
        switch head {
        case "identity", "eye": self = .identity(scale: number ?? 1)
        case "gaussian", "normal": self = .gaussian(std: try needs("gaussian"))
        case "uniform": self = .uniform(bound: try needs("uniform"))
        case "xavier", "glorot": self = .xavier(gain: number ?? 1)
        case "he", "kaiming": try takesNone(); self = .he
        case "orthogonal": self = .orthogonal(gain: number ?? 1)
        case "nprnn": try takesNone(); self = .npRNN
        case "zeros", "zero": try takesNone(); self = .zeros
        case "constant": self = .constant(try needs("constant"))
        case "default", "pytorch": try takesNone(); self = .pytorchDefault
        default: throw ConfigurationError("unknown initializer '\(text)'. \(Self.accepted)")
        }
        try validate()
    }

    /// Throws when the number inside is not usable: NaN, infinite, too large for Float32
    /// weights (see `ParameterValue.float32Limit`), or a negative std or bound. Parsing
    /// calls it; so does `ModelConfiguration.validate()` for configurations read from files.
    public func validate() throws(ConfigurationError) {
        switch self {
        case .constant(let v): try ParameterValue.float32(v, "constant initializer value")
        case .identity(let s): try ParameterValue.float32(s, "identity initializer scale")
        case .gaussian(let s):
            try ParameterValue.float32(s, "gaussian initializer std")
            if s < 0 { throw ConfigurationError("gaussian std must be >= 0, got \(s)") }
        case .uniform(let b):
            try ParameterValue.float32(b, "uniform initializer bound")
            if b < 0 { throw ConfigurationError("uniform bound must be >= 0, got \(b)") }
        case .xavier(let g): try ParameterValue.float32(g, "xavier initializer gain")
        case .orthogonal(let g): try ParameterValue.float32(g, "orthogonal initializer gain")
        case .zeros, .he, .npRNN, .pytorchDefault: break
        }
    }

    /// The text form that `init(parsing:)` reads back.
    public var name: String {
        switch self {
        case .zeros: return "zeros"
        case .constant(let v): return "constant:\(v)"
        case .identity(let s): return s == 1 ? "identity" : "identity:\(s)"
        case .gaussian(let s): return "gaussian:\(s)"
        case .uniform(let b): return "uniform:\(b)"
        case .xavier(let g): return g == 1 ? "xavier" : "xavier:\(g)"
        case .he: return "he"
        case .orthogonal(let g): return g == 1 ? "orthogonal" : "orthogonal:\(g)"
        case .npRNN: return "nprnn"
        case .pytorchDefault: return "default"
        }
    }

    public static let accepted = "Accepted forms: identity, identity:SCALE, gaussian:STD, uniform:BOUND, xavier[:GAIN], he, orthogonal[:GAIN], nprnn, zeros, constant:VALUE, default."
}
