import Testing
@testable import Recurrent

/// The batch-1 recurrent step (`rk_recurrent_step_row`, gemv.c: up to 96 columns per pass
/// over k), reached through `Kernels.recurrentStep` with one row, gives the bits of the
/// unfused step (`gemm` onto b_hh, then + x, then f): every width from under one 8-lane
/// vector to several 96-column blocks with a masked edge, the LSTM's n = 4k form (no
/// activation), W_hhᵀ plain and packed into panels, relu, tanh and none, 1 and 2 threads
/// (the 2-thread split starts at k*n >= 100k).
@Suite struct RowStepTests {

    /// (n, k): n columns (n = k for the RNN, 4k for the LSTM's gates), k = H.
    @Test(arguments: [(1, 1), (7, 7), (16, 16), (17, 17), (96, 96), (100, 100), (113, 50), (400, 100), (300, 300), (1200, 300)])
    func rowStepEqualsTheUnfusedStep(_ n: Int, _ k: Int) {
        let hPrev = randomFloats(k, seed: 1), wt = randomFloats(k * n, seed: 2)      // h [1, k], W_hhᵀ [k, n]
        let bias = randomFloats(n, seed: 3), x = randomFloats(n, seed: 4)
        var w = [Float](repeating: 0, count: n * k)                                 // W_hh [n, k], for the panels
        for p in 0..<k { for j in 0..<n { w[j * k + p] = wt[p * n + j] } }
        var packed = [Float](repeating: .nan, count: Kernels.packedPanelFloats(k: k, n: n))
        _ = Kernels.packPanels(transposed: true, k: k, n: n, b: w, ldb: k, into: &packed)
        var product = bias
        Kernels.gemm(transA: false, transB: false, m: 1, n: n, k: k, a: hPrev, lda: k, b: wt, ldb: n,
                     c: &product, ldc: n, accumulate: true)
        let net = (0..<n).map { x[$0] + product[$0] }
        let activations: [Kernels.StepActivation?] = n == k ? [nil, .relu, .tanh] : [nil]
        for activation in activations {
            var expected = net
            switch activation {
            case .relu?: expected = net.map { $0 < 0 ? 0 : $0 }
            case .tanh?:
                var scratch = net
                #expect(Kernels.tanhStep(count: n, x: x, r: product, net: &scratch, h: &expected))
            case nil: break
            }
            for threads in [1, 2] {
                for usePanels in [false, true] {
                    var gotNet = [Float](repeating: .nan, count: n), gotH = gotNet
                    let ran = Compute.$threads.withValue(threads) {
                        usePanels
                            ? Kernels.recurrentStep(rows: 1, width: n, hidden: k, hPrev: hPrev, packedTransposedWeight: packed,
                                                    bias: bias, x: x, net: &gotNet, hNew: &gotH, activation: activation)
                            : Kernels.recurrentStep(rows: 1, width: n, hidden: k, hPrev: hPrev, transposedWeight: wt,
                                                    bias: bias, x: x, net: &gotNet, hNew: &gotH, activation: activation)
                    }
                    let what = "n \(n) k \(k) \(activation.map { "\($0)" } ?? "no activation"), \(threads) thread(s)\(usePanels ? ", panels" : "")"
                    #expect(ran)
                    #expect(gotNet.map(\.bitPattern) == net.map(\.bitPattern), "net: \(what)")
                    if activation != nil { #expect(gotH.map(\.bitPattern) == expected.map(\.bitPattern), "h: \(what)") }
                }
            }
        }
    }
}
