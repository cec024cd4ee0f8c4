import Foundation

// MARK: - Finite or nothing
//
// After every update the trainer checks its whole state: weights, optimizer buffers and
// the carried state. A NaN or infinity anywhere is a divergence, and the step is undone
// from a snapshot taken before it, so that a run only ever stops (and saves) with its last
// finite state: weights, optimizer state, generator and data position of the same step.

/// The trainer's state before a step, kept so that a step can be undone.
///
/// Weights and optimizer buffers are copied into buffers kept from step to step (a plain
/// copy, no allocation once the shapes have been seen); the generator, the step count,
/// the task (a value: its data position) and the carried state are values held as they
/// were.
struct TrainingSnapshot: Sendable {
    var taken = false
    var step = 0
    var rng = SeededGenerator(seed: 0)
    var task: (any TrainingTask)?
    var carried: RecurrentState<Float>?
    /// The parameters in `state_dict` order.
    var parameters: [[Float]] = []
    var optimizerStep = 0
    /// The optimizer's buffers, as `OptimizerState.slots`.
    var slots: [String: [Int: Matrix<Float>]] = [:]
    var slotCount = 0

    /// Copies `source` into `target`, reusing `target`'s storage when the sizes agree.
    static func copy(_ source: [Float], into target: inout [Float]) {
        guard target.count == source.count else {
            target = source.map { $0 }                           // a buffer of its own
            return
        }
        source.withUnsafeBufferPointer { from in
            target.withUnsafeMutableBufferPointer { to in
                guard let s = from.baseAddress, let d = to.baseAddress else { return }
                d.update(from: s, count: from.count)
            }
        }
    }

    mutating func capture<Cell: RecurrentCell>(_ trainer: Trainer<Cell>) where Cell.Scalar == Float {
        taken = true
        step = trainer.step
        rng = trainer.rng
        task = trainer.task
        carried = trainer.carried
        var i = 0
        func keep(_ values: [Float]) {
            if i == parameters.count { parameters.append([]) }
            Self.copy(values, into: &parameters[i])
            i += 1
        }
        for layer in trainer.model.layers {
            for m in layer.parameters.tensors { keep(m.storage) }
        }
        keep(trainer.model.head.weight.storage)
        keep(trainer.model.head.bias.storage)
        if parameters.count != i { parameters.removeLast(parameters.count - i) }

        let state = trainer.optimizer.state
        optimizerStep = state.step
        var count = 0
        for (name, buffers) in state.slots {
            for (index, m) in buffers {
                count += 1
                let fits = slots[name]?[index].map { $0.rows == m.rows && $0.cols == m.cols } ?? false
                if fits {
                    slots[name]?[index]?.storage.withUnsafeMutableBufferPointer { to in
                        m.storage.withUnsafeBufferPointer { from in
                            if let d = to.baseAddress, let s = from.baseAddress { d.update(from: s, count: from.count) }
                        }
                    }
                } else {
                    slots[name, default: [:]][index] = Matrix(rows: m.rows, cols: m.cols, m.storage.map { $0 })
                    slotCount += 1
                }
            }
        }
        if count != slotCount {                                  // buffers were dropped (a restored state): start over
            slots = state.slots.mapValues { $0.mapValues { Matrix(rows: $0.rows, cols: $0.cols, $0.storage.map { $0 }) } }
            slotCount = count
        }
    }

    func restore<Cell: RecurrentCell>(into trainer: inout Trainer<Cell>) where Cell.Scalar == Float {
        guard taken, let task else { return }
        trainer.step = step
        trainer.rng = rng
        trainer.task = task
        trainer.carried = carried
        var i = 0
        func put(_ target: inout [Float]) {
            Self.copy(parameters[i], into: &target)
            i += 1
        }
        for l in trainer.model.layers.indices {
            for k in trainer.model.layers[l].parameters.tensors.indices { put(&trainer.model.layers[l].parameters.tensors[k].storage) }
        }
        put(&trainer.model.head.weight.storage)
        put(&trainer.model.head.bias.storage)
        var state = OptimizerState<Float>()
        state.step = optimizerStep
        state.slots = slots
        trainer.optimizer.state = state
    }
}

extension Trainer {
    /// Every tensor of the trainer's state that holds NaN or ±infinity: the weights (under
    /// their `state_dict` names), the optimizer's buffers (`optimizer.<slot>.<parameter>`)
    /// and the carried state (`carried.h.l<k>`, `carried.c.l<k>`), named as in the
    /// checkpoint and its sidecar. Empty when all is finite (the common case costs one
    /// pass over the values and allocates nothing).
    public func nonFiniteState() -> [NonFiniteTensor] {
        var finite = true
        model.forEachParameterStorage { values in if finite && !allFinite(values) { finite = false } }
        let state = optimizer.state
        for (_, buffers) in state.slots where finite {
            for (_, m) in buffers where finite && !allFinite(m.storage) { finite = false }
        }
        for layer in carried?.layers ?? [] where finite {
            if !allFinite(layer.hidden.storage) || !allFinite(layer.memory.storage) { finite = false }
        }
        if finite { return [] }

        // Something is not finite: say what, in the files' names and order.
        var found: [NonFiniteTensor] = []
        var names: [String] = []
        model.forEachParameter { _, name, m in
            names.append(name)
            if let bad = NonFiniteTensor.scan(name, m.storage) { found.append(bad) }
        }
        for slot in state.slots.keys.sorted() {
            let buffers = state.slots[slot] ?? [:]
            for index in buffers.keys.sorted() {
                let name = "optimizer.\(slot).\(index < names.count ? names[index] : String(index))"
                if let m = buffers[index], let bad = NonFiniteTensor.scan(name, m.storage) { found.append(bad) }
            }
        }
        for (l, layer) in (carried?.layers ?? []).enumerated() {
            if let bad = NonFiniteTensor.scan("carried.h.l\(l)", layer.hidden.storage) { found.append(bad) }
            if let bad = NonFiniteTensor.scan("carried.c.l\(l)", layer.memory.storage) { found.append(bad) }
        }
        return found
    }

    /// Throws `NonFiniteTensorsError` when the state holds NaN or ±infinity: the check
    /// `TrainingCheckpoint.save` makes before writing anything to `url`.
    public func requireFiniteState(saving url: URL) throws(NonFiniteTensorsError) {
        let bad = nonFiniteState()
        if !bad.isEmpty { throw NonFiniteTensorsError(.saving, path: url.path, tensors: bad) }
    }
}

extension RecurrentModel {
    /// Visits every parameter's values in `state_dict` order, without building names.
    func forEachParameterStorage(_ body: ([Scalar]) -> Void) {
        for layer in layers {
            for m in layer.parameters.tensors { body(m.storage) }
        }
        body(head.weight.storage)
        body(head.bias.storage)
    }
}
