import Testing
@testable import Recurrent

/// The simple RNN's time loop at batch 1 in one C call (`Kernels.rnnForwardRow`, seqrow.c;
/// `RNNCell.forwardSequence`), against the per-step matrix-vector kernel it replaces
/// (`Kernels.recurrentStep` with one row, itself checked against the unfused gemm step by
/// `RowStepTests`): the same bits for every width from under one 8-lane vector to several
/// 96-column blocks with a masked edge (H = 100: one 13-vector block), W_hhᵀ plain and in
/// panels, relu and tanh, 1, 2 and 3 threads (the split starts at H² >= 100k); every
/// instruction set against the step kernel; a split whose threads never come; NaN propagates.
/// Then through the model: `predict` of one sequence gives the bits of the same sequence
/// inside a batch of 3 (the batch kernel), for any thread count, and a workspace reused after
/// the weights changed never serves the old weights.
@Suite struct RowSequenceTests {
    /// T steps with `Kernels.recurrentStep` one by one: (net [T, H], states [T+1, H]).
    static func stepByStep(steps: Int, h: Int, wt: [Float], packed: [Float]?, bias: [Float], x: [Float], h0: [Float],
                           activation: Kernels.StepActivation) -> ([Float], [Float]) {
        var net = [Float](repeating: .nan, count: steps * h), states = h0 + [Float](repeating: .nan, count: steps * h)
        for t in 0..<steps {
            states.withUnsafeMutableBufferPointer { s in
                net.withUnsafeMutableBufferPointer { n in
                    let ran = x.withUnsafeBufferPointer { x in
                        packed.map { p in
                            Kernels.recurrentStep(rows: 1, width: h, hidden: h, hPrev: s.baseAddress! + t * h, packedTransposedWeight: p,
                                                  bias: bias, x: x.baseAddress! + t * h, net: n.baseAddress! + t * h,
                                                  hNew: s.baseAddress! + (t + 1) * h, activation: activation)
                        } ?? Kernels.recurrentStep(rows: 1, width: h, hidden: h, hPrev: s.baseAddress! + t * h, transposedWeight: wt,
                                                   bias: bias, x: x.baseAddress! + t * h, net: n.baseAddress! + t * h,
                                                   hNew: s.baseAddress! + (t + 1) * h, activation: activation)
                    }
                    precondition(ran)
                }
            }
        }
        return (net, states)
    }

    @Test(arguments: [1, 7, 8, 9, 17, 96, 100, 104, 105, 200, 300, 320])
    func theLoopGivesTheStepsBits(_ h: Int) {
        let steps = 6
        let wt = randomFloats(h * h, seed: 1).map { $0 * 1.5 / Float(h).squareRoot() }      // W_hhᵀ [H, H]
        let bias = randomFloats(h, seed: 2), x = randomFloats(steps * h, seed: 3), h0 = randomFloats(h, seed: 4)
        var w = [Float](repeating: 0, count: h * h)                                   // W_hh, for the panels
        for p in 0..<h { for j in 0..<h { w[j * h + p] = wt[p * h + j] } }
        var panels = [Float](repeating: .nan, count: Kernels.packedPanelFloats(k: h, n: h))
        #expect(Kernels.packPanels(transposed: true, k: h, n: h, b: w, ldb: h, into: &panels))
        // On this CPU's best set whatever RECURRENT_ISA caps the process to (the per-set checks are below).
        _ = Compute.withInstructionSet(Compute.availableInstructionSet) {
            for activation in [Kernels.StepActivation.relu, .tanh] {
                for usePanels in [false, true] {
                    let expected = Self.stepByStep(steps: steps, h: h, wt: wt, packed: usePanels ? panels : nil, bias: bias, x: x,
                                                   h0: h0, activation: activation)
                    for threads in [1, 2, 3] {
                        var net = [Float](repeating: .nan, count: steps * h), states = h0 + [Float](repeating: .nan, count: steps * h)
                        let ran = Compute.$threads.withValue(threads) {
                            Kernels.rnnForwardRow(steps: steps, hidden: h, transposedWeight: usePanels ? panels : wt, packed: usePanels,
                                                  bias: bias, x: x, net: &net, states: &states, activation: activation)
                        }
                        let what = "H \(h) \(activation)\(usePanels ? " panels" : ""), \(threads) thread(s)"
                        #expect(ran, "\(what)")
                        #expect(net.map(\.bitPattern) == expected.0.map(\.bitPattern), "net: \(what)")
                        #expect(states.map(\.bitPattern) == expected.1.map(\.bitPattern), "h: \(what)")
                    }
                }
            }
        }
    }

