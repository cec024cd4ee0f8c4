import Foundation
import Testing
@testable import Recurrent

/// The AVX-512 bodies (`avx512.c`: 8x32 tiles of the GEMM, the packed-B product and the fused
/// step) give the AVX2 bodies' bits and the fma chain's (`MicroKernelTests.chain`, the oracle),
/// because each output is the same chain: the same start, one fma per k in order, the same
/// epilogue. Checked product by product (M, N, K of 1, 15, 16, 17, 100, 512; transposes;
/// accumulate; 1-3 threads) and through whole training runs (`RECURRENT_ISA=avx2` against
/// `avx512`: the same final losses and the golden checkpoints' hashes). On a CPU without
/// AVX-512 the AVX-512 cases are skipped, with that reason in the test report.
@Suite(.serialized) struct InstructionSetTests {
    static let hasAVX512 = Compute.availableInstructionSet == .avx512
    static let hasAVX2 = Compute.availableInstructionSet >= .avx2

    struct Shape: CustomTestStringConvertible, Sendable {
        var m: Int, n: Int, k: Int
        var testDescription: String { "\(m)x\(n)x\(k)" }
    }

    /// Every M, N, K in {1, 15, 16, 17, 100, 512} whose chain the oracle computes quickly in a
    /// debug build (M N K <= 2^19), and the training products of configs a, b and e.
    static let shapes: [Shape] = {
        let sizes = [1, 15, 16, 17, 100, 512]
        var s: [Shape] = []
        for m in sizes { for n in sizes { for k in sizes where m * n * k <= 1 << 19 { s.append(Shape(m: m, n: n, k: k)) } } }
        return s + [Shape(m: 16, n: 100, k: 100), Shape(m: 128, n: 100, k: 100), Shape(m: 40, n: 100, k: 515)]
    }()

    /// rk_sgemm with padded leading dimensions under `set` on `threads`.
    static func gemm(_ s: Shape, transA: Bool, transB: Bool, accumulate: Bool, set: Compute.InstructionSet,
                     threads: Int) -> [Float]? {
        let (ar, ac) = transA ? (s.k, s.m) : (s.m, s.k)
        let (br, bc) = transB ? (s.n, s.k) : (s.k, s.n)
        let lda = ac + 3, ldb = bc + 2, ldc = s.n + 1
        let a = randomFloats(ar * lda, seed: 11), b = randomFloats(br * ldb, seed: 12)
        var c = randomFloats(s.m * ldc, seed: 13)
        return Compute.withInstructionSet(set) {
            Compute.$backend.withValue(.fast) {
                Compute.$threads.withValue(threads) {
                    Kernels.gemm(transA: transA, transB: transB, m: s.m, n: s.n, k: s.k, a: a, lda: lda, b: b, ldb: ldb,
                                 c: &c, ldc: ldc, accumulate: accumulate)
                }
            }
            return c
        }
    }

    /// The oracle: the chain in Swift, on the same operands as `gemm`.
    static func chain(_ s: Shape, transA: Bool, transB: Bool, accumulate: Bool) -> [Float] {
        let (ar, ac) = transA ? (s.k, s.m) : (s.m, s.k)
        let (br, bc) = transB ? (s.n, s.k) : (s.k, s.n)
        let lda = ac + 3, ldb = bc + 2, ldc = s.n + 1
        let a = randomFloats(ar * lda, seed: 11), b = randomFloats(br * ldb, seed: 12)
        var c = randomFloats(s.m * ldc, seed: 13)
        MicroKernelTests.chain(transA: transA, transB: transB, m: s.m, n: s.n, k: s.k, a: a, lda: lda, b: b, ldb: ldb,
                               c: &c, ldc: ldc, accumulate: accumulate)
        return c
    }

    @Test func environmentAndSetterChooseTheBodies() {
        let best = Compute.availableInstructionSet
        for set in Compute.InstructionSet.allCases {
            let seen = Compute.withInstructionSet(set) { Compute.instructionSet }
            #expect(seen == (set <= best ? set : nil), "\(set.name) on a CPU with \(best.name)")
        }
        if !Self.hasAVX512 { print("InstructionSetTests: this CPU (or OS) lacks AVX-512: its cases are skipped") }
    }

