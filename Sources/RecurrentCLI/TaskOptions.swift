import ArgumentParser
import Foundation
import Recurrent

/// `--task` and the options that shape its data: the same for `train`, `compare` and `eval`.
/// Defaults are the library's (`TaskSpec.Defaults`).
struct TaskOptions: ParsableArguments {
    @Option(help: "The problem: \(TaskKind.help). (default: \(TaskSpec.Defaults.task); eval: the checkpoint's)")
    var task: TaskKind?

    @Option(help: "Sequence length T for adding and copy (compare: several, comma-separated, e.g. 50,100: every model and seed runs at each). (default: \(TaskSpec.Defaults.length))")
    var length: LengthList?

    @Option(help: ArgumentHelp("Data: an IDX directory (smnist, pmnist, rowmnist; default \(MNIST.fashionMNISTDirectory) when present), a UTF-8 text file (charlm), or tensors (a .safetensors file with 'inputs' and 'targets', or a directory with inputs.npy and targets.npy).", valueName: "path"))
    var data: String?

    @Option(name: .customLong("test-data"), help: ArgumentHelp("tensors: a test set of its own, in the forms of --data (eval: the data to score the model on).", valueName: "path"))
    var testData: String?

    @Option(name: .customLong("val-fraction"), help: "Fraction of the training data held out for validation (MNIST tasks: default \(TaskSpec.Defaults.mnistValidationFraction); tensors: default \(TaskSpec.Defaults.tensorsValidationFraction)).")
    var valFraction: Double?

    @Option(name: .customLong("perm-seed"), help: "Seed of pmnist's fixed pixel permutation. (default: \(TaskSpec.Defaults.permutationSeed))")
    var permSeed: UInt64?

    @Flag(help: "MNIST tasks: standardize pixels, (p/255 - mean)/std with the training images' mean and standard deviation (torchvision's Normalize), instead of p/255 in [0, 1]; the same numbers for validation, test and eval.")
    var standardize = false

    @Option(help: ArgumentHelp("Truncated BPTT: cut each training sequence into windows of K steps, the state carried between them (charlm: in characters, default \(TaskSpec.Defaults.bptt); other tasks: default whole sequences).", valueName: "K"))
    var bptt: Int?

    @Option(help: ArgumentHelp("Use only the first N examples of each split (characters for charlm, test sequences for adding and copy; default \(TaskSpec.Defaults.syntheticTestSize) for those): quick runs.", valueName: "n"))
    var limit: Int?

    @Option(name: .customLong("pad-value"), parsing: .unconditional, help: ArgumentHelp("tensors without lengths: the value padding sequences of uneven length; each sequence ends after its last step holding another value.", valueName: "v"))
    var padValue: Double?

    func validate() throws {
        if let l = length?.values.first(where: { $0 < 1 }) { throw ValidationError("--length must be at least 1, got \(l)") }
        if let v = padValue, !v.isFinite {
            throw ValidationError("--pad-value must be finite, got \(v); for NaN padding save the lengths (lengths.npy, or a 'lengths' tensor) with the data")
        }
        if let f = valFraction, !(f >= 0 && f < 1) { throw ValidationError("--val-fraction must be in [0, 1), got \(f)") }
        if let b = bptt, b < 1 { throw ValidationError("--bptt must be at least 1, got \(b)") }
        if let n = limit, n < 1 { throw ValidationError("--limit must be at least 1, got \(n)") }
    }

    /// Explicit options, over `stored` (a checkpoint's spec, used when it is for the same
    /// task), over the defaults (`TaskSpec.resolved`). Rejects options that do not apply to
    /// the task.
    func spec(over stored: TaskSpec?, severalLengths: Bool = false) throws -> TaskSpec {
        if !severalLengths, let l = length, l.values.count > 1 {
            throw ValidationError("--length takes one value here, got \(l.values.count) (several lengths are for compare)")
        }
        let name = task ?? stored?.name ?? TaskSpec.Defaults.task
        let base = stored?.name == name ? stored : nil
        var s = TaskSpec(name: name)
        func reject(_ option: String, _ given: Bool, _ appliesTo: String) throws {
            if given { throw ValidationError("\(option) applies to \(appliesTo), not --task \(name)") }
        }
        switch name {
        case .adding, .copy:
            s.length = length?.values.first ?? base?.length
            try reject("--data", data != nil, "smnist, pmnist, rowmnist, charlm and tensors")
            try reject("--val-fraction", valFraction != nil, "the MNIST tasks and tensors")
        case .smnist, .pmnist, .rowmnist:
            try reject("--length", length != nil, "adding and copy (\(name) has \(name == .rowmnist ? MNIST.side : MNIST.pixelCount) steps)")
            s.data = try data.map(Self.absolute) ?? base?.data ?? Self.defaultMNISTDirectory()
            s.validationFraction = valFraction ?? base?.validationFraction
            s.permutationSeed = permSeed ?? base?.permutationSeed
            s.standardize = standardize ? true : base?.standardize
        case .charlm:
            try reject("--length", length != nil, "adding and copy (charlm uses --bptt)")
            try reject("--val-fraction", valFraction != nil, "the MNIST tasks and tensors (charlm splits its text 90/5/5)")
            guard let d = try data.map(Self.absolute) ?? base?.data else {
                throw ValidationError("--task charlm needs --data FILE, a UTF-8 text file")
            }
            s.data = d
            s.bptt = bptt ?? base?.bptt
        case .tensors:
            try reject("--length", length != nil, "adding and copy (tensors take T from the data)")
            guard let d = try data.map(Self.absolute) ?? base?.data else {
                throw ValidationError("--task tensors needs --data PATH: a .safetensors file with 'inputs' and 'targets', or a directory with inputs.npy and targets.npy")
            }
            s.data = d
            s.validationFraction = valFraction ?? base?.validationFraction
            s.padValue = padValue ?? base?.padValue
            s.testData = try testData.map(Self.absolute) ?? base?.testData
            s.classes = base?.classes
        }
        if name != .tensors { try reject("--pad-value", padValue != nil, "tensors") }
        if name != .tensors { try reject("--test-data", testData != nil, "tensors (the other tasks have their own test sets)") }
        if name != .pmnist { try reject("--perm-seed", permSeed != nil, "pmnist") }
        if !name.isMNIST { try reject("--standardize", standardize, "smnist, pmnist and rowmnist") }
        if name != .charlm { s.bptt = bptt ?? base?.bptt }
        s.limit = limit ?? base?.limit
        return s.resolved()
    }

    static func absolute(_ path: String) throws -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    static func defaultMNISTDirectory() throws -> String {
        if FileManager.default.fileExists(atPath: MNIST.fashionMNISTDirectory) { return MNIST.fashionMNISTDirectory }
        throw ValidationError("the MNIST tasks need --data DIR with the IDX files (train-images-idx3-ubyte[.gz], ...); "
            + "or install Fashion-MNIST (apt-get install dataset-fashion-mnist) to use \(MNIST.fashionMNISTDirectory) by default")
    }
}

/// One sequence length or several, comma-separated (`50` or `50,100,200`).
struct LengthList: ExpressibleByArgument, Equatable {
    var values: [Int]
    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.count <= 1000, parts.allSatisfy({ $0 != nil }) else { return nil }
        values = parts.map { $0! }
    }
}
