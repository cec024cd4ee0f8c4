/// Backpropagation through time, written once for every `RecurrentCell`.
///
/// Forward: one product for the input projection of all T steps, then the cell's
/// step for t = 1 ... T (or the cell's own time loop, `forwardSequence`, where it has
/// one: IndRNN; the RNN at batch 1). Backward: the cell's step in reverse, t = T ... 1 (or `backwardSequence`), then one
/// product each for dW_ih, db_ih and dx over all steps, and the cell's recurrent
/// weight gradients (for a full W_hh also one product). Nothing here depends on the cell
/// beyond its protocol: tensor 0 is the input weight, `inputBiasIndex` the input bias. Werbos (1990); the gradient
/// of the recurrence is the seed's (10.12): d net_t / d net_{t-1} = W diag f'(net_{t-1}).
extension RecurrentCell {
    // MARK: - Forward

    /// Runs the layer over `inputs` ([T*B, I], time-major) from `initial`, returning the
    /// trace that `backward` needs; `trace.outputs` are h_1 ... h_T.
    /// `liveRows` [T] (see `SequenceTrace.liveRows`): variable-length sequences sorted
    /// longest first; nil when every row runs all T steps.
    /// `stateMask` [B, H] (variational dropout, rows in the batch's row order here): h_{t-1}
    /// ⊙ mask is what every step reads of the previous state, the same mask at every step;
    /// the trace's `hidden` and `outputs` stay unmasked. nil: no dropout.
    public func forward(_ inputs: Matrix<Scalar>, steps: Int, batch: Int,
                        initial: LayerState<Scalar>, liveRows: [Int]? = nil, stateMask: Matrix<Scalar>? = nil) -> SequenceTrace<Scalar> {
        var fresh: SequenceTrace<Scalar>?
        return forward(inputs, steps: steps, batch: batch, initial: initial, liveRows: liveRows, stateMask: stateMask, reusing: &fresh)
    }

    /// The same, but writes into `cache` when it holds a trace of the right shape that
    /// nothing else references (so no earlier result is overwritten); otherwise
    /// allocates a new trace and leaves it in `cache` for the next call.
    /// `keepsNet` false: the trace need not keep what only diagnostics read (`SequenceTrace.keepsNet`).
    public func forward(_ inputs: Matrix<Scalar>, steps: Int, batch: Int, initial: LayerState<Scalar>,
                        liveRows: [Int]? = nil, stateMask: Matrix<Scalar>? = nil, keepsNet: Bool = true,
                        reusing cache: inout SequenceTrace<Scalar>?) -> SequenceTrace<Scalar> {
        checkForwardArguments(inputs, steps: steps, batch: batch, initial: initial, liveRows: liveRows)
        if !(isKnownUniquelyReferenced(&cache) && cache!.matches(steps: steps, batch: batch, inputSize: inputSize,
                                                                  hiddenSize: hiddenSize, gateCount: Self.gateCount,
                                                                  hasMemory: Self.hasMemory)) {
            cache = SequenceTrace<Scalar>(steps: steps, batch: batch, inputSize: inputSize, hiddenSize: hiddenSize,
                                          gateCount: Self.gateCount, hasMemory: Self.hasMemory)
        }
        let trace = cache!
        trace.liveRows = liveRows
        trace.keepsNet = keepsNet
        if let stateMask {
            precondition(stateMask.rows == batch && stateMask.cols == hiddenSize,
                         "\(Self.kind) layer expects a state dropout mask [B, H] = [\(batch), \(hiddenSize)], got \(stateMask.shape)")
            let mask = trace.stateMask.flatMap { $0.rows == batch && $0.cols == hiddenSize ? $0 : nil }
                ?? RowBuffer<Scalar>(rows: batch, cols: hiddenSize)
            mask.copy(from: stateMask)
            trace.stateMask = mask
            trace.unmaskedHidden = trace.unmaskedHidden.flatMap { $0.rows == steps * batch && $0.cols == hiddenSize ? $0 : nil }
                ?? RowBuffer<Scalar>(rows: steps * batch, cols: hiddenSize)
        } else {
            trace.stateMask = nil
            trace.unmaskedHidden = nil
        }
        trace.inputs.copy(from: inputs)
        trace.hidden.copy(from: initial.hidden)
        if Self.hasMemory { trace.memory.copy(from: initial.memory) }
        forward(trace)
        return trace
    }

