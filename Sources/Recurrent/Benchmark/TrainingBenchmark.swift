#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The library side of `recurrent bench`, in three modes.
///
/// **Peer** (`run`): times full training steps under the protocol of the peer script
/// `shared/peers/rnn_peer_bench.py`, so that the record lands in the same table as
/// PyTorch, JAX and NumPy. Model: one recurrent layer (relu | tanh | lstm | gru, and
/// indrnn, which the peers lack), h_0 = 0, a linear readout on h_T (or on every h_t with
/// `readout = "every"`, also not in the peers). Step: forward through time, loss, BPTT,
/// plain SGD on every parameter. Init: relu = IRNN (W_hh = I, zero biases, W_ih ~
/// N(0, 0.001^2)); tanh/lstm/gru U(-1/sqrt(H), 1/sqrt(H)) everywhere; indrnn u = 1, zero
/// biases; readout U(-1/sqrt(H), 1/sqrt(H)) weights and a zero bias. Data: `dataBatches`
/// synthetic batches cycled: the adding problem's batches (`AddingProblem`) when I = 2,
/// C = 1 and the readout is the last step, else U(0, 1) inputs with uniform class ids
/// (or N(0, 1) targets for MSE). The distributions are the peer script's; the random
/// streams are `SeededGenerator`'s, not NumPy's, so losses agree in distribution, not
/// bit for bit.
///
/// **Trainer** (`timeTrainer`): times `Trainer.trainStep`, the step `recurrent train`
/// runs (the task's batch, the optimizer, clipping, the finite-state check and its
/// snapshot, the statistics of logged steps), so that the cost of a real training step
/// is measured by the code that has it and cannot drift from it.
///
/// **Inference** (`run` with `mode = "inference"`): the peer mode's model and U(0, 1) inputs
/// [B, T, I], forward only: one timed call is `RecurrentModel.predict(_:chunkSize: B, workspace:)`,
/// the library call behind `recurrent predict` (without its file I/O; the forward-only pass,
/// `RecurrentModel.forwardOnly`), giving the outputs and h_n of B sequences, with one workspace
/// kept across calls as a serving loop would (W_hhᵀ made once, as ONNX Runtime packs its
/// weights once per session); compared with PyTorch under `torch.inference_mode()` and ONNX Runtime
/// by `benchmarks/inference_peer_bench.py`.
public enum TrainingBenchmark {
    /// The flags of the peer script, and what the trainer mode adds.
    public struct Options: Sendable {
        /// "peer" or "inference" (`run`), or "trainer" (`timeTrainer`).
        public var mode = "peer"
        /// relu | tanh | lstm | gru | indrnn (trainer mode: the command line's cell name)
        public var cell = "relu"
        public var hidden = 100
        public var input = 1
        public var seqLen = 784
        public var batch = 16
        public var classes = 10
        public var threads = 1
        public var steps = 20
        /// Keep timing steps past `steps` until the timed steps add up to this many seconds
        /// (0: exactly `steps`), so that every figure covers a fixed span whatever a step costs.
        public var minSeconds = 0.0
        public var warmup = 3
        public var learningRate = 1e-8
        /// auto (xent when classes > 1, else mse) | xent | mse
        public var loss = "auto"
        public var seed: UInt64 = 0
        public var dataBatches = 4
        /// Restrict the process to the first `threads` CPUs when fewer than all (as the peers do).
        public var pin = true
        public var label: String?
        public var ceilingGFLOPs: Double?
        /// "last" (the peers' readout on h_T) or "every" (a readout on every h_t).
        public var readout = "last"
        /// Stacked recurrent layers (trainer mode; the peer mode has one).
        public var layers = 1
        /// Trainer mode: the task's name and the optimizer (e.g. "adam").
        public var task: String?
        public var optimizer: String?
        public init() {}

        /// The peer script's adding problem: I = 2, C = 1 (with the last-step readout).
        var isAddingProblem: Bool { input == 2 && classes == 1 && readout == "last" }
    }

