import Foundation
import Testing
@testable import Recurrent

/// The LSTM's fused gate kernels (`Kernels.lstmForward` / `lstmBackward`, cells.c) element by
/// element: against a Double oracle over a dense grid of pre-activations (±0, denormals, the
/// saturating range, ±infinity, NaN), the 16- and 8-lane bodies and the masked tail alike; and the backward that
/// reads the tanh(c_t) kept by the forward against the one that recomputes it, bit for bit.
@Suite("LSTM gate kernels")
struct LSTMGateKernelTests {
    /// Pre-activations: a dense sweep of [-30, 30], the edges of exp's range, the values
    /// around tanh's polynomial switch (0.625), tiny and denormal values, ±0, ±infinity, NaN.
    static let grid: [Float] = {
        var v: [Float] = stride(from: -30.0, through: 30.0, by: 0.0137).map { Float($0) }
        v += [0, -0, 0.625, -0.625, Float(0.625).nextDown, Float(-0.625).nextUp, 1e-20, -1e-20,
              Float.leastNonzeroMagnitude, -Float.leastNonzeroMagnitude, Float.leastNormalMagnitude,
              87, -87, 88.5, -88.5, 100, -100, 1e30, -1e30, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
              .infinity, -.infinity, .nan, -.nan]
        return v
    }()

