import Testing
@testable import Recurrent

@Suite("Initializers")
struct InitializerTests {
    @Test func identityIsPerGateBlockAndZeroPadded() {
        var rng = SeededGenerator(seed: 1)
        let m: Matrix<Double> = Initializer.identity(scale: 0.5).matrix(rows: 6, cols: 3, blocks: 2, using: &rng)
        for block in 0..<2 { for r in 0..<3 { for c in 0..<3 { #expect(m[block * 3 + r, c] == (r == c ? 0.5 : 0)) } } }
        let wide: Matrix<Double> = Initializer.identity(scale: 1).matrix(rows: 2, cols: 4, using: &rng)
        #expect(wide == Matrix([[1, 0, 0, 0], [0, 1, 0, 0]]))
    }

    @Test func gaussianMomentsAndDeterminism() {
        var a = SeededGenerator(seed: 9), b = SeededGenerator(seed: 9)
        let m: Matrix<Double> = Initializer.gaussian(std: 0.1).matrix(rows: 200, cols: 200, using: &a)
        let n: Matrix<Double> = Initializer.gaussian(std: 0.1).matrix(rows: 200, cols: 200, using: &b)
        #expect(m == n)
        let mean = m.storage.reduce(0, +) / Double(m.count)
        let std = (m.storage.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(m.count)).squareRoot()
        #expect(abs(mean) < 0.002)
        #expect(abs(std - 0.1) < 0.002)
    }

    @Test func uniformAndXavierBounds() {
        var rng = SeededGenerator(seed: 2)
        let u: Matrix<Double> = Initializer.uniform(bound: 0.3).matrix(rows: 50, cols: 50, using: &rng)
        #expect(u.storage.allSatisfy { abs($0) <= 0.3 } && u.maxAbs > 0.29)
        let x: Matrix<Double> = Initializer.xavier(gain: 1).matrix(rows: 20, cols: 30, using: &rng)
        #expect(x.storage.allSatisfy { abs($0) <= (6.0 / 50).squareRoot() })
    }

    @Test func orthogonalHasOrthonormalRows() {
        var rng = SeededGenerator(seed: 4)
        let q: Matrix<Double> = Initializer.orthogonal(gain: 1).matrix(rows: 8, cols: 8, blocks: 1, using: &rng)
        let qqt = Matrix.product(q, q, transposeB: true)
        for r in 0..<8 { for c in 0..<8 { #expect(isClose(qqt[r, c], r == c ? 1 : 0, atol: 1e-12)) } }
    }

    @Test func npRNNHasTopEigenvalueOneAndIsSymmetric() {
        var rng = SeededGenerator(seed: 5)
        let w: Matrix<Double> = Initializer.npRNN.matrix(rows: 12, cols: 12, using: &rng)
        #expect(w == w.transposed)
        // Power iteration on a symmetric positive definite matrix: the top eigenvalue.
        var v = [Double](repeating: 1, count: 12)
        var lambda = 0.0
        for _ in 0..<500 {
            var next = [Double](repeating: 0, count: 12)
            for r in 0..<12 { for c in 0..<12 { next[r] += w[r, c] * v[c] } }
            lambda = next.map { $0 * $0 }.reduce(0, +).squareRoot()
            v = next.map { $0 / lambda }
        }
        #expect(isClose(lambda, 1, rtol: 1e-9))
    }

    @Test(arguments: ["identity", "identity:0.5", "gaussian:0.01", "uniform:0.1", "orthogonal", "orthogonal:1.2",
                      "xavier", "he", "nprnn", "zeros", "constant:0.25", "default"])
    func parsesAndPrintsTheSharedSyntax(_ text: String) throws {
        let i = try Initializer(parsing: text)
        #expect(try Initializer(parsing: i.name) == i)
    }

    @Test(arguments: ["gaussian", "gaussian:x", "he:2", "identity:nan", "normalish", "uniform:-1"])
    func rejectsBadSyntaxListingTheAcceptedForms(_ text: String) {
        do {
            _ = try Initializer(parsing: text)
            Issue.record("'\(text)' was accepted")
        } catch {
            #expect(error.description.contains("Accepted forms") || error.description.contains("must be"))
        }
    }

    @Test func irnnPresetIsReluIdentityAndSmallGaussian() throws {
        let config = try ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 16, outputs: 1)
        let model = try makeModel(RNNCell<Float>.self, config, seed: 3)
        let p = model.layers[0]
        #expect(p.activation == .relu)
        var unused = SeededGenerator(seed: 0)
        #expect(p.weightHH == Initializer.identity(scale: 1).matrix(rows: 16, cols: 16, using: &unused))
        #expect(p.biasIH.storage.allSatisfy { $0 == 0 } && p.biasHH.storage.allSatisfy { $0 == 0 })
        #expect(p.weightIH.maxAbs < 0.006)
    }

    @Test func forgetGateBiasAndPresetValidation() throws {
        var config = try ModelConfiguration.preset("lstm", inputSize: 1, hiddenSize: 3, outputs: 2)
        config[.forgetGateBias] = 1
        let model = try makeModel(LSTMCell<Double>.self, config, seed: 1)
        #expect(model.layers[0].biasIH.storage[3..<6].allSatisfy { $0 == 1 })
        #expect(model.layers[0].biasHH.storage[3..<6].allSatisfy { $0 == 0 })
        config.activation = .relu
        #expect(throws: ConfigurationError.self) { try config.validate() }
        #expect(throws: ConfigurationError.self) { try ModelConfiguration.preset("transformer", inputSize: 1, hiddenSize: 1, outputs: 1) }
    }
}

