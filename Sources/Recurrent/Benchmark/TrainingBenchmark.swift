#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The library side of `recurrent bench`: times full training steps under the protocol
/// of the peer script `shared/peers/rnn_peer_bench.py`, so that the record lands in
/// the same table as PyTorch, JAX and NumPy.
///
/// Model: one recurrent layer (relu | tanh | lstm | gru, the peer script's cells, or any
/// other preset: indrnn, cornn, ...), h_0 = 0, a linear readout on h_T. Step: forward
/// through time, loss, BPTT, plain SGD on every parameter.
/// Init: relu = IRNN (W_hh = I, zero biases, W_ih ~ N(0, 0.001^2)); tanh/lstm/gru
/// U(-1/sqrt(H), 1/sqrt(H)) everywhere; another preset, its own; readout
/// U(-1/sqrt(H), 1/sqrt(H)) weights and a zero bias. Data: `dataBatches` synthetic batches cycled: adding-problem sequences
/// when I = 2 and C = 1, else U(0, 1) inputs with uniform class ids (or N(0, 1)
/// targets for MSE). The distributions are the peer script's; the random streams are
/// `SeededGenerator`'s, not NumPy's, so losses agree in distribution, not bit for bit.
public enum TrainingBenchmark {
    /// The flags of the peer script.
    public struct Options: Sendable {
        /// relu | tanh (an RNN: the irnn and rnn presets) | any other preset (lstm, gru, ...)
        public var cell = "relu"
        public var hidden = 100
        public var input = 1
        public var seqLen = 784
        public var batch = 16
        public var classes = 10
        public var threads = 1
        public var steps = 20
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
        public init() {}
    }

    /// The peer script's cell names for the RNN presets.
    static let peerNames = ["relu": "irnn", "tanh": "rnn"]

    /// The cell names `run` accepts: the peer script's relu and tanh, then every preset.
    public static var cellNames: [String] { ["relu", "tanh"] + ModelConfiguration.presetNames }

    /// The preset a bench cell name stands for (relu: irnn, tanh: rnn), or nil.
    static func preset(_ cell: String) -> (cell: any RecurrentCell<Float>.Type, preset: CellPreset)? {
        CellRegistry.preset(named: peerNames[cell] ?? cell)
    }

    /// Matmul FLOPs of one training step (the peer script's `useful_flops`): forward =
    /// 2 B T (the elements of the layer's weights: G (I H + H H) for RNN, LSTM, GRU) + 2 B H C;
    /// a step counts 3x forward.
    public static func flops(_ o: Options) -> (step: Double, forward: Double) {
        let (b, t, h, c) = (Double(o.batch), Double(o.seqLen), Double(o.hidden), Double(o.classes))
        var weights = 0.0
        if let type = preset(o.cell)?.cell {
            for tensor in type.tensors where tensor.role == .inputWeight || tensor.role == .recurrentWeight {
                let (r, k) = tensor.shape(inputSize: o.input, hiddenSize: o.hidden, gateCount: type.gateCount)
                weights += Double(r) * Double(k)
            }
        }
        let fwd = 2 * b * t * weights + 2 * b * h * c
        return (3 * fwd, fwd)
    }