    /// Forward over a trace whose `inputs`, `hidden[0]` (and `memory[0]`) are filled in.
    ///
    /// Specialised for the four Float cells: a caller in generic code (in another module,
    /// e.g. a library user's `model.gradients`) reaches the generic entry point, which then
    /// jumps to the specialised time loop instead of running it with a protocol-witness
    /// call for every `hiddenSize` and every element's arithmetic.
    @_specialize(where Self == RNNCell<Float>)
    @_specialize(where Self == LSTMCell<Float>)
    @_specialize(where Self == GRUCell<Float>)
    @_specialize(where Self == IndRNNCell<Float>)
    public func forward(_ trace: SequenceTrace<Scalar>) {
        let split = batchSplit(steps: trace.steps, batch: trace.batch)
        let place = inputProjection(trace)
        trace.projectsInputsStepByStep = place == .stepByStep
        switch place {
        case .inCellLoop:
            prepare(trace)
            Compute.forEachSlice(of: trace.batch, parts: split.parts, threadsPerSlice: split.inner) { rows in
                forwardSequenceProjecting(trace, rows: rows)
            }
        case .stepByStep:
            prepare(trace)
            let b = trace.batch
            Compute.forEachSlice(of: b, parts: split.parts, threadsPerSlice: split.inner) { rows in
                for t in 0..<trace.steps {       // step t's projection into rows 0 ..< B of preInput, still in cache for the step
                    projectInputs(trace.inputs.row(t * b + rows.lowerBound), rows: rows.count,
                                  into: trace.stepInput(t, row: rows.lowerBound))
                    forwardStep(t, trace, rows: rows)
                }
            }
        case .allSteps:
            projectInputs(trace.inputs.base, rows: trace.steps * trace.batch, into: trace.preInput.base)
            prepare(trace)                                       // e.g. W_hhᵀ [H, G*H] once per pass
            unroll(trace, steps: trace.steps, liveRows: trace.liveRows, split: split)
        }
    }

    /// Where `forward(_:)` forms this trace's input projection U x_t + b_ih. The same chain per
    /// value in every case (`Kernels.inputProjection`), so the same bits.
    func inputProjection(_ trace: SequenceTrace<Scalar>) -> InputProjectionPlace {
        guard trace.liveRows == nil && trace.stateMask == nil else { return .allSteps }
        if projectsInputsInSequence(trace) { return .inCellLoop }
        return trace.batch > 1 && Kernels.fusesInputs(Scalar.self, inputSize: inputSize) ? .stepByStep : .allSteps
    }

    /// out [rows, G*H] = X W_ihᵀ + b_ih for `rows` rows of `x` [rows, I] at once: [rows, I] x
    /// [I, G*H], the rows split among the threads (bias fill and product together; a row's bits
    /// never depend on the split nor on `rows`: every element is one fixed FMA chain, see gemm.c).
    func projectInputs(_ x: UnsafePointer<Scalar>, rows: Int, into out: UnsafeMutablePointer<Scalar>) {
        let width = Self.gateCount * hiddenSize, inputSize = self.inputSize
        parameters[Self.inputBiasIndex].storage.withUnsafeBufferPointer { bias in
            parameters[0].storage.withUnsafeBufferPointer { w in
                // Split where there are many outputs or many multiply-adds (a few microseconds' work:
                // config e at batch 1 is 51,200 outputs of 64 terms; evaluation's one-step windows of
                // row-FMNIST 32,000 of 28), which otherwise ran on one thread while the others waited.
                // Rows are independent: the same bits either way.
                let parts = rows * width >= 65_536 || rows * width * inputSize >= 1 << 18 ? Compute.threads : 1
                Compute.forEachSlice(of: rows, parts: parts) { slice in
                    Kernels.inputProjection(rows: slice.count, width: width, inputs: inputSize,
                                            x: x + slice.lowerBound * inputSize, weight: w.baseAddress ?? x,
                                            bias: bias.baseAddress!, into: out + slice.lowerBound * width)
                }
            }
        }
    }

