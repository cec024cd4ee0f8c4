import Foundation

/// A task by name and settings, as the command line and a comparison describe it;
/// `makeTask()` builds the `TrainingTask`.
public struct TaskSpec: Sendable, Codable, Hashable {
    /// `adding`, `copy`, `smnist`, `pmnist`, `rowmnist`, `charlm` or `tensors`.
    public var name: String
    /// T for `adding`, the delay for `copy`.
    public var length: Int
    /// A folder of IDX files (MNIST tasks), a text file (`charlm`), or for `tensors` a
    /// `.safetensors` file or a folder holding `inputs.npy` and `targets.npy`.
    public var data: String?
    public var validationFraction: Double?
    public var permutationSeed: UInt64
    public var bptt: Int
    /// Use only the first N examples of each split (quick runs).
    public var limit: Int?

    public init(name: String, length: Int = 150, data: String? = nil, validationFraction: Double? = nil,
                permutationSeed: UInt64 = MNISTVariant.defaultPermutationSeed, bptt: Int = 100, limit: Int? = nil) {
        self.name = name
        self.length = length
        self.data = data
        self.validationFraction = validationFraction
        self.permutationSeed = permutationSeed
        self.bptt = bptt
        self.limit = limit
    }

    public static let names = ["adding", "copy", "smnist", "pmnist", "rowmnist", "charlm", "tensors"]

    /// The folder MNIST tasks read when `data` is not given: Fashion-MNIST from Debian's
    /// `dataset-fashion-mnist` package.
    public static var defaultMNISTDirectory: String { MNIST.fashionMNISTDirectory }

    public func makeTask() throws -> any TrainingTask {
        switch name {
        case "adding":
            return try AddingTask(length: length)
        case "copy":
            return try CopyTask(length: length)
        case "smnist", "pmnist", "rowmnist":
            let directory = data ?? Self.defaultMNISTDirectory
            guard FileManager.default.fileExists(atPath: directory) else {
                throw ConfigurationError("no MNIST data at '\(directory)': pass --data DIR with train-images-idx3-ubyte[.gz] and the other three IDX files, "
                    + "or install Fashion-MNIST with 'apt-get install dataset-fashion-mnist'")
            }
            let variant: MNISTVariant = name == "smnist" ? .sequential : name == "pmnist" ? .permuted(seed: permutationSeed) : .rows
            return try DatasetTask.mnist(variant, directory: directory, validationFraction: validationFraction ?? 0.05, limit: limit)
        case "charlm":
            guard let path = data else { throw ConfigurationError("--task charlm needs --data FILE, a UTF-8 text file") }
            return try CharacterLMTask(text: CharacterText(path: path), bptt: bptt)
        case "tensors":
            guard let path = data else {
                throw ConfigurationError("--task tensors needs --data: a .safetensors file with tensors 'inputs' and 'targets', or a folder with inputs.npy and targets.npy")
            }
            return try DatasetTask.tensors(try Self.loadTensors(path), validationFraction: validationFraction ?? 0)
        default:
            throw ConfigurationError("unknown task '\(name)'. Accepted: \(Self.names.joined(separator: ", ")).")
        }
    }

    /// A user's data set from a safetensors file (`inputs`, `targets`) or a folder of
    /// `inputs.npy` and `targets.npy`.
    public static func loadTensors(_ path: String) throws -> SequenceDataset<Float> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(.fileNotFound, "no such file or folder", path: path, fix: "check the --data path")
        }
        if isDirectory.boolValue {
            return try SequenceDataset.load(inputs: path + "/inputs.npy", targets: path + "/targets.npy")
        }
        let file = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: path))
        func array(_ key: String) throws -> NumPyArray {
            guard let t = file.tensors[key] else {
                throw DataError(.malformed, "no tensor '\(key)' (found: \(file.tensors.keys.sorted().joined(separator: ", ")))", path: path,
                                fix: "save the data as {'inputs': [N, T, I], 'targets': [N] | [N, O] | [N, T] | [N, T, O]}")
            }
            if t.dtype.isInteger { return try NumPyArray(shape: t.shape, elements: .int64(try t.int64s())) }
            return try NumPyArray(shape: t.shape, elements: .float32(try t.floats()))
        }
        return try SequenceDataset(inputs: try array("inputs"), targets: try array("targets"), inputsPath: path, targetsPath: path)
    }
}
