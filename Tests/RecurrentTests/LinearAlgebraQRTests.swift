import Foundation
import Testing
import Recurrent

// MARK: - LinearAlgebra.qr and LinearAlgebra.orthogonal

@Suite("LinearAlgebra.qr / orthogonal")
struct LinearAlgebraQRTests {
    typealias F = LinearAlgebraFixtures

    static let shapes: [(Int, Int)] = [(5, 3), (3, 5), (4, 4), (1, 1), (6, 1), (1, 6), (40, 25), (25, 40)]

    /// `‖XᵀX − I‖_max` for a `rows × cols` X (columns orthonormal when 0).
    static func columnOrthogonalityError(_ x: [Double], rows: Int, cols: Int) -> Double {
        let gram = LinearAlgebra.matmul(LinearAlgebra.transpose(x, rows: rows, cols: cols), x, m: cols, k: rows, n: cols)
        return F.maxAbsDifference(gram, F.identity(cols))
    }

    @Test("A = QR, QᵀQ = I, R upper triangular with diag(R) ≥ 0", arguments: shapes)
    func factorization(rows: Int, cols: Int) {
        let a = F.gaussian(count: rows * cols, seed: UInt64(17 * rows + cols))
        let k = min(rows, cols)
        let (q, r) = LinearAlgebra.qr(a, rows: rows, cols: cols)
        #expect(q.count == rows * k && r.count == k * cols)
        let scale = LinearAlgebra.frobeniusNorm(a, rows: rows, cols: cols)
        #expect(F.maxAbsDifference(LinearAlgebra.matmul(q, r, m: rows, k: k, n: cols), a) < 1e-14 * scale)
        #expect(Self.columnOrthogonalityError(q, rows: rows, cols: k) < 1e-14 * Double(rows))
        for i in 0..<k {
            #expect(r[i * cols + i] >= 0)
            for j in 0..<i { #expect(r[i * cols + j] == 0) }
        }
    }

    @Test("rank-deficient input still gives orthonormal Q and A = QR")
    func rankDeficient() {
        // Column 1 = 2 × column 0, column 2 = 0.
        let a: [Double] = [1, 2, 0, -1, -2, 0, 3, 6, 0, 0.5, 1, 0]
        let (q, r) = LinearAlgebra.qr(a, rows: 4, cols: 3)
        #expect(F.maxAbsDifference(LinearAlgebra.matmul(q, r, m: 4, k: 3, n: 3), a) < 1e-14)
        #expect(Self.columnOrthogonalityError(q, rows: 4, cols: 3) < 1e-14)
        #expect((0..<3).allSatisfy { r[$0 * 3 + $0] >= 0 })
    }

    @Test("empty and non-finite inputs")
    func edgeCases() {
        let empty = LinearAlgebra.qr([], rows: 0, cols: 3)
        #expect(empty.q.isEmpty && empty.r.isEmpty)
        let one = LinearAlgebra.qr([-2], rows: 1, cols: 1)
        #expect(one.q == [-1] && one.r == [2])
        let bad = LinearAlgebra.qr([1, .nan, 3, 4], rows: 2, cols: 2)
        #expect(bad.q.allSatisfy(\.isNaN) && bad.r.allSatisfy(\.isNaN))
        #expect(LinearAlgebra.orthogonal(rows: 0, cols: 4, gaussian: []) == [])
    }

    @Test("orthogonal: orthonormal rows if rows ≤ cols, columns otherwise", arguments: [(4, 4), (3, 7), (7, 3), (1, 5), (5, 1), (64, 64), (10, 30)])
    func orthonormality(rows: Int, cols: Int) {
        let w = LinearAlgebra.orthogonal(rows: rows, cols: cols, gaussian: F.gaussian(count: rows * cols, seed: 42))
        #expect(w.count == rows * cols)
        if rows <= cols {
            #expect(Self.columnOrthogonalityError(LinearAlgebra.transpose(w, rows: rows, cols: cols), rows: cols, cols: rows) < 1e-13)
        }
        if rows >= cols {
            #expect(Self.columnOrthogonalityError(w, rows: rows, cols: cols) < 1e-13)
        }
        if rows == cols {
            #expect(F.maxAbsDifference(LinearAlgebra.singularValues(w, rows: rows, cols: cols), [Double](repeating: 1, count: rows)) < 1e-13)
            let values = (try? LinearAlgebra.eigenvalues(w, n: rows)) ?? []
            #expect(values.count == rows && values.allSatisfy { abs($0.magnitude - 1) < 1e-10 })
        }
        let scaled = LinearAlgebra.orthogonal(rows: rows, cols: cols, gaussian: F.gaussian(count: rows * cols, seed: 42), gain: 2)
        #expect(F.maxAbsDifference(scaled, w.map { 2 * $0 }) == 0)
    }

    /// Golden values from NumPy 2.4 (LAPACK `geqrf`/`orgqr`) with PyTorch's
    /// `orthogonal_` recipe: `q, r = qr(g.T if rows < cols else g)`,
    /// `q *= sign(diag(r))`, transpose back. Agreement is to rounding.
    @Test("matches PyTorch's orthogonal_ recipe (NumPy/LAPACK golden values)")
    func golden() {
        let g: [Double] = [0.5, -1.25, 0.75, 2.0, -0.3, 1.1, -0.9, 0.4, 1.7, 0.2, -0.6, -1.3]
        let expected: [Double] = [
            0.19802950859533497, -0.4950737714883372, 0.29704426289300234, 0.7921180343813395,
            -0.13576608715163277, 0.589252811245746, -0.5248688936274459, 0.5990503639267917,
            0.942244115376652, 0.0309015878057185, -0.3192195262980388, -0.09654021410382407,
        ]
        let wide = LinearAlgebra.orthogonal(rows: 3, cols: 4, gaussian: g)
        #expect(F.maxAbsDifference(wide, expected) < 1e-14)
        let tall = LinearAlgebra.orthogonal(rows: 4, cols: 3, gaussian: LinearAlgebra.transpose(g, rows: 3, cols: 4))
        #expect(F.maxAbsDifference(tall, LinearAlgebra.transpose(expected, rows: 3, cols: 4)) < 1e-14)
        // 1 × 1: sign of the draw.
        #expect(LinearAlgebra.orthogonal(rows: 1, cols: 1, gaussian: [-0.3]) == [-1])
    }
}
