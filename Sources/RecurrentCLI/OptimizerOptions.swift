import ArgumentParser
import Recurrent

/// `--optimizer`.
enum OptimizerName: String, ExpressibleByArgument, CaseIterable, Codable, Sendable {
    case sgd, rmsprop, adam, adamw
}

/// The optimizer, its schedule and gradient clipping, as stored in checkpoints.
struct OptimizerSpec: Codable, Equatable, Sendable {
    var optimizer: OptimizerName
    var learningRate: Double?
    var momentum: Double?
    var nesterov: Bool
    var weightDecay: Double?
    var clipNorm: Double?
    var clipValue: Double?
    var schedule: String

    func choice() throws -> OptimizerChoice<Float> {
        do {
            return try OptimizerChoice(name: optimizer.rawValue, learningRate: learningRate, momentum: momentum,
                                       nesterov: nesterov, weightDecay: weightDecay)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

/// Optimizer options (PyTorch's names and defaults where an option is not given).
struct OptimizerOptions: ParsableArguments {
    @Option(help: "sgd, rmsprop, adam or adamw. (default: adam)")
    var optimizer: OptimizerName?

    @Option(help: "Learning rate (default: adam/adamw 0.001, rmsprop 0.01; sgd needs it).")
    var lr: Double?

    @Option(help: "Momentum for sgd and rmsprop (default: 0).")
    var momentum: Double?

    @Flag(help: "Nesterov momentum (sgd).")
    var nesterov = false

    @Option(name: .customLong("weight-decay"), help: "L2 weight decay (adamw: decoupled, default 0.01; others 0).")
    var weightDecay: Double?

    @Option(name: .customLong("clip-norm"), help: "Rescale the gradient when its global norm exceeds this (default: 1; 0 turns clipping off).")
    var clipNorm: Double?

    @Option(name: .customLong("clip-value"), help: "Clip every gradient element to [-v, v] (instead of --clip-norm).")
    var clipValue: Double?

    @Option(help: "Learning-rate schedule: constant, step:EVERY:FACTOR, cosine, cosine:MIN. (default: constant)")
    var schedule: String?

    func validate() throws {
        if let r = lr, !(r > 0 && r.isFinite) { throw ValidationError("--lr must be a finite positive number, got \(r)") }
        if let m = momentum, !(m >= 0 && m < 1) { throw ValidationError("--momentum must be in [0, 1), got \(m)") }
        if let w = weightDecay, !(w >= 0 && w.isFinite) { throw ValidationError("--weight-decay must be a finite number >= 0, got \(w)") }
        if let c = clipNorm, !(c >= 0 && c.isFinite) { throw ValidationError("--clip-norm must be a finite number >= 0 (0 = off), got \(c)") }
        if let c = clipValue, !(c > 0 && c.isFinite) { throw ValidationError("--clip-value must be a finite positive number, got \(c)") }
        if let s = schedule {
            do { _ = try LearningRateSchedule(parsing: s, totalSteps: 1) } catch { throw ValidationError("--schedule: \(error)") }
        }
        if let c = clipNorm, c > 0, clipValue != nil { throw ValidationError("--clip-norm and --clip-value exclude each other; pass one") }
    }

    /// Explicit options over `stored` over the defaults.
    func spec(over stored: OptimizerSpec?) -> OptimizerSpec {
        let name = optimizer ?? stored?.optimizer ?? .adam
        let base = stored?.optimizer == name ? stored : nil
        var s = OptimizerSpec(optimizer: name, learningRate: lr ?? base?.learningRate, momentum: momentum ?? base?.momentum,
                              nesterov: nesterov || (base?.nesterov ?? false), weightDecay: weightDecay ?? base?.weightDecay,
                              clipNorm: nil, clipValue: nil, schedule: schedule ?? stored?.schedule ?? "constant")
        if let v = clipValue {
            s.clipValue = v
        } else if let c = clipNorm {
            s.clipNorm = c > 0 ? c : nil
        } else if let stored {
            s.clipNorm = stored.clipNorm
            s.clipValue = stored.clipValue
        } else {
            s.clipNorm = 1
        }
        return s
    }
}