    /// The time loop: the cell's step for the trace's steps 0 ..< `steps`, the batch split
    /// as `split` says (`batchSplit`). `liveRows` (variable lengths) is read from index
    /// `liveOffset` on: step t of the trace is step `liveOffset + t` of the sequences.
    func unroll(_ trace: SequenceTrace<Scalar>, steps: Int, liveRows live: [Int]?, liveOffset: Int = 0,
                split: (parts: Int, inner: Int)) {
        let masked = trace.stateMask != nil                     // variational dropout of h_{t-1}
        if masked || live != nil {
            Compute.forEachSlice(of: trace.batch, parts: split.parts, threadsPerSlice: split.inner) { rows in
                for t in 0..<steps {
                    let running = live.map { rows.clamped(to: 0..<$0[liveOffset + t]) } ?? rows   // the prefix still running
                    if !running.isEmpty {
                        if masked { dropState(t, trace, rows: running) }
                        forwardStep(t, trace, rows: running)
                        if masked { restoreState(t, trace, rows: running) }
                    }
                    let done = running.isEmpty ? rows : running.upperBound..<rows.upperBound
                    if !done.isEmpty { carryFinishedState(t, trace, rows: done) }
                }
            }
            return
        }
        Compute.forEachSlice(of: trace.batch, parts: split.parts, threadsPerSlice: split.inner) { rows in
            // The cell's own time loop (IndRNN over all T; the RNN at batch 1), where it has one.
            if forwardSequence(trace, steps: steps, rows: rows) { return }
            for t in 0..<steps { forwardStep(t, trace, rows: rows) }
        }
    }

    // MARK: - Forward only

    /// The forward pass without what only a backward pass reads (evaluation, `predict`):
    /// the same steps on the same values as `forward(_:steps:batch:initial:liveRows:)`, so
    /// the same bits, in a window of C steps (`ForwardOnlyTrace.chunkSteps`) written over
    /// chunk after chunk: the input projection of C steps in one product, then the cell's
    /// C steps, then the last state moved to the window's step 0. Keeps h_1 ... h_T only
    /// with `keepOutputs` (the next layer's input, a per-step readout), else the final
    /// state and h_1. No variational dropout (evaluation runs without). `chunkSteps`: C
    /// (nil: from a 1 MiB window, `ForwardOnlyTrace.windowFloats`); results never depend on it.
    @_specialize(where Self == RNNCell<Float>)
    @_specialize(where Self == LSTMCell<Float>)
    @_specialize(where Self == GRUCell<Float>)
    @_specialize(where Self == IndRNNCell<Float>)
    public func forwardOnly(_ inputs: Matrix<Scalar>, steps: Int, batch: Int, initial: LayerState<Scalar>,
                            liveRows: [Int]? = nil, keepOutputs: Bool, chunkSteps: Int? = nil,
                            reusing cache: inout ForwardOnlyTrace<Scalar>?) -> ForwardOnlyTrace<Scalar> {
        checkForwardArguments(inputs, steps: steps, batch: batch, initial: initial, liveRows: liveRows)
        if !(isKnownUniquelyReferenced(&cache) && cache!.matches(steps: steps, batch: batch, inputSize: inputSize, hiddenSize: hiddenSize,
                                                                  gateCount: Self.gateCount, hasMemory: Self.hasMemory,
                                                                  keepOutputs: keepOutputs, chunkSteps: chunkSteps)) {
            cache = ForwardOnlyTrace<Scalar>(steps: steps, batch: batch, inputSize: inputSize, hiddenSize: hiddenSize,
                                             gateCount: Self.gateCount, hasMemory: Self.hasMemory, keepOutputs: keepOutputs,
                                             chunkSteps: chunkSteps)
        }
        let pass = cache!, window = pass.window, b = batch, h = hiddenSize, c = window.steps
        window.liveRows = nil                                    // read through `unroll`'s offset instead
        window.stateMask = nil
        window.unmaskedHidden = nil
        window.hidden.copy(from: initial.hidden)                 // step 0 of the window: h_0 (c_0)
        if Self.hasMemory { window.memory.copy(from: initial.memory) }
        if !pass.isPrepared(for: parameters) {                   // W_hhᵀ once per pass, as `forward`,
            prepare(window)                                      // or once for many passes over the same weights
            pass.notePrepared(for: parameters)
        }
        let split = batchSplit(steps: steps, batch: batch)
        inputs.storage.withUnsafeBufferPointer { x in
            for t0 in stride(from: 0, to: steps, by: c) {
                let n = Swift.min(c, steps - t0)
                let chunk = x.baseAddress.map { UnsafePointer($0 + t0 * b * inputSize) } ?? UnsafePointer(window.inputs.base)
                projectInputs(chunk, rows: n * b, into: window.preInput.base)      // [n*B, G*H]
                unroll(window, steps: n, liveRows: liveRows, liveOffset: t0, split: split)
                if let kept = pass.kept { kept.row(t0 * b).update(from: window.hidden.row(b), count: n * b * h) }
                if t0 == 0 { pass.first.base.update(from: window.hidden.row(b), count: b * h) }
                window.hidden.base.update(from: window.hidden.row(n * b), count: b * h)      // h_{t0+n} -> step 0
                if Self.hasMemory { window.memory.base.update(from: window.memory.row(n * b), count: b * h) }
            }
        }
        return pass
    }

