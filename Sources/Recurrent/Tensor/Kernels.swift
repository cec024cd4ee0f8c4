import CRecurrentKernels
import Foundation

// MARK: - Compute options

/// How `Kernels` computes: which implementation, and on how many threads.
///
/// Both are task-local values set by the caller for a scope, never a global that
/// changes behind anyone's back:
/// ```swift
/// Compute.$threads.withValue(2) { train() }        // the CLI's --threads
/// Compute.$backend.withValue(.naive) { ... }       // the plain loops (tests)
/// ```
/// Results do not depend on `threads`: the fast GEMM splits C among threads so that
/// every element is computed by the same chain of operations (see `Kernels.gemm`).
public enum Compute {
    public enum Backend: String, Sendable, CaseIterable {
        /// C kernels for `Float` (AVX2+FMA where the CPU has them); `Double` runs the plain loops.
        case fast
        /// `NaiveKernels` for every type: the reference.
        case naive
    }

    /// Threads for large products (1 = the calling thread only).
    @TaskLocal public static var threads: Int = 1
    @TaskLocal public static var backend: Backend = .fast

    /// True when the fast Float kernels use their AVX2+FMA bodies on this CPU.
    public static var usesAVX2: Bool { rk_uses_avx2() != 0 }

    /// The instruction set of the C kernels' bodies: the portable loops, AVX2+FMA, or AVX-512
    /// (F, BW, DQ, VL: the GEMM tiles and the fused step in 512-bit registers; the rest AVX2).
    /// Every set gives the same bits (each output is the same chain of fused multiply-adds),
    /// so the choice changes speed only. The environment variable `RECURRENT_ISA` (`generic`,
    /// `avx2` or `avx512`, read once) caps it for a process.
    public enum InstructionSet: Int, Sendable, CaseIterable, Comparable {
        case generic = 0, avx2 = 1, avx512 = 2
        public var name: String { ["generic", "avx2", "avx512"][rawValue] }
        public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    }

    /// The bodies in use.
    public static var instructionSet: InstructionSet { InstructionSet(rawValue: Int(rk_isa())) ?? .generic }

    /// The best bodies this CPU and OS support (AVX-512 needs the OS to save the ZMM registers).
    public static var availableInstructionSet: InstructionSet {
        InstructionSet(rawValue: Int(rk_isa_available())) ?? .generic
    }

    /// What is wrong with the environment's `RECURRENT_ISA`, or nil when it is unset or names a
    /// set this CPU supports. The C kernels read the variable themselves and fall back to the
    /// best available set on any other value; programs call this first so that a typo or a set
    /// the machine lacks is refused instead of silently timing something else.
    public static func instructionSetRequestProblem(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard let value = environment["RECURRENT_ISA"] else { return nil }
        let names = InstructionSet.allCases.map(\.name)
        guard let wanted = InstructionSet.allCases.first(where: { $0.name == value }) else {
            return "RECURRENT_ISA=\(value) is not an instruction set: use one of \(names.joined(separator: ", ")), or unset it for the best this CPU has (\(availableInstructionSet.name))"
        }
        guard wanted <= availableInstructionSet else {
            return "RECURRENT_ISA=\(value) asks for \(value), which this CPU or its OS does not provide: the best available is \(availableInstructionSet.name); unset RECURRENT_ISA or set it to \(availableInstructionSet.name)"
        }
        return nil
    }

    private static let instructionSetLock = NSLock()

    /// Runs `body` with the kernels' bodies of `set` on the calling thread (and in the kernel
    /// pool's pieces of its calls), then restores the previous set; other threads' calls keep
    /// theirs, so a test that switches sets never changes another test's bits. One such scope at
    /// a time (others wait). For tests and benchmarks that run the same work through each set.
    /// Returns nil, running nothing, when the CPU lacks `set`.
    public static func withInstructionSet<R>(_ set: InstructionSet, _ body: () throws -> R) rethrows -> R? {
        guard set <= availableInstructionSet else { return nil }
        instructionSetLock.lock()
        defer { instructionSetLock.unlock() }
        let before = rk_set_isa(Int32(set.rawValue))
        defer { if before >= 0 { rk_set_isa(before) } }
        return try body()
    }

