import Foundation
import Testing
@testable import Recurrent

/// The LSTM and GRU gate kernels' AVX-512 bodies (`avx512_gates.c`) give the AVX2 bodies' bits
/// (cells.c), NaN payloads included: each lane runs the same operations, and each unit takes
/// the same operations (16-lane, 8-lane or the masked 8-lane tail) under both sets. H covers no
/// 16-lane step (1, 7, 8, 13), exactly 16-lane steps (16, 32, 128), a 16-lane step then an
/// 8-lane one (24, 31) and config c's 96 + 4 (100); inputs are `LSTMGateKernelTests.grid`
/// (denormals, the saturating range, ±infinity, NaN). The Double oracle of
/// `LSTMGateKernelTests` runs under the default set (AVX-512 where the CPU has it).
@Suite(.serialized) struct GateInstructionSetTests {
    static let hiddenSizes = [1, 7, 8, 13, 16, 24, 31, 32, 100, 128]
    static let rows = 5

    /// The first index where the bits differ (and the two values), or nil when all agree.
    static func firstDifference(_ a: [Float], _ b: [Float]) -> String? {
        guard a.count == b.count else { return "\(a.count) values against \(b.count)" }
        guard let i = a.indices.first(where: { a[$0].bitPattern != b[$0].bitPattern }) else { return nil }
        return "index \(i): AVX2 \(a[i]) (0x\(String(a[i].bitPattern, radix: 16))), AVX-512 \(b[i]) (0x\(String(b[i].bitPattern, radix: 16)))"
    }

    static func inputs(_ count: Int, offset: Int) -> [Float] { LSTMGateKernelTests.cycled(count, offset: offset) }

    static func moderate(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        var v = (0..<count).map { _ in Float(Draw.uniform(-3, 3, &rng)) }
        if count > 3 { v[count / 2] = .nan; v[count / 3] = .infinity }
        return v
    }

    /// LSTM forward (keeping tanh(c_t) or not) then backward (reading it or recomputing it)
    /// under `set`: every buffer written, concatenated.
    static func lstm(_ h: Int, keep: Bool, set: Compute.InstructionSet) -> [Float]? {
        let r = rows
        var gates = inputs(r * 4 * h, offset: h), c = [Float](repeating: 0, count: r * h), hn = c
        var tanhC = [Float](repeating: -7, count: r * 4 * h)
        let cPrev = moderate(r * h, seed: 3), dh = moderate(r * h, seed: 4)
        var dc = moderate(r * h, seed: 5), dPre = [Float](repeating: 0, count: r * 4 * h)
        let ran = Compute.withInstructionSet(set) {
            Compute.$backend.withValue(.fast) {
                var ok = tanhC.withUnsafeMutableBufferPointer { t in
                    Kernels.lstmForward(rows: r, hidden: h, gates: &gates, cPrev: cPrev, cNew: &c, hNew: &hn,
                                        tanhC: keep ? t.baseAddress! : nil, tanhCStride: 4 * h)
                }
                ok = ok && (keep
                    ? Kernels.lstmBackward(rows: r, hidden: h, gates: gates, cPrev: cPrev, tanhC: tanhC, tanhCStride: 4 * h,
                                           dh: dh, dc: &dc, dPre: &dPre)
                    : Kernels.lstmBackward(rows: r, hidden: h, gates: gates, cPrev: cPrev, cNew: c, dh: dh, dc: &dc, dPre: &dPre))
                return ok
            }
        }
        guard let ran else { return nil }
        #expect(ran)
        return gates + c + hn + tanhC + dc + dPre
    }

    /// GRU forward then backward under `set`: every buffer written, concatenated.
    static func gru(_ h: Int, set: Compute.InstructionSet) -> [Float]? {
        let r = rows
        let x = inputs(r * 3 * h, offset: 2 * h), hh = inputs(r * 3 * h, offset: 5 * h + 1)
        let hPrev = moderate(r * h, seed: 6), dh = moderate(r * h, seed: 7)
        var gates = [Float](repeating: 0, count: r * 3 * h), hn = [Float](repeating: 0, count: r * h)
        var dIn = gates, dHh = gates, direct = hn
        let ran = Compute.withInstructionSet(set) {
            Compute.$backend.withValue(.fast) {
                Kernels.gruForward(rows: r, hidden: h, x: x, hh: hh, hPrev: hPrev, gates: &gates, hNew: &hn)
                    && Kernels.gruBackward(rows: r, hidden: h, hh: hh, gates: gates, hPrev: hPrev, dh: dh,
                                           dIn: &dIn, dHh: &dHh, direct: &direct)
            }
        }
        guard let ran else { return nil }
        #expect(ran)
        return gates + hn + dIn + dHh + direct
    }

    @Test(.enabled(if: InstructionSetTests.hasAVX512, "the CPU or OS lacks AVX-512"), arguments: hiddenSizes)
    func lstmGatesEqualAVX2(_ h: Int) throws {
        for keep in [false, true] {
            let narrow = try #require(Self.lstm(h, keep: keep, set: .avx2))
            let wide = try #require(Self.lstm(h, keep: keep, set: .avx512))
            let difference = Self.firstDifference(narrow, wide)
            #expect(difference == nil, "H = \(h), keep = \(keep): \(difference ?? "")")
            #expect(wide.contains { $0.isNaN } && wide.contains { !$0.isNaN })
        }
    }

    @Test(.enabled(if: InstructionSetTests.hasAVX512, "the CPU or OS lacks AVX-512"), arguments: hiddenSizes)
    func gruGatesEqualAVX2(_ h: Int) throws {
        let narrow = try #require(Self.gru(h, set: .avx2))
        let wide = try #require(Self.gru(h, set: .avx512))
        let difference = Self.firstDifference(narrow, wide)
        #expect(difference == nil, "H = \(h): \(difference ?? "")")
    }
}