    /// Matmul FLOPs of one training step (the peer script's `useful_flops`): forward =
    /// 2 B T (the elements of each layer's input and recurrent weights: G (I H + H H) for
    /// RNN, LSTM, GRU; G I H + H for IndRNN, whose recurrent product is elementwise; coRNN
    /// has two H x H matrices) + 2 B H C; a step counts 3x forward. Beyond the peers: layer
    /// l > 0 reads H inputs; an every-step readout costs 2 B T H C.
    public static func flops(_ o: Options) -> (step: Double, forward: Double) {
        let (b, t, h, c) = (Double(o.batch), Double(o.seqLen), Double(o.hidden), Double(o.classes))
        var fwd = 0.0
        if let type = CellRegistry.preset(named: peerNames[o.cell] ?? o.cell)?.cell {
            for l in 0..<max(1, o.layers) {
                var weights = 0.0
                for tensor in type.tensors where tensor.role == .inputWeight || tensor.role == .recurrentWeight {
                    let (r, k) = tensor.shape(inputSize: l == 0 ? o.input : o.hidden, hiddenSize: o.hidden, gateCount: type.gateCount)
                    weights += Double(r) * Double(k)
                }
                fwd += 2 * b * t * weights
            }
        }
        fwd += o.readout == "every" ? 2 * b * t * h * c : 2 * b * h * c
        return (3 * fwd, fwd)
    }

    /// Runs warm-up and timed steps; the result is one JSON record (see `Record.json`).
    public static func run(_ options: Options) throws(ConfigurationError) -> Record {
        var o = options
        if o.loss == "auto" { o.loss = o.classes > 1 ? "xent" : "mse" }
        guard CellRegistry.preset(named: peerNames[o.cell] ?? o.cell) != nil else {
            throw ConfigurationError("unknown cell '\(o.cell)'. Accepted: \(cellNames.joined(separator: ", ")).")
        }
        guard ["last", "every"].contains(o.readout) else {
            throw ConfigurationError("unknown readout '\(o.readout)'. Accepted: last, every.")
        }
        guard ["peer", "inference"].contains(o.mode) else {
            throw ConfigurationError("unknown benchmark mode '\(o.mode)'. Accepted: peer, inference (the trainer's step: timeTrainer).")
        }
        guard ["xent", "mse"].contains(o.loss) else { throw ConfigurationError("unknown loss '\(o.loss)'. Accepted: auto, xent, mse.") }
        if o.loss == "xent" && o.classes < 2 { throw ConfigurationError("cross-entropy needs at least 2 classes") }
        guard o.hidden >= 1, o.input >= 1, o.seqLen >= 1, o.batch >= 1, o.classes >= 1, o.threads >= 1, o.steps >= 1, o.warmup >= 0,
              o.minSeconds >= 0, o.minSeconds.isFinite else {
            throw ConfigurationError("hidden, input, seq-len, batch, classes, threads and steps must be >= 1 (warmup >= 0, min-seconds a finite value >= 0)")
        }
        if o.isAddingProblem && o.seqLen < 2 {
            throw ConfigurationError("the adding problem (input 2, classes 1) needs a sequence length of at least 2, got \(o.seqLen)")
        }
        let cpuCount = pinned(o)
        let o2 = o
        let result: Result<Record, ConfigurationError> = Compute.$threads.withValue(o.threads) {
            var bench = Bench(options: o2, cpus: cpuCount)
            do { try CellRegistry.forEachCell(&bench) } catch {
                return .failure(error as? ConfigurationError ?? ConfigurationError("\(error)"))
            }
            guard let record = bench.record else { return .failure(ConfigurationError("unknown cell '\(o2.cell)'")) }
            return .success(record)
        }
        return try result.get()
    }

    /// The peer script's cell names for the RNN presets.
    static let peerNames = ["relu": "irnn", "tanh": "rnn"]

    /// The cell names `run` accepts: the peer script's relu and tanh, then every preset.
    public static var cellNames: [String] { ["relu", "tanh"] + ModelConfiguration.presetNames }

    /// Times the steps with the cell of the options' preset, specialised for that cell.
    struct Bench: CellTypeVisitor {
        let options: Options
        let cpus: Int
        var record: Record?

        mutating func visit<Cell: RecurrentCell>(_ cell: Cell.Type) throws where Cell.Scalar == Float {
            guard record == nil, CellRegistry.preset(named: peerNames[options.cell] ?? options.cell)?.cell.kind == Cell.kind else { return }
            record = options.mode == "inference" ? try TrainingBenchmark.timedInference(cell, options, cpus: cpus)
                                                 : try TrainingBenchmark.timed(cell, options, cpus: cpus)
        }
    }