    /// The preconditions of a forward pass: inputs [T*B, I], a state [B, H], `liveRows` [T]
    /// non-increasing counts of at most B rows.
    func checkForwardArguments(_ inputs: Matrix<Scalar>, steps: Int, batch: Int, initial: LayerState<Scalar>, liveRows: [Int]?) {
        precondition(inputs.rows == steps * batch && inputs.cols == inputSize,
                     "\(Self.kind) layer expects inputs [T*B, I] = [\(steps * batch), \(inputSize)], got \(inputs.shape)")
        precondition(initial.hidden.rows == batch && initial.hidden.cols == hiddenSize,
                     "\(Self.kind) layer expects an initial state [B, H] = [\(batch), \(hiddenSize)], got \(initial.hidden.shape)")
        if let liveRows {
            precondition(liveRows.count == steps && zip(liveRows, liveRows.dropFirst()).allSatisfy { $0 >= $1 }
                         && (liveRows.first ?? batch) <= batch,
                         "liveRows must hold T = \(steps) non-increasing counts of at most B = \(batch) rows, got \(liveRows)")
        }
    }

    /// Rows whose sequence has ended before step t keep their state: hidden[t+1] = hidden[t]
    /// (and memory), so the last row block holds every sequence's own final state.
    func carryFinishedState(_ t: Int, _ trace: SequenceTrace<Scalar>, rows: Range<Int>) {
        let b = trace.batch, h = hiddenSize
        trace.hidden.row((t + 1) * b + rows.lowerBound).update(from: trace.hidden.row(t * b + rows.lowerBound), count: rows.count * h)
        if Self.hasMemory {
            trace.memory.row((t + 1) * b + rows.lowerBound).update(from: trace.memory.row(t * b + rows.lowerBound), count: rows.count * h)
        }
    }

    // MARK: - Variational dropout of the state

    /// hidden[t] (h_{t-1}) ⊙ `stateMask` in place for the batch rows `rows`, the unmasked
    /// rows kept in `unmaskedHidden[t]`: what a step reads while it runs (Gal & Ghahramani
    /// 2016, eq. 7: the same mask on h_{t-1} at every step).
    func dropState(_ t: Int, _ trace: SequenceTrace<Scalar>, rows: Range<Int>) {
        let first = t * trace.batch + rows.lowerBound, n = rows.count * hiddenSize
        let h = trace.hidden.row(first), mask = trace.stateMask!.row(rows.lowerBound)      // [R, H]
        trace.unmaskedHidden!.row(first).update(from: h, count: n)
        for i in 0..<n { h[i] *= mask[i] }
    }

    /// Undoes `dropState`: hidden[t] rows `rows` back to the unmasked h_{t-1}.
    func restoreState(_ t: Int, _ trace: SequenceTrace<Scalar>, rows: Range<Int>) {
        let first = t * trace.batch + rows.lowerBound
        trace.hidden.row(first).update(from: trace.unmaskedHidden!.row(first), count: rows.count * hiddenSize)
    }

    /// The index of the input bias b_ih [1, G*H] among the cell's tensors (the input weight
    /// is tensor 0), added to preInput by the unroller.
    static var inputBiasIndex: Int {
        guard let index = tensorIndex(.inputBias) else { preconditionFailure("\(kind) declares no input bias (role .inputBias)") }
        return index
    }