    /// A set chosen with `withInstructionSet` holds on the calling thread and in the kernel pool's
    /// pieces of its calls, and nowhere else: another thread keeps the process's set meanwhile, so
    /// a test that switches sets cannot change the bits of a test running beside it.
    @Test func aChosenSetStaysWithItsThread() {
        final class Seen: @unchecked Sendable {
            let lock = NSLock()
            var sets: [Compute.InstructionSet] = []
            func add(_ s: Compute.InstructionSet) { lock.lock(); sets.append(s); lock.unlock() }
        }
        let process = Compute.instructionSet
        guard process > .generic else { return }   // nothing to tell apart
        let elsewhere = Seen(), inPool = Seen()
        let entered = DispatchSemaphore(value: 0), looked = DispatchSemaphore(value: 0)
        let other = Thread { entered.wait(); elsewhere.add(Compute.instructionSet); looked.signal() }
        other.start()
        let here = Compute.withInstructionSet(.generic) { () -> Compute.InstructionSet in
            entered.signal()
            looked.wait()
            Compute.forEachSlice(of: 4, parts: 4) { _ in inPool.add(Compute.instructionSet) }
            return Compute.instructionSet
        }
        #expect(here == .generic)
        #expect(elsewhere.sets == [process], "another thread saw \(elsewhere.sets) while one thread chose generic")
        #expect(inPool.sets.count == 4 && inPool.sets.allSatisfy { $0 == .generic }, "pool pieces saw \(inPool.sets)")
        #expect(Compute.instructionSet == process)
    }

