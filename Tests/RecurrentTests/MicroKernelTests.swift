import Testing
@testable import Recurrent

/// The micro-kernels (`gemm.c`, `step.c`) compute every element of C as one chain of fused
/// multiply-adds: start at 0 (or C, or the bias), then fma over p = 0 ..< k in order. That
/// chain is written here in Swift (`Float.addingProduct` is a single-rounding fma) and each
/// fast path must equal it bit for bit, on every tile edge (rows 1-13: tiles of 1-6 rows;
/// columns 1-33: masked halves of a 16-wide tile), on k that is not a multiple of the
/// unrolling (4) or crosses a 128-deep block, on the packed path (k >= 512), on strides and
/// transposes, and on 1, 2 and 3 threads.
@Suite("Micro-kernels equal the fma chain, bit for bit")
struct MicroKernelTests {

    /// C (+)= op(A) op(B) as the kernels' chain: c = start; c = fma(a_ip, b_pj, c) for p in order.
    static func chain(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: [Float], lda: Int, b: [Float], ldb: Int,
                      c: inout [Float], ldc: Int, accumulate: Bool) {
        for i in 0..<m {
            for j in 0..<n {
                var s: Float = accumulate ? c[i * ldc + j] : 0
                for p in 0..<k {
                    let aip = transA ? a[p * lda + i] : a[i * lda + p]
                    let bpj = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s.addProduct(aip, bpj)
                }
                c[i * ldc + j] = s
            }
        }
    }

    struct Shape: CustomTestStringConvertible, Sendable {
        var m: Int, n: Int, k: Int
        var testDescription: String { "\(m)x\(n)x\(k)" }
    }

    /// Every tile height (1-13 rows: one tile of 1-6 rows, two or three balanced tiles) against
    /// widths at and around the 8- and 16-column edges, k below, at and past the unrolling and
    /// one 128-deep block; then the long-k packed shapes (m, n >= 16, k >= 512: both operands
    /// packed, row panels of 6 with a short last one).
    static let shapes: [Shape] = {
        var s: [Shape] = []
        for m in 1...13 {
            for n in [3, 5, 8, 9, 15, 16, 17, 33] {
                for k in [1, 3, 4, 7, 130] where (m + n + k) % 2 == 0 || k == 130 || m <= 6 {
                    s.append(Shape(m: m, n: n, k: k))
                }
            }
        }
        return s + [Shape(m: 17, n: 17, k: 515), Shape(m: 23, n: 40, k: 517), Shape(m: 16, n: 16, k: 512),
                    Shape(m: 19, n: 33, k: 640)]
    }()

    /// Runs rk_sgemm on padded operands (leading dimensions wider than the widths) on each
    /// thread count, and the chain once.
    static func gemm(_ s: Shape, transA: Bool, transB: Bool, accumulate: Bool, threads: [Int]) -> (got: [[Float]], want: [Float]) {
        let (ar, ac) = transA ? (s.k, s.m) : (s.m, s.k)
        let (br, bc) = transB ? (s.n, s.k) : (s.k, s.n)
        let lda = ac + 3, ldb = bc + 2, ldc = s.n + 1
        let a = randomFloats(ar * lda, seed: 1), b = randomFloats(br * ldb, seed: 2)
        let start = randomFloats(s.m * ldc, seed: 3)
        var want = start
        chain(transA: transA, transB: transB, m: s.m, n: s.n, k: s.k, a: a, lda: lda, b: b, ldb: ldb,
              c: &want, ldc: ldc, accumulate: accumulate)
        let got = threads.map { count in
            var c = start
            Compute.$backend.withValue(.fast) {
                Compute.$threads.withValue(count) {
                    Kernels.gemm(transA: transA, transB: transB, m: s.m, n: s.n, k: s.k, a: a, lda: lda, b: b, ldb: ldb,
                                 c: &c, ldc: ldc, accumulate: accumulate)
                }
            }
            return c
        }
        return (got, want)
    }

    @Test(arguments: shapes)
    func gemmIsTheChain(_ s: Shape) {
        for transA in [false, true] {
            for transB in [false, true] {
                // n <= 2 with a transposed B takes the dot-product kernel (a tree sum): not this chain.
                if transB && !transA && s.n <= 2 { continue }
                for accumulate in [false, true] {
                    let threads = s.m * s.n * s.k >= 100_000 ? [1, 2, 3] : [1]
                    let (got, want) = Self.gemm(s, transA: transA, transB: transB, accumulate: accumulate, threads: threads)
                    for (count, c) in zip(threads, got) {
                        #expect(c == want, "\(s.testDescription) tA=\(transA) tB=\(transB) acc=\(accumulate) threads=\(count)")
                    }
                }
            }
        }
    }