    static func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }

    /// Agreement of a Float result with the Double oracle: NaN exactly where the oracle is NaN,
    /// else within 4 ulps of the exact value (absolute 1e-7 near 0, where tanh's polynomial and
    /// 1 - e^-2x round differently from the oracle only by an ulp of the result).
    static func close(_ f: Float, _ exact: Double) -> Bool {
        if exact.isNaN { return f.isNaN }
        guard f.isFinite else { return false }
        return abs(Double(f) - exact) <= max(4 * Double(Float(exact).ulp), 1e-7 * min(1, abs(exact)) + 1e-38)
    }

    /// Runs the fast forward over `pre` laid out as rows of H units (the grid fills the i, f, g, o
    /// blocks in turn), c_{t-1} from the grid too; returns (gates, c, h).
    static func forward(_ pre: [Float], cPrev: [Float], rows: Int, h: Int, keep: Bool = false)
        -> (gates: [Float], c: [Float], h: [Float], tanhC: [Float]) {
        var gates = pre, c = [Float](repeating: 0, count: rows * h), hn = c, tc = [Float](repeating: -7, count: rows * 4 * h)
        let ran = gates.withUnsafeMutableBufferPointer { g in
            cPrev.withUnsafeBufferPointer { cp in
                c.withUnsafeMutableBufferPointer { cn in
                    hn.withUnsafeMutableBufferPointer { hp in
                        tc.withUnsafeMutableBufferPointer { t in
                            Kernels.lstmForward(rows: rows, hidden: h, gates: g.baseAddress!, cPrev: cp.baseAddress!,
                                                cNew: cn.baseAddress!, hNew: hp.baseAddress!,
                                                tanhC: keep ? t.baseAddress! : nil, tanhCStride: 4 * h)
                        }
                    }
                }
            }
        }
        #expect(ran)
        return (gates, c, hn, tc)
    }

    static func cycled(_ count: Int, offset: Int) -> [Float] { (0..<count).map { grid[($0 * 7 + offset) % grid.count] } }

    /// Every gate value and c_t, h_t against Double arithmetic on the same Float inputs, for H
    /// with and without a masked tail (H = 8, 13, 100) and for H = 3 (tail only).
    @Test(arguments: [3, 8, 13, 100])
    func forwardMatchesDoubleOracle(_ h: Int) {
        let rows = (Self.grid.count + 4 * h - 1) / (4 * h)
        let pre = Self.cycled(rows * 4 * h, offset: 0)
        // c_{t-1} of moderate size (and one NaN, one infinity) so c_t stays informative.
        var cPrev = (0..<(rows * h)).map { Float(($0 % 41) - 20) * 0.37 }
        cPrev[5 % cPrev.count] = .nan; cPrev[(11) % cPrev.count] = .infinity
        let out = Self.forward(pre, cPrev: cPrev, rows: rows, h: h)
        var bad: [String] = []
        for r in 0..<rows {
            for j in 0..<h {
                let p = (0..<4).map { pre[r * 4 * h + $0 * h + j] }
                let i = Self.sigmoid(Double(p[0])), f = Self.sigmoid(Double(p[1]))
                let g = tanh(Double(p[2])), o = Self.sigmoid(Double(p[3]))
                let exact = [i, f, g, o]
                for q in 0..<4 where !Self.close(out.gates[r * 4 * h + q * h + j], exact[q]) {
                    bad.append("gate \(q) of \(p[q]) = \(out.gates[r * 4 * h + q * h + j]), expected \(exact[q])")
                }
                // c_t and h_t from the kernel's own (Float) gates: the arithmetic after the gates.
                let gi = out.gates[r * 4 * h + j], gf = out.gates[r * 4 * h + h + j]
                let gg = out.gates[r * 4 * h + 2 * h + j], go = out.gates[r * 4 * h + 3 * h + j]
                // The vector bodies form f c_{t-1} + i g with one fma, the portable path with two roundings.
                let twice = gf * cPrev[r * h + j] + gi * gg, fused = (gi * gg).addingProduct(gf, cPrev[r * h + j])
                let c = out.c[r * h + j], hv = out.h[r * h + j]
                if !(twice.isNaN ? c.isNaN : c == twice || c == fused) { bad.append("c at (\(r), \(j)) = \(c), expected \(twice)") }
                let hExact = Double(go) * tanh(Double(c))
                if !(hExact.isNaN ? hv.isNaN : abs(Double(hv) - hExact) <= 4 * Double(Float(hExact).ulp) + 1e-7 * abs(hExact) + 1e-38) {
                    bad.append("h at (\(r), \(j)) = \(hv), expected \(hExact)")
                }
            }
        }
        #expect(bad.isEmpty, "H = \(h): \(bad.count) values off, first \(bad.prefix(5))")
    }

    /// Keeping tanh(c_t) changes nothing forward, stores exactly the tanh that h_t was formed
    /// from, and the backward that reads it gives the bits of the backward that recomputes it
    /// (NaN and infinity included); rows wider than H (stride 4H) are left alone past H.
    @Test(arguments: [1, 7, 8, 13, 100])
    func keptTanhGivesTheSameBits(_ h: Int) {
        // On this CPU's best set whatever RECURRENT_ISA caps the process to: the portable body
        // (libm) would give the two forwards different bits.
        _ = Compute.withInstructionSet(Compute.availableInstructionSet) { Self.checkKeptTanh(h) }
    }

    static func checkKeptTanh(_ h: Int) {
        let rows = 5
        let pre = Self.cycled(rows * 4 * h, offset: 3).map { $0.isFinite ? min(max($0, -12), 12) : $0 }
        var cPrev = (0..<(rows * h)).map { Float(($0 % 23) - 11) * 0.41 }
        cPrev[rows * h / 2] = .nan
        let plain = Self.forward(pre, cPrev: cPrev, rows: rows, h: h)
        let kept = Self.forward(pre, cPrev: cPrev, rows: rows, h: h, keep: true)
        let same = { (a: [Float], b: [Float]) in a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern } }
        #expect(same(plain.gates, kept.gates) && same(plain.c, kept.c) && same(plain.h, kept.h))
        for r in 0..<rows {
            for j in 0..<(4 * h) {
                let t = kept.tanhC[r * 4 * h + j]
                if j >= h { #expect(t == -7, "wrote past H at (\(r), \(j))"); continue }
                let o = kept.gates[r * 4 * h + 3 * h + j]
                #expect((o * t).bitPattern == kept.h[r * h + j].bitPattern || (t.isNaN && kept.h[r * h + j].isNaN),
                        "h = o tanh(c) at (\(r), \(j))")
            }
        }
        var rng = SeededGenerator(seed: 9)
        let dh = (0..<(rows * h)).map { _ in Float(Draw.uniform(-1, 1, &rng)) }
        let dc0 = (0..<(rows * h)).map { _ in Float(Draw.uniform(-1, 1, &rng)) }
        func backward(kept tanhC: [Float]?) -> (dc: [Float], dPre: [Float]) {
            var dc = dc0, dPre = [Float](repeating: 0, count: rows * 4 * h)
            let ran = kept.gates.withUnsafeBufferPointer { g in
                cPrev.withUnsafeBufferPointer { cp in
                    kept.c.withUnsafeBufferPointer { cn in
                        dh.withUnsafeBufferPointer { d in
                            dc.withUnsafeMutableBufferPointer { dcp in
                                dPre.withUnsafeMutableBufferPointer { dp in
                                    kept.tanhC.withUnsafeBufferPointer { t in
                                        tanhC == nil
                                            ? Kernels.lstmBackward(rows: rows, hidden: h, gates: g.baseAddress!, cPrev: cp.baseAddress!,
                                                                   cNew: cn.baseAddress!, dh: d.baseAddress!, dc: dcp.baseAddress!,
                                                                   dPre: dp.baseAddress!)
                                            : Kernels.lstmBackward(rows: rows, hidden: h, gates: g.baseAddress!, cPrev: cp.baseAddress!,
                                                                   tanhC: t.baseAddress!, tanhCStride: 4 * h, dh: d.baseAddress!,
                                                                   dc: dcp.baseAddress!, dPre: dp.baseAddress!)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            #expect(ran)
            return (dc, dPre)
        }
        let recomputed = backward(kept: nil), read = backward(kept: kept.tanhC)
        let sameOrNaN = { (a: [Float], b: [Float]) in zip(a, b).allSatisfy { $0.isNaN ? $1.isNaN : $0.bitPattern == $1.bitPattern } }
        #expect(sameOrNaN(recomputed.dc, read.dc) && sameOrNaN(recomputed.dPre, read.dPre), "H = \(h)")
        #expect(read.dPre.contains { $0.isNaN }, "the NaN in c_{t-1} reaches dL/d pre-activations")
    }
}
