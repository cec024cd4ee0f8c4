// MARK: - LinearAlgebra namespace

/// Small, dependency-free dense linear algebra used by the diagnostics.
///
/// The diagnostics explain why a ReLU RNN `h_t = relu(W h_{t-1} + U x_t + b)`
/// explodes or vanishes unless `W ≈ I`: the Jacobian `∂h_T/∂h_0` is a product
/// `∏ D_t W` of diagonal ReLU masks and the recurrent matrix, so its growth is
/// governed by the spectral radius `ρ(W) = max |λ_i(W)|` and the spectral norm
/// `‖W‖₂ = σ_max(W)`.
///
/// Every routine works on `Double` values in the minimal form
/// `(values: [Double], rows: Int, cols: Int)`, row-major, i.e. entry `(i, j)`
/// lives at `values[i * cols + j]` (square inputs take `n:`). This keeps the
/// namespace independent of any matrix type in the rest of the package.
///
/// Algorithms follow G. H. Golub and C. F. Van Loan, *Matrix Computations*,
/// 4th ed., Johns Hopkins University Press, 2013 (cited as "GVL"):
///
/// - ``eigenvalues(_:n:maxSweepsPerDeflation:)``: balancing, Householder Hessenberg reduction
///   (Alg. 7.4.2), Francis implicit double-shift QR (Alg. 7.5.1/7.5.2, the
///   EISPACK `hqr` routine).
/// - ``symmetricEigenvalues(_:n:)``: cyclic Jacobi (Alg. 8.5.3).
/// - ``singularValues(_:rows:cols:)``: one-sided (Hestenes) Jacobi (§8.6.3).
/// - ``qr(_:rows:cols:)``: thin Householder QR (Alg. 5.2.1).
/// - ``spectralNormEstimate(_:rows:cols:iterations:tolerance:)``: power
///   method on `AᵀA` (§8.2.1).
///
/// Shapes are programmer input: a `values.count` that disagrees with the shape
/// is a precondition failure in the non-throwing routines and a thrown
/// ``LinearAlgebraError/dimensionMismatch(expected:actual:)`` in the throwing
/// ones. Data (NaN, ±∞) never traps: see each routine's documentation.
public enum LinearAlgebra {}
