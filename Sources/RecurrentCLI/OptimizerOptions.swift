import ArgumentParser
import Recurrent

/// Optimizer options (PyTorch's names and defaults where an option is not given): the same
/// for `train` and `compare` (where a model's `optimizer=`, `lr=`, `momentum=`, `clip-norm=`
/// override them).
struct OptimizerOptions: ParsableArguments {
    @Option(help: "\(OptimizerKind.help). (default: \(TrainingDefaults.optimizer))")
    var optimizer: OptimizerKind?

    @Option(help: "Learning rate (default: the optimizer's; sgd needs it).")
    var lr: Double?

    @Option(help: "Momentum for sgd and rmsprop (default: 0).")
    var momentum: Double?

    @Flag(help: "Nesterov momentum (sgd).")
    var nesterov = false

    @Option(name: .customLong("weight-decay"), help: "L2 weight decay (adamw: decoupled, default \(OptimizerKind.adamw.defaultWeightDecay); others 0).")
    var weightDecay: Double?

    @Option(name: .customLong("clip-norm"), help: "Rescale the gradient when its global norm exceeds this (default: \(Remedy.number(TrainingDefaults.clipNorm)); 0 turns clipping off).")
    var clipNorm: Double?

    @Option(name: .customLong("clip-value"), help: "Clip every gradient element to [-v, v] (instead of --clip-norm).")
    var clipValue: Double?

    @Option(help: "Learning-rate schedule, as PyTorch's: constant, step:EVERY:FACTOR (StepLR), cosine, cosine:MIN (CosineAnnealingLR), exponential:GAMMA (ExponentialLR), plateau:PATIENCE:FACTOR (ReduceLROnPlateau on the validation metric, else test; needs --eval-every), each optionally after a linear warm-up warmup:N[:START] (LinearLR, START default 1/3), e.g. warmup:500,cosine. (default: \(TrainingDefaults.schedule))")
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

    /// Explicit options over `stored` over the defaults (`OptimizerSpec()`): the learning rate,
    /// momentum, Nesterov and weight decay of a stored spec carry over only to the same optimizer.
    func spec(over stored: OptimizerSpec?) -> OptimizerSpec {
        let kind = optimizer ?? stored?.kind ?? TrainingDefaults.optimizer
        let base = stored?.kind == kind ? stored : nil
        var s = OptimizerSpec(kind: kind, learningRate: lr ?? base?.learningRate, momentum: momentum ?? base?.momentum,
                              nesterov: nesterov || (base?.nesterov ?? false), weightDecay: weightDecay ?? base?.weightDecay,
                              clipNorm: nil, clipValue: nil, schedule: schedule ?? stored?.schedule ?? TrainingDefaults.schedule)
        if let v = clipValue {
            s.clipValue = v
        } else if let c = clipNorm {
            s.clipNorm = c > 0 ? c : nil
        } else if let stored {
            s.clipNorm = stored.clipNorm
            s.clipValue = stored.clipValue
        } else {
            s.clipNorm = TrainingDefaults.clipNorm
        }
        return s
    }
}
