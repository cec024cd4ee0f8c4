import Testing
@testable import Recurrent

/// Optimizer steps against hand-computed updates (PyTorch's formulas written out for
/// one scalar), schedules against their closed forms, and clipping.
@Suite("Optimizers, schedules, clipping")
struct OptimizerTests {
    func step<O: Optimizer>(_ o: inout O, _ p: Double, _ g: Double) -> Double where O.Scalar == Double {
        var m = Matrix<Double>(rows: 1, cols: 1, [p])
        o.state.step += 1
        o.update(&m, gradient: Matrix(rows: 1, cols: 1, [g]), index: 0)
        return m[0, 0]
    }

    @Test func plainSGD() {
        var o = SGD<Double>(learningRate: 0.1)
        #expect(isClose(step(&o, 1.0, 0.5), 0.95))
    }

    @Test func sgdMomentumNesterovWeightDecay() {
        var o = SGD<Double>(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01)
        // step 1: g = 0.5 + 0.01*1 = 0.51; b = 0.51; g' = 0.51 + 0.9*0.51 = 0.969; p = 1 - 0.0969
        let p1 = step(&o, 1.0, 0.5)
        #expect(isClose(p1, 1 - 0.1 * 0.969, rtol: 1e-12))
        // step 2: g = 0.5 + 0.01*p1; b = 0.9*0.51 + g; g' = g + 0.9 b
        let g2 = 0.5 + 0.01 * p1, b2 = 0.9 * 0.51 + g2
        #expect(isClose(step(&o, p1, 0.5), p1 - 0.1 * (g2 + 0.9 * b2), rtol: 1e-12))
    }

    @Test func sgdDampenedMomentum() {
        var o = SGD<Double>(learningRate: 1, momentum: 0.5, dampening: 0.5)
        let p1 = step(&o, 0, 1)           // b = 1 (first step takes g as is)
        #expect(p1 == -1)
        #expect(step(&o, p1, 1) == -1 - (0.5 * 1 + 0.5 * 1))
    }

    @Test func adamFirstTwoSteps() {
        var o = Adam<Double>(learningRate: 0.01)
        // t=1: m = 0.1 g, v = 0.001 g²; m̂ = g, v̂ = g²; p -= lr * g/(|g| + eps)
        let g = 0.3
        let p1 = step(&o, 2.0, g)
        #expect(isClose(p1, 2.0 - 0.01 * g / (g + 1e-8 * (1 - 0.001).squareRoot() / (1 - 0.001).squareRoot()), rtol: 1e-9))
        // t=2 by the formula
        let m2 = 0.9 * 0.1 * g + 0.1 * g, v2 = 0.999 * 0.001 * g * g + 0.001 * g * g
        let expected = p1 - (0.01 / (1 - 0.81)) * m2 / (v2.squareRoot() / (1 - 0.999 * 0.999).squareRoot() + 1e-8)
        #expect(isClose(step(&o, p1, g), expected, rtol: 1e-12))
    }

    /// A tensor large enough that its update is split among the threads: every element the
    /// scalar formula's value, and the same bits on 1, 2 and 3 threads, step after step.
    @Test(arguments: [false, true]) func adamSplitAmongThreadsGivesTheBitsOfOneThread(_ decoupled: Bool) {
        let n = 3 * Adam<Float>.elementsPerThread + 5
        let start = Matrix<Float>(rows: n, cols: 1, randomFloats(n, seed: 11))
        func run(threads: Int) -> Matrix<Float> {
            var o = Adam<Float>(learningRate: 0.01, weightDecay: 0.1, decoupledWeightDecay: decoupled)
            var p = start
            for k in 1...3 {
                o.state.step = k
                let g = Matrix<Float>(rows: n, cols: 1, randomFloats(n, seed: 20 + UInt64(k)))
                Compute.$threads.withValue(threads) { o.update(&p, gradient: g, index: 0) }
            }
            return p
        }
        let one = run(threads: 1)
        #expect(run(threads: 2).storage == one.storage)
        #expect(run(threads: 3).storage == one.storage)
        // Element 0 by the formula (PyTorch's, in Float, as the loop computes it).
        var p = start.storage[0], m: Float = 0, v: Float = 0
        for k in 1...3 {
            var g = randomFloats(n, seed: 20 + UInt64(k))[0]
            if decoupled { p *= Float(1 - 0.01 * 0.1) } else { g += Float(0.1) * p }
            m = Float(0.9) * m + (1 - Float(0.9)) * g
            v = Float(0.999) * v + (1 - Float(0.999)) * g * g
            let t = Double(k)
            let denom = v.squareRoot() / Float((1 - Double.power(0.999, t)).squareRoot()) + Float(1e-8)
            p -= Float(0.01 / (1 - Double.power(0.9, t))) * m / denom
        }
        #expect(one.storage[0] == p)
    }

