import Foundation
import Recurrent

/// A JSON value with ordered keys, for the one object `--json` prints (non-finite
/// numbers become null).
indirect enum JSONValue {
    case number(Double)
    case integer(Int)
    case string(String)
    case bool(Bool)
    case null
    case object([(String, JSONValue)])

    var text: String {
        switch self {
        case .number(let x): return x.isFinite ? "\(x)" : "null"
        case .integer(let n): return "\(n)"
        case .string(let s): return Self.quoted(s)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .object(let fields): return "{" + fields.map { "\(Self.quoted($0.0)): \($0.1.text)" }.joined(separator: ", ") + "}"
        }
    }

    static func quoted(_ s: String) -> String { JSONText.quoted(s) }

    static func optional(_ x: Double?) -> JSONValue { x.map { .number($0) } ?? .null }
}

extension EvaluationRecord {
    /// {"loss": ..., "<mse|accuracy|bpc>": ..., "step": ...}
    var json: JSONValue { .object([("loss", .number(loss)), (metricName, .number(metric)), ("step", .integer(step))]) }
}

extension StepRecord {
    /// The last training batch: {"loss", "<metric>", "grad_norm", "lr", "step"}.
    func json(metricName: String) -> JSONValue {
        .object([("loss", .number(loss)), (metricName, .number(metric)), ("grad_norm", .number(gradientNorm)),
                 ("lr", .number(learningRate)), ("step", .integer(step))])
    }
}

/// The JSON Lines metrics log (`--log FILE.jsonl`): the library's `StepRecord` and
/// `EvaluationRecord` with a "kind" field ("step" or "evaluation").
final class MetricsLog {
    let handle: FileHandle
    let path: String
    let encoder: JSONEncoder

    /// Opens `path`, truncating it, or appending when `append` (a resumed run).
    init(path: String, append: Bool) throws {
        self.path = path
        let fm = FileManager.default
        if !append || !fm.fileExists(atPath: path) {
            guard fm.createFile(atPath: path, contents: nil) else {
                throw DataError(.io, "cannot create the log file", path: path, fix: "check that the directory exists and is writable")
            }
        }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw DataError(.io, "cannot open the log file for writing", path: path, fix: "check the file's permissions")
        }
        h.seekToEndOfFile()
        handle = h
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    }

    func write(_ record: some Encodable, kind: String) {
        guard let data = try? encoder.encode(LogLine(kind: kind, record: record)) else { return }
        handle.write(data + Data("\n".utf8))
    }

    deinit { try? handle.close() }
}

/// A record's own fields plus "kind".
struct LogLine<Record: Encodable>: Encodable {
    var kind: String
    var record: Record

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(kind, forKey: Key(stringValue: "kind"))
    }
}
