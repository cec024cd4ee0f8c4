import Testing
@testable import Recurrent

/// The one-pass weight gradients on every instruction set (AVX2: `rk_avx2_weight_gradients`,
/// 6 x 16 tiles on packed panels of dnetᵀ and [h | x | 1 1]) against the chain of the four separate
/// products (`MicroKernelTests.chain` for dW_hh and dW_ih, column sums for db_hh and db_ih), bit for
/// bit, over edge shapes: H = 1, 7, 100, 128, 512 (panels and tiles partly filled), m = H and 4H,
/// batches 1, 16, 64 and 128, rows past one k block, two row blocks of dnetᵀ, 1 and 2 threads.
@Suite("One-pass weight gradients on every instruction set equal the separate products")
struct WeightGradientInstructionSetTests {
    struct Shape: CustomTestStringConvertible, Sendable {
        var batch: Int, steps: Int, hidden: Int, inputs: Int, gates: Int
        var rows: Int { batch * steps }
        var m: Int { gates * hidden }
        var testDescription: String { "B\(batch) T\(steps) H\(hidden) I\(inputs) G\(gates)" }
    }

    static let shapes = [
        Shape(batch: 1, steps: 3, hidden: 1, inputs: 1, gates: 1), Shape(batch: 16, steps: 2, hidden: 1, inputs: 2, gates: 4),
        Shape(batch: 16, steps: 5, hidden: 7, inputs: 3, gates: 1), Shape(batch: 1, steps: 40, hidden: 100, inputs: 1, gates: 4),
        Shape(batch: 16, steps: 16, hidden: 100, inputs: 1, gates: 1),   // a's chunk: 256 rows, n = 103 (6 panels + 7 columns)
        Shape(batch: 128, steps: 2, hidden: 128, inputs: 0, gates: 1), Shape(batch: 16, steps: 3, hidden: 128, inputs: 5, gates: 4),
        Shape(batch: 1, steps: 9, hidden: 512, inputs: 64, gates: 1),    // e's widths: x fills whole panels, then the ones
        Shape(batch: 128, steps: 3, hidden: 20, inputs: 2, gates: 1),    // 384 rows: two k blocks
        Shape(batch: 16, steps: 4, hidden: 13, inputs: 11, gates: 4),    // x spans two panels
        Shape(batch: 64, steps: 4, hidden: 200, inputs: 3, gates: 1),    // m = 200 > 192 at k = 256: two row blocks of
                                                                          // dnetᵀ (the next tile's C across blocks and panels)
    ]

    @Test(arguments: shapes)
    func onePassEqualsTheSeparateChains(_ s: Shape) {
        var dnet = randomFloats(s.rows * s.m, seed: 61)
        dnet[0] = -0.0
        if dnet.count > 9 { dnet[9] = .nan }
        var hidden = randomFloats(s.rows * s.hidden, seed: 62)
        if hidden.count > 4 { hidden[4] = -.infinity }
        let x = randomFloats(s.rows * s.inputs, seed: 63) + [0]   // never empty (I = 0)
        let start = [randomFloats(s.m * s.hidden, seed: 64), randomFloats(s.m * s.inputs, seed: 65) + [0],
                     randomFloats(s.m, seed: 66), randomFloats(s.m, seed: 67)]
        var want = start
        MicroKernelTests.chain(transA: true, transB: false, m: s.m, n: s.hidden, k: s.rows, a: dnet, lda: s.m, b: hidden,
                               ldb: s.hidden, c: &want[0], ldc: s.hidden, accumulate: true)
        MicroKernelTests.chain(transA: true, transB: false, m: s.m, n: s.inputs, k: s.rows, a: dnet, lda: s.m, b: x,
                               ldb: s.inputs, c: &want[1], ldc: s.inputs, accumulate: true)
        NaiveKernels.columnSums(dnet, rows: s.rows, cols: s.m, into: &want[2], accumulate: true)
        NaiveKernels.columnSums(dnet, rows: s.rows, cols: s.m, into: &want[3], accumulate: true)
        for set in RNNSequenceTests.sets {
            for threads in [1, 2] {
                var (dWhh, dWih, dbhh, dbih) = (start[0], start[1], start[2], start[3])
                let done = Compute.withInstructionSet(set) {
                    Compute.$threads.withValue(threads) {
                        Kernels.weightGradients(rows: s.rows, width: s.m, dnet: dnet, hidden: hidden, hiddenSize: s.hidden,
                                                inputs: x, inputSize: s.inputs, dWhh: &dWhh, dWih: &dWih, dbhh: &dbhh,
                                                dbih: &dbih)
                    }
                }
                #expect(done == true)
                let same = [dWhh, dWih, dbhh, dbih].map { $0.map(\.bitPattern) } == want.map { $0.map(\.bitPattern) }
                #expect(same, "\(s.testDescription) \(set.name) threads=\(threads)")
            }
        }
    }
}