    /// How the time loop uses `Compute.threads`: batch rows are independent in every
    /// cell, so the batch is split into `parts` slices that run the whole loop on their
    /// own threads (one fork-join per sequence, no barrier per step), each slice's
    /// products getting `inner` threads. Results do not depend on the split: every
    /// element is computed by the same operations whichever slice holds its row.
    /// Loops under ~32k multiply-adds stay on one thread (a fork-join costs ~1 µs).
    func batchSplit(_ trace: SequenceTrace<Scalar>) -> (parts: Int, inner: Int) { batchSplit(steps: trace.steps, batch: trace.batch) }

    /// `batchSplit` for a pass of `steps` steps over `batch` rows.
    func batchSplit(steps: Int, batch: Int) -> (parts: Int, inner: Int) {
        let threads = max(1, Compute.threads)
        let work = Double(steps) * Double(batch) * Double(Self.gateCount * hiddenSize) * Double(hiddenSize)
        guard threads > 1, batch > 1, work >= 32_768 else { return (1, threads) }
        let parts = min(threads, batch)
        return (parts, max(1, threads / parts))
    }

    // MARK: - Backward

    /// dW_ih, db_ih, dW_hh and db_hh in one pass over dPreInput (= dPreHidden) when the cell
    /// `formsWeightGradientsInOnePass` (`Kernels.weightGradients`: the values of the separate
    /// products and sums, bit for bit); false, doing nothing, where no fast body applies.
    public func weightGradientsInOnePass(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                         into gradients: inout CellParameters<Scalar>) -> Bool {
        guard grad.dPreHidden === grad.dPreInput else { return false }
        let rows = trace.steps * trace.batch, width = Self.gateCount * hiddenSize
        let inputSize = self.inputSize, hiddenSize = self.hiddenSize
        return withWeightGradients(&gradients) { dWih, dWhh, dbhh, dbih in
            Kernels.weightGradients(rows: rows, width: width, dnet: grad.dPreInput.base,
                                    hidden: trace.hidden.base, hiddenSize: hiddenSize,
                                    inputs: trace.inputs.base, inputSize: inputSize,
                                    dWhh: dWhh, dWih: dWih, dbhh: dbhh, dbih: dbih)
        } ?? false
    }

    /// `body(dW_ih, dW_hh, db_hh, db_ih)` on PyTorch's four gradient tensors at once (dW_ih nil when
    /// I = 0), for a cell that `formsWeightGradientsInOnePass`; nil, doing nothing, for another.
    func withWeightGradients<R>(_ gradients: inout CellParameters<Scalar>,
                                _ body: (UnsafeMutablePointer<Scalar>?, UnsafeMutablePointer<Scalar>,
                                         UnsafeMutablePointer<Scalar>, UnsafeMutablePointer<Scalar>) -> R) -> R? {
        guard Self.formsWeightGradientsInOnePass, let w = Self.tensorIndex(.recurrentWeight),
              let bh = Self.tensorIndex(.recurrentBias) else { return nil }
        let bi = Self.inputBiasIndex, width = Self.gateCount * hiddenSize
        precondition(Set([0, w, bh, bi]).count == 4 && gradients[w].rows == width && gradients[w].cols == hiddenSize
                     && gradients[bh].count == width && gradients[bi].count == width,
                     "\(Self.kind) forms its weight gradients in one pass but has not PyTorch's four tensors")
        return gradients.tensors.withUnsafeMutableBufferPointer { t in   // four distinct tensors, written at once
            t[0].storage.withUnsafeMutableBufferPointer { dWih in
                t[w].storage.withUnsafeMutableBufferPointer { dWhh in
                    t[bh].storage.withUnsafeMutableBufferPointer { dbhh in
                        t[bi].storage.withUnsafeMutableBufferPointer { dbih in
                            body(dWih.baseAddress, dWhh.baseAddress!, dbhh.baseAddress!, dbih.baseAddress!)
                        }
                    }
                }
            }
        }
    }

