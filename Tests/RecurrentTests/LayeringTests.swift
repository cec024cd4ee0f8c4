import Foundation
import Testing

/// The folders of `Sources/Recurrent` are layers: a file may use what is declared in its own
/// folder and in the folders below it, never above (README, "Layout"). One module cannot
/// enforce that with imports, so this test does: it collects the top-level declarations of
/// every folder (types, functions, constants; `extension` members are not tracked) and fails
/// on any identifier a file uses from a higher folder.
@Suite struct LayeringTests {
    /// Bottom to top. Files directly in `Sources/Recurrent` count as the bottom layer.
    static let layers = ["", "Tensor", "Formats", "LinearAlgebra", "Layers", "Cells", "Model", "Optim",
                         "Data", "Training", "Diagnostics", "Benchmark", "Experiments"]

    static var sourceRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/Recurrent")
    }

    struct SourceFile {
        var path: String      // relative to Sources/Recurrent
        var layer: String
        var code: String      // comments and string literals removed
    }

    static func sourceFiles() throws -> [SourceFile] {
        let root = sourceRoot
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        var files: [SourceFile] = []
        for case let url as URL in walker where url.pathExtension == "swift" {
            let relative = String(url.path.dropFirst(root.path.count + 1))
            let parts = relative.split(separator: "/")
            let layer = parts.count > 1 ? String(parts[0]) : ""
            files.append(SourceFile(path: relative, layer: layer, code: stripped(try String(contentsOf: url, encoding: .utf8))))
        }
        return files.sorted { $0.path < $1.path }
    }

    /// The text with `//` and `/* */` comments and string literals (single and triple quoted)
    /// blanked out, so that names inside them do not count as uses.
    static func stripped(_ text: String) -> String {
        var out = ""
        let chars = Array(text)
        var i = 0
        func at(_ k: Int) -> Character? { k < chars.count ? chars[k] : nil }
        while i < chars.count {
            let c = chars[i]
            if c == "/" && at(i + 1) == "/" {
                while i < chars.count && chars[i] != "\n" { i += 1 }
            } else if c == "/" && at(i + 1) == "*" {
                i += 2
                while i < chars.count && !(chars[i] == "*" && at(i + 1) == "/") { i += 1 }
                i += 2
            } else if c == "\"" && at(i + 1) == "\"" && at(i + 2) == "\"" {
                i += 3
                while i < chars.count && !(chars[i] == "\"" && at(i + 1) == "\"" && at(i + 2) == "\"") { i += 1 }
                i += 3
                out.append("\"\"")
            } else if c == "\"" {
                i += 1
                while i < chars.count && chars[i] != "\"" && chars[i] != "\n" {
                    if chars[i] == "\\" { i += 1 }
                    i += 1
                }
                i += 1
                out.append("\"\"")
            } else {
                out.append(c)
                i += 1
            }
        }
        return out
    }

    /// Names declared at the top level of a file (column 0).
    static func declarations(in code: String) -> [String] {
        let keywords: Set<String> = ["struct", "enum", "class", "protocol", "typealias", "actor", "func", "let", "var"]
        let modifiers: Set<String> = ["public", "package", "internal", "fileprivate", "private", "final", "nonisolated(unsafe)",
                                      "indirect", "@inlinable", "@inline(__always)", "@usableFromInline", "@frozen", "@_transparent"]
        var names: [String] = []
        for line in code.split(separator: "\n", omittingEmptySubsequences: true) where !line.hasPrefix(" ") && !line.hasPrefix("}") {
            var words = line.split(separator: " ").map(String.init)
            if words.contains("private") || words.contains("fileprivate") { continue }  // invisible to other files
            while let first = words.first, modifiers.contains(first) || first.hasPrefix("@") { words.removeFirst() }
            guard words.count >= 2, keywords.contains(words[0]) else { continue }
            let name = words[1].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !name.isEmpty { names.append(String(name)) }
        }
        return names
    }

    static func identifiers(in code: String) -> Set<String> {
        var set = Set<String>()
        var current = ""
        for c in code {
            if c.isLetter || c.isNumber || c == "_" { current.append(c) } else {
                if let f = current.first, !f.isNumber { set.insert(current) }
                current = ""
            }
        }
        if !current.isEmpty { set.insert(current) }
        return set
    }

    @Test func everyFolderIsALayer() throws {
        let files = try Self.sourceFiles()
        #expect(files.count > 50, "found \(files.count) source files under \(Self.sourceRoot.path)")
        for f in files {
            #expect(Self.layers.contains(f.layer), "\(f.path): the folder '\(f.layer)' is not in LayeringTests.layers; add it where it belongs")
        }
    }

    @Test func dependenciesPointDown() throws {
        let files = try Self.sourceFiles()
        var owner: [String: String] = [:]  // name -> layer
        for f in files {
            for name in Self.declarations(in: f.code) where owner[name] == nil { owner[name] = f.layer }
        }
        var violations: [String] = []
        for f in files {
            guard let rank = Self.layers.firstIndex(of: f.layer) else { continue }
            for name in Self.identifiers(in: f.code).sorted() {
                guard let layer = owner[name], let other = Self.layers.firstIndex(of: layer), other > rank else { continue }
                violations.append("\(f.path) (\(f.layer.isEmpty ? "root" : f.layer)) uses \(name) from \(layer)")
            }
        }
        #expect(violations.isEmpty, "wrong-way dependencies:\n\(violations.joined(separator: "\n"))")
    }

    /// The check itself: a planted upward use is found.
    @Test func aWrongWayUseIsFound() {
        let code = Self.stripped("struct A { var t: Trainer<RNNCell<Float>> } // Trainer in a comment\nlet s = \"Trainer\"")
        #expect(Self.identifiers(in: code).contains("Trainer"))
        #expect(Self.identifiers(in: Self.stripped("// Trainer\nlet s = \"Trainer\"")).contains("Trainer") == false)
        #expect(Self.declarations(in: "public struct Foo<T> {\n    func bar() {}\n}\n@inlinable public func baz() {}") == ["Foo", "baz"])
    }
}
