// MARK: - ComplexValue

/// A minimal complex number `re + i·im`, used for the eigenvalues of
/// non-symmetric real matrices (which come in conjugate pairs).
///
/// Deliberately tiny (no arithmetic operators) so it cannot clash with a
/// full complex type elsewhere in the package or its dependencies.
public struct ComplexValue: Sendable, Hashable, CustomStringConvertible {
    /// Real part.
    public var re: Double
    /// Imaginary part.
    public var im: Double

    /// Creates `re + i·im`.
    public init(re: Double, im: Double = 0) {
        self.re = re
        self.im = im
    }

    /// Modulus `|z| = √(re² + im²)`, scaled to avoid intermediate overflow
    /// or underflow. NaN if either part is NaN, `+∞` if either is infinite.
    public var magnitude: Double {
        if re.isNaN || im.isNaN { return .nan }
        let x = abs(re), y = abs(im)
        let big = Swift.max(x, y), small = Swift.min(x, y)
        if big == .infinity { return .infinity }
        if big == 0 { return 0 }
        if big < 1e150 && big > 1e-150 { return (x * x + y * y).squareRoot() }
        let ratio = small / big
        return big * (1 + ratio * ratio).squareRoot()
    }

    /// The complex conjugate `re − i·im`.
    public var conjugate: ComplexValue { ComplexValue(re: re, im: -im) }

    /// `true` when the imaginary part is exactly zero.
    public var isReal: Bool { im == 0 }

    public var description: String {
        im == 0 ? "\(re)" : (im < 0 ? "\(re) - \(-im)i" : "\(re) + \(im)i")
    }
}
