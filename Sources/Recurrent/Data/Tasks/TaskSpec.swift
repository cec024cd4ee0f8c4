import Foundation

/// A task by name and settings, as the command line, checkpoints and comparisons
/// describe it; `makeTask()` loads the data and builds the `TrainingTask`.
///
/// Stored as JSON in checkpoints (inside `recurrent.train`), so that `eval` and
/// `--resume` rebuild the same task.
public struct TaskSpec: Sendable, Codable, Hashable {
    /// `adding`, `copy`, `smnist`, `pmnist`, `rowmnist`, `charlm` or `tensors`.
    public var name: String
    /// T for `adding`, the delay for `copy` (default 50).
    public var length: Int?
    /// A folder of IDX files (MNIST tasks), a text file (`charlm`), or for `tensors` a
    /// `.safetensors` file or a folder holding `inputs.npy` and `targets.npy`.
    public var data: String?
    /// Held-out fraction of the training data (MNIST default 0.05, tensors 0).
    public var validationFraction: Double?
    /// pmnist's pixel permutation seed (default `MNISTVariant.defaultPermutationSeed`).
    public var permutationSeed: UInt64?
    /// charlm's truncated-BPTT window (default 50).
    public var bptt: Int?
    /// Quick runs: the first N examples of each split (characters for charlm, test
    /// sequences for adding and copy).
    public var limit: Int?

    public init(name: String, length: Int? = nil, data: String? = nil, validationFraction: Double? = nil,
                permutationSeed: UInt64? = nil, bptt: Int? = nil, limit: Int? = nil) {
        self.name = name
        self.length = length
        self.data = data
        self.validationFraction = validationFraction
        self.permutationSeed = permutationSeed
        self.bptt = bptt
        self.limit = limit
    }

    public static let names = ["adding", "copy", "smnist", "pmnist", "rowmnist", "charlm", "tensors"]

    /// The length a report names: T for adding and copy, the steps of the MNIST variants.
    public var displayLength: Int {
        switch name {
        case "smnist", "pmnist": return MNIST.pixelCount
        case "rowmnist": return MNIST.side
        case "charlm": return bptt ?? 50
        default: return length ?? 50
        }
    }

    /// Loads the data and builds the task. Errors name the file and how to fix it.
    public func makeTask() throws -> any TrainingTask {
        switch name {
        case "adding":
            return try AddingTask(length: length ?? 50, testSize: limit ?? 1000)
        case "copy":
            return try CopyTask(length: length ?? 50, testSize: limit ?? 1000)
        case "smnist", "pmnist", "rowmnist":
            let directory = data ?? MNIST.fashionMNISTDirectory
            guard FileManager.default.fileExists(atPath: directory) else {
                throw DataError(.fileNotFound, "no MNIST data here", path: directory,
                                fix: "pass --data DIR with train-images-idx3-ubyte[.gz] and the other three IDX files, or install Fashion-MNIST with 'apt-get install dataset-fashion-mnist'")
            }
            let variant: MNISTVariant = name == "smnist" ? .sequential
                : name == "rowmnist" ? .rows : .permuted(seed: permutationSeed ?? MNISTVariant.defaultPermutationSeed)
            return try DatasetTask.mnist(variant, directory: directory, validationFraction: validationFraction ?? 0.05, limit: limit)
        case "charlm":
            guard let path = data else { throw ConfigurationError("--task charlm needs --data FILE, a UTF-8 text file") }
            var text = try CharacterText(path: path)
            if let n = limit {
                let ids = (text.train + text.validation + text.test).prefix(n).map(Int.init)
                text = try CharacterText(text: try text.vocabulary.decode(ids), source: text.source)
            }
            return try CharacterLMTask(text: text, bptt: bptt ?? 50)
        case "tensors":
            guard let path = data else {
                throw ConfigurationError("--task tensors needs --data: a .safetensors file with tensors 'inputs' and 'targets', or a folder with inputs.npy and targets.npy")
            }
            var dataset = try Self.loadTensors(path)
            if let n = limit, n < dataset.count {
                let (x, y) = dataset.batch(indices: Array(0..<n))
                dataset = SequenceDataset(batch: x, targets: y)
            }
            return try DatasetTask.tensors(dataset, validationFraction: validationFraction ?? 0, source: path)
        default:
            throw ConfigurationError("unknown task '\(name)'. Accepted: \(Self.names.joined(separator: ", ")).")
        }
    }

    /// A user's data set from a safetensors file (`inputs`, `targets`) or a folder of
    /// `inputs.npy` and `targets.npy`.
    public static func loadTensors(_ path: String) throws -> SequenceDataset<Float> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(.fileNotFound, "no such file or directory", path: path,
                            fix: "pass a .safetensors file with tensors 'inputs' and 'targets', or a directory holding inputs.npy and targets.npy")
        }
        if isDirectory.boolValue {
            return try SequenceDataset.load(inputs: path + "/inputs.npy", targets: path + "/targets.npy")
        }
        guard path.hasSuffix(".safetensors") else {
            throw DataError(.unsupported, "tensors come as a .safetensors file or a directory of .npy files", path: path,
                            fix: "save {'inputs': x, 'targets': y} with safetensors, or put inputs.npy and targets.npy in one directory")
        }
        let file = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: path))
        return try SequenceDataset(inputs: try file.array("inputs", path: path), targets: try file.array("targets", path: path),
                                   inputsPath: "\(path) (tensor 'inputs')", targetsPath: "\(path) (tensor 'targets')")
    }
}