    /// Keeps freed memory in the process for reuse (glibc `mallopt`: no trimming, no mmap
    /// for large blocks), so a training loop's large per-step buffers are not page-faulted
    /// in again every step. Process-wide: for programs such as the CLI, not for libraries.
    @discardableResult
    public static func retainFreedMemory() -> Bool { rk_retain_freed_memory() != 0 }

    /// Whether denormal (subnormal) numbers are flushed to zero on the calling thread: results
    /// that would be subnormal (|x| < 1.2e-38 in Float) become 0 and subnormal inputs read as 0
    /// (x86 FTZ + DAZ, AArch64 FZ). Many CPUs take a slow microcode path for every subnormal
    /// operand; a long LSTM unroll produces them in saturated gates and decaying gradients, and
    /// on some CPUs that makes a training step several times slower. XLA (JAX) flushes by
    /// default; PyTorch does not unless `torch.set_flush_denormal(True)`.
    ///
    /// The kernel pool's workers take the caller's mode with every job, so results are the
    /// same bits for any thread count in either mode. Flushing changes results only where a
    /// value falls below Float's normal range. Nil where the CPU has no such mode.
    public static var flushesDenormals: Bool? {
        let r = rk_flushes_denormals()
        return r < 0 ? nil : r != 0
    }

    /// Runs `body` with denormals flushed (`true`) or kept (`false`, IEEE gradual underflow)
    /// on the calling thread and on every kernel worker it uses, then restores the thread's
    /// previous mode. `body` must stay on the calling thread (the mode is per thread).
    public static func withDenormalsFlushed<R>(_ flush: Bool, _ body: () throws -> R) rethrows -> R {
        let before = rk_set_flush_denormals(flush ? 1 : 0)
        defer { if before >= 0 { rk_set_flush_denormals(before) } }
        return try body()
    }

    /// Restricts the process to the first `n` CPUs it may use (Linux; what the peer
    /// benchmark does). Returns the CPU count afterwards, or nil where unsupported.
    public static func pinToFirstCPUs(_ n: Int) -> Int? {
        let r = rk_pin_first_cpus(Int32(clamping: n))
        return r < 0 ? nil : Int(r)
    }
}

// MARK: - Kernels

