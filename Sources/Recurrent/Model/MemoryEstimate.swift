import Foundation

/// What a run would allocate, estimated from sizes alone before anything is allocated, so
/// that an impossible request (a checkpoint whose metadata says H = 100000, `--batch 1e8`)
/// is refused with the number instead of ending in an out-of-memory kill.
///
/// The parts follow the buffers the code really keeps (Float32, 4 bytes an element):
/// ```
/// weights          P                         (P = parameterCount)
/// gradients        P                         (training)
/// optimizer state  k P                       (k buffers per parameter: Adam 2, momentum 1)
/// trace, per layer T*B*(I_l + 3 G*H + H [+ H with memory]) + B*H [+ B*H]   (SequenceTrace)
/// backward         T*B*(G*H [x2 separate dPreHidden] + I_l) + B*H [+ B*H memory or scratch]   (BackwardBuffers, dInputs)
/// packed W_hh      2 G*H*H per layer (padded to 16 columns) for H > 256: the panels of W_hhᵀ and W_hh
///                  of one pass (a part of its own, of kind .weights)
/// batch            2 B*T*I (batch-first and time-major) + R*(H + O) [x2 training], R = B or T*B
/// ```
/// It is an estimate (allocator slack, targets and small buffers are left out), meant to
/// tell "fits" from "cannot fit" by orders of magnitude, not to budget the last megabyte.
public struct MemoryEstimate: Sendable, Equatable, CustomStringConvertible {
    /// What a part is made of, so that a caller can say which setting would shrink it.
    public enum Kind: String, Sendable, Equatable {
        /// Weights, gradients and optimizer state: grow with H² and L.
        case weights
        /// The BPTT trace and backward buffers: grow with T x B x H.
        case trace
        /// Batches and outputs: grow with T x B x (I + O).
        case batches
        /// Fixed evaluation sets and their forward passes.
        case evaluation
        /// Outputs kept for every input sequence (predict).
        case outputs
        /// Analyses of the weights (diagnose: Jacobians, spectra).
        case analysis
    }

    /// One buffer or group of buffers.
    public struct Part: Sendable, Equatable {
        public var kind: Kind
        public var bytes: Double
        /// In words, with the sizes that make it: "the BPTT trace of 784 steps x 32 sequences x 100 units".
        public var what: String
        public init(kind: Kind, bytes: Double, what: String) {
            self.kind = kind
            self.bytes = bytes
            self.what = what
        }
    }

    public var parts: [Part]

    public init(parts: [Part] = []) { self.parts = parts }

    /// Adds `elements` values of `bytesPerElement` bytes (Float32 by default).
    public mutating func add(_ kind: Kind, elements: Double, bytesPerElement: Int = MemoryLayout<Float>.size, _ what: String) {
        parts.append(Part(kind: kind, bytes: elements * Double(bytesPerElement), what: what))
    }

    /// The total in bytes (a Double: absurd sizes must not overflow).
    public var bytes: Double { parts.reduce(0) { $0 + $1.bytes } }

    /// The biggest part: what to shrink first.
    public var largest: Part? { parts.max { $0.bytes < $1.bytes } }

    public var description: String {
        let listed = parts.sorted { $0.bytes > $1.bytes }.map { "\($0.what) (\(Self.format($0.bytes)))" }
        return "\(Self.format(bytes)): " + listed.joined(separator: ", ")
    }

    /// Throws `MemoryError` when the estimate exceeds `limit` (default `MemoryLimit.current`:
    /// the machine's physical memory unless overridden).
    public func check(limit: Double? = nil, subject: String? = nil) throws(MemoryError) {
        let physical = limit == nil && MemoryLimit.override == nil
        let limit = limit ?? MemoryLimit.current
        if bytes > limit { throw MemoryError(estimate: self, limit: limit, subject: subject, isPhysicalMemory: physical) }
    }

    /// "83.2 GB", "512.0 kB", "1.2e+21 bytes" (decimal units, as memory is usually sold and reported).
    public static func format(_ bytes: Double) -> String {
        guard bytes.isFinite else { return "\(bytes) bytes" }
        let units = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"]
        var value = bytes, unit = 0
        while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
        if value >= 1000 { return NumberText.scientific(bytes, digits: 1) + " bytes" }
        return unit == 0 ? "\(Int(value)) bytes" : NumberText.fixed(value, digits: 1) + " " + units[unit]
    }
}