    /// Adam's C pass (`Kernels.adamUpdate`, AVX2 and portable bodies) against the Swift loop (the
    /// naive backend, the oracle): the same bits under every instruction set, for Adam, AdamW and
    /// Adam with coupled weight decay, lengths below, at and past a vector's width and a split
    /// tensor on 2 threads, three steps, a NaN and a -0 gradient included.
    @Test(arguments: [1, 7, 8, 13, 100, 2 * Adam<Float>.elementsPerThread + 3])
    func adamKernelGivesTheBitsOfTheLoop(_ n: Int) {
        let start = Matrix<Float>(rows: n, cols: 1, randomFloats(n, seed: 31))
        let sets = Compute.InstructionSet.allCases.filter { $0 <= Compute.availableInstructionSet }
        for (decay, decoupled) in [(0.0, false), (0.1, false), (0.1, true)] {
            func run(_ backend: Compute.Backend, _ set: Compute.InstructionSet) -> [UInt32]? {
                Compute.withInstructionSet(set) {
                    Compute.$backend.withValue(backend) {
                        Compute.$threads.withValue(2) {
                            var o = Adam<Float>(learningRate: 0.01, weightDecay: decay, decoupledWeightDecay: decoupled)
                            var p = start
                            for k in 1...3 {
                                o.state.step = k
                                var g = Matrix<Float>(rows: n, cols: 1, randomFloats(n, seed: 40 + UInt64(k)))
                                g.storage[n - 1] = k == 2 ? .nan : -0.0
                                o.update(&p, gradient: g, index: 0)
                            }
                            return p.storage.map(\.bitPattern)
                        }
                    }
                }
            }
            guard let oracle = run(.naive, .generic) else { continue }
            for set in sets {
                #expect(run(.fast, set) == oracle, "n \(n), weight decay \(decay), decoupled \(decoupled) under \(set.name)")
            }
        }
    }

    @Test func adamWDecaysBeforeTheUpdate() {
        var o = Adam<Double>.adamW(learningRate: 0.1, weightDecay: 0.5)
        let g = -2.0
        // p = 1 * (1 - 0.05) then p -= 0.1 * g / (|g| + eps')
        #expect(isClose(step(&o, 1.0, g), 0.95 + 0.1, rtol: 1e-7))
    }

    @Test func rmspropCenteredWithMomentum() {
        var o = RMSProp<Double>(learningRate: 0.01, alpha: 0.9, momentum: 0.5, centered: true)
        let g = 0.4
        let v = 0.1 * g * g, ga = 0.1 * g
        let avg = (v - ga * ga).squareRoot() + 1e-8
        let b = g / avg
        #expect(isClose(step(&o, 1.0, g), 1 - 0.01 * b, rtol: 1e-12))
    }

    @Test func schedules() {
        #expect(LearningRateSchedule.constant.rate(base: 0.1, step: 999) == 0.1)
        #expect(isClose(LearningRateSchedule.step(every: 10, factor: 0.5).rate(base: 1, step: 25), 0.25))
        #expect(isClose(LearningRateSchedule.step(every: 10, factor: 0.5).rate(base: 1, step: 9), 1))
        let cosine = LearningRateSchedule.cosine(totalSteps: 100, minimum: 0.1)
        #expect(isClose(cosine.rate(base: 1, step: 0), 1))
        #expect(isClose(cosine.rate(base: 1, step: 50), 0.55))
        #expect(isClose(cosine.rate(base: 1, step: 100), 0.1))
        #expect(isClose(cosine.rate(base: 1, step: 500), 0.1))
    }

    @Test(arguments: ["constant", "step:100:0.5", "cosine", "cosine:0.001"])
    func parsesSchedules(_ text: String) throws {
        _ = try LearningRateSchedule(parsing: text, totalSteps: 1000)
    }

    @Test(arguments: ["linear", "step:0:0.5", "step:10", "cosine:-1"])
    func rejectsBadSchedules(_ text: String) {
        #expect(throws: ConfigurationError.self) { try LearningRateSchedule(parsing: text, totalSteps: 10) }
    }

    func gradients(_ values: [Double]) -> ModelGradients<Double> {
        let p = CellParameters<Double>(weightIH: Matrix(rows: 1, cols: 1, [values[0]]), weightHH: Matrix(rows: 1, cols: 1, [values[1]]),
                                       biasIH: Matrix(row: [values[2]]), biasHH: Matrix(row: [values[3]]))
        return ModelGradients(layers: [p], head: Linear(weight: Matrix(rows: 1, cols: 1, [values[4]]), bias: Matrix(row: [values[5]])),
                              tensorNames: RNNCell<Double>.tensors.map(\.name))
    }

    @Test func clipGlobalNormScalesAndReportsTheNormBefore() throws {
        var g = gradients([3, 4, 0, 0, 0, 0])
        let norm = try g.clipGlobalNorm(1)
        #expect(norm == 5)
        #expect(isClose(g.globalNorm, 1, rtol: 1e-6))
        #expect(isClose(g.layers[0][0][0, 0], 0.6, rtol: 1e-6))   // weight_ih
        var small = gradients([0.3, 0.4, 0, 0, 0, 0])
        #expect(try small.clipGlobalNorm(1) == 0.5)
        #expect(small == gradients([0.3, 0.4, 0, 0, 0, 0]))
    }

    @Test func clipValues() throws {
        var g = gradients([3, -4, 0.5, 0, 0, 0])
        try g.clipValues(1)
        #expect(g == gradients([1, -1, 0.5, 0, 0, 0]))
    }

    @Test func nonFiniteGradientIsRefusedWithTheParameterName() {
        var g = gradients([1, .nan, 0, 0, 0, 0])
        #expect(throws: NonFiniteGradientError.self) {
            try g.clipGlobalNorm(1)
        }
        do {
            try g.clipGlobalNorm(1)
        } catch {
            #expect(error.parameter == "rnn.weight_hh_l0")
            #expect(error.description.contains("rnn.weight_hh_l0"))
        }
        var inf = gradients([1, 0, 0, 0, 0, .infinity])
        #expect(throws: NonFiniteGradientError.self) { try inf.clipValues(1) }
    }
}