    @Test(.enabled(if: hasAVX512, "the CPU or OS lacks AVX-512"), arguments: shapes)
    func avx512ProductsEqualAVX2AndTheChain(_ s: Shape) throws {
        for transA in [false, true] {
            for transB in [false, true] {
                // n <= 2 with B transposed takes the dot-product kernel (a tree sum, AVX2 in both)
                let isChain = !(transB && !transA && s.n <= 2)
                for accumulate in [false, true] {
                    let what = "\(s.testDescription) tA=\(transA) tB=\(transB) acc=\(accumulate)"
                    let avx2 = try #require(Self.gemm(s, transA: transA, transB: transB, accumulate: accumulate, set: .avx2, threads: 1))
                    for threads in (s.m * s.n * s.k >= 100_000 ? [1, 2, 3] : [1]) {
                        let wide = try #require(Self.gemm(s, transA: transA, transB: transB, accumulate: accumulate,
                                                          set: .avx512, threads: threads))
                        #expect(wide.map(\.bitPattern) == avx2.map(\.bitPattern), "\(what) threads=\(threads): avx512 != avx2")
                    }
                    if isChain {
                        #expect(avx2.map(\.bitPattern) == Self.chain(s, transA: transA, transB: transB, accumulate: accumulate)
                            .map(\.bitPattern), "\(what): avx2 != chain")
                    }
                }
            }
        }
    }

    /// Large products (too slow for the debug oracle): AVX-512 against AVX2 only; e's 64x512x512
    /// step products and its dW_hh (TN, k = T B), long-k NN/NT (packed panels).
    @Test(.enabled(if: hasAVX512, "the CPU or OS lacks AVX-512"),
          arguments: [Shape(m: 64, n: 512, k: 512), Shape(m: 512, n: 512, k: 640), Shape(m: 512, n: 100, k: 512),
                      Shape(m: 33, n: 47, k: 1030)])
    func largeProductsEqualAVX2(_ s: Shape) throws {
        for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
            let avx2 = try #require(Self.gemm(s, transA: transA, transB: transB, accumulate: true, set: .avx2, threads: 1))
            for threads in [1, 2] {
                let wide = try #require(Self.gemm(s, transA: transA, transB: transB, accumulate: true, set: .avx512, threads: threads))
                #expect(wide.map(\.bitPattern) == avx2.map(\.bitPattern), "\(s.testDescription) tA=\(transA) tB=\(transB) threads=\(threads)")
            }
        }
    }

    /// The product on pre-packed panels and the fused step (relu, tanh, net only; W_hhᵀ in place
    /// and packed), with a NaN in h_prev and a -0 in x: AVX-512 = AVX2 bit for bit, and relu's
    /// and net's values = the chain.
    @Test(.enabled(if: hasAVX512, "the CPU or OS lacks AVX-512"),
          arguments: [Shape(m: 1, n: 3, k: 1), Shape(m: 7, n: 17, k: 13), Shape(m: 9, n: 31, k: 17), Shape(m: 16, n: 100, k: 100),
                      Shape(m: 17, n: 33, k: 130), Shape(m: 128, n: 100, k: 100), Shape(m: 64, n: 512, k: 515),
                      Shape(m: 500, n: 40, k: 9)])
    func stepAndPackedProductEqualAVX2(_ s: Shape) throws {
        let (rows, n, k) = (s.m, s.n, s.k)
        let step = ReferenceStep(rows: rows, n: n, k: k, seeds: (h: 21, w: 22, bias: 23, x: 24), special: true)
        let (hPrev, wt, panels, bias, x, wantNet) = (step.hPrev, step.wt, step.panels, step.bias, step.x, step.net)
        #expect(!panels.contains { $0.isNaN }, "packed")
        for activation in [Kernels.StepActivation.relu, .tanh] {
            for packed in [false, true] {
                var results: [[UInt32]] = []
                for (set, threads) in [(Compute.InstructionSet.avx2, 1), (.avx512, 1), (.avx512, 2), (.avx512, 3)] {
                    var net = [Float](repeating: .nan, count: rows * n), h = net
                    let done = Compute.withInstructionSet(set) {
                        Compute.$threads.withValue(threads) {
                            packed
                                ? Kernels.recurrentStep(rows: rows, width: n, hidden: k, hPrev: hPrev, packedTransposedWeight: panels,
                                                        bias: bias, x: x, net: &net, hNew: &h, activation: activation)
                                : Kernels.recurrentStep(rows: rows, width: n, hidden: k, hPrev: hPrev, transposedWeight: wt,
                                                        bias: bias, x: x, net: &net, hNew: &h, activation: activation)
                        }
                    }
                    #expect(done == true, "\(set.name) ran")
                    #expect(net.map(\.bitPattern) == wantNet.map(\.bitPattern), "\(s.testDescription) \(activation) packed=\(packed) \(set.name)")
                    if activation == .relu {
                        #expect(h.map(\.bitPattern) == step.reluNet.map(\.bitPattern))
                    }
                    results.append(h.map(\.bitPattern))
                }
                #expect(results.allSatisfy { $0 == results[0] }, "\(s.testDescription) \(activation) packed=\(packed): h differs")
            }
        }
        for accumulate in [false, true] {
            var outs: [[UInt32]] = []
            for (set, threads) in [(Compute.InstructionSet.avx2, 1), (.avx512, 1), (.avx512, 3)] {
                var c = randomFloats(rows * (n + 1), seed: 25)
                _ = Compute.withInstructionSet(set) {
                    Compute.$threads.withValue(threads) {
                        Kernels.gemm(m: rows, n: n, k: k, a: hPrev, lda: k, packedB: panels, c: &c, ldc: n + 1, accumulate: accumulate)
                    }
                }
                outs.append(c.map(\.bitPattern))
            }
            #expect(outs.allSatisfy { $0 == outs[0] }, "packed-B product \(s.testDescription) acc=\(accumulate)")
        }
    }

    // MARK: - The RECURRENT_ISA request

    /// Unset or a supported set passes; a typo or a set beyond the CPU's is named, with the
    /// best available set in the message.
    @Test func instructionSetRequestIsChecked() {
        let best = Compute.availableInstructionSet.name
        #expect(Compute.instructionSetRequestProblem([:]) == nil)
        #expect(Compute.instructionSetRequestProblem(["RECURRENT_ISA": "generic"]) == nil)
        #expect(Compute.instructionSetRequestProblem(["RECURRENT_ISA": best]) == nil)
        let typo = Compute.instructionSetRequestProblem(["RECURRENT_ISA": "avx3"])
        #expect(typo?.contains("RECURRENT_ISA=avx3 is not an instruction set") == true)
        #expect(typo?.contains("generic, avx2, avx512") == true)
        let beyond = Compute.instructionSetRequestProblem(["RECURRENT_ISA": "avx512"])
        #expect((beyond == nil) == Self.hasAVX512)
        if let beyond { #expect(beyond.contains("the best available is \(best)")) }
    }

    /// The binary refuses an unknown RECURRENT_ISA before doing anything (exit 64, the message on stderr).
    @Test func binaryRefusesUnknownInstructionSet() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["bench", "--cell", "relu", "--hidden", "8", "--input", "1", "--seq-len", "3", "--batch", "2",
                             "--classes", "2", "--steps", "1", "--warmup", "0"], in: dir, environment: ["RECURRENT_ISA": "sse9"])
        #expect(r.status == 64, "\(r.output)")
        #expect(r.output.contains("RECURRENT_ISA=sse9 is not an instruction set"), "\(r.output)")
    }

    // MARK: - Whole runs through the binary

    /// `recurrent bench` (relu and LSTM, small and packed large layers; 3 SGD steps) prints the
    /// same final loss under RECURRENT_ISA=avx2 and avx512, and names the bodies it ran.
    @Test(.enabled(if: hasAVX512, "the CPU or OS lacks AVX-512"),
          arguments: [["--cell", "relu", "--hidden", "100", "--input", "1", "--seq-len", "12", "--batch", "16"],
                      ["--cell", "lstm", "--hidden", "100", "--input", "1", "--seq-len", "8", "--batch", "16"],
                      ["--cell", "relu", "--hidden", "300", "--input", "7", "--seq-len", "4", "--batch", "19"],
                      ["--cell", "gru", "--hidden", "40", "--input", "3", "--seq-len", "6", "--batch", "9"]])
    func benchLossesAreEqual(_ shape: [String]) throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let args = ["bench"] + shape + ["--classes", "10", "--steps", "3", "--warmup", "0", "--no-pin", "--json", "--threads", "2"]
        var losses: [String: Double] = [:]
        for (set, kernels) in [("avx2", "c-avx2-fma"), ("avx512", "c-avx512")] {
            let r = try CLI.run(args, in: dir, environment: ["RECURRENT_ISA": set])
            #expect(r.status == 0, "\(r.output)")
            let record = try CLIBenchTests.record(r)
            #expect(record["kernels"] as? String == kernels)
            losses[set] = try #require(record["final_loss"] as? Double)
        }
        #expect(losses["avx2"]!.isFinite && losses["avx2"] == losses["avx512"], "\(shape): \(losses)")
    }

    /// The golden checkpoints (every cell, optimizer and task of GoldenCheckpointTests) have the
    /// recorded hashes under RECURRENT_ISA=avx2 and avx512 (and without the variable, the best).
    @Test(.enabled(if: hasAVX512, "the CPU or OS lacks AVX-512"), arguments: GoldenCheckpointTests.cases)
    func goldenCheckpointsUnderBothBodies(_ c: GoldenCheckpointTests.Case) throws {
        for set in ["avx2", "avx512"] {
            let dir = try CLI.directory()
            defer { try? FileManager.default.removeItem(at: dir) }
            try GoldenCheckpointTests.text.write(to: dir.appendingPathComponent("text.txt"), atomically: true, encoding: .utf8)
            let r = try CLI.run(["train"] + c.arguments + ["--batch", "8", "--steps", "30", "--limit", "40", "--seed", "7",
                                                          "--name", "golden", "--json"], in: dir, environment: ["RECURRENT_ISA": set])
            #expect(r.status == 0, "\(r.output)")
            let model = dir.appendingPathComponent("checkpoints/golden.safetensors")
            let value = try GoldenCheckpointTests.hash([model, TrainingCheckpoint.sidecarURL(for: model)])
            #expect(value == c.expected, "\(c.name) under RECURRENT_ISA=\(set): the checkpoint's bits changed")
        }
    }
}