/// An estimate that does not fit: what it would need, the largest part, and the limit.
public struct MemoryError: Error, CustomStringConvertible, Sendable {
    public var estimate: MemoryEstimate
    public var limit: Double
    /// What would need it ("model lstm:hidden=4096"), when there are several; leads the message.
    public var subject: String?
    /// True when `limit` is the machine's physical memory (not an override).
    public var isPhysicalMemory: Bool
    public init(estimate: MemoryEstimate, limit: Double, subject: String? = nil, isPhysicalMemory: Bool = false) {
        self.estimate = estimate
        self.limit = limit
        self.subject = subject
        self.isPhysicalMemory = isPhysicalMemory
    }
    public var description: String {
        var text = (subject.map { "\($0) " } ?? "") + "would need \(MemoryEstimate.format(estimate.bytes)), more than the \(MemoryEstimate.format(limit)) \(isPhysicalMemory ? "of memory this machine has" : "allowed")"
        if let big = estimate.largest { text += "; the largest part is \(big.what) (\(MemoryEstimate.format(big.bytes)))" }
        return text
    }
}

/// The memory a run may plan to use.
public enum MemoryLimit {
    /// An override in bytes for the current task (tests, or a caller that knows better):
    /// `MemoryLimit.$override.withValue(1 << 30) { ... }`.
    @TaskLocal public static var override: Double?

    /// The machine's physical memory (sysconf pages x page size), or nil where unknown.
    public static var physical: Double? {
        #if os(Linux) || os(macOS)
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        if pages > 0 && size > 0 { return Double(pages) * Double(size) }
        #endif
        let fallback = ProcessInfo.processInfo.physicalMemory
        return fallback > 0 ? Double(fallback) : nil
    }

    /// The override, else the physical memory, else no limit.
    public static var current: Double { override ?? physical ?? .infinity }
}

// MARK: - A model's forward and backward pass

extension MemoryEstimate {
    /// The weights, and one forward pass (`training`: and backward, gradients and
    /// `optimizerBuffers` buffers per parameter) over a batch of `batch` sequences of
    /// `steps` steps.
    public static func model(_ c: ModelConfiguration, steps: Int, batch: Int, training: Bool,
                             optimizerBuffers: Int = 0) -> MemoryEstimate {
        MemoryEstimate(parts: weightParts(c, training: training, optimizerBuffers: optimizerBuffers) + packedWeightParts(c)
            + passParts(c, steps: steps, batch: batch, training: training, label: ""))
    }

    /// What `predict` needs: the weights, one forward pass over `batch` of the `sequences`
    /// inputs of `steps` steps, and the outputs and final states kept for all of them.
    public static func prediction(_ c: ModelConfiguration, sequences: Int, steps: Int, batch: Int) -> MemoryEstimate {
        var e = MemoryEstimate(parts: weightParts(c, training: false) + packedWeightParts(c)
            + forwardOnlyParts(c, steps: steps, batch: Swift.min(batch, sequences), label: ""))
        let n = Double(sequences), rows = c.readout == .everyStep ? n * Double(steps) : n
        let states = Double(c.layers * c.directions) * n * Double(c.hiddenSize) * (c.cellType.hasMemory ? 2 : 1)
        e.add(.outputs, elements: rows * Double(c.outputs) + states,
              "the outputs and final states of all \(sequences) sequences (\(c.outputs) outputs\(c.readout == .everyStep ? " x \(steps) steps" : ""), \(c.layers) x \(c.hiddenSize) states)")
        return e
    }

    /// The weights (`training`: and their gradients and `optimizerBuffers` buffers each), as
    /// one part: copies of every parameter.
    static func weightParts(_ c: ModelConfiguration, training: Bool, optimizerBuffers: Int = 0) -> [Part] {
        let p = c.parameterCount
        let count = p < 1e15 ? "\(Int(p))" : NumberText.scientific(p, digits: 2)
        let copies = training ? 2 + Swift.max(0, optimizerBuffers) : 1
        let what = training ? "the weights, gradients\(optimizerBuffers > 0 ? " and optimizer state" : "") (\(copies) x \(count) parameters"
                            : "the weights (\(count) parameters"
        let layers = "\(c.layers) layer\(c.layers == 1 ? "" : "s") of \(c.hiddenSize) units"
        return [Part(kind: .weights, bytes: 4 * Double(copies) * p,
                     what: what + ": \(layers), \(c.inputSize) inputs, \(c.outputs) outputs)")]
    }

    /// Large layers (H > 256): W_hhᵀ and W_hh packed into panels once per pass
    /// (`cachePackedRecurrentWeights`), per layer; nothing otherwise.
    static func packedWeightParts(_ c: ModelConfiguration) -> [Part] {
        guard c.hiddenSize > c.cellType.packedRecurrentWeightAbove else { return [] }
        let gh = c.cellType.gateCount * c.hiddenSize
        let floats = Double(c.layers) * Double(Kernels.packedPanelFloats(k: c.hiddenSize, n: gh) + Kernels.packedPanelFloats(k: gh, n: c.hiddenSize))
        return [Part(kind: .weights, bytes: 4 * floats,
                     what: "the recurrent weights packed for the per-step products (2 x \(c.layers) x \(gh) x \(c.hiddenSize))")]
    }

