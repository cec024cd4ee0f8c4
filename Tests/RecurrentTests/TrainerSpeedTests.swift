import Testing
@testable import Recurrent

/// The speed work on the trainer's step changed how things are computed, never what: the
/// optimizers' Float loops over raw buffers give the bits of the element-wise code they
/// replaced (kept below as the reference), their state buffers are updated in place, the
/// bit-pattern statistics of logged steps equal the Double scans they replaced (NaN, ±inf,
/// ±0 included), and the peer benchmark draws its adding-problem batches from
/// `AddingProblem`.
@Suite("Trainer speed: same bits, less work")
struct TrainerSpeedTests {
    // MARK: - Optimizers: the reference is the element-wise code before the change

    /// The element-wise updates as they were written before the raw-buffer loops (same
    /// operations, same order), on Float.
    enum Reference {
        static func sgd(_ o: SGD<Float>, _ state: inout OptimizerState<Float>, _ parameter: inout Matrix<Float>,
                        _ gradient: Matrix<Float>, _ index: Int) {
            let lr = Float(o.learningRate), mu = Float(o.momentum), wd = Float(o.weightDecay), damp = Float(1 - o.dampening)
            var g = gradient
            if o.weightDecay != 0 { for i in g.storage.indices { g.storage[i] += wd * parameter.storage[i] } }
            if o.momentum != 0 {
                var buf: Matrix<Float>
                if let existing = state.slots["momentum_buffer"]?[index] {
                    buf = existing
                    for i in buf.storage.indices { buf.storage[i] = mu * buf.storage[i] + damp * g.storage[i] }
                } else {
                    buf = g
                }
                state.set("momentum_buffer", index, buf)
                if o.nesterov {
                    for i in g.storage.indices { g.storage[i] += mu * buf.storage[i] }
                } else {
                    g = buf
                }
            }
            for i in parameter.storage.indices { parameter.storage[i] -= lr * g.storage[i] }
        }

        static func rmsprop(_ o: RMSProp<Float>, _ state: inout OptimizerState<Float>, _ parameter: inout Matrix<Float>,
                            _ gradient: Matrix<Float>, _ index: Int) {
            let a = Float(o.alpha), eps = Float(o.epsilon), lr = Float(o.learningRate), wd = Float(o.weightDecay), mu = Float(o.momentum)
            var v = state.buffer("square_avg", index, like: parameter)
            var gAvg = o.centered ? state.buffer("grad_avg", index, like: parameter) : parameter.zerosLike
            var buf = o.momentum > 0 ? state.buffer("momentum_buffer", index, like: parameter) : parameter.zerosLike
            for i in parameter.storage.indices {
                let g = gradient.storage[i] + wd * parameter.storage[i]
                v.storage[i] = a * v.storage[i] + (1 - a) * g * g
                var avg: Float
                if o.centered {
                    gAvg.storage[i] = a * gAvg.storage[i] + (1 - a) * g
                    avg = (v.storage[i] - gAvg.storage[i] * gAvg.storage[i]).squareRoot() + eps
                } else {
                    avg = v.storage[i].squareRoot() + eps
                }
                if o.momentum > 0 {
                    buf.storage[i] = mu * buf.storage[i] + g / avg
                    parameter.storage[i] -= lr * buf.storage[i]
                } else {
                    parameter.storage[i] -= lr * g / avg
                }
            }
            state.set("square_avg", index, v)
            if o.centered { state.set("grad_avg", index, gAvg) }
            if o.momentum > 0 { state.set("momentum_buffer", index, buf) }
        }

        static func adam(_ o: Adam<Float>, _ state: inout OptimizerState<Float>, _ parameter: inout Matrix<Float>,
                         _ gradient: Matrix<Float>, _ index: Int) {
            let t = Double(max(1, state.step))
            let stepSize = Float(o.learningRate / (1 - Double.power(o.beta1, t)))
            let correction2 = Float((1 - Double.power(o.beta2, t)).squareRoot())
            let b1 = Float(o.beta1), b2 = Float(o.beta2), eps = Float(o.epsilon), wd = Float(o.weightDecay)
            let decay = Float(1 - o.learningRate * o.weightDecay)
            var m = state.buffer("exp_avg", index, like: parameter)
            var v = state.buffer("exp_avg_sq", index, like: parameter)
            for i in parameter.storage.indices {
                var g = gradient.storage[i]
                if o.decoupledWeightDecay { parameter.storage[i] *= decay } else if o.weightDecay != 0 { g += wd * parameter.storage[i] }
                m.storage[i] = b1 * m.storage[i] + (1 - b1) * g
                v.storage[i] = b2 * v.storage[i] + (1 - b2) * g * g
                let denom = v.storage[i].squareRoot() / correction2 + eps
                parameter.storage[i] -= stepSize * m.storage[i] / denom
            }
            state.set("exp_avg", index, m)
            state.set("exp_avg_sq", index, v)
        }