    /// The long products of a training pass, threaded (>= 100k fmas): the TN weight gradient
    /// (packed panels of both operands) and NN/NT products, on 1, 2 and 3 threads.
    @Test(arguments: [Shape(m: 100, n: 100, k: 600), Shape(m: 37, n: 100, k: 520), Shape(m: 128, n: 100, k: 100),
                      Shape(m: 500, n: 40, k: 9)])
    func threadedProductsAreTheChain(_ s: Shape) {
        for (transA, transB) in [(true, false), (false, false), (false, true)] {
            let (got, want) = Self.gemm(s, transA: transA, transB: transB, accumulate: false, threads: [1, 2, 3])
            for (count, c) in zip([1, 2, 3], got) {
                #expect(c == want, "\(s.testDescription) tA=\(transA) tB=\(transB) threads=\(count)")
            }
        }
    }

    /// The product on pre-packed panels of op(B) (the backward pass's dnet W_hh for H > 256).
    @Test(arguments: [Shape(m: 1, n: 3, k: 1), Shape(m: 5, n: 9, k: 7), Shape(m: 13, n: 17, k: 130),
                      Shape(m: 7, n: 33, k: 515), Shape(m: 64, n: 40, k: 259)])
    func packedProductIsTheChain(_ s: Shape) {
        let lda = s.k + 1, ldb = s.k + 2, ldc = s.n + 3
        let a = randomFloats(s.m * lda, seed: 4), b = randomFloats(s.n * ldb, seed: 5)   // B [n, k]: op(B) = Bᵀ
        var panels = [Float](repeating: .nan, count: Kernels.packedPanelFloats(k: s.k, n: s.n))
        #expect(Kernels.packPanels(transposed: true, k: s.k, n: s.n, b: b, ldb: ldb, into: &panels))
        for accumulate in [false, true] {
            var want = randomFloats(s.m * ldc, seed: 6)
            let start = want
            Self.chain(transA: false, transB: true, m: s.m, n: s.n, k: s.k, a: a, lda: lda, b: b, ldb: ldb,
                       c: &want, ldc: ldc, accumulate: accumulate)
            for threads in [1, 2, 3] {
                var got = start
                Compute.$threads.withValue(threads) {
                    Kernels.gemm(m: s.m, n: s.n, k: s.k, a: a, lda: lda, packedB: panels, c: &got, ldc: ldc, accumulate: accumulate)
                }
                #expect(got == want, "\(s.testDescription) acc=\(accumulate) threads=\(threads)")
            }
        }
    }

    /// The fused step: net = x + chain(bias, h_prev W_hhᵀ), h = relu(net), unpacked and packed
    /// W_hhᵀ, on every row-tile height and column edge, and at the evaluation's B = 500.
    @Test(arguments: [(1, 3, 1), (2, 8, 5), (5, 9, 4), (6, 16, 7), (7, 17, 13), (11, 33, 130), (13, 100, 100),
                      (500, 40, 9), (64, 24, 515)])
    func stepIsTheChain(_ rows: Int, _ n: Int, _ k: Int) {
        let s = ReferenceStep(rows: rows, n: n, k: k, seeds: (h: 7, w: 8, bias: 9, x: 10))
        let (hPrev, wt, panels, bias, x) = (s.hPrev, s.wt, s.panels, s.bias, s.x)
        let wantNet = s.net, wantH = s.reluNet
        for packed in [false, true] {
            for threads in [1, 2, 3] {
                var net = [Float](repeating: .nan, count: rows * n), h = net
                let done = Compute.$threads.withValue(threads) {
                    packed
                        ? Kernels.recurrentStep(rows: rows, width: n, hidden: k, hPrev: hPrev, packedTransposedWeight: panels,
                                                bias: bias, x: x, net: &net, hNew: &h, activation: .relu)
                        : Kernels.recurrentStep(rows: rows, width: n, hidden: k, hPrev: hPrev, transposedWeight: wt,
                                                bias: bias, x: x, net: &net, hNew: &h, activation: .relu)
                }
                #expect(done && net == wantNet && h == wantH, "\(rows)x\(n)x\(k) packed=\(packed) threads=\(threads)")
            }
        }
    }
}
