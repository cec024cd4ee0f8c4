@testable import Recurrent

/// The fused recurrent step's operands and its value as the fma chain, shared by the kernel
/// tests (`MicroKernelTests`, `InstructionSetTests`): h_{t-1} [rows, k], W_hh [n, k], b [n],
/// x [rows, n]; W_hhᵀ [k, n] by a plain transpose and its panels by `Kernels.packPanels`; and
/// net = x + chain(b, h_{t-1} W_hhᵀ) (`MicroKernelTests.chain`: start at b, fma over p in order).
struct ReferenceStep {
    let rows: Int, n: Int, k: Int
    var hPrev: [Float], w: [Float], bias: [Float], x: [Float]
    /// W_hhᵀ [k, n]
    var wt: [Float]
    /// `Kernels.packPanels(transposed: true, ...)` of W_hh, or NaN where no fast body packs.
    var panels: [Float]
    /// x + chain(b, h_{t-1} W_hhᵀ) [rows, n]
    var net: [Float]

    /// Operands drawn by `randomFloats` from the seeds; with `special` (and more than 2 rows) a
    /// NaN in h_{t-1} (row 1) and a -0 in x, before the reference is formed.
    init(rows: Int, n: Int, k: Int, seeds: (h: UInt64, w: UInt64, bias: UInt64, x: UInt64), special: Bool = false) {
        self.rows = rows; self.n = n; self.k = k
        hPrev = randomFloats(rows * k, seed: seeds.h)
        x = randomFloats(rows * n, seed: seeds.x)
        if special && rows > 2 { hPrev[k + 1] = .nan; x[1] = -0.0 }
        w = randomFloats(n * k, seed: seeds.w)
        bias = randomFloats(n, seed: seeds.bias)
        wt = [Float](repeating: 0, count: k * n)
        for r in 0..<n { for c in 0..<k { wt[c * n + r] = w[r * k + c] } }
        panels = [Float](repeating: .nan, count: Kernels.packedPanelFloats(k: k, n: n))
        _ = Kernels.packPanels(transposed: true, k: k, n: n, b: w, ldb: k, into: &panels)
        var product = [Float](repeating: 0, count: rows * n)
        for r in 0..<rows { for j in 0..<n { product[r * n + j] = bias[j] } }
        MicroKernelTests.chain(transA: false, transB: false, m: rows, n: n, k: k, a: hPrev, lda: k, b: wt, ldb: n,
                               c: &product, ldc: n, accumulate: true)
        net = zip(x, product).map { $0 + $1 }
    }

    /// relu(net) as `Activation.relu` (NaN stays NaN, -0 becomes 0 only below: `x < 0 ? 0 : x`).
    var reluNet: [Float] { net.map { $0 < 0 ? 0 : $0 } }
}