    /// Restricts the process to the first `threads` CPUs when asked and fewer than all
    /// (as the peers do); returns the CPUs the process runs on.
    static func pinned(_ o: Options) -> Int {
        let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        if o.pin && o.threads < online, let n = Compute.pinToFirstCPUs(o.threads) { return n }
        return online
    }

    // MARK: - The trainer's step

    /// Times `trainer.trainStep`, the step of `recurrent train`: `options.warmup` untimed
    /// steps, then `options.steps` timed ones, each logged (`detailed`) when a run of
    /// `trainer.options.steps` steps would log it (`Trainer.logsNextStep`). `options`
    /// gives the threads, the CPU pinning, the label and the cell's name; the shapes,
    /// loss, readout, task and learning rate are read from the trainer, T from its last
    /// batch. Throws what `trainStep` throws (a divergence undoes the step and stops).
    @_specialize(where Cell == RNNCell<Float>)
    @_specialize(where Cell == LSTMCell<Float>)
    @_specialize(where Cell == GRUCell<Float>)
    @_specialize(where Cell == IndRNNCell<Float>)
    public static func timeTrainer<Cell: RecurrentCell>(_ trainer: inout Trainer<Cell>, _ options: Options) throws -> Record
    where Cell.Scalar == Float {
        var o = options
        o.mode = "trainer"
        o.input = trainer.model.inputSize
        o.hidden = trainer.model.hiddenSize
        o.classes = trainer.model.outputSize
        o.layers = trainer.model.layers.count
        o.batch = trainer.options.batchSize
        o.readout = trainer.model.readout.rawValue
        o.loss = trainer.task.loss == .crossEntropy ? "xent" : "mse"
        o.learningRate = trainer.baseLearningRate
        o.task = trainer.task.name.rawValue
        let cpus = pinned(o)
        var record = try Compute.$threads.withValue(o.threads) {
            try measure(o, cpus: cpus) { _ in
                try trainer.trainStep(detailed: trainer.logsNextStep).loss
            }
        }
        record.options.seqLen = trainer.workspace.traces.first??.steps ?? 0
        return record
    }

    /// Runs `step(k)` for k < `o.warmup` untimed, then timed one by one (a monotonic clock per
    /// step; CPU time and the load average around them) until `o.steps` steps are timed and
    /// their times add up to `o.minSeconds`; the record's `steps` is the count timed. `step`
    /// returns the loss, of which the record keeps the last.
    static func measure<E: Error>(_ o: Options, cpus: Int, _ step: (Int) throws(E) -> Double) throws(E) -> Record {
        var last = 0.0
        for k in 0..<o.warmup { last = try step(k) }
        var load = [0.0, 0.0, 0.0]
        _ = getloadavg(&load, 3)
        var times: [Double] = []
        var timed = 0.0, k = o.warmup
        let cpu0 = cpuSeconds(), wall0 = now()
        while times.count < o.steps || timed < o.minSeconds {
            let t0 = now()
            last = try step(k)
            times.append(now() - t0)
            timed += times[times.count - 1]
            k += 1
        }
        var o = o
        o.steps = times.count
        let wall = now() - wall0, cpu = cpuSeconds() - cpu0
        let sorted = times.sorted(), n = sorted.count
        let median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        return Record(options: o, cpus: cpus, median: median, min: sorted[0], max: sorted[n - 1],
                      mean: times.reduce(0, +) / Double(n), cpuUtil: wall > 0 ? cpu / wall : 0,
                      loadAverage: load[0], finalLoss: last)
    }

    // MARK: - Model and data

    static func model<Cell: RecurrentCell>(_: Cell.Type, _ o: Options) throws(ConfigurationError) -> RecurrentModel<Cell>
    where Cell.Scalar == Float {
        let relu = o.cell == "relu"
        let readout: Readout = o.readout == "every" ? .everyStep : .lastStep
        var config = ModelConfiguration(
            cell: Cell.kind, activation: relu ? .relu : .tanh, inputSize: o.input, hiddenSize: o.hidden,
            layers: 1, outputs: o.classes, readout: readout,
            inputInit: relu ? .gaussian(std: 0.001) : .pytorchDefault,
            recurrentInit: relu ? .identity(scale: 1) : .pytorchDefault,
            biasInit: relu ? .zeros : .pytorchDefault)
        if !["relu", "tanh", "lstm", "gru"].contains(o.cell) {   // the peers' cells above; any other preset as itself
            config = try ModelConfiguration.preset(o.cell, inputSize: o.input, hiddenSize: o.hidden, outputs: o.classes, readout: readout)
        }
        var rng = SeededGenerator(seed: o.seed &+ 1)
        var m = try RecurrentModel<Cell>(config, using: &rng)
        m.head.bias.zero()
        return m
    }

