// MARK: - TensorBoard's Event protocol buffer

/// One scalar of a summary: what TensorBoard plots as the point (step, value) of the curve `tag`.
public struct TensorBoardScalar: Sendable, Equatable {
    /// The curve's name; a `/` groups curves into one section (`train/loss`, `val/loss`).
    public var tag: String
    /// Stored as a protobuf `float` (`Summary.Value.simple_value`), so Float precision.
    public var value: Float

    public init(_ tag: String, _ value: Float) {
        self.tag = tag
        self.value = value
    }
}

/// A TensorBoard `Event` (tensorboard/compat/proto/event.proto), restricted to what a scalar
/// log needs: the file version that opens every event file, a summary of scalars, and the
/// session start that tells TensorBoard a run restarted at a step.
///
/// Field numbers (event.proto, summary.proto): Event `wall_time = 1` (double), `step = 2`
/// (int64), `file_version = 3` (string), `summary = 5`, `session_log = 7`; Summary
/// `value = 1` (repeated); Summary.Value `tag = 1`, `simple_value = 2` (float);
/// SessionLog `status = 1` (START = 1).
public struct TensorBoardEvent: Sendable, Equatable {
    public enum Content: Sendable, Equatable {
        /// "brain.Event:2": the first event of a file; TensorBoard reads the version from it.
        case fileVersion(String)
        /// Scalars at this event's step (values that are not simple scalars are skipped when reading).
        case scalars([TensorBoardScalar])
        /// `SessionLog.START`: TensorBoard's Python loader drops the run's earlier points at
        /// steps ≥ this event's step (data left by a process that died after its last checkpoint).
        case sessionStart
        /// A kind of event this reader does not interpret (a graph, run metadata, ...).
        case other
    }

    /// The version string every event file this library writes starts with.
    public static let currentFileVersion = "brain.Event:2"

    /// Seconds since 1970-01-01 UTC.
    public var wallTime: Double
    public var step: Int64
    public var content: Content

    public init(wallTime: Double, step: Int64, content: Content) {
        self.wallTime = wallTime
        self.step = step
        self.content = content
    }

    // MARK: Encoding

    /// The protobuf bytes. Like protobuf's own serialiser (proto3), a zero `wall_time` or
    /// `step` is left out; `simple_value` sits in a oneof, so it is written even when 0.
    public var encoded: [UInt8] {
        var w = ProtobufWriter()
        if wallTime.bitPattern != 0 { w.double(1, wallTime) }
        if step != 0 { w.int64(2, step) }
        switch content {
        case .fileVersion(let version):
            w.string(3, version)
        case .scalars(let scalars):
            var summary = ProtobufWriter()
            for s in scalars {
                var value = ProtobufWriter()
                value.string(1, s.tag)
                value.float(2, s.value)
                summary.bytes(1, value.bytes)
            }
            w.bytes(5, summary.bytes)
        case .sessionStart:
            var session = ProtobufWriter()
            session.key(1, .varint)
            session.varint(1)
            w.bytes(7, session.bytes)
        case .other:
            break
        }
        return w.bytes
    }

    // MARK: Decoding

    /// Decodes an `Event`; unknown fields are skipped, as protobuf readers do.
    init(decoding bytes: [UInt8]) throws(ProtobufReader.Malformed) {
        var reader = ProtobufReader(bytes)
        var wallTime = 0.0, step: Int64 = 0
        var content = Content.other
        while let (field, value) = try reader.next() {
            switch (field, value) {
            case (1, .fixed64(let bits)): wallTime = Double(bitPattern: bits)
            case (2, .varint(let v)): step = Int64(bitPattern: v)
            case (3, .bytes(let b)): content = .fileVersion(String(decoding: b, as: UTF8.self))
            case (5, .bytes(let b)): content = .scalars(try Self.scalars(inSummary: b))
            case (7, .bytes(let b)):
                var session = ProtobufReader(b)
                var status: UInt64 = 0
                while let (f, v) = try session.next() { if f == 1, case .varint(let s) = v { status = s } }
                if status == 1 { content = .sessionStart }
            default: break
            }
        }
        self.init(wallTime: wallTime, step: step, content: content)
    }

    /// The `simple_value` scalars of a `Summary` message.
    private static func scalars(inSummary bytes: [UInt8]) throws(ProtobufReader.Malformed) -> [TensorBoardScalar] {
        var reader = ProtobufReader(bytes)
        var out: [TensorBoardScalar] = []
        while let (field, value) = try reader.next() {
            guard field == 1, case .bytes(let valueBytes) = value else { continue }
            var v = ProtobufReader(valueBytes)
            var tag = "", simple: Float?
            while let (f, x) = try v.next() {
                switch (f, x) {
                case (1, .bytes(let b)): tag = String(decoding: b, as: UTF8.self)
                case (2, .fixed32(let bits)): simple = Float(bitPattern: bits)
                default: break
                }
            }
            if let simple { out.append(TensorBoardScalar(tag, simple)) }
        }
        return out
    }
}
