import Foundation
import Testing
@testable import Recurrent

/// `Compute.withDenormalsFlushed`: the calling thread and every pool worker that runs a piece
/// of its work flush subnormal results to zero (and read subnormal inputs as zero), or keep
/// them; the mode is restored afterwards; results are the same for any thread count.
@Suite("Denormal flushing")
struct DenormalTests {
    /// Half of Float's smallest normal number, computed at run time (no constant folding).
    static func halfSmallestNormal(_ scale: Float = 0.5) -> Float {
        let values = [Float.leastNormalMagnitude, scale]
        return values[0] * values[1]
    }

    @Test func callingThreadFlushesAndRestores() throws {
        try #require(Compute.flushesDenormals != nil, "no denormal mode on this CPU")
        let before = Compute.flushesDenormals
        Compute.withDenormalsFlushed(true) {
            #expect(Compute.flushesDenormals == true)
            #expect(Self.halfSmallestNormal() == 0)
            let d = [Double.leastNormalMagnitude, 0.25]
            #expect(d[0] * d[1] == 0, "Double is flushed too")
            Compute.withDenormalsFlushed(false) {
                #expect(Self.halfSmallestNormal() == Float.leastNormalMagnitude / 2)
            }
            #expect(Compute.flushesDenormals == true, "the inner scope restores the outer mode")
        }
        #expect(Compute.flushesDenormals == before)
    }

    /// Pool workers run Swift bodies (`forEachSlice`) and C kernels (`gemm`) in the caller's
    /// mode, even when the same workers ran the other mode just before.
    @Test(arguments: [true, false, true])
    func workersTakeTheCallersMode(flush: Bool) throws {
        try #require(Compute.flushesDenormals != nil, "no denormal mode on this CPU")
        let expected: Float = flush ? 0 : Float.leastNormalMagnitude / 2
        Compute.withDenormalsFlushed(flush) {
            var results = [Float](repeating: -1, count: 8)
            results.withUnsafeMutableBufferPointer { out in
                let out = out
                Compute.forEachSlice(of: 8, parts: 8) { slice in
                    for i in slice { out[i] = Self.halfSmallestNormal() }
                }
            }
            #expect(results.allSatisfy { $0 == expected }, "\(results)")

            // 1e-20 * 1e-20 = 1e-40: subnormal in Float. C split among threads must agree.
            let m = 192, n = 192, k = 8
            let a = [Float](repeating: 1e-20, count: m * k), b = [Float](repeating: 1e-20, count: k * n)
            var products: [[Float]] = []
            for threads in [1, 2] {
                var c = [Float](repeating: 7, count: m * n)
                Compute.$threads.withValue(threads) {
                    Kernels.gemm(transA: false, transB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n,
                                 c: &c, ldc: n, accumulate: false)
                }
                products.append(c)
            }
            #expect(products[0] == products[1], "same bits for 1 and 2 threads")
            let wrong = products.map { c in c.filter { flush ? $0 != 0 : !($0 > 0) }.count }
            #expect(wrong == [0, 0], "flush \(flush): elements in the other mode for 1 and 2 threads: \(wrong) of \(m * n)")
        }
    }

    @Test func benchRecordsTheMode() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shared = ["bench", "--cell", "lstm", "--hidden", "4", "--input", "1", "--seq-len", "5", "--batch", "2",
                      "--steps", "1", "--warmup", "0", "--no-pin", "--json"]
        for (extra, mode) in [([String](), "flush"), (["--keep-denormals"], "keep")] {
            let r = try CLI.run(shared + extra, in: dir)
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.contains("\"denormals\": \"\(mode)\"") || r.stdout.contains("\"denormals\":\"\(mode)\""), "\(r.stdout)")
        }
    }
}
