import Testing
import Recurrent

// MARK: - LinearAlgebra.matmul / transpose

@Suite("LinearAlgebra.matmul / transpose")
struct LinearAlgebraProductsTests {
    typealias F = LinearAlgebraFixtures

    @Test("hand-computed product")
    func known() {
        // [1 2 3; 4 5 6] · [7 8; 9 10; 11 12] = [58 64; 139 154]
        let c = LinearAlgebra.matmul([1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12], m: 2, k: 3, n: 2)
        #expect(c == [58, 64, 139, 154])
    }

    @Test("identity is neutral; (AB)ᵀ = BᵀAᵀ", arguments: [(1, 1, 1), (3, 4, 5), (6, 2, 3)])
    func identities(m: Int, k: Int, n: Int) {
        let a = F.gaussian(count: m * k, seed: 1), b = F.gaussian(count: k * n, seed: 2)
        #expect(LinearAlgebra.matmul(F.identity(m), a, m: m, k: m, n: k) == a)
        #expect(LinearAlgebra.matmul(a, F.identity(k), m: m, k: k, n: k) == a)
        let ab = LinearAlgebra.matmul(a, b, m: m, k: k, n: n)
        let btat = LinearAlgebra.matmul(LinearAlgebra.transpose(b, rows: k, cols: n),
                                        LinearAlgebra.transpose(a, rows: m, cols: k), m: n, k: k, n: m)
        #expect(F.maxAbsDifference(LinearAlgebra.transpose(ab, rows: m, cols: n), btat) < 1e-14)
        #expect(LinearAlgebra.transpose(LinearAlgebra.transpose(a, rows: m, cols: k), rows: k, cols: m) == a)
    }

    @Test("empty dimensions")
    func empty() {
        #expect(LinearAlgebra.matmul([], [], m: 0, k: 0, n: 0) == [])
        #expect(LinearAlgebra.matmul([], [], m: 2, k: 0, n: 3) == [0, 0, 0, 0, 0, 0])
        #expect(LinearAlgebra.matmul([], [1, 2], m: 0, k: 1, n: 2) == [])
        #expect(LinearAlgebra.transpose([], rows: 0, cols: 5) == [])
    }
}