    /// W_hhᵀ [H, H] with its panels, bias, x [steps, H] and h_{-1} for `h` (as above).
    static func operands(_ h: Int, steps: Int) -> (wt: [Float], panels: [Float], bias: [Float], x: [Float], h0: [Float]) {
        let wt = randomFloats(h * h, seed: 1).map { $0 * 1.5 / Float(h).squareRoot() }
        var w = [Float](repeating: 0, count: h * h)
        for p in 0..<h { for j in 0..<h { w[j * h + p] = wt[p * h + j] } }
        var panels = [Float](repeating: .nan, count: Kernels.packedPanelFloats(k: h, n: h))
        precondition(Kernels.packPanels(transposed: true, k: h, n: h, b: w, ldb: h, into: &panels))
        return (wt, panels, randomFloats(h, seed: 2), randomFloats(steps * h, seed: 3), randomFloats(h, seed: 4))
    }

    /// The AVX2 body (8 columns a vector) and the AVX-512 body (16 a vector, from H = 105 on panels
    /// or on aligned rows of a multiple of 16; blocks of up to 16 vectors from W_hhᵀ's rows or 8
    /// panels, as equal as that allows) on 1, 2 and 3 threads
    /// (each thread its own fixed columns for the whole sequence) against the AVX2 step kernel
    /// one step at a time, the oracle: widths with a masked edge of 1-15 columns, one to three blocks,
    /// parts of 5-17 groups of 16 columns; outputs start as NaN, so a column computed by no part
    /// (or a part's range off by one) fails. On a CPU without a set, its cases are skipped.
    @Test(arguments: [15, 100, 120, 128, 272, 300, 520])
    func everyInstructionSetGivesThePortableBits(_ h: Int) {
        let steps = 5, o = Self.operands(h, steps: steps)
        // W_hhᵀ from a 64-byte boundary: the zmm body takes rows only there (and H % 16 == 0).
        let aligned = UnsafeMutableBufferPointer<Float>(
            start: UnsafeMutableRawPointer.allocate(byteCount: 4 * h * h, alignment: 64).bindMemory(to: Float.self, capacity: h * h),
            count: h * h)
        defer { aligned.deallocate() }
        _ = aligned.initialize(from: o.wt)
        for activation in [Kernels.StepActivation.relu, .tanh] {
            for usePanels in [false, true] {
                // The AVX2 step, one row per call (RowStepTests holds it to the unfused portable
                // product). Not the portable set itself: switching the process to it would make the
                // fast paths of tests running alongside decline; and its tanh is libm's, not tanh8.
                guard let expected = Compute.withInstructionSet(.avx2, {
                    Self.stepByStep(steps: steps, h: h, wt: o.wt, packed: usePanels ? o.panels : nil, bias: o.bias, x: o.x,
                                    h0: o.h0, activation: activation)
                }) else { continue }
                for set in [Compute.InstructionSet.avx2, .avx512] where set <= Compute.availableInstructionSet {
                    for threads in [1, 2, 3] {
                        var net = [Float](repeating: .nan, count: steps * h)
                        var states = o.h0 + [Float](repeating: .nan, count: steps * h)
                        let ran = Compute.withInstructionSet(set) {
                            Compute.$threads.withValue(threads) {
                                o.panels.withUnsafeBufferPointer { panels in
                                    Kernels.rnnForwardRow(steps: steps, hidden: h,
                                                          transposedWeight: usePanels ? panels.baseAddress! : UnsafePointer(aligned.baseAddress!),
                                                          packed: usePanels, bias: o.bias, x: o.x, net: &net, states: &states,
                                                          activation: activation)
                                }
                            }
                        }
                        let what = "H \(h) \(activation)\(usePanels ? " panels" : ""), \(set.name), \(threads) thread(s)"
                        #expect(ran == true, "\(what)")
                        #expect(net.map(\.bitPattern) == expected.0.map(\.bitPattern), "net: \(what)")
                        #expect(states.map(\.bitPattern) == expected.1.map(\.bitPattern), "h: \(what)")
                    }
                }
            }
        }
    }

