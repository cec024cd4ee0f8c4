/// The hidden-unit nonlinearity f in h_t = f(net_t) (equation 10.10 of the seed note).
///
/// Each case gives the value f(x) and the derivative f'(x). At kinks the derivative
/// follows PyTorch's autograd, so that gradients match a PyTorch model bit for bit in
/// intent: relu'(0) = 0, leakyRelu'(0) = slope, clippedRelu'(0) = clippedRelu'(max) = 0.
///
/// NaN propagates as in PyTorch: f(NaN) = NaN for every case (a comparison-based
/// `x > 0 ? x : 0` would turn it into 0 and hide a diverged model). f'(NaN) is PyTorch's
/// backward: relu and clipped relu pass the gradient through (threshold_backward and
/// hardtanh_backward test `x <= 0`), leaky relu scales it by the slope, the smooth
/// cases give NaN.
public enum Activation: Sendable, Hashable, Codable, CaseIterable {
    /// max(0, x). The IRNN's nonlinearity (Le, Jaitly & Hinton 2015). f'(0) = 0.
    /// Written `x < 0 ? 0 : x`, the fast kernels' `max_ps(0, x)`: NaN and -0.0 pass unchanged.
    case relu
    /// tanh(x); f'(x) = 1 - tanh(x)^2.
    case tanh
    /// 1 / (1 + e^-x); f'(x) = s (1 - s).
    case sigmoid
    /// x (a linear RNN); f'(x) = 1.
    case identity
    /// x for x > 0, slope * x otherwise; f'(0) = slope.
    case leakyRelu(slope: Double)
    /// min(max(0, x), max): the "truncated ReLU" that bounds an exploding ReLU RNN
    /// (PyTorch's hardtanh(0, max); ReLU6 for max = 6). f'(x) = 1 on (0, max), 0 elsewhere.
    case clippedRelu(max: Double)
    /// ln(1 + e^x), a smooth ReLU; f'(x) = sigmoid(x).
    case softplus

    public static let allCases: [Activation] = [
        .relu, .tanh, .sigmoid, .identity, .leakyRelu(slope: 0.01), .clippedRelu(max: 6), .softplus,
    ]

    /// f(x)
    @inlinable
    public func value<T: NeuralScalar>(_ x: T) -> T {
        switch self {
        case .relu: return x < 0 ? 0 : x
        case .tanh: return T.tanh(x)
        case .sigmoid: return sigmoidValue(x)
        case .identity: return x
        case .leakyRelu(let slope): return x > 0 ? x : T(slope) * x
        case .clippedRelu(let maximum): return Swift.min(Swift.max(x, 0), T(maximum))   // NaN stays NaN
        case .softplus:
            // ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|), stable for large |x|.
            return Swift.max(x, 0) + T.log1p(T.exp(-Swift.abs(x)))
        }
    }

    /// f'(x), given the input x and the output y = f(x) (whichever is cheaper is used).
    @inlinable
    public func derivative<T: NeuralScalar>(input x: T, output y: T) -> T {
        switch self {
        case .relu: return x <= 0 ? 0 : 1
        case .tanh: return 1 - y * y
        case .sigmoid: return y * (1 - y)
        case .identity: return 1
        case .leakyRelu(let slope): return x > 0 ? 1 : T(slope)
        case .clippedRelu(let maximum): return (x <= 0 || x >= T(maximum)) ? 0 : 1
        case .softplus: return sigmoidValue(x)
        }
    }

    /// The name used on the command line and in checkpoint metadata.
    public var name: String {
        switch self {
        case .relu: return "relu"
        case .tanh: return "tanh"
        case .sigmoid: return "sigmoid"
        case .identity: return "identity"
        case .leakyRelu(let slope): return "leaky_relu:\(slope)"
        case .clippedRelu(let maximum): return "clipped_relu:\(maximum)"
        case .softplus: return "softplus"
        }
    }

    /// Parses `relu`, `tanh`, `sigmoid`, `identity` (or `linear`), `leaky_relu[:slope]`
    /// (default 0.01), `clipped_relu[:max]` (default 6), `softplus`.
    /// Texts longer than ``ConfigurationError/maximumSpecLength`` and non-finite numbers are refused.
    public init(parsing text: String) throws(ConfigurationError) {
        try ConfigurationError.checkLength(text, of: "activation")
        let parts = text.lowercased().split(separator: ":", maxSplits: 1).map(String.init)
        let head = String((parts.first ?? "").map { $0 == "-" ? "_" : $0 })
        let number = parts.count > 1 ? Double(parts[1]) : nil
        if parts.count > 1 && number == nil {
            throw ConfigurationError("activation '\(text)': '\(parts[1])' is not a number. \(Self.accepted)")
        }
        switch head {
        case "relu": self = .relu
        case "tanh": self = .tanh
        case "sigmoid": self = .sigmoid
        case "identity", "linear": self = .identity
        case "leaky_relu", "leakyrelu": self = .leakyRelu(slope: number ?? 0.01)
        case "clipped_relu", "clippedrelu": self = .clippedRelu(max: number ?? 6)
        case "softplus": self = .softplus
        default: throw ConfigurationError("unknown activation '\(text)'. \(Self.accepted)")
        }
        switch self {
        case .leakyRelu, .clippedRelu: break
        default:
            if parts.count > 1 { throw ConfigurationError("activation '\(head)' takes no number. \(Self.accepted)") }
        }
        do { try validate() } catch { throw ConfigurationError("activation '\(text)': \(error.message). \(Self.accepted)") }
    }

    /// Throws when the number inside is not usable: a NaN, infinite or (for Float32) too
    /// large slope, or a clipped ReLU maximum that is not positive. Parsing calls it; so
    /// does `ModelConfiguration.validate()` for configurations read from files.
    public func validate() throws(ConfigurationError) {
        switch self {
        case .leakyRelu(let slope): try ParameterValue.float32(slope, "the leaky_relu slope")
        case .clippedRelu(let maximum):
            try ParameterValue.float32(maximum, "the clipped_relu maximum")
            if !(maximum > 0) { throw ConfigurationError("the clipped_relu maximum must be positive, got \(maximum)") }
        case .relu, .tanh, .sigmoid, .identity, .softplus: break
        }
    }

    static let accepted = "Accepted: relu, tanh, sigmoid, identity, leaky_relu[:slope], clipped_relu[:max], softplus."
}

@inlinable
func sigmoidValue<T: NeuralScalar>(_ x: T) -> T {
    // Stable on both sides: never exponentiates a large positive number.
    if x >= 0 { return 1 / (1 + T.exp(-x)) }
    let e = T.exp(x)
    return e / (1 + e)
}
