/// An update rule. Optimizers are values: the state they keep (momentum buffers,
/// moment estimates) lives in the struct, per parameter index in `state_dict` order,
/// and is saved with checkpoints so that a resumed run continues bit for bit.
public protocol Optimizer<Scalar>: Sendable {
    associatedtype Scalar: NeuralScalar
    /// The current learning rate (a schedule sets it before each step).
    var learningRate: Double { get set }
    /// The per-parameter buffers and the step counter.
    var state: OptimizerState<Scalar> { get set }
    /// Updates one parameter in place from its gradient.
    mutating func update(_ parameter: inout Matrix<Scalar>, gradient: Matrix<Scalar>, index: Int)
}

/// The buffers an optimizer keeps: `slots[name][index]` is the buffer `name` of
/// parameter `index` (e.g. "exp_avg" of `rnn.weight_hh_l0`), created on first use.
public struct OptimizerState<Scalar: NeuralScalar>: Sendable, Equatable {
    /// Completed steps (Adam's t after the update).
    public var step: Int = 0
    public var slots: [String: [Int: Matrix<Scalar>]] = [:]
    public init() {}

    /// The buffer `name` of parameter `index`, zeros of `shape` when first asked for.
    @inlinable
    public mutating func buffer(_ name: String, _ index: Int, like parameter: Matrix<Scalar>) -> Matrix<Scalar> {
        if let b = slots[name]?[index] { return b }
        return parameter.zerosLike
    }

    public mutating func set(_ name: String, _ index: Int, _ value: Matrix<Scalar>) {
        slots[name, default: [:]][index] = value
    }

    /// Removes the buffer `name` of parameter `index` and returns it (zeros of `shape` when
    /// there is none yet): the caller then holds the only reference, updates it in place
    /// without a copy, and puts it back with `set`.
    @inlinable
    public mutating func take(_ name: String, _ index: Int, like parameter: Matrix<Scalar>) -> Matrix<Scalar> {
        slots[name]?.removeValue(forKey: index) ?? parameter.zerosLike
    }
}

/// Stops with a message when an optimizer's gradient or state buffers do not have the
/// parameter's size: the updates run over raw buffers, where a mismatch would read and
/// write out of bounds (the checked subscripts they replace stopped the same way).
@inlinable
func requireSameShape<Scalar>(_ parameter: Matrix<Scalar>, _ others: Matrix<Scalar>...) {
    for m in others {
        precondition(m.count == parameter.count,
                     "optimizer: a gradient or state buffer of \(m.count) values for a parameter of \(parameter.count)")
    }
}

extension RecurrentModel {
    /// One optimizer step: every parameter updated from its gradient in `state_dict`
    /// order (the optimizer's parameter index), each layer's constraints applied after its
    /// tensors, as `updateEachParameter` does; written out without its names and key
    /// paths, which cost more than a small model's update.
    public mutating func apply(_ gradients: ModelGradients<Scalar>, using optimizer: inout some Optimizer<Scalar>) {
        precondition(gradients.layers.count == layers.count, "gradients of \(gradients.layers.count) layers for a model of \(layers.count)")
        optimizer.state.step += 1
        var i = 0
        for l in layers.indices {
            let g = gradients.layers[l]
            for k in g.tensors.indices {
                optimizer.update(&layers[l].parameters.tensors[k], gradient: g.tensors[k], index: i)
                i += 1
            }
            layers[l].applyConstraints()
        }
        optimizer.update(&head.weight, gradient: gradients.head.weight, index: i)
        optimizer.update(&head.bias, gradient: gradients.head.bias, index: i + 1)
    }
}