    /// With the pool held by an outer split (`forEachSlice`), a 2-thread row loop runs its parts
    /// one after the other on one thread: the first takes the other part's items (no thread has
    /// started it) and the second finds nothing left, so nothing waits for a thread that never
    /// comes; two sequences at once, each with the oracle's bits.
    @Test func aLoopWhoseThreadsNeverComeRunsOnOne() {
        let h = 320, steps = 4, o = Self.operands(h, steps: steps)
        let expected = Self.stepByStep(steps: steps, h: h, wt: o.wt, packed: o.panels, bias: o.bias, x: o.x, h0: o.h0,
                                       activation: .relu)
        let results = UnsafeMutableBufferPointer<[Float]>.allocate(capacity: 4)
        defer { results.deallocate() }
        Compute.forEachSlice(of: 2, parts: 2, threadsPerSlice: 2) { slice in
            for b in slice {
                var net = [Float](repeating: .nan, count: steps * h)
                var states = o.h0 + [Float](repeating: .nan, count: steps * h)
                precondition(Kernels.rnnForwardRow(steps: steps, hidden: h, transposedWeight: o.panels, packed: true, bias: o.bias,
                                                   x: o.x, net: &net, states: &states, activation: .relu))
                (results.baseAddress! + 2 * b).initialize(to: net)
                (results.baseAddress! + 2 * b + 1).initialize(to: states)
            }
        }
        for b in 0..<2 {
            #expect(results[2 * b].map(\.bitPattern) == expected.0.map(\.bitPattern), "net of sequence \(b)")
            #expect(results[2 * b + 1].map(\.bitPattern) == expected.1.map(\.bitPattern), "h of sequence \(b)")
        }
        _ = results.baseAddress!.deinitialize(count: 4)
    }