        static func update(_ choice: OptimizerChoice<Float>, _ state: inout OptimizerState<Float>, _ parameter: inout Matrix<Float>,
                           _ gradient: Matrix<Float>, _ index: Int) {
            switch choice {
            case .sgd(let o): sgd(o, &state, &parameter, gradient, index)
            case .rmsprop(let o): rmsprop(o, &state, &parameter, gradient, index)
            case .adam(let o): adam(o, &state, &parameter, gradient, index)
            }
        }
    }

    struct OptimizerCase: CustomTestStringConvertible, Sendable {
        var name: String
        var choice: OptimizerChoice<Float>
        var testDescription: String { name }
    }

    static let optimizerCases: [OptimizerCase] = [
        OptimizerCase(name: "sgd", choice: .sgd(SGD(learningRate: 0.1))),
        OptimizerCase(name: "sgd wd", choice: .sgd(SGD(learningRate: 0.1, weightDecay: 0.01))),
        OptimizerCase(name: "sgd momentum dampening wd", choice: .sgd(SGD(learningRate: 0.05, momentum: 0.9, dampening: 0.3, weightDecay: 0.02))),
        OptimizerCase(name: "sgd nesterov", choice: .sgd(SGD(learningRate: 0.05, momentum: 0.9, nesterov: true))),
        OptimizerCase(name: "rmsprop", choice: .rmsprop(RMSProp(learningRate: 0.01))),
        OptimizerCase(name: "rmsprop centered momentum wd", choice: .rmsprop(RMSProp(learningRate: 0.01, momentum: 0.5, centered: true, weightDecay: 0.01))),
        OptimizerCase(name: "rmsprop momentum", choice: .rmsprop(RMSProp(learningRate: 0.003, momentum: 0.9))),
        OptimizerCase(name: "adam", choice: .adam(Adam(learningRate: 0.003))),
        OptimizerCase(name: "adam wd", choice: .adam(Adam(learningRate: 0.003, weightDecay: 0.05))),
        OptimizerCase(name: "adamw", choice: .adam(.adamW(learningRate: 0.003, weightDecay: 0.01))),
    ]

    /// Random values of both signs over several magnitudes, and exact zeros.
    static func values(_ n: Int, _ rng: inout SeededGenerator) -> [Float] {
        (0..<n).map { i in i % 17 == 0 ? 0 : Float(Draw.gaussian(&rng)) * Float(Double.power(10, Double(i % 5) - 3)) }
    }

    /// Five steps of a 2-layer GRU model's parameters (10 tensors of several shapes):
    /// `RecurrentModel.apply` through `OptimizerChoice` against the reference, bit for bit,
    /// weights and every state buffer.
    @Test(arguments: optimizerCases)
    func optimizerUpdatesKeepTheirBits(_ c: OptimizerCase) throws {
        let config = try ModelConfiguration.preset("gru", inputSize: 3, hiddenSize: 5, layers: 2, outputs: 2)
        var model = try makeModel(GRUCell<Float>.self, config, seed: 4)
        var rng = SeededGenerator(seed: 11)
        var choice = c.choice
        var referenceParameters: [Matrix<Float>] = []
        model.forEachParameter { _, _, p in referenceParameters.append(p) }
        var referenceState = OptimizerState<Float>()
        for _ in 0..<5 {
            var gradients = ModelGradients(zerosLike: model)
            gradients.updateEachTensor { _, _, g in g.storage = Self.values(g.count, &rng) }
            model.apply(gradients, using: &choice)
            referenceState.step += 1
            gradients.forEachTensor { i, _, g in Reference.update(c.choice, &referenceState, &referenceParameters[i], g, i) }
        }
        var updated: [Matrix<Float>] = []
        model.forEachParameter { _, _, p in updated.append(p) }
        for (i, (p, r)) in zip(updated, referenceParameters).enumerated() {
            #expect(p.storage.map(\.bitPattern) == r.storage.map(\.bitPattern), "parameter \(i) differs from the reference")
        }
        #expect(choice.state.step == referenceState.step)
        #expect(Set(choice.state.slots.keys) == Set(referenceState.slots.keys))
        for (name, buffers) in referenceState.slots {
            for (index, r) in buffers {
                let b = try #require(choice.state.slots[name]?[index], "\(name)[\(index)] is missing")
                #expect(b.storage.map(\.bitPattern) == r.storage.map(\.bitPattern), "\(name)[\(index)] differs from the reference")
            }
        }
    }

