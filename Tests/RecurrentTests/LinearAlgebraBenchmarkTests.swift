import Foundation
import Testing
import Recurrent

// MARK: - Opt-in timings

/// Timings of the `O(n³)` routines on random Gaussian matrices. Skipped unless
/// `RECURRENT_LINALG_BENCH` is set; meant for release builds:
///
/// ```sh
/// RECURRENT_LINALG_BENCH=1 swift test -c release --filter LinearAlgebraBenchmark
/// ```
@Suite("LinearAlgebraBenchmark", .enabled(if: ProcessInfo.processInfo.environment["RECURRENT_LINALG_BENCH"] != nil))
struct LinearAlgebraBenchmarkTests {
    typealias F = LinearAlgebraFixtures

    /// Seconds of wall-clock time taken by `body`.
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let duration = try clock.measure(body)
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    @Test("eigenvalues of a random n × n", arguments: [256, 512])
    func eigenvalues(n: Int) throws {
        let a = F.gaussian(count: n * n, seed: UInt64(n))
        var values: [ComplexValue] = []
        let time = try Self.seconds { values = try LinearAlgebra.eigenvalues(a, n: n) }
        print("eigenvalues n=\(n): \(time) s")
        #expect(values.count == n)
        let trace = (0..<n).reduce(0) { $0 + a[$1 * n + $1] }
        #expect(abs(values.map(\.re).reduce(0, +) - trace) < 1e-9 * Double(n))
    }

    @Test("singular values, symmetric eigenvalues and the norm estimate", arguments: [256])
    func others(n: Int) {
        let a = F.gaussian(count: n * n, seed: UInt64(n) + 1)
        var sigma: [Double] = []
        print("singularValues n=\(n): \(Self.seconds { sigma = LinearAlgebra.singularValues(a, rows: n, cols: n) }) s")
        let gram = LinearAlgebra.matmul(LinearAlgebra.transpose(a, rows: n, cols: n), a, m: n, k: n, n: n)
        var lambda: [Double] = []
        print("symmetricEigenvalues n=\(n): \(Self.seconds { lambda = LinearAlgebra.symmetricEigenvalues(gram, n: n) }) s")
        var estimate = 0.0
        print("spectralNormEstimate n=\(n): \(Self.seconds { estimate = LinearAlgebra.spectralNormEstimate(a, rows: n, cols: n) }) s")
        #expect(abs(lambda[0].squareRoot() - sigma[0]) < 1e-10 * sigma[0])
        #expect(estimate <= sigma[0] * (1 + 1e-12))
    }
}
