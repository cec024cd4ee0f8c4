// MARK: - Spectrum of the recurrent matrix (claim 3 of the seed)

/// The eigenvalues and extreme singular values of a square recurrent matrix W [H, H],
/// and the per-step growth factor they predict.
///
/// For a linear recurrence, or a ReLU one with every unit active, h_t = W h_{t-1} and
/// d net_t / d net_1 = W^(t-1) (seed note, 10.11 and 10.12). By Gelfand's formula
/// ||W^n||^(1/n) -> rho(W) = max_i |lambda_i(W)|, so the predicted growth per step is
/// rho(W): above 1 the state and the gradient explode, below 1 they vanish. One single
/// step can stretch a vector by at most sigma_max(W) and at least sigma_min(W).
///
/// Computed by the non-symmetric eigenvalue solver (`LinearAlgebra.eigenvalues`,
/// Hessenberg + Francis QR) and one-sided Jacobi (`LinearAlgebra.singularValues`).
public struct Spectrum: Sendable, Equatable {
    /// H: the order of W.
    public var order: Int
    /// All H eigenvalues, complex ones in conjugate pairs, by descending modulus.
    public var eigenvalues: [ComplexValue]
    /// rho(W) = max |lambda_i|.
    public var spectralRadius: Double
    /// sigma_max(W) = ||W||_2.
    public var singularValueMax: Double
    /// sigma_min(W) (0 for a singular W).
    public var singularValueMin: Double
    /// ||W||_F.
    public var frobeniusNorm: Double

    /// The growth factor per step that the spectrum predicts for ||h_t|| and
    /// ||d net_t / d net_1|| when f is linear in the visited region: rho(W).
    public var predictedGrowth: Double { spectralRadius }

    /// The spectrum of the row-major [n, n] matrix `w`. A `w` holding NaN or infinity
    /// (a diverged model, loaded on purpose) has no spectrum: every value is NaN, so that
    /// the NaN shows in the report instead of stopping it.
    ///
    /// - Throws: `LinearAlgebraError` when `w` is not n x n or the QR iteration fails to converge.
    public init(_ w: [Double], n: Int) throws {
        if w.count == n * n, !w.allSatisfy(\.isFinite) {
            order = n
            eigenvalues = Array(repeating: ComplexValue(re: .nan, im: .nan), count: n)
            spectralRadius = .nan
            singularValueMax = .nan
            singularValueMin = .nan
            frobeniusNorm = .nan
            return
        }
        let values = try LinearAlgebra.eigenvalues(w, n: n)
        let sigma = LinearAlgebra.singularValues(w, rows: n, cols: n)
        order = n
        eigenvalues = values
        spectralRadius = values.reduce(0) { max($0, $1.magnitude) }
        singularValueMax = sigma.first ?? 0
        singularValueMin = sigma.last ?? 0
        frobeniusNorm = LinearAlgebra.frobeniusNorm(w, rows: n, cols: n)
    }

    /// The spectrum of a square `Matrix` of any scalar type (read in Double).
    public init<T: NeuralScalar>(_ w: Matrix<T>) throws {
        precondition(w.rows == w.cols, "Spectrum: W must be square, got \(w.shape)")
        try self.init(w.storage.map { Double($0) }, n: w.rows)
    }
}