    /// The moment buffers stay where they are from step to step: an update through
    /// `OptimizerChoice` writes them in place instead of copying them (a copy is
    /// allocated while the original still lives, so its address would differ).
    @Test(arguments: [OptimizerKind.adam, .rmsprop, .sgd])
    func stateBuffersAreUpdatedInPlace(_ name: OptimizerKind) throws {
        let config = try ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 8, outputs: 1)
        var model = try makeModel(RNNCell<Float>.self, config, seed: 1)
        var choice = try OptimizerChoice<Float>(name, learningRate: 0.01, momentum: name == .adam ? nil : 0.9, weightDecay: nil)
        var rng = SeededGenerator(seed: 2)
        func step() {
            var gradients = ModelGradients(zerosLike: model)
            gradients.updateEachTensor { _, _, g in g.storage = Self.values(g.count, &rng) }
            model.apply(gradients, using: &choice)
        }
        func addresses() -> [String: Int] {
            var out: [String: Int] = [:]
            for (slot, buffers) in choice.state.slots {
                for (index, m) in buffers { out["\(slot)[\(index)]"] = m.storage.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) } }
            }
            return out
        }
        step()
        let before = addresses()
        #expect(!before.isEmpty)
        step()
        step()
        #expect(addresses() == before, "a state buffer was copied by an update")
    }

    // MARK: - Statistics of logged steps

    /// The scans before the change (in Double), the reference for the bit-pattern ones.
    static func referenceGrowth(_ pass: RecurrentModel<RNNCell<Float>>.ForwardPass) -> (maxAbs: Double, explodedAt: Int?) {
        var maxAbs = 0.0
        var explodedAt: Int?
        for trace in pass.traces {
            let width = trace.batch * trace.hidden.cols
            for t in stride(from: 1, through: trace.steps, by: 1) {
                let row = trace.hidden.row(t * trace.batch)
                var stepMax = 0.0
                for i in 0..<width {
                    let v = Swift.abs(Double(row[i]))
                    if !v.isFinite { stepMax = .infinity; break }
                    if v > stepMax { stepMax = v }
                }
                maxAbs = Swift.max(maxAbs, stepMax)
                if stepMax > 1e6 || !stepMax.isFinite { explodedAt = Swift.min(explodedAt ?? t, t) }
            }
        }
        return (maxAbs, explodedAt)
    }

    static func referenceDead(_ pass: RecurrentModel<RNNCell<Float>>.ForwardPass) -> Double {
        var dead = 0, total = 0
        for trace in pass.traces {
            let h = trace.hidden.cols
            var alive = [Bool](repeating: false, count: h)
            for r in trace.batch..<((trace.steps + 1) * trace.batch) {
                let row = trace.hidden.row(r)
                for j in 0..<h where row[j] != 0 { alive[j] = true }
            }
            dead += alive.filter { !$0 }.count
            total += h
        }
        return total == 0 ? 0 : Double(dead) / Double(total)
    }

    /// States with values written in: (time step, batch row, unit, value) of layer 0 or 1.
    static let specials: [(String, [(layer: Int, t: Int, b: Int, j: Int, value: Float)])] = [
        ("finite", []),
        ("large", [(0, 3, 1, 2, 2e6), (1, 5, 0, 0, -3e7)]),
        ("nan", [(1, 4, 2, 1, .nan), (0, 6, 0, 3, 5e6)]),
        ("infinity", [(0, 2, 0, 0, -.infinity)]),
        ("signalling nan", [(0, 1, 1, 1, .signalingNaN)]),
        ("largest finite", [(1, 7, 2, 4, -.greatestFiniteMagnitude)]),
        ("subnormal", [(0, 5, 1, 5, .leastNonzeroMagnitude)]),
    ]

    @Test(arguments: 0..<specials.count)
    func loggedStatisticsEqualTheDoubleScans(_ k: Int) throws {
        let (name, writes) = Self.specials[k]
        let config = try ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 6, layers: 2, outputs: 1)
        let model = try makeModel(RNNCell<Float>.self, config, seed: 3)
        let pass = model.forward(randomBatch(batch: 3, steps: 8, features: 2, seed: 5))
        // Dead units: zero one unit (as +0 and -0) at every step of layer 0, and one of layer 1.
        for trace in pass.traces.enumerated() {
            for r in trace.element.batch..<((trace.element.steps + 1) * trace.element.batch) {
                trace.element.hidden.row(r)[trace.offset] = r % 2 == 0 ? 0 : -0.0
            }
        }
        for w in writes { pass.traces[w.layer].hidden.row((w.t + 1) * 3 + w.b)[w.j] = w.value }
        let fast = Trainer<RNNCell<Float>>.hiddenGrowth(pass), reference = Self.referenceGrowth(pass)
        #expect(fast.maxAbs.bitPattern == reference.maxAbs.bitPattern, "\(name): max |h| \(fast.maxAbs) vs \(reference.maxAbs)")
        #expect(fast.explodedAt == reference.explodedAt, "\(name)")
        let dead = Trainer<RNNCell<Float>>.deadFraction(pass)
        #expect(dead == Self.referenceDead(pass), "\(name)")
        #expect(dead > 0, "\(name): the zeroed units are dead")
    }

    /// The finite-state check after every step agrees with `NonFiniteTensor.allFinite`.
    @Test(arguments: [Float.nan, -.nan, .infinity, -.infinity, .signalingNaN, .greatestFiniteMagnitude,
                      -.leastNonzeroMagnitude, 0, -0.0, 1e30])
    func finiteCheckAgreesWithTheScan(_ special: Float) {
        for count in [0, 1, 7, 8, 9, 100] {
            for position in Set([0, count / 2, max(0, count - 1)]) where count > 0 || position == 0 {
                var values = (0..<count).map { Float($0) - 3.5 }
                if count > 0 { values[position] = special }
                #expect(allFinite(values) == NonFiniteTensor.allFinite(values),
                        "\(special) at \(position) of \(count)")
            }
        }
    }

    // MARK: - Benchmark data

    /// The peer benchmark's adding-problem batches are the task's: `AddingProblem.batch`
    /// drawn in turn from `SeededGenerator(seed)`.
    @Test func benchmarkAddingBatchesComeFromTheTask() throws {
        var o = TrainingBenchmark.Options()
        o.input = 2; o.classes = 1; o.seqLen = 12; o.batch = 5; o.seed = 9; o.dataBatches = 3; o.loss = "mse"
        let batches = try TrainingBenchmark.data(o)
        var rng = SeededGenerator(seed: 9)
        let problem = try AddingProblem(steps: 12)
        #expect(batches.count == 3)
        for (x, y) in batches {
            let (ex, ey) = problem.batch(size: 5, using: &rng)
            #expect(x == ex)
            #expect(y == ey)
        }
    }

    @Test func benchmarkPerStepReadoutHasPerStepTargets() throws {
        var o = TrainingBenchmark.Options()
        o.input = 3; o.classes = 4; o.seqLen = 6; o.batch = 2; o.readout = "every"; o.loss = "xent"
        let (x, y) = try #require(try TrainingBenchmark.data(o).first)
        #expect(x.steps == 6 && x.batch == 2 && x.features == 3)
        guard case .classesPerStep(let ids) = y else { Issue.record("expected per-step classes, got \(y)"); return }
        #expect(ids.count == 12 && ids.allSatisfy { (0..<4).contains($0) })
        // FLOPs count the head at every step: 2 B T H C beyond the recurrent part.
        var last = o
        last.readout = "last"
        let extra = TrainingBenchmark.flops(o).forward - TrainingBenchmark.flops(last).forward
        #expect(extra == Double(2 * 2 * 6 * o.hidden * 4 - 2 * 2 * o.hidden * 4))
    }

    @Test func benchmarkRefusesAnAddingProblemOfOneStep() {
        var o = TrainingBenchmark.Options()
        o.input = 2; o.classes = 1; o.seqLen = 1; o.steps = 1; o.warmup = 0
        #expect(throws: ConfigurationError.self) { try TrainingBenchmark.run(o) }
    }
}