/// The one interface between the layers and the arithmetic: matrix products with
/// transpose flags and accumulation, bias broadcasting and reductions.
///
/// Cells, BPTT, losses and optimizers call only these (or `Matrix` helpers built on
/// them), so that faster kernels replace the loops here without touching any layer.
/// `NaiveKernels` keeps the plain loops as the test oracle.
public enum Kernels {
    /// The buffer as Float, for the C kernels (called only where `T` is `Float`).
    @usableFromInline static func floats<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Float> {
        UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
    }
    @usableFromInline static func floats<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
    }

    /// `C = op(A) op(B)` or `C += op(A) op(B)`; see `NaiveKernels.gemm` for the shapes.
    @inlinable
    public static func gemm<T: NeuralScalar>(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<T>, lda: Int,
        b: UnsafePointer<T>, ldb: Int,
        c: UnsafeMutablePointer<T>, ldc: Int,
        accumulate: Bool
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        if T.self == Float.self && Compute.backend == .fast {
            // C kernel: register-blocked 6x16 FMA tiles; threads split C by rows or columns.
            rk_sgemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, floats(a), lda, floats(b), ldb, floats(c), ldc,
                     accumulate ? 1 : 0, Int32(clamping: max(1, Compute.threads)))
            return
        }
        NaiveKernels.gemm(transA: transA, transB: transB, m: m, n: n, k: k,
                          a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
    }

    // MARK: - Pre-packed B (a weight read by every step of a pass)

    /// Floats that `packPanels` writes for op(B) [k, n]: ceil(n / 16) panels of [k][16].
    public static func packedPanelFloats(k: Int, n: Int) -> Int { rk_packed_b_floats(k, n) }

    /// Packs op(B) [k, n] (`b` row-major with row stride `ldb`, transposed when `transposed`)
    /// into 16-column panels [k][16] (zero-padded) for `gemm(a:packedB:)` and the packed
    /// recurrent step. Float with the fast backend only (returns false otherwise, writing nothing).
    @inlinable
    public static func packPanels<T: NeuralScalar>(transposed: Bool, k: Int, n: Int, b: UnsafePointer<T>, ldb: Int,
                                                   into packed: UnsafeMutablePointer<T>) -> Bool {
        guard T.self == Float.self && Compute.backend == .fast else { return false }
        rk_pack_b(transposed ? 1 : 0, k, n, floats(b), ldb, floats(packed))
        return true
    }

    /// `C (+)= A op(B)` with op(B) [k, n] packed by `packPanels`, A [m, k] row-major: the
    /// same values as `gemm(transA: false, ...)` on the unpacked B (n > 2), for any thread count.
    @inlinable
    public static func gemm<T: NeuralScalar>(m: Int, n: Int, k: Int, a: UnsafePointer<T>, lda: Int,
                                             packedB: UnsafePointer<T>, c: UnsafeMutablePointer<T>, ldc: Int,
                                             accumulate: Bool) {
        precondition(T.self == Float.self, "packed panels exist for Float only")
        rk_sgemm_packed_b(m, n, k, floats(a), lda, floats(packedB), floats(c), ldc, accumulate ? 1 : 0,
                          Int32(clamping: max(1, Compute.threads)))
    }

    /// `out[c] (+)= sum_r a[r, c]`.
    @inlinable
    public static func columnSums<T: NeuralScalar>(
        _ a: UnsafePointer<T>, rows: Int, cols: Int, into out: UnsafeMutablePointer<T>, accumulate: Bool
    ) {
        if T.self == Float.self && Compute.backend == .fast {
            rk_column_sums(floats(a), rows, cols, floats(out), accumulate ? 1 : 0)
            return
        }
        NaiveKernels.columnSums(a, rows: rows, cols: cols, into: out, accumulate: accumulate)
    }

    /// Adam's update of `count` elements (`Adam.update`'s loop: p *= decay when `decoupled`, or
    /// g += wd p when `coupled`; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g g; p -= stepSize m /
    /// (sqrt(v) / correction2 + eps)) in one C pass (`rk_adam_update`, AVX2 where present): the same
    /// operations in the same order, so the same bits. False (doing nothing) where no fast body
    /// applies: the caller runs its loop.
    @inlinable
    public static func adamUpdate<T: NeuralScalar>(
        _ p: UnsafeMutablePointer<T>, _ m: UnsafeMutablePointer<T>, _ v: UnsafeMutablePointer<T>,
        gradient g: UnsafePointer<T>, count: Int,
        _ c: (b1: T, b2: T, eps: T, stepSize: T, correction2: T, decay: T, wd: T, decoupled: Bool, coupled: Bool)
    ) -> Bool {
        guard T.self == Float.self && Compute.backend == .fast else { return false }
        let f = { (x: T) in unsafeBitCast(x, to: Float.self) }
        var a = rk_adam_t(b1: f(c.b1), omb1: 1 - f(c.b1), b2: f(c.b2), omb2: 1 - f(c.b2), correction2: f(c.correction2),
                          eps: f(c.eps), step: f(c.stepSize), decay: f(c.decay), wd: f(c.wd),
                          decoupled: c.decoupled ? 1 : 0, coupled: c.coupled ? 1 : 0)
        rk_adam_update(count, floats(p), floats(m), floats(v), floats(g), &a)
        return true
    }

    /// The relu step backward: `dnet[i] = net[i] > 0 ? dh[i] : 0` for `i < n`. Returns
    /// false (doing nothing) when no fast body applies: the caller runs its loop.
    @inlinable
    public static func reluBackward<T: NeuralScalar>(
        count n: Int, net: UnsafePointer<T>, dh: UnsafePointer<T>, into dnet: UnsafeMutablePointer<T>
    ) -> Bool {
        guard T.self == Float.self && Compute.backend == .fast else { return false }
        rk_relu_backward(n, floats(net), floats(dh), floats(dnet))
        return true
    }

    /// `c[r, :] += bias` for `rows` rows of `cols` values (row stride `cols`).
    @inlinable
    public static func addRowVector<T: NeuralScalar>(
        _ bias: UnsafePointer<T>, to c: UnsafeMutablePointer<T>, rows: Int, cols: Int
    ) {
        for r in 0..<rows {
            let row = c + r * cols
            for j in 0..<cols { row[j] += bias[j] }
        }
    }
}

