/// Text helpers for the JSON the library writes by hand (safetensors headers, the
/// diagnose document, bench records), where byte-exact, key-ordered output matters.
public enum JSONText {
    /// A JSON string literal escaped like serde_json (the safetensors reference writer):
    /// `"` and `\` escaped, control characters as `\n`-style or `\u00xx`, all other
    /// characters (including non-ASCII) written as raw UTF-8.
    public static func quoted(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
