import ArgumentParser
import Foundation
import Recurrent

/// `--task`: the problems `recurrent train` knows (see the README for their definitions).
enum TaskName: String, ExpressibleByArgument, CaseIterable, Codable, Sendable {
    case adding, copy, smnist, pmnist, rowmnist, charlm, tensors

    var isMNIST: Bool { self == .smnist || self == .pmnist || self == .rowmnist }
}

/// A task built from a spec, with what the command line needs to know about it.
struct BuiltTask {
    var task: any TrainingTask
    /// Optimizer steps in one pass over the training data (data set tasks only), for `--epochs`.
    var stepsPerEpoch: ((Int) throws -> Int)?
    /// The character vocabulary (charlm only), stored in checkpoints for `sample`.
    var vocabulary: CharacterVocabulary?
}

/// `--task` and the options that shape its data.
struct TaskOptions: ParsableArguments {
    @Option(help: "The problem: \(TaskName.allCases.map(\.rawValue).joined(separator: ", ")). (default: adding; eval: the checkpoint's)")
    var task: TaskName?

    @Option(help: "Sequence length T for adding and copy (default: 50).")
    var length: Int?

    @Option(help: ArgumentHelp("Data: an IDX directory (smnist, pmnist, rowmnist; default \(MNIST.fashionMNISTDirectory) when present), a UTF-8 text file (charlm), or tensors (a .safetensors file with 'inputs' and 'targets', or a directory with inputs.npy and targets.npy).", valueName: "path"))
    var data: String?

    @Option(name: .customLong("val-fraction"), help: "Fraction of the training data held out for validation (MNIST tasks: default 0.05; tensors: default 0).")
    var valFraction: Double?

    @Option(name: .customLong("perm-seed"), help: "Seed of pmnist's fixed pixel permutation (default: \(MNISTVariant.defaultPermutationSeed)).")
    var permSeed: UInt64?

    @Option(help: "charlm: truncated-BPTT window in characters (default: 50).")
    var bptt: Int?

    @Option(help: ArgumentHelp("Use only the first N examples of each split (characters for charlm, test sequences for adding and copy): quick runs.", valueName: "n"))
    var limit: Int?

    func validate() throws {
        if let l = length, l < 1 { throw ValidationError("--length must be at least 1, got \(l)") }
        if let f = valFraction, !(f >= 0 && f < 1) { throw ValidationError("--val-fraction must be in [0, 1), got \(f)") }
        if let b = bptt, b < 1 { throw ValidationError("--bptt must be at least 1, got \(b)") }
        if let n = limit, n < 1 { throw ValidationError("--limit must be at least 1, got \(n)") }
    }

    /// Explicit options, over `stored` (a checkpoint's spec, used when it is for the same
    /// task), over the defaults. Rejects options that do not apply to the task.
    func spec(over stored: TaskSpec?) throws -> TaskSpec {
        let name = task ?? stored.flatMap { TaskName(rawValue: $0.name) } ?? .adding
        let base = stored?.name == name.rawValue ? stored : nil
        var s = TaskSpec(name: name.rawValue)
        func reject(_ option: String, _ given: Bool, _ appliesTo: String) throws {
            if given { throw ValidationError("\(option) applies to \(appliesTo), not --task \(name.rawValue)") }
        }
        switch name {
        case .adding, .copy:
            s.length = length ?? base?.length ?? 50
            try reject("--data", data != nil, "smnist, pmnist, rowmnist, charlm and tensors")
            try reject("--val-fraction", valFraction != nil, "the MNIST tasks and tensors")
        case .smnist, .pmnist, .rowmnist:
            try reject("--length", length != nil, "adding and copy (\(name.rawValue) has \(name == .rowmnist ? 28 : 784) steps)")
            s.data = try data.map(Self.absolute) ?? base?.data ?? Self.defaultMNISTDirectory()
            s.validationFraction = valFraction ?? base?.validationFraction ?? 0.05
            if name == .pmnist { s.permutationSeed = permSeed ?? base?.permutationSeed ?? MNISTVariant.defaultPermutationSeed }
        case .charlm:
            try reject("--length", length != nil, "adding and copy (charlm uses --bptt)")
            try reject("--val-fraction", valFraction != nil, "the MNIST tasks and tensors (charlm splits its text 90/5/5)")
            guard let d = try data.map(Self.absolute) ?? base?.data else {
                throw ValidationError("--task charlm needs --data FILE, a UTF-8 text file")
            }
            s.data = d
            s.bptt = bptt ?? base?.bptt ?? 50
        case .tensors:
            try reject("--length", length != nil, "adding and copy (tensors take T from the data)")
            guard let d = try data.map(Self.absolute) ?? base?.data else {
                throw ValidationError("--task tensors needs --data PATH: a .safetensors file with 'inputs' and 'targets', or a directory with inputs.npy and targets.npy")
            }
            s.data = d
            s.validationFraction = valFraction ?? base?.validationFraction ?? 0
        }
        if name != .pmnist { try reject("--perm-seed", permSeed != nil, "pmnist") }
        if name != .charlm { try reject("--bptt", bptt != nil, "charlm") }
        s.limit = limit ?? base?.limit
        return s
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

// MARK: - Building the task

extension TaskSpec {
    /// Loads the data and builds the task (`TaskSpec.makeTask`), with what the command
    /// line needs besides: steps per epoch for `--epochs`, the charlm vocabulary.
    func build() throws -> BuiltTask {
        let task = try makeTask()
        return BuiltTask(task: task, stepsPerEpoch: { try task.batchesPerEpoch(batchSize: $0) ?? 1 },
                         vocabulary: (task as? CharacterLMTask)?.text.vocabulary)
    }
}
