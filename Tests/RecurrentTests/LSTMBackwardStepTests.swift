import Foundation
import Testing
@testable import Recurrent

/// The LSTM's one-pass backward step (`Kernels.lstmBackwardStep`, avx2_lstm.c) against the two
/// calls it replaces (`lstmBackward(tanhC:)` then `gemm` dh = dgates W_hh), bit for bit: dh, dc
/// and dgates, under the AVX2 bodies, for H with and without a masked column edge (1, 7, 17, 100,
/// 128), batches of 1, 5 and 50 rows (one tile, a short tile, balanced tiles), 1 and 2 threads,
/// with and without step t-1's operands to prefetch, and a NaN and an infinity in dL/dh.
@Suite("LSTM backward step")
struct LSTMBackwardStepTests {
    struct Case: CustomStringConvertible, Sendable {
        let h: Int, rows: Int, threads: Int
        var description: String { "H = \(h), rows = \(rows), \(threads) thread(s)" }
    }

    static let cases: [Case] = [1, 7, 17, 100, 128].flatMap { h in
        [1, 5, 50].flatMap { rows in [1, 2].map { Case(h: h, rows: rows, threads: $0) } }
    }

    static func uniform(_ count: Int, _ lo: Double, _ hi: Double, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float(Draw.uniform(lo, hi, &rng)) }
    }

    /// Step t's operands as the forward leaves them: activated gates [rows, 4H] (σ in (0, 1), tanh
    /// in (-1, 1)), c_{t-1} [rows, H], tanh(c_t) in the first H columns of [rows, 4H] rows; and
    /// dL/dh_t, dL/dc_t [rows, H], W_hh [4H, H].
    struct Operands {
        var gates, cPrev, tanhC, dh, dc, weight: [Float]
        init(_ c: Case, seed: UInt64) {
            let h = c.h, r = c.rows
            gates = LSTMBackwardStepTests.uniform(r * 4 * h, 0.001, 0.999, seed: seed)
            for row in 0..<r { for j in 0..<h { gates[row * 4 * h + 2 * h + j] = 2 * gates[row * 4 * h + 2 * h + j] - 1 } }
            cPrev = LSTMBackwardStepTests.uniform(r * h, -3, 3, seed: seed + 1)
            tanhC = LSTMBackwardStepTests.uniform(r * 4 * h, -1, 1, seed: seed + 2)
            dh = LSTMBackwardStepTests.uniform(r * h, -1, 1, seed: seed + 3)
            if r * h > 3 { dh[r * h / 2] = .nan; dh[r * h / 3] = .infinity }
            dc = LSTMBackwardStepTests.uniform(r * h, -1, 1, seed: seed + 4)
            weight = LSTMBackwardStepTests.uniform(4 * h * h, -0.5, 0.5, seed: seed + 5)
        }
    }

    /// dh, dc and dgates after the two calls (`fused` false) or the one-pass step; nil where the
    /// one-pass step has no body (it returned false).
    static func run(_ c: Case, _ s: Operands, fused: Bool, previous: Operands?) -> [Float]? {
        let h = c.h, r = c.rows
        var dh = s.dh, dc = s.dc, dPre = [Float](repeating: -7, count: r * 4 * h)
        let ran = Compute.$threads.withValue(c.threads) {
            Compute.$backend.withValue(.fast) { () -> Bool in
                if !fused {
                    _ = Kernels.lstmBackward(rows: r, hidden: h, gates: s.gates, cPrev: s.cPrev, tanhC: s.tanhC,
                                             tanhCStride: 4 * h, dh: dh, dc: &dc, dPre: &dPre)
                    Kernels.gemm(transA: false, transB: false, m: r, n: h, k: 4 * h, a: dPre, lda: 4 * h, b: s.weight,
                                 ldb: h, c: &dh, ldc: h, accumulate: false)
                    return true
                }
                return s.gates.withUnsafeBufferPointer { g in
                    s.cPrev.withUnsafeBufferPointer { cp in
                        s.tanhC.withUnsafeBufferPointer { tc in
                            s.weight.withUnsafeBufferPointer { w in
                                let p = previous ?? s   // its buffers, passed only when `previous` is given
                                return p.gates.withUnsafeBufferPointer { pg in
                                    p.cPrev.withUnsafeBufferPointer { pc in
                                        p.tanhC.withUnsafeBufferPointer { pt in
                                            Kernels.lstmBackwardStep(
                                                rows: r, hidden: h, gates: g.baseAddress!, cPrev: cp.baseAddress!,
                                                tanhC: tc.baseAddress!, tanhCStride: 4 * h, dh: &dh, dc: &dc, dPre: &dPre,
                                                weight: w.baseAddress!,
                                                next: previous == nil ? nil : (pg.baseAddress!, pc.baseAddress!, pt.baseAddress!))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return ran ? dh + dc + dPre : nil
    }

    static func firstDifference(_ a: [Float], _ b: [Float]) -> String? {
        guard let i = a.indices.first(where: { a[$0].bitPattern != b[$0].bitPattern }) else { return nil }
        return "index \(i) of \(a.count): one pass \(a[i]), two calls \(b[i])"
    }

    @Test(arguments: cases)
    func onePassGivesTheTwoCallsBits(_ c: Case) throws {
        let s = Operands(c, seed: UInt64(c.h * 1000 + c.rows)), previous = Operands(c, seed: 99)
        for next in [nil, previous] as [Operands?] {
            let both = Compute.withInstructionSet(.avx2) {
                (Self.run(c, s, fused: true, previous: next), Self.run(c, s, fused: false, previous: nil))
            }
            guard let both else { return }   // no AVX2 on this CPU
            let fused = try #require(both.0, "the AVX2 set has a one-pass body")
            let oracle = try #require(both.1)
            #expect(Self.firstDifference(fused, oracle) == nil, "\(c), prefetching \(next != nil)")
        }
    }

    /// The portable set has no one-pass body: the step says so and writes nothing, and the caller
    /// (LSTMCell.backwardStep) runs the two calls.
    @Test func portableSetHasNoOnePassBody() {
        let c = Case(h: 7, rows: 5, threads: 1), s = Operands(c, seed: 1)
        let out = Compute.withInstructionSet(.generic) { Self.run(c, s, fused: true, previous: nil) }
        #expect(out == .some(nil))
    }
}