// MARK: - Fused LSTM gates

extension Kernels {
    /// The LSTM's step after the products, one pass: `gates` [rows, 4H] holds the
    /// pre-activations (i, f, g, o) and receives σ(i), σ(f), tanh(g), σ(o);
    /// c_t = f ⊙ c_{t-1} + i ⊙ g and h_t = o ⊙ tanh(c_t), each [rows, H]; with `tanhC`, also
    /// tanh(c_t) there (row stride `tanhCStride`) for `lstmBackward(tanhC:)`.
    /// Returns false (doing nothing) when no fast body applies: the caller runs its loops.
    @inlinable
    public static func lstmForward<T: NeuralScalar>(
        rows: Int, hidden: Int, gates: UnsafeMutablePointer<T>, cPrev: UnsafePointer<T>,
        cNew: UnsafeMutablePointer<T>, hNew: UnsafeMutablePointer<T>,
        tanhC: UnsafeMutablePointer<T>? = nil, tanhCStride: Int = 0
    ) -> Bool {
        guard T.self == Float.self && Compute.backend == .fast else { return false }
        if let tanhC {
            rk_lstm_forward_keep(rows, hidden, floats(gates), floats(cPrev), floats(cNew), floats(hNew),
                                 floats(tanhC), tanhCStride)
        } else {
            rk_lstm_forward(rows, hidden, floats(gates), floats(cPrev), floats(cNew), floats(hNew))
        }
        return true
    }

    /// The mirror of `lstmForward`: from the activated `gates` [rows, 4H], c_{t-1}, c_t,
    /// dh = dL/dh_t and dc = dL/dc_t (overwritten with dL/dc_{t-1}), all [rows, H],
    /// writes dL/d(pre-activations) into `dPre` [rows, 4H]. False when no fast body applies.
    @inlinable
    public static func lstmBackward<T: NeuralScalar>(
        rows: Int, hidden: Int, gates: UnsafePointer<T>, cPrev: UnsafePointer<T>, cNew: UnsafePointer<T>,
        dh: UnsafePointer<T>, dc: UnsafeMutablePointer<T>, dPre: UnsafeMutablePointer<T>
    ) -> Bool {
        guard T.self == Float.self && Compute.backend == .fast else { return false }
        rk_lstm_backward(rows, hidden, floats(gates), floats(cPrev), floats(cNew), floats(dh), floats(dc), floats(dPre))
        return true
    }

    /// `lstmBackward` with tanh(c_t) read from `tanhC` (row stride `tanhCStride`), as kept by
    /// `lstmForward(tanhC:)`, instead of recomputed from c_t: the same bits, one tanh fewer per unit.
    @inlinable
    public static func lstmBackward<T: NeuralScalar>(
        rows: Int, hidden: Int, gates: UnsafePointer<T>, cPrev: UnsafePointer<T>, tanhC: UnsafePointer<T>, tanhCStride: Int,
        dh: UnsafePointer<T>, dc: UnsafeMutablePointer<T>, dPre: UnsafeMutablePointer<T>
    ) -> Bool {
        guard T.self == Float.self && Compute.backend == .fast else { return false }
        rk_lstm_backward_kept(rows, hidden, floats(gates), floats(cPrev), floats(tanhC), tanhCStride,
                              floats(dh), floats(dc), floats(dPre))
        return true
    }

