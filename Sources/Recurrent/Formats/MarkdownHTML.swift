import Foundation

// MARK: - Markdown to a self-contained HTML page

/// A self-contained HTML page from a markdown subset (headings `#` and `##`, paragraphs, `- `
/// lists, pipe tables, inline code, `![alt](name)` images) with SVG figures inlined where the
/// markdown links them by name. No scripts, no network. The comparison report uses it; it knows
/// nothing of experiments.
enum MarkdownHTML {
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func inline(_ s: String) -> String {
        var out = "", inCode = false
        for part in escape(s).split(separator: "`", omittingEmptySubsequences: false) {
            out += inCode ? "<code>\(part)</code>" : String(part)
            inCode.toggle()
        }
        return out
    }

    static func page(title: String, markdown: String, figures: [String: String]) -> String {
        var body = "", inTable = false, inList = false
        func close() {
            if inTable { body += "</table>\n"; inTable = false }
            if inList { body += "</ul>\n"; inList = false }
        }
        for raw in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("|") {
                if line.hasPrefix("|---") { continue }
                let cells = line.dropFirst().dropLast().split(separator: "|", omittingEmptySubsequences: false).map { inline($0.trimmingCharacters(in: .whitespaces)) }
                if !inTable { close(); body += "<table>\n<tr>" + cells.map { "<th>\($0)</th>" }.joined() + "</tr>\n"; inTable = true }
                else { body += "<tr>" + cells.map { "<td>\($0)</td>" }.joined() + "</tr>\n" }
                continue
            }
            if line.hasPrefix("- ") {
                if !inList { close(); body += "<ul>\n"; inList = true }
                body += "<li>\(inline(String(line.dropFirst(2))))</li>\n"
                continue
            }
            close()
            if line.hasPrefix("## ") { body += "<h2>\(inline(String(line.dropFirst(3))))</h2>\n" }
            else if line.hasPrefix("# ") { body += "<h1>\(inline(String(line.dropFirst(2))))</h1>\n" }
            else if line.hasPrefix("!["), let open = line.firstIndex(of: "("), let end = line.lastIndex(of: ")") {
                let name = String(line[line.index(after: open)..<end])
                body += figures[name].map { "<figure>\($0)</figure>\n" } ?? ""
            } else if !line.isEmpty { body += "<p>\(inline(line))</p>\n" }
        }
        close()
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
        table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
        th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}code{background:#f3f3f3;padding:1px 3px}
        figure{margin:1em 0}svg{max-width:100%;height:auto}</style></head>
        <body>
        \(body)</body></html>
        """
    }
}
