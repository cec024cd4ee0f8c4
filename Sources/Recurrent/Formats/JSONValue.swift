import Foundation

/// A JSON value with ordered keys, written by hand so that the output is deterministic and
/// non-finite numbers become `null` (JSON has no inf or NaN): the documents the library and
/// the command line print (`diagnose --json`, `train --json`, `eval --json`).
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.text == b.text }

    /// A number, or null for nil.
    public static func optional(_ x: Double?) -> JSONValue { x.map { .number($0) } ?? .null }

    /// Compact JSON text.
    public var text: String {
        var out = ""
        write(into: &out)
        return out
    }

    func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .number(let x) where !x.isFinite: out += "null"
        case .number(let x):
            // Swift's shortest round-tripping form ("0.1", "1e-05", "2.5e+20") is valid JSON.
            out += x == x.rounded() && abs(x) < 1e15 ? String(format: "%.1f", x) : "\(x)"
        case .string(let s): out += JSONText.quoted(s)
        case .array(let items):
            out += "["
            for (k, item) in items.enumerated() {
                if k > 0 { out += "," }
                item.write(into: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (k, pair) in pairs.enumerated() {
                if k > 0 { out += "," }
                out += JSONText.quoted(pair.0) + ":"
                pair.1.write(into: &out)
            }
            out += "}"
        }
    }
}