    /// The synthetic batches, cycled during timing (see the type's description).
    static func data(_ o: Options) throws(ConfigurationError) -> [(SequenceBatch<Float>, Targets<Float>)] {
        var rng = SeededGenerator(seed: o.seed)
        let (t, b, i, c) = (o.seqLen, o.batch, o.input, o.classes)
        let perStep = o.readout == "every"
        if o.isAddingProblem {
            let problem: AddingProblem
            do { problem = try AddingProblem(steps: t) } catch { throw ConfigurationError(error.description) }
            return (0..<max(1, o.dataBatches)).map { _ in problem.batch(size: b, using: &rng) }
        }
        return (0..<max(1, o.dataBatches)).map { _ in
            var x = SequenceBatch<Float>(batch: b, steps: t, features: i, values: [Float](repeating: 0, count: b * t * i))
            for k in x.values.indices { x.values[k] = Float(Draw.uniform01(&rng)) }
            let rows = perStep ? b * t : b
            if o.loss == "xent" {
                let ids = (0..<rows).map { _ in Draw.index(below: c, &rng) }
                return (x, perStep ? .classesPerStep(ids) : .classes(ids))
            }
            let values = (0..<(rows * c)).map { _ in Float(Draw.gaussian(&rng)) }
            return (x, perStep ? .valuesPerStep(values, columns: c) : .values(values, columns: c))
        }
    }

    // MARK: - Timing

    static func timed<Cell: RecurrentCell>(_ type: Cell.Type, _ o: Options, cpus: Int) throws(ConfigurationError) -> Record
    where Cell.Scalar == Float {
        var m = try model(type, o)
        let batches = try data(o)
        let loss: Loss = o.loss == "xent" ? .crossEntropy : .meanSquaredError
        var sgd = SGD<Float>(learningRate: o.learningRate)
        var workspace = ModelWorkspace<Float>(inputGradient: false)   // as the peers: no dL/dx
        return try measure(o, cpus: cpus) { (k: Int) throws(ConfigurationError) -> Double in
            let (x, y) = batches[k % batches.count]
            let r = try m.gradients(x, y, loss: loss, workspace: &workspace)
            m.apply(r.gradients, using: &sgd)
            return r.loss
        }
    }