    /// Backpropagates through the trace.
    ///
    /// - Parameters:
    ///   - outputGradient: dL/dh_t from above for t = 1 ... T, [T*B, H] time-major
    ///     (zeros where no loss reaches a step), or nil when only the final state matters.
    ///   - finalStateGradient: dL/dh_T (and dL/dc_T) from beyond the sequence, or nil.
    /// - Returns: the parameter gradients (accumulated into `gradients`), dL/dx [T*B, I]
    ///   and dL/d(initial state).
    public func backward(_ trace: SequenceTrace<Scalar>, outputGradient: Matrix<Scalar>?,
                         finalStateGradient: LayerState<Scalar>?,
                         into gradients: inout CellParameters<Scalar>) -> (inputs: Matrix<Scalar>, initial: LayerState<Scalar>) {
        var fresh: BackwardBuffers<Scalar>?
        return backward(trace, outputGradient: outputGradient, finalStateGradient: finalStateGradient,
                        into: &gradients, reusing: &fresh)
    }

    /// The same, with the backward buffers taken from `cache` when they have the right
    /// shape and nothing else references them (else allocated and left in `cache`).
    /// With `inputGradient` false, dL/dx is not computed (no caller reads layer 0's, and no
    /// peer framework computes it: 2 T B G H I multiply-adds) and comes back as [T*B, 0].
    /// Specialised for the four Float cells, as `forward(_:)` is.
    @_specialize(where Self == RNNCell<Float>)
    @_specialize(where Self == LSTMCell<Float>)
    @_specialize(where Self == GRUCell<Float>)
    @_specialize(where Self == IndRNNCell<Float>)
    public func backward(_ trace: SequenceTrace<Scalar>, outputGradient: Matrix<Scalar>?,
                         finalStateGradient: LayerState<Scalar>?,
                         into gradients: inout CellParameters<Scalar>,
                         reusing cache: inout BackwardBuffers<Scalar>?,
                         inputGradient: Bool = true) -> (inputs: Matrix<Scalar>, initial: LayerState<Scalar>) {
        let b = trace.batch, hs = hiddenSize, rows = trace.steps * b, width = Self.gateCount * hs
        if isKnownUniquelyReferenced(&cache) && cache!.matches(steps: trace.steps, batch: b, hiddenSize: hs, gateCount: Self.gateCount,
                                                               separateHiddenGradient: Self.separateHiddenGradient,
                                                               hasMemory: Self.hasMemory, scratch: Self.usesBackwardScratch) {
            cache!.dHidden.zero()                                // what a new buffer starts with
            cache!.dMemory.zero()
        } else {
            cache = BackwardBuffers<Scalar>(steps: trace.steps, batch: b, hiddenSize: hs, gateCount: Self.gateCount,
                                            separateHiddenGradient: Self.separateHiddenGradient,
                                            hasMemory: Self.hasMemory, scratch: Self.usesBackwardScratch)
        }
        let grad = cache!
        grad.chunkSteps = 0                                      // every step's rows (`backwardSummingByChunks` may set it)
        if let final = finalStateGradient {
            grad.dHidden.copy(from: final.hidden)
            if Self.hasMemory && final.memory.rows > 0 { grad.dMemory.copy(from: final.memory) }
        }
        outputGradient.map { precondition($0.rows == rows && $0.cols == hs, "output gradient must be [T*B, H]") }
        let (parts, inner) = batchSplit(trace)
        let live = trace.liveRows, masked = trace.stateMask != nil
        // Equal lengths, no state mask: the cell's whole loop with the weight gradients summed in
        // it (IndRNN, small I), where it has one.
        let summed = live == nil && !masked
            && backwardSequenceSummingGradients(trace, grad, outputGradient: outputGradient,
                                                storeInputGradient: inputGradient, into: &gradients)
        // No state mask, PyTorch's four tensors: the loop chunk by chunk with the four weight
        // gradients of each chunk summed right after it, while its rows are in cache.
        let byChunks = !summed && !masked
            && backwardSummingByChunks(trace, grad, outputGradient: outputGradient, split: (parts, inner),
                                       keepOneChunk: !inputGradient, into: &gradients)
        if !summed && !byChunks {
            Compute.forEachSlice(of: b, parts: parts, threadsPerSlice: inner) { whole in
                backwardLoop(trace, grad, outputGradient: outputGradient, steps: 0..<trace.steps, rows: whole)
            }
            // All weight gradients in one pass where the cell can (h_0 ... h_{T-1} read masked, as
            // the steps read them), else product by product.
            var onePass = false
            if !masked {
                onePass = weightGradientsInOnePass(trace, grad, into: &gradients)
            } else if Self.formsWeightGradientsInOnePass {
                for t in 0..<trace.steps { dropState(t, trace, rows: 0..<b) }
                onePass = weightGradientsInOnePass(trace, grad, into: &gradients)
                for t in 0..<trace.steps { restoreState(t, trace, rows: 0..<b) }
            }
            if !onePass { inputAndRecurrentWeightGradients(trace, grad, masked: masked, into: &gradients) }
        }
        let inputSize = self.inputSize
        // dX = dPreInput W_ih: [T*B, G*H] x [G*H, I]
        var dInputs = Matrix<Scalar>(rows: rows, cols: inputGradient ? inputSize : 0)
        if inputGradient && inputSize > 0 {
            dInputs.storage.withUnsafeMutableBufferPointer { dx in
                parameters[0].storage.withUnsafeBufferPointer { w in
                    Kernels.gemm(transA: false, transB: false, m: rows, n: inputSize, k: width,
                                 a: grad.dPreInput.base, lda: width, b: w.baseAddress!, ldb: inputSize,
                                 c: dx.baseAddress!, ldc: inputSize, accumulate: false)
                }
            }
        }
        let initial = LayerState(hidden: grad.dHidden.matrix(),
                                 memory: Self.hasMemory ? grad.dMemory.matrix() : Matrix(rows: 0, cols: hs))
        return (dInputs, initial)
    }