    /// The trace and batch buffers of one pass (no weights): the training batch's, or an
    /// evaluation batch's when `label` says so.
    static func passParts(_ c: ModelConfiguration, steps: Int, batch: Int, training: Bool, label: String) -> [Part] {
        let cell = c.cellType
        let t = Double(steps), b = Double(batch), h = Double(c.hiddenSize), g = Double(cell.gateCount)
        let memory: Double = cell.hasMemory ? 2 : 1
        // per-step backward buffers [B, H]: dHidden, dMemory (with memory), scratch (if the cell uses it)
        let perStep: Double = 1 + (cell.hasMemory ? 1 : 0) + (cell.usesBackwardScratch ? 1 : 0)
        var trace = 0.0
        let d = Double(c.directions)
        for l in 0..<Swift.max(1, c.layers) {                  // per direction (a bidirectional layer's are the same size)
            let i = Double(l == 0 ? c.inputSize : c.directions * c.hiddenSize)
            trace += d * (t * b * (i + 3 * g * h + memory * h) + memory * b * h)
            if training { trace += d * (t * b * (g * h * (cell.separateHiddenGradient ? 2 : 1) + i) + perStep * b * h) }
            if c.bidirectional { trace += t * b * (i + 2 * h) * (training ? 2 : 1) }   // reversed inputs, [h_fwd | h_rev]
            // variational dropout: the masked input copy, the state mask [B, H] and the unmasked h_{t-1} [T*B, H]
            if training && c.inputDropout > 0 { trace += d * t * b * i }
            if training && c.recurrentDropout > 0 { trace += d * (b * h + t * b * h) }
        }
        let kind: Kind = label.isEmpty ? .trace : .evaluation
        return [
            Part(kind: kind, bytes: trace * 4,
                 what: "the \(label)\(training ? "BPTT trace" : "forward trace") of \(steps) steps x \(batch) sequences x \(c.hiddenSize) units"
                    + (c.gateCount > 1 ? " x \(c.gateCount) gate blocks" : "") + (c.layers > 1 ? " x \(c.layers) layers" : "")),
            batchPart(c, steps: steps, batch: batch, training: training, label: label),
        ]
    }

    /// The buffers of one forward-only pass (`RecurrentCell.forwardOnly`: evaluation and
    /// `predict`) and its batch: per cell a `ForwardOnlyTrace` (a window of C steps, h_1 ...
    /// h_T where the next layer or a per-step readout reads them, h_1), the next layer's
    /// input, and for bidirectional layers the reversed input and [h_fwd | h_rev].
    static func forwardOnlyParts(_ c: ModelConfiguration, steps: Int, batch: Int, label: String) -> [Part] {
        let cell = c.cellType, g = cell.gateCount, h = c.hiddenSize, d = Double(c.directions)
        let t = Double(steps), b = Double(batch), memory: Double = cell.hasMemory ? 2 : 1
        var floats = 0.0
        for l in 0..<Swift.max(1, c.layers) {
            let i = l == 0 ? c.inputSize : c.directions * h
            let window = Double(ForwardOnlyTrace<Float>.chunkSteps(steps: steps, batch: batch, inputSize: i, hiddenSize: h, gateCount: g,
                                                                   hasMemory: cell.hasMemory, requested: nil))
            let kept = l + 1 < c.layers || c.readout == .everyStep
            floats += d * (window * b * Double(i + 3 * g * h) + (window + 1) * b * Double(h) * memory + b * Double(h))
            if kept { floats += d * t * b * Double(h) + t * b * d * Double(h) }   // h_1 ... h_T, and the next layer's input
            if c.bidirectional { floats += t * b * Double(i) }                    // the reversed input
        }
        return [
            Part(kind: label.isEmpty ? .trace : .evaluation, bytes: floats * 4,
                 what: "the \(label)forward-only pass of \(steps) steps x \(batch) sequences x \(h) units"
                    + (g > 1 ? " x \(g) gate blocks" : "") + (c.layers > 1 ? " x \(c.layers) layers" : "") + " (a window of a few steps per layer)"),
            batchPart(c, steps: steps, batch: batch, training: false, label: label),
        ]
    }

    /// The batch of one pass: inputs batch-first and time-major, the head's input and outputs
    /// (with their gradients when `training`).
    static func batchPart(_ c: ModelConfiguration, steps: Int, batch: Int, training: Bool, label: String) -> Part {
        let t = Double(steps), b = Double(batch), h = Double(c.hiddenSize), d = Double(c.directions)
        let rows = c.readout == .everyStep ? t * b : b
        let batchElements = 2 * b * t * Double(c.inputSize) + rows * (d * h + Double(c.outputs)) * (training ? 2 : 1)
        return Part(kind: label.isEmpty ? .batches : .evaluation, bytes: batchElements * 4,
                    what: "the \(label)batch (\(batch) sequences x \(steps) steps x \(c.inputSize) inputs, \(c.outputs) outputs\(c.readout == .everyStep ? " per step" : ""))")
    }
}