    /// The LSTM's backward step in one pass: `lstmBackward(tanhC:)`, then dh [rows, H] = dPre
    /// [rows, 4H] `weight` (W_hh [4H, H], row-major), as `gemm` forms it, into `dh` (read first by
    /// the gates): the same bits, the gate inputs of the next rows prefetched while the product runs
    /// (`next*`: the same rows of step t-1's operands, nil at t = 0). False (doing nothing) where
    /// no such body applies (`rk_lstm_backward_step`: AVX2 without AVX-512, H <= 256).
    @inlinable
    public static func lstmBackwardStep<T: NeuralScalar>(
        rows: Int, hidden: Int, gates: UnsafePointer<T>, cPrev: UnsafePointer<T>, tanhC: UnsafePointer<T>, tanhCStride: Int,
        dh: UnsafeMutablePointer<T>, dc: UnsafeMutablePointer<T>, dPre: UnsafeMutablePointer<T>, weight: UnsafePointer<T>,
        next: (gates: UnsafePointer<T>, cPrev: UnsafePointer<T>, tanhC: UnsafePointer<T>)?
    ) -> Bool {
        guard T.self == Float.self && Compute.backend == .fast else { return false }
        return rk_lstm_backward_step(rows, hidden, floats(gates), floats(cPrev), floats(tanhC), tanhCStride, floats(dh),
                                     floats(dc), floats(dPre), floats(weight), next.map { floats($0.gates) },
                                     next.map { floats($0.cPrev) }, next.map { floats($0.tanhC) },
                                     Int32(clamping: max(1, Compute.threads))) != 0
    }
}

// MARK: - Fused GRU gates and the tanh step

extension Kernels {
    /// The GRU's step after the products, one pass over `rows` rows: from x = W_i x_t + b_i
    /// and hh = W_h h_{t-1} + b_h ([rows, 3H], gate order r, z, n) and h_{t-1} [rows, H],
    /// writes the gates r, z, n and h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}. False when no fast body applies.
    @inlinable
    public static func gruForward<T: NeuralScalar>(
        rows: Int, hidden: Int, x: UnsafePointer<T>, hh: UnsafePointer<T>, hPrev: UnsafePointer<T>,
        gates: UnsafeMutablePointer<T>, hNew: UnsafeMutablePointer<T>
    ) -> Bool {
        guard T.self == Float.self && Compute.backend == .fast else { return false }
        rk_gru_forward(rows, hidden, floats(x), floats(hh), floats(hPrev), floats(gates), floats(hNew))
        return true
    }

    /// The mirror of `gruForward`: from hh, the gates, h_{t-1} and dh = dL/dh_t writes
    /// dL/d(input pre-activations) `dIn`, dL/d(hh) `dHh` (both [rows, 3H]) and the direct
    /// path z ⊙ dh [rows, H]. False when no fast body applies.
    @inlinable
    public static func gruBackward<T: NeuralScalar>(
        rows: Int, hidden: Int, hh: UnsafePointer<T>, gates: UnsafePointer<T>, hPrev: UnsafePointer<T>,
        dh: UnsafePointer<T>, dIn: UnsafeMutablePointer<T>, dHh: UnsafeMutablePointer<T>, direct: UnsafeMutablePointer<T>
    ) -> Bool {
        guard T.self == Float.self && Compute.backend == .fast else { return false }
        rk_gru_backward(rows, hidden, floats(hh), floats(gates), floats(hPrev), floats(dh),
                        floats(dIn), floats(dHh), floats(direct))
        return true
    }

    /// The activations the fused recurrent step applies in its epilogue.
    public enum StepActivation: Int32, Sendable {
        case relu = 1
        case tanh = 2
    }

    /// A recurrent step's product in one pass: net = x + (b_hh + h_{t-1} W_hhᵀ) [rows, n]
    /// from W_hhᵀ [k, n]; with `activation` relu or tanh also h_t = f(net) (the simple RNN,
    /// n = k = H), with nil only net (the LSTM's gate pre-activations, n = 4H). Every value
    /// equals the unfused step's (`gemm` onto b_hh, then + x) bit for bit; the product is
    /// never stored. False (doing nothing) when no fast body applies.
    @inlinable
    public static func recurrentStep<T: NeuralScalar>(
        rows: Int, width n: Int, hidden k: Int, hPrev: UnsafePointer<T>, transposedWeight: UnsafePointer<T>,
        bias: UnsafePointer<T>, x: UnsafePointer<T>, net: UnsafeMutablePointer<T>,
        hNew: UnsafeMutablePointer<T>? = nil, activation: StepActivation? = nil
    ) -> Bool {
        recurrentStep(rows: rows, width: n, hidden: k, hPrev: hPrev, weight: transposedWeight, packed: false, bias: bias,
                      x: x, net: net, hNew: hNew, activation: activation)
    }