    /// The backward loop over the steps `steps` (t = steps.upperBound - 1 ... steps.lowerBound) for
    /// the batch rows `whole`: the cell's own loop where it has one (equal lengths, no state mask),
    /// else per step dL/dh_t += the loss's part, then `backwardStep` (variable lengths and the state
    /// mask handled around it).
    func backwardLoop(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>, outputGradient: Matrix<Scalar>?,
                      steps: Range<Int>, rows whole: Range<Int>) {
        let b = trace.batch, hs = hiddenSize, width = Self.gateCount * hs
        let live = trace.liveRows, masked = trace.stateMask != nil
        if live == nil && !masked && backwardSequence(trace, grad, outputGradient: outputGradient, steps: steps, rows: whole) {
            return
        }
        for t in steps.reversed() {
            // Variable lengths: a finished row's state was carried, so its dL/dh passes
            // through unchanged; its step has no gradient (nothing read its inputs).
            let slice = live.map { whole.clamped(to: 0..<$0[t]) } ?? whole
            if slice.upperBound < whole.upperBound || slice.isEmpty {
                let done = slice.isEmpty ? whole : slice.upperBound..<whole.upperBound
                grad.stepGradient(t, row: done.lowerBound).update(repeating: 0, count: done.count * width)
                if Self.separateHiddenGradient {
                    grad.stepHiddenGradient(t, row: done.lowerBound).update(repeating: 0, count: done.count * width)
                }
                if slice.isEmpty { continue }
            }
            if let dOut = outputGradient {                   // dL/dh_t += the loss's part
                dOut.storage.withUnsafeBufferPointer { d in
                    let src = d.baseAddress! + (t * b + slice.lowerBound) * hs
                    let dst = grad.dHidden.row(slice.lowerBound)
                    for i in 0..<(slice.count * hs) { dst[i] += src[i] }
                }
            }
            if masked {                                      // dL/dh_{t-1} = mask ⊙ dL/d(h_{t-1} ⊙ mask)
                dropState(t, trace, rows: slice)
                backwardStep(t, trace, grad, rows: slice)
                restoreState(t, trace, rows: slice)
                if !Self.carriesUnmaskedState {
                    let dh = grad.dHidden.row(slice.lowerBound), mask = trace.stateMask!.row(slice.lowerBound)
                    for i in 0..<(slice.count * hs) { dh[i] *= mask[i] }
                }
            } else {
                backwardStep(t, trace, grad, rows: slice)
            }
        }
    }