    /// Runs warm-up and timed steps; the result is one JSON record (see `Record.json`).
    public static func run(_ options: Options) throws(ConfigurationError) -> Record {
        var o = options
        if o.loss == "auto" { o.loss = o.classes > 1 ? "xent" : "mse" }
        guard preset(o.cell) != nil else {
            throw ConfigurationError("unknown cell '\(o.cell)'. Accepted: \(cellNames.joined(separator: ", ")).")
        }
        guard ["xent", "mse"].contains(o.loss) else { throw ConfigurationError("unknown loss '\(o.loss)'. Accepted: auto, xent, mse.") }
        if o.loss == "xent" && o.classes < 2 { throw ConfigurationError("cross-entropy needs --classes >= 2") }
        guard o.hidden >= 1, o.input >= 1, o.seqLen >= 1, o.batch >= 1, o.classes >= 1, o.threads >= 1, o.steps >= 1, o.warmup >= 0 else {
            throw ConfigurationError("hidden, input, seq-len, batch, classes, threads and steps must be >= 1 (warmup >= 0)")
        }
        let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        var cpuCount = online
        if o.pin && o.threads < online, let n = Compute.pinToFirstCPUs(o.threads) { cpuCount = n }
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

    /// Times the steps with the cell of the options' preset, specialised for that cell.
    struct Bench: CellTypeVisitor {
        let options: Options
        let cpus: Int
        var record: Record?

        mutating func visit<Cell: RecurrentCell>(_ cell: Cell.Type) throws where Cell.Scalar == Float {
            guard record == nil, TrainingBenchmark.preset(options.cell)?.cell.kind == Cell.kind else { return }
            record = try TrainingBenchmark.timed(cell, options, cpus: cpus)
        }
    }

    // MARK: - Model and data

    /// The preset's model (relu: irnn, tanh: rnn), drawn from seed + 1, with a zero head bias.
    static func model<Cell: RecurrentCell>(_: Cell.Type, _ o: Options) throws(ConfigurationError) -> RecurrentModel<Cell>
    where Cell.Scalar == Float {
        guard let preset = preset(o.cell) else { throw ConfigurationError("unknown cell '\(o.cell)'") }
        let config = try ModelConfiguration.preset(preset.preset.name, inputSize: o.input, hiddenSize: o.hidden,
                                                   layers: 1, outputs: o.classes, readout: .lastStep)
        var rng = SeededGenerator(seed: o.seed &+ 1)
        var m = try RecurrentModel<Cell>(config, using: &rng)
        m.head.bias.zero()
        return m
    }

    static func data(_ o: Options) -> [(SequenceBatch<Float>, Targets<Float>)] {
        var rng = SeededGenerator(seed: o.seed)
        let (t, b, i, c) = (o.seqLen, o.batch, o.input, o.classes)
        return (0..<max(1, o.dataBatches)).map { _ in
            var x = SequenceBatch<Float>(batch: b, steps: t, features: i, values: [Float](repeating: 0, count: b * t * i))
            if i == 2 && c == 1 {   // the adding problem
                for s in 0..<t { for q in 0..<b { x[q, s, 0] = Float(Draw.uniform01(&rng)) } }
                let half = max(1, t / 2)
                var sums: [Float] = []
                for q in 0..<b {
                    let first = Draw.index(below: half, &rng)
                    let second = t > 1 ? half + Draw.index(below: t - half, &rng) : first
                    x[q, first, 1] = 1
                    x[q, second, 1] = 1
                    sums.append(x[q, first, 0] + x[q, second, 0])
                }
                return (x, .values(sums, columns: 1))
            }
            for k in x.values.indices { x.values[k] = Float(Draw.uniform01(&rng)) }
            if o.loss == "xent" { return (x, .classes((0..<b).map { _ in Draw.index(below: c, &rng) })) }
            return (x, .values((0..<(b * c)).map { _ in Float(Draw.gaussian(&rng)) }, columns: c))
        }
    }

    // MARK: - Timing

    static func timed<Cell: RecurrentCell>(_ type: Cell.Type, _ o: Options, cpus: Int) throws(ConfigurationError) -> Record
    where Cell.Scalar == Float {
        var m = try model(type, o)
        let batches = data(o)
        let loss: Loss = o.loss == "xent" ? .crossEntropy : .meanSquaredError
        var sgd = SGD<Float>(learningRate: o.learningRate)
        var last = 0.0
        var workspace = ModelWorkspace<Float>()
        func step(_ k: Int) throws(ConfigurationError) {
            let (x, y) = batches[k % batches.count]
            let r = try m.gradients(x, y, loss: loss, workspace: &workspace)
            m.apply(r.gradients, using: &sgd)
            last = r.loss
        }
        for k in 0..<o.warmup { try step(k) }
        var load = [0.0, 0.0, 0.0]
        _ = getloadavg(&load, 3)
        var times: [Double] = []
        let cpu0 = cpuSeconds(), wall0 = now()
        for k in o.warmup..<(o.warmup + o.steps) {
            let t0 = now()
            try step(k)
            times.append(now() - t0)
        }
        let wall = now() - wall0, cpu = cpuSeconds() - cpu0
        let sorted = times.sorted(), n = sorted.count
        let median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        return Record(options: o, cpus: cpus, median: median, min: sorted[0], max: sorted[n - 1],
                      mean: times.reduce(0, +) / Double(n), cpuUtil: wall > 0 ? cpu / wall : 0,
                      loadAverage: load[0], finalLoss: last)
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

        public var flopsPerStep: Double { TrainingBenchmark.flops(options).step }
        public var gflops: Double { flopsPerStep / median / 1e9 }

        /// One line of JSON, the fields of `rnn_peer_bench.py` (framework "recurrent").
        public var json: String {
            let o = options, f = TrainingBenchmark.flops(o)
            var fields: [(String, String)] = [
                ("framework", q("recurrent")), ("framework_version", q(Recurrent.version)),
                ("kernels", q(Compute.usesAVX2 ? "c-avx2-fma" : "c-portable")),
                ("cell", q(o.cell)), ("hidden", "\(o.hidden)"), ("input", "\(o.input)"),
                ("seq_len", "\(o.seqLen)"), ("batch", "\(o.batch)"), ("classes", "\(o.classes)"),
                ("loss", q(o.loss)), ("lr", num(o.learningRate)), ("threads", "\(o.threads)"),
                ("cpus", "[" + (0..<cpus).map(String.init).joined(separator: ", ") + "]"),
                ("steps", "\(o.steps)"), ("warmup", "\(o.warmup)"),
                ("median_s", num(median)), ("min_s", num(min)), ("mean_s", num(mean)), ("max_s", num(max)),
                ("seq_per_s", num(Double(o.batch) / median)), ("steps_per_s", num(1 / median)),
                ("us_per_timestep", num(median / Double(o.seqLen) * 1e6)),
                ("flops_per_step", num(f.step)), ("fwd_flops_per_step", num(f.forward)),
                ("gflops", num(f.step / median / 1e9)), ("gflops_best", num(f.step / min / 1e9)),
                ("compile_s", "0.0"), ("cpu_util", num(cpuUtil)), ("loadavg_1m_before", num(loadAverage)),
                ("final_loss", num(finalLoss)),
            ]
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
            return "recurrent \(o.cell) H=\(o.hidden) I=\(o.input) T=\(o.seqLen) B=\(o.batch) C=\(o.classes) "
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
