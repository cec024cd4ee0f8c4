// MARK: - SVGEscaping

/// Makes arbitrary strings safe as XML text content and attribute values.
enum SVGEscaping {
    /// Escapes `&`, `<`, `>`, `"` and `'`, and drops characters that XML 1.0 forbids
    /// (control characters other than tab, newline and carriage return; U+FFFE, U+FFFF).
    /// Tabs and line breaks become spaces, since chart labels are single-line.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\t", "\n", "\r": result += " "
            default:
                let value = scalar.value
                if value < 0x20 || value == 0xFFFE || value == 0xFFFF { continue }
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