    /// Times `predict` over one batch of U(0, 1) inputs [B, T, I] (the inference mode); the
    /// record's `finalLoss` holds the first output of the last call.
    static func timedInference<Cell: RecurrentCell>(_ type: Cell.Type, _ o: Options, cpus: Int) throws(ConfigurationError) -> Record
    where Cell.Scalar == Float {
        let m = try model(type, o)
        var rng = SeededGenerator(seed: o.seed)
        var x = SequenceBatch<Float>(batch: o.batch, steps: o.seqLen, features: o.input,
                                     values: [Float](repeating: 0, count: o.batch * o.seqLen * o.input))
        for k in x.values.indices { x.values[k] = Float(Draw.uniform01(&rng)) }
        var workspace = ModelWorkspace<Float>()                 // as a serving loop: buffers and W_hhᵀ made once
        return measure(o, cpus: cpus) { _ in Double(m.predict(x, chunkSize: o.batch, workspace: &workspace).outputs[0]) }
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    static func cpuSeconds() -> Double {
        var u = rusage()
        #if canImport(Glibc)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        #else
        getrusage(RUSAGE_SELF, &u)
        #endif
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
        return s(u.ru_utime) + s(u.ru_stime)
    }

    // MARK: - Record

    /// One benchmark result, with the peer script's JSON fields.
    public struct Record: Sendable {
        public var options: Options
        public var cpus: Int
        public var median: Double
        public var min: Double
        public var max: Double
        public var mean: Double
        public var cpuUtil: Double
        public var loadAverage: Double
        public var finalLoss: Double

        /// A training step's FLOPs, or the forward pass's in the inference mode.
        public var flopsPerStep: Double {
            let f = TrainingBenchmark.flops(options)
            return options.mode == "inference" ? f.forward : f.step
        }
        public var gflops: Double { flopsPerStep / median / 1e9 }

        /// One line of JSON, the fields of `rnn_peer_bench.py` (framework "recurrent").
        public var json: String {
            let o = options, f = TrainingBenchmark.flops(o), flops = flopsPerStep
            var fields: [(String, String)] = [
                ("framework", q("recurrent")), ("framework_version", q(Recurrent.version)),
                ("kernels", q(["c-portable", "c-avx2-fma", "c-avx512"][Compute.instructionSet.rawValue])),
                ("denormals", q(Compute.flushesDenormals.map { $0 ? "flush" : "keep" } ?? "unknown")),
                ("cell", q(o.cell)), ("hidden", "\(o.hidden)"), ("input", "\(o.input)"),
                ("seq_len", "\(o.seqLen)"), ("batch", "\(o.batch)"), ("classes", "\(o.classes)"),
                ("loss", q(o.loss)), ("lr", num(o.learningRate)), ("threads", "\(o.threads)"),
                ("cpus", "[" + (0..<cpus).map(String.init).joined(separator: ", ") + "]"),
                ("steps", "\(o.steps)"), ("warmup", "\(o.warmup)"), ("min_seconds", num(o.minSeconds)),
                ("median_s", num(median)), ("min_s", num(min)), ("mean_s", num(mean)), ("max_s", num(max)),
                ("seq_per_s", num(Double(o.batch) / median)), ("steps_per_s", num(1 / median)),
                ("us_per_timestep", num(median / Double(o.seqLen) * 1e6)),
                ("flops_per_step", num(flops)), ("fwd_flops_per_step", num(f.forward)),
                ("gflops", num(flops / median / 1e9)), ("gflops_best", num(flops / min / 1e9)),
                ("compile_s", "0.0"), ("cpu_util", num(cpuUtil)), ("loadavg_1m_before", num(loadAverage)),
                ("final_loss", num(finalLoss)),
            ]
            // beyond the peers' fields (added, never changed: run_all.sh reads the others)
            fields.append(("mode", q(o.mode)))
            fields.append(("readout", q(o.readout)))
            if o.mode == "trainer" {
                fields.append(("task", o.task.map(q) ?? "null"))
                fields.append(("optimizer", o.optimizer.map(q) ?? "null"))
                fields.append(("layers", "\(o.layers)"))
            }
            // absent rather than null, so that run_all.sh can fill in the config name
            if let label = o.label { fields.append(("label", q(label))) }
            if let c = o.ceilingGFLOPs {
                fields.append(("ceiling_gflops", num(c)))
                fields.append(("pct_ceiling", num(100 * gflops / c)))
            }
            return "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
        }

        /// One readable line.
        public var summary: String {
            let o = options
            if o.mode == "inference" {
                return "recurrent inference \(o.cell) H=\(o.hidden) I=\(o.input) T=\(o.seqLen) B=\(o.batch) C=\(o.classes) "
                    + "threads=\(o.threads): \(fixed(median * 1e3, 3)) ms per call median, \(fixed(min * 1e3, 3)) ms best, "
                    + "\(fixed(Double(o.batch) / median, 1)) sequences/s, \(fixed(gflops)) GFLOP/s"
            }
            let what = o.mode == "trainer" ? "recurrent trainer \(o.task ?? "?") \(o.optimizer ?? "?") \(o.cell)"
                + (o.layers > 1 ? " L=\(o.layers)" : "") : "recurrent \(o.cell)"
            return "\(what) H=\(o.hidden) I=\(o.input) T=\(o.seqLen) B=\(o.batch) C=\(o.classes)"
                + (o.readout == "every" ? " (every step) " : " ")
                + "threads=\(o.threads): \(fixed(median * 1e3)) ms/step median, \(fixed(min * 1e3)) ms best, "
                + "\(fixed(gflops)) GFLOP/s, final loss \(fixed(finalLoss, 6))"
        }

        func q(_ s: String) -> String { JSONText.quoted(s) }

        func num(_ v: Double) -> String { v.isFinite ? "\(v)" : "null" }

        func fixed(_ v: Double, _ digits: Int = 2) -> String {
            guard v.isFinite else { return "\(v)" }
            var scale = 1.0
            for _ in 0..<digits { scale *= 10 }
            let r = (v * scale).rounded() / scale
            var s = "\(r)"
            if let dot = s.firstIndex(of: "."), !s.contains("e") {
                let decimals = s.distance(from: dot, to: s.endIndex) - 1
                if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
            }
            return s
        }
    }
}