    /// A NaN in x at step 2, unit 0: net_2 and h_2 are NaN there (relu keeps NaN), and every
    /// unit of every later step, through W_hh; nothing before.
    @Test(arguments: [Kernels.StepActivation.relu, .tanh])
    func nanPropagates(_ activation: Kernels.StepActivation) {
        let h = 100, steps = 5
        let wt = randomFloats(h * h, seed: 5).map { $0 * 0.1 }, bias = randomFloats(h, seed: 6)
        var x = randomFloats(steps * h, seed: 7)
        x[2 * h] = .nan
        var states = [Float](repeating: 0, count: (steps + 1) * h), net = [Float](repeating: 0, count: steps * h)
        #expect(Kernels.rnnForwardRow(steps: steps, hidden: h, transposedWeight: wt, packed: false, bias: bias, x: x,
                                      net: &net, states: &states, activation: activation))
        #expect(!states[0..<(3 * h)].contains { $0.isNaN })                       // h_{-1}, h_0, h_1
        #expect(states[3 * h].isNaN && net[2 * h].isNaN)
        #expect(states[(4 * h)...].allSatisfy(\.isNaN) && net[(3 * h)...].allSatisfy(\.isNaN))
    }

    /// Other activations, and the naive backend, are not taken (the caller steps).
    @Test func declinesWhatItDoesNotCover() {
        var states = [Float](repeating: 0, count: 2 * 4), net = [Float](repeating: 0, count: 4)
        let w = [Float](repeating: 0.5, count: 16), b = [Float](repeating: 0, count: 4), x = b
        #expect(!Compute.$backend.withValue(.naive) {
            Kernels.rnnForwardRow(steps: 1, hidden: 4, transposedWeight: w, packed: false, bias: b, x: x, net: &net,
                                  states: &states, activation: .relu)
        })
        #expect(states.allSatisfy { $0 == 0 })
    }

    struct BatchOfOne: ModelVisitor {
        var x: SequenceBatch<Float>            // [3, T, I]
        func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> [String] where Cell.Scalar == Float {
            var failures: [String] = []
            let batch = Compute.$threads.withValue(1) { model.predict(x) }
            let o = model.outputSize, hs = model.hiddenSize
            for threads in [1, 2] {
                var workspace = ModelWorkspace<Float>()
                for b in 0..<3 {
                    let one = Compute.$threads.withValue(threads) { model.predict(x.sequences(b..<(b + 1)), workspace: &workspace) }
                    if one.outputs.storage.map(\.bitPattern) != batch.outputs.storage[(b * o)..<((b + 1) * o)].map(\.bitPattern) {
                        failures.append("outputs of sequence \(b), \(threads) threads")
                    }
                    for (l, layer) in one.finalState.layers.enumerated()
                    where layer.hidden.storage.map(\.bitPattern) != batch.finalState.layers[l].hidden.storage[(b * hs)..<((b + 1) * hs)].map(\.bitPattern) {
                        failures.append("h_T of layer \(l), sequence \(b), \(threads) threads")
                    }
                }
            }
            return failures
        }
    }

    /// `predict` of single sequences (the C loop) against the same sequences in one batch of 3
    /// (the batch kernel, step by step): relu and tanh, H = 100 (one block) and 320 (panels,
    /// 2 threads split the steps), 2 layers, windows of all steps; I = 64 (layer 1: 128): the
    /// input projection of one sequence split between threads (few outputs, long sums).
    @Test(arguments: [(Activation.relu, 100, 3), (.tanh, 100, 3), (.relu, 320, 3), (.tanh, 33, 3), (.relu, 128, 64)])
    func oneSequenceGivesTheBatchsBits(_ activation: Activation, _ hidden: Int, _ inputs: Int) throws {
        let config = ModelConfiguration(cell: .rnn, activation: activation, inputSize: inputs, hiddenSize: hidden, layers: 2, outputs: 4,
                                        readout: .lastStep, inputInit: .uniform(bound: 0.5),
                                        recurrentInit: .uniform(bound: 1.7 / Double(hidden).squareRoot()), biasInit: .uniform(bound: 0.2))
        var rng = SeededGenerator(seed: 8)
        let model = try AnyRecurrentModel(config, using: &rng)
        let failures = try model.visit(BatchOfOne(x: randomBatch(batch: 3, steps: 40, features: inputs, seed: 9, as: Float.self)))
        #expect(failures.isEmpty, "\(activation) H \(hidden): \(failures.joined(separator: "; "))")
    }

    /// The forward-only pass keeps W_hhᵀ (and its panels) in the workspace between calls on
    /// the same weights; after an update it must make them again: a reused workspace gives the
    /// bits of a fresh one, before and after the weights change.
    @Test(arguments: [100, 300])
    func aReusedWorkspaceSeesNewWeights(_ hidden: Int) throws {
        let config = ModelConfiguration(cell: .rnn, activation: .relu, inputSize: 2, hiddenSize: hidden, layers: 1, outputs: 3,
                                        readout: .lastStep, inputInit: .uniform(bound: 0.5),
                                        recurrentInit: .uniform(bound: 1.0 / Double(hidden).squareRoot()), biasInit: .uniform(bound: 0.2))
        var rng = SeededGenerator(seed: 10)
        var model = try RecurrentModel<RNNCell<Float>>(config, using: &rng)
        let x = randomBatch(batch: 1, steps: 12, features: 2, seed: 11, as: Float.self)
        var workspace = ModelWorkspace<Float>()
        let first = model.predict(x, workspace: &workspace).outputs.storage
        #expect(first == model.predict(x).outputs.storage)
        #expect(first == model.predict(x, workspace: &workspace).outputs.storage)
        model.layers[0].weightHH.storage[1] += 0.25                                    // in place: storage copied on write
        let fresh = model.predict(x).outputs.storage
        #expect(fresh != first)
        #expect(model.predict(x, workspace: &workspace).outputs.storage == fresh)
        let copy = model                                                              // equal weights, other storage
        var other = model
        let kept = other.layers[0].weightHH.storage[1]
        other.layers[0].weightHH.storage[1] = 0                                        // a new buffer,
        other.layers[0].weightHH.storage[1] = kept                                     // the same values
        #expect(other.predict(x, workspace: &workspace).outputs.storage == copy.predict(x).outputs.storage)
    }
}
