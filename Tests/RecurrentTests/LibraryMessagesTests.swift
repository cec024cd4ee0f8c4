import Foundation
import Testing
@testable import Recurrent

/// The library speaks in its own terms: no string literal under Sources/Recurrent names a
/// command-line flag (`--something`). Advice is a `Remedy` value, which each front end words
/// (the command line as its flags, `CLIError.swift`).
@Suite struct LibraryMessagesTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/Recurrent")

    /// Literals allowed to hold a flag, as "path relative to Sources/Recurrent: literal text".
    /// Empty: keep it so.
    static let allowed: Set<String> = []

    /// A string literal's text (without delimiters or interpolated code) and its first line.
    struct Literal: Equatable, CustomStringConvertible {
        var line: Int
        var text: String
        var description: String { "line \(line): \"\(text)\"" }
    }

    /// The string literals of Swift source: single-line, multi-line (`"""`) and raw (`#"..."#`),
    /// with interpolations `\( ... )` read as code (their own literals are found too); line and
    /// block comments (nested) are skipped.
    static func stringLiterals(_ source: String) -> [Literal] {
        let s = Array(source.utf8)
        var literals: [Literal] = []
        var i = 0, line = 1
        // The open interpolations: parenthesis depth inside each, and the string to return to.
        var stack: [(depth: Int, hashes: Int, multiline: Bool)] = []
        var depth = 0
        func at(_ k: Int) -> UInt8? { k < s.count ? s[k] : nil }
        func starts(_ text: String, _ k: Int) -> Bool { Array(text.utf8).enumerated().allSatisfy { at(k + $0.offset) == $0.element } }

        /// Reads a string whose opening delimiter ends before `k`; returns the index after it.
        func readString(from k: Int, hashes: Int, multiline: Bool) -> Int {
            var k = k, text: [UInt8] = [], startLine = line
            let close = (multiline ? "\"\"\"" : "\"") + String(repeating: "#", count: hashes)
            let escape = "\\" + String(repeating: "#", count: hashes)
            func flush() {
                if !text.isEmpty { literals.append(Literal(line: startLine, text: String(decoding: text, as: UTF8.self))) }
                text = []
                startLine = line
            }
            while k < s.count {
                if starts(close, k) { flush(); return k + close.utf8.count }
                if starts(escape, k) {
                    let next = k + escape.utf8.count
                    if at(next) == UInt8(ascii: "(") {                  // interpolation: code until the matching ')'
                        flush()
                        stack.append((depth, hashes, multiline))
                        depth = 0
                        return next + 1
                    }
                    text.append(contentsOf: s[k..<Swift.min(s.count, next + 1)])
                    k = next + 1
                    continue
                }
                if s[k] == UInt8(ascii: "\n") { line += 1 }
                text.append(s[k])
                k += 1
            }
            flush()
            return k
        }

        while i < s.count {
            let c = s[i]
            if c == UInt8(ascii: "\n") { line += 1; i += 1; continue }
            if starts("//", i) {
                while i < s.count && s[i] != UInt8(ascii: "\n") { i += 1 }
                continue
            }
            if starts("/*", i) {
                var nesting = 0
                repeat {
                    if starts("/*", i) { nesting += 1; i += 2 } else if starts("*/", i) { nesting -= 1; i += 2 } else {
                        if s[i] == UInt8(ascii: "\n") { line += 1 }
                        i += 1
                    }
                } while nesting > 0 && i < s.count
                continue
            }
            if c == UInt8(ascii: "#") || c == UInt8(ascii: "\"") {
                var hashes = 0
                while at(i + hashes) == UInt8(ascii: "#") { hashes += 1 }
                if at(i + hashes) == UInt8(ascii: "\"") {
                    let multiline = starts("\"\"\"", i + hashes)
                    i = readString(from: i + hashes + (multiline ? 3 : 1), hashes: hashes, multiline: multiline)
                    continue
                }
                i += Swift.max(1, hashes)
                continue
            }
            if c == UInt8(ascii: "(") { depth += 1 }
            if c == UInt8(ascii: ")") {
                if depth == 0, let open = stack.popLast() {           // the end of an interpolation: back into its string
                    depth = open.depth
                    i = readString(from: i + 1, hashes: open.hashes, multiline: open.multiline)
                    continue
                }
                depth -= 1
            }
            i += 1
        }
        return literals
    }

    /// The literals of `source` that name a flag: "--" followed by a lower-case letter.
    static func flags(in source: String) -> [Literal] {
        stringLiterals(source).filter { $0.text.range(of: #"--[a-z]"#, options: .regularExpression) != nil }
    }

    @Test func theScannerFindsFlagsInEveryKindOfLiteralAndNotInComments() {
        let source = ##"""
            // a comment with --lr is not a message
            /* nor is --clip-norm here /* nested --x */ still comment --y */
            let a = "plain --lr 0.1"
            let b = "in \(value.map { "nested --clip-norm" }) and after: --steps"
            let c = #"raw --seed \#(x) text"#
            let d = """
                multi --task
                """
            let e = "no flag - here -- nor -1 or --2"
            let f = "escaped \" quote then --data"
            """##
        let found = Self.flags(in: source).map(\.text)
        #expect(found.count == 6, "\(found)")
        for flag in ["--lr", "--clip-norm", "--steps", "--seed", "--task", "--data"] {
            #expect(found.contains { $0.contains(flag) }, "\(flag) not found in \(found)")
        }
        #expect(!found.contains { $0.contains("--x") || $0.contains("--y") || $0.contains("--2") })
        #expect(Self.flags(in: source).first?.line == 3)
    }

    @Test func noLibraryLiteralNamesAFlag() throws {
        let files = try #require(FileManager.default.enumerator(atPath: Self.sources.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") }.sorted()
        #expect(files.count > 50, "the library's sources were not found at \(Self.sources.path)")
        var offenders: [String] = []
        for file in files {
            let source = try String(contentsOf: Self.sources.appendingPathComponent(file), encoding: .utf8)
            for literal in Self.flags(in: source) where !Self.allowed.contains("\(file): \(literal.text)") {
                offenders.append("\(file) \(literal)")
            }
        }
        #expect(offenders.isEmpty, "library messages name command-line flags; return a Remedy instead:\n\(offenders.joined(separator: "\n"))")
    }

    /// Every remedy has library words without a flag, and command-line words (checked through
    /// the binary: a divergence, a resume without a training state, a warning).
    @Test(arguments: [Remedy.lowerLearningRate(factor: 10), .clipGradients(norm: 1), .useIdentityInit, .boundedActivation("clipped_relu:6"),
                      .useTask("copy"), .startFromWeights, .raiseTotalSteps(60), .shorterSequence, .useTrainingData, .setLearningRate(0.01)])
    func remediesAreWordedWithoutFlags(_ remedy: Remedy) {
        #expect(!remedy.description.contains("--") && !remedy.description.isEmpty, "\(remedy)")
    }

    @Test func theCommandLineWordsRemediesAsItsFlags() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // W = 3 I with ReLU over 100 steps overflows at once; clipping off.
        let diverged = try CLI.run(["train", "--task", "adding", "--length", "100", "--hidden", "6", "--batch", "4", "--limit", "10",
                                    "--recurrent-init", "identity:3", "--clip-norm", "0", "--steps", "5", "--name", "d"], in: dir)
        #expect(diverged.status == 3)
        for words in ["a lower --lr (e.g. 10x lower)", "--clip-norm 1", "--recurrent-init identity (or --cell irnn)", "--activation clipped_relu:6"] {
            #expect(diverged.stderr.contains(words), "\(words): \(diverged.stderr)")
        }
        #expect(diverged.stderr.contains("warning: the spectral radius of W is 3.000 > 1") && diverged.stderr.contains("consider --recurrent-init identity"),
                "\(diverged.stderr)")
        try FileManager.default.removeItem(at: dir.appendingPathComponent("checkpoints/d.state.safetensors"))
        let noState = try CLI.run(["train", "--resume", "checkpoints/d.safetensors", "--steps", "10"], in: dir)
        #expect(noState.status == 1 && noState.stderr.contains("d.state.safetensors") && noState.stderr.contains("Fix: --init-from FILE"),
                "\(noState.stderr)")
        let sgd = try CLI.run(["train", "--optimizer", "sgd", "--steps", "1"], in: dir)
        #expect(sgd.status == 64 && sgd.stderr.contains("sgd needs a learning rate") && sgd.stderr.contains("Try: --lr 0.01"), "\(sgd.stderr)")
        let ok = try CLI.run(CLI.tinyAdding + ["--steps", "2", "--name", "ok"], in: dir)
        try #require(ok.status == 0, "\(ok.output)")
        let other = try CLI.run(["train", "--resume", "checkpoints/ok.safetensors", "--task", "copy", "--length", "3", "--steps", "4"], in: dir)
        #expect(other.status == 1 && other.stderr.contains("trained on task 'adding', not 'copy'. Fix: --task adding"), "\(other.output)")
    }
}
