/// A step that produced a non-finite loss, gradient, weight, optimizer buffer or carried
/// state: what happened, where, and what to try (`remedies`). The step was undone: the
/// trainer holds the last finite state (after step `step - 1`), and a run saves that state.
public struct TrainingDivergence: AdvisedError, Sendable {
    /// What was not finite.
    public enum Cause: Sendable, Equatable {
        /// The loss of the step's batch.
        case loss
        /// The gradient of this parameter (`state_dict` name).
        case gradient(parameter: String)
        /// After the update: weights, optimizer buffers or the carried state, named as in
        /// the checkpoint and its sidecar (`rnn.weight_hh_l0`, `optimizer.exp_avg_sq.head.bias`, `carried.h.l0`).
        case state([NonFiniteTensor])
    }

    /// The step that diverged (1-based); the state kept is the one after `step - 1`.
    public var step: Int
    public var cause: Cause
    /// The first time step (1-based) at which max |h_t| exceeded 1e6 or stopped being
    /// finite in that batch, or nil when the state stayed bounded.
    public var explodedAtTimeStep: Int?
    public var maxAbsHidden: Double
    /// The recurrent matrix's spectral radius (first layer) in the state kept, when known.
    public var spectralRadius: Double?
    /// Where the last finite state was saved, or nil when it was not (the trainer holds it).
    public var checkpoint: String?
    /// The run up to the last finite step (its last training batch, evaluations, best), as
    /// `Trainer.run` had it when the step diverged; set by `run`.
    public var summary: TrainingSummary?

    public init(step: Int, cause: Cause, explodedAtTimeStep: Int?, maxAbsHidden: Double,
                spectralRadius: Double? = nil, checkpoint: String? = nil) {
        self.step = step
        self.cause = cause
        self.explodedAtTimeStep = explodedAtTimeStep
        self.maxAbsHidden = maxAbsHidden
        self.spectralRadius = spectralRadius
        self.checkpoint = checkpoint
    }

    /// The step whose state was kept: the last finite one.
    public var keptStep: Int { step - 1 }

    /// The parameter whose gradient went non-finite, when that was the cause.
    public var parameter: String? {
        if case .gradient(let p) = cause { return p }
        return nil
    }

    /// What diverged, where, and where the last finite state is.
    public var problem: String {
        var s = "training diverged at step \(step): "
        switch cause {
        case .loss: s += "the loss is not finite"
        case .gradient(let p): s += "the gradient of \(p) is not finite"
        case .state(let tensors):
            s += "the update left NaN or infinite values in \(NonFiniteTensorsError.list(tensors, limit: 4))"
        }
        if let t = explodedAtTimeStep {
            s += "; the hidden state exploded at time step \(t) (max |h| = \(NumberText.scientific(maxAbsHidden)))"
        } else {
            s += "; the hidden state stayed bounded (max |h| = \(NumberText.scientific(maxAbsHidden)))"
            switch cause {
            case .gradient: s += ", so the blow-up is in the gradient"
            case .state: s += ", so the blow-up is in the update (learning rate times gradient, or an optimizer buffer, beyond Float32)"
            case .loss: break
            }
        }
        if let r = spectralRadius { s += "; spectral radius of W is \(NumberText.fixed(r, digits: 3))" }
        let kept = "the last finite state (step \(keptStep): weights, optimizer state, generator and data position)"
        s += ". " + (checkpoint.map { "\(kept.prefix(1).uppercased() + kept.dropFirst()) is in \($0)" }
                     ?? "The trainer holds \(kept)")
        return s
    }

    /// What to change before training on from the kept state.
    public var remedies: [Remedy] {
        [.lowerLearningRate(factor: 10), .clipGradients(norm: 1), .useIdentityInit, .boundedActivation("clipped_relu:6")]
    }
}