    /// `recurrentStep` with W_hhᵀ as the panels of `packPanels(transposed: true, ...)` of W_hh:
    /// the same values bit for bit, for large H (a panel is contiguous). False when no fast
    /// body applies.
    @inlinable
    public static func recurrentStep<T: NeuralScalar>(
        rows: Int, width n: Int, hidden k: Int, hPrev: UnsafePointer<T>, packedTransposedWeight: UnsafePointer<T>,
        bias: UnsafePointer<T>, x: UnsafePointer<T>, net: UnsafeMutablePointer<T>,
        hNew: UnsafeMutablePointer<T>? = nil, activation: StepActivation? = nil
    ) -> Bool {
        recurrentStep(rows: rows, width: n, hidden: k, hPrev: hPrev, weight: packedTransposedWeight, packed: true, bias: bias,
                      x: x, net: net, hNew: hNew, activation: activation)
    }

    /// The two above: `weight` is W_hhᵀ [k, n] (`packed` false) or its panels (true).
    @inlinable
    static func recurrentStep<T: NeuralScalar>(
        rows: Int, width n: Int, hidden k: Int, hPrev: UnsafePointer<T>, weight: UnsafePointer<T>, packed: Bool,
        bias: UnsafePointer<T>, x: UnsafePointer<T>, net: UnsafeMutablePointer<T>,
        hNew: UnsafeMutablePointer<T>?, activation: StepActivation?
    ) -> Bool {
        guard T.self == Float.self && Compute.backend == .fast else { return false }
        let code = activation?.rawValue ?? 0
        guard code == 0 || hNew != nil else { return false }
        let threads = Int32(clamping: max(1, Compute.threads))
        if rows == 1 {                                   // batch 1: a matrix-vector product, the same bits
            rk_recurrent_step_row(n, k, floats(hPrev), floats(weight), packed ? 1 : 0, floats(bias), floats(x), floats(net),
                                  hNew.map { floats($0) }, code, threads)
        } else if packed {
            rk_recurrent_step_packed(rows, n, k, floats(hPrev), floats(weight), floats(bias), floats(x), floats(net),
                                     hNew.map { floats($0) }, code, threads)
        } else {
            rk_recurrent_step(rows, n, k, floats(hPrev), floats(weight), floats(bias), floats(x), floats(net),
                              hNew.map { floats($0) }, code, threads)
        }
        return true
    }

    /// The tanh RNN's step after the product: net = x + r, h = tanh(net), `count` values.
    /// False when no fast body applies.
    @inlinable
    public static func tanhStep<T: NeuralScalar>(
        count n: Int, x: UnsafePointer<T>, r: UnsafePointer<T>, net: UnsafeMutablePointer<T>, h: UnsafeMutablePointer<T>
    ) -> Bool {
        guard T.self == Float.self && Compute.backend == .fast else { return false }
        rk_tanh_forward(n, floats(x), floats(r), floats(net), floats(h))
        return true
    }
}

// MARK: - Matrix-level products (for code off the hot path)

extension Matrix {
    /// `op(a) op(b)` as a new matrix, or added into `into` when given.
    public static func product(_ a: Matrix, _ b: Matrix, transposeA transA: Bool = false,
                               transposeB transB: Bool = false) -> Matrix {
        let m = transA ? a.cols : a.rows
        let k = transA ? a.rows : a.cols
        let kb = transB ? b.cols : b.rows
        let n = transB ? b.rows : b.cols
        precondition(k == kb, "Matrix product: inner dimensions \(a.shape)\(transA ? "ᵀ" : "") x \(b.shape)\(transB ? "ᵀ" : "") differ")
        var c = Matrix(rows: m, cols: n)
        if m == 0 || n == 0 || k == 0 { return c }
        a.storage.withUnsafeBufferPointer { ap in
            b.storage.withUnsafeBufferPointer { bp in
                c.storage.withUnsafeMutableBufferPointer { cp in
                    Kernels.gemm(transA: transA, transB: transB, m: m, n: n, k: k,
                                 a: ap.baseAddress!, lda: a.cols, b: bp.baseAddress!, ldb: b.cols,
                                 c: cp.baseAddress!, ldc: n, accumulate: false)
                }
            }
        }
        return c
    }
}
