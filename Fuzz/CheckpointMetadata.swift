// libFuzzer target: Checkpoint.configuration(of:) on a small valid checkpoint whose metadata
// comes from the fuzzer. The input is split at '\n' bytes (then as UTF-8, lossily) into, in order:
// recurrent.configuration, activation, readout, cell; an empty piece leaves that key out.
// Built and run by scripts/fuzz.sh (not part of the package build).
@testable import Recurrent

/// A 1-layer RNN, I = 2, H = 3, O = 1, with every tensor in place.
let tensors: [String: SafeTensor] = [
    "rnn.weight_ih_l0": SafeTensor(floats: [Float](repeating: 0.5, count: 6), shape: [3, 2]),
    "rnn.weight_hh_l0": SafeTensor(floats: [Float](repeating: 0.1, count: 9), shape: [3, 3]),
    "rnn.bias_ih_l0": SafeTensor(floats: [0, 0, 0], shape: [3]),
    "rnn.bias_hh_l0": SafeTensor(floats: [0, 0, 0], shape: [3]),
    "head.weight": SafeTensor(floats: [1, 1, 1], shape: [1, 3]),
    "head.bias": SafeTensor(floats: [0], shape: [1]),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let pieces = bytes.split(separator: 0x0A, maxSplits: 3, omittingEmptySubsequences: false)
        .map { String(decoding: $0, as: UTF8.self) }
    var metadata: [String: String] = [:]
    for (key, value) in zip([Checkpoint.configurationKey, "activation", "readout", "cell"], pieces) where !value.isEmpty {
        metadata[key] = value
    }
    if let text = pieces.first {
        _ = try? JSONReader.check(text, maximumLength: Checkpoint.maximumConfigurationLength,
                                  maximumDepth: Checkpoint.maximumConfigurationDepth)
    }
    let file = SafeTensorsFile(tensors: tensors, metadata: metadata)
    do {
        let configuration = try Checkpoint.configuration(of: file)
        _ = try? configuration.validate()
    } catch {
        precondition(!"\(error)".isEmpty)
    }
    // The same file through its bytes: what a reader of the file on disk sees.
    if let serialized = try? file.serialized() {
        guard let reread = try? SafeTensorsFile(bytes: serialized) else { preconditionFailure("metadata broke the file") }
        precondition(reread.metadata == metadata)
    }
    return 0
}