    /// The backward loop chunk by chunk of `Kernels.weightGradientChunkSteps(batch:)` steps (last
    /// chunk first), with dW_ih, db_ih, dW_hh and db_hh of each chunk's rows summed right after
    /// it (`WeightGradientSums`), while its dnet rows are still in cache, instead of one pass over
    /// all T*B rows after the loop (a [T*B, G*H] read from memory). For cells that
    /// `formsWeightGradientsInOnePass` without a state mask (equal or variable lengths: a finished
    /// row's dnet is 0); false, doing nothing, otherwise. Each sum runs over the chunks in reverse and over each chunk's rows in order: the
    /// bits of the one pass where T*B <= 256 (one chunk), other bits beyond; the order depends on
    /// B only, never on threads or the instruction set, and every backend sums in it.
    func backwardSummingByChunks(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>,
                                 outputGradient: Matrix<Scalar>?, split: (parts: Int, inner: Int), keepOneChunk: Bool = false,
                                 into gradients: inout CellParameters<Scalar>) -> Bool {
        guard trace.steps > 0, grad.dPreHidden === grad.dPreInput else { return false }
        let b = trace.batch, width = Self.gateCount * hiddenSize, inputSize = self.inputSize, hiddenSize = self.hiddenSize
        let chunk = Kernels.weightGradientChunkSteps(batch: b)
        return withWeightGradients(&gradients) { dWih, dWhh, dbhh, dbih in
            let sums = WeightGradientSums(width: width, hiddenSize: hiddenSize, inputSize: inputSize,
                                          dWhh: dWhh, dWih: dWih, dbhh: dbhh, dbih: dbih)
            // Nothing reads dL/dx: one chunk of dPreInput's rows, written over chunk after chunk (the same values).
            if keepOneChunk && Self.keepsOneChunkOfGradients { grad.chunkSteps = chunk }
            for t0 in stride(from: (trace.steps - 1) / chunk * chunk, through: 0, by: -chunk) {
                let steps = t0..<Swift.min(t0 + chunk, trace.steps), first = t0 * b   // rows first ..< first + n*B
                Compute.forEachSlice(of: b, parts: split.parts, threadsPerSlice: split.inner) { whole in
                    backwardLoop(trace, grad, outputGradient: outputGradient, steps: steps, rows: whole)
                }
                sums.add(rows: steps.count * b, dnet: grad.stepGradient(t0, row: 0), hidden: trace.hidden.row(first),
                         inputs: trace.inputs.row(first))
            }
            sums.finish()
            return true
        } ?? false
    }

    /// The weight gradients after the backward loop, product by product: dW_ih, db_ih, then
    /// the cell's `recurrentWeightGradients` (reading h_{t-1} masked, as the steps did).
    func inputAndRecurrentWeightGradients(_ trace: SequenceTrace<Scalar>, _ grad: BackwardBuffers<Scalar>, masked: Bool,
                                          into gradients: inout CellParameters<Scalar>) {
        let b = trace.batch, rows = trace.steps * b, width = Self.gateCount * hiddenSize, inputSize = self.inputSize
        // dW_ih = dPreInputᵀ X: [G*H, T*B] x [T*B, I];  db_ih = Σ rows of dPreInput
        gradients[0].storage.withUnsafeMutableBufferPointer { dW in
            if let p = dW.baseAddress {
                Kernels.gemm(transA: true, transB: false, m: width, n: inputSize, k: rows,
                             a: grad.dPreInput.base, lda: width, b: trace.inputs.base, ldb: inputSize,
                             c: p, ldc: inputSize, accumulate: true)
            }
        }
        gradients[Self.inputBiasIndex].storage.withUnsafeMutableBufferPointer { db in
            Kernels.columnSums(grad.dPreInput.base, rows: rows, cols: width, into: db.baseAddress!, accumulate: true)
        }
        // The recurrent weights' gradients read h_0 ... h_{T-1} as the steps did: masked.
        if masked { for t in 0..<trace.steps { dropState(t, trace, rows: 0..<b) } }
        recurrentWeightGradients(trace, grad, into: &gradients)
        if masked { for t in 0..<trace.steps { restoreState(t, trace, rows: 0..<b) } }
    }
}

/// Where the forward pass forms a layer's input projection U x_t + b_ih (`inputProjection(_:)`).
enum InputProjectionPlace: Equatable {
    /// One product for all T*B rows before the time loop (large I, uneven lengths, state dropout,
    /// one sequence).
    case allSteps
    /// Step t's rows just before step t, which then reads them from cache (1 <= I <= 8 in Float),
    /// all into preInput's rows 0 ..< B (`SequenceTrace.stepInput`): the product for all rows
    /// wrote [T*B, G*H] to memory and the loop read it back.
    case stepByStep
    /// Inside the cell's own time loop (`projectsInputsInSequence`: IndRNN, the relu and tanh RNN).
    case inCellLoop
}
