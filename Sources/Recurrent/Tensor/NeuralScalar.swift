#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The element type of every tensor: `Float` for training, `Double` for gradient checks.
///
/// The same generic code runs in both; only the elementary functions below differ,
/// and they come from the C library (`expf`/`exp`, ...).
public protocol NeuralScalar: BinaryFloatingPoint, Sendable, Codable
where Self.RawSignificand: FixedWidthInteger {
    /// e^x
    static func exp(_ x: Self) -> Self
    /// Natural logarithm.
    static func log(_ x: Self) -> Self
    /// log(1 + x), accurate for small x.
    static func log1p(_ x: Self) -> Self
    /// Hyperbolic tangent.
    static func tanh(_ x: Self) -> Self
    /// Cosine.
    static func cos(_ x: Self) -> Self
    /// x^y (the C library's correctly rounded-in-practice `pow`, as Python's `**`).
    static func power(_ x: Self, _ y: Self) -> Self
}

extension Float: NeuralScalar {
    @inlinable public static func exp(_ x: Float) -> Float { expf(x) }
    @inlinable public static func log(_ x: Float) -> Float { logf(x) }
    @inlinable public static func log1p(_ x: Float) -> Float { log1pf(x) }
    @inlinable public static func tanh(_ x: Float) -> Float { tanhf(x) }
    @inlinable public static func cos(_ x: Float) -> Float { cosf(x) }
    @inlinable public static func power(_ x: Float, _ y: Float) -> Float { powf(x, y) }
}

extension Double: NeuralScalar {
    @inlinable public static func exp(_ x: Double) -> Double { cExp(x) }
    @inlinable public static func log(_ x: Double) -> Double { cLog(x) }
    @inlinable public static func log1p(_ x: Double) -> Double { cLog1p(x) }
    @inlinable public static func tanh(_ x: Double) -> Double { cTanh(x) }
    @inlinable public static func cos(_ x: Double) -> Double { cCos(x) }
    @inlinable public static func power(_ x: Double, _ y: Double) -> Double { cPow(x, y) }
}

// The C functions are shadowed inside `extension Double` by the static requirements
// of the same name; these free functions reach the C library unambiguously.
@usableFromInline func cExp(_ x: Double) -> Double { exp(x) }
@usableFromInline func cLog(_ x: Double) -> Double { log(x) }
@usableFromInline func cLog1p(_ x: Double) -> Double { log1p(x) }
@usableFromInline func cTanh(_ x: Double) -> Double { tanh(x) }
@usableFromInline func cCos(_ x: Double) -> Double { cos(x) }
@usableFromInline func cPow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
