// MARK: - LinearAlgebraError

/// Errors thrown by the throwing routines of ``LinearAlgebra``.
public enum LinearAlgebraError: Error, Sendable, Hashable {
    /// `values.count` does not equal the number of entries the shape implies.
    case dimensionMismatch(expected: Int, actual: Int)
    /// The input contains NaN or ±∞; iterative eigenvalue solvers cannot
    /// converge on such data, so they refuse it up front.
    case nonFiniteInput
    /// The iteration did not converge within its cap. `iterations` is the
    /// number of QR sweeps spent on the block that failed to deflate.
    case noConvergence(iterations: Int)
}
