import Foundation

/// A task by name and settings, as the command line, checkpoints and comparisons
/// describe it; `makeTask()` loads the data and builds the `TrainingTask`.
///
/// Stored as JSON in checkpoints (inside `recurrent.train`), so that `eval` and
/// `--resume` rebuild the same task. A setting left nil takes its value from `Defaults`.
public struct TaskSpec: Sendable, Codable, Hashable {
    /// Which task (stored as its name: `adding`, `copy`, `smnist`, ...).
    public var name: TaskKind
    /// T for `adding`, the delay for `copy`.
    public var length: Int?
    /// A folder of IDX files (MNIST tasks), a text file (`charlm`), or for `tensors` a
    /// `.safetensors` file or a folder holding `inputs.npy` and `targets.npy`.
    public var data: String?
    /// Held-out fraction of the training data (MNIST tasks and tensors).
    public var validationFraction: Double?
    /// pmnist's pixel permutation seed.
    public var permutationSeed: UInt64?
    /// The truncated-BPTT window in steps: charlm's (always set), or for any other task the
    /// optional window its sequences are cut into (`TruncatedSequenceTask`; nil: whole sequences).
    public var bptt: Int?
    /// Quick runs: the first N examples of each split (characters for charlm, test
    /// sequences for adding and copy).
    public var limit: Int?
    /// tensors: the value that pads sequences of uneven length (their lengths then follow
    /// from it; see `SequenceLengths`), when no `lengths` are stored with the data.
    public var padValue: Double?
    /// `tensors`: a test set of its own, in the forms of `data`.
    public var testData: String?
    /// MNIST tasks: pixels standardized with the training split's mean and standard deviation
    /// instead of p / 255 (`PixelScale`); nil means no.
    public var standardize: Bool?
    /// `tensors` with class targets: the class count (the model's when fine-tuning or
    /// evaluating one; nil: the largest label + 1).
    public var classes: Int?

    public init(name: TaskKind, length: Int? = nil, data: String? = nil, validationFraction: Double? = nil,
                permutationSeed: UInt64? = nil, bptt: Int? = nil, limit: Int? = nil, testData: String? = nil, classes: Int? = nil,
                padValue: Double? = nil) {
        self.padValue = padValue
        self.testData = testData
        self.classes = classes
        self.name = name
        self.length = length
        self.data = data
        self.validationFraction = validationFraction
        self.permutationSeed = permutationSeed
        self.bptt = bptt
        self.limit = limit
    }

    // MARK: - Defaults

    /// The task part of the one table of defaults (`TrainingDefaults` holds the rest): what a
    /// setting is when neither the command line nor a checkpoint gives it. `train`, `compare`,
    /// `eval` and the library all read these.
    public enum Defaults {
        /// The task when none is named.
        public static let task = TaskKind.adding
        /// T of adding and copy: long enough that a tanh RNN fails and an IRNN learns in minutes.
        public static let length = 50
        /// charlm's truncated-BPTT window, in characters.
        public static let bptt = 50
        /// The share of the MNIST training files held out for validation (3000 of 60000 images).
        public static let mnistValidationFraction = 0.05
        /// A user's tensors are all for training unless a fraction is asked for.
        public static let tensorsValidationFraction = 0.0
        /// Test sequences of adding and copy (a fixed, seeded set).
        public static let syntheticTestSize = 1000
        /// pmnist's permutation.
        public static let permutationSeed = MNISTVariant.defaultPermutationSeed

        /// The validation fraction of `task` when none is given (nil: the task has no such setting).
        public static func validationFraction(_ task: TaskKind) -> Double? {
            task.isMNIST ? mnistValidationFraction : task == .tensors ? tensorsValidationFraction : nil
        }
    }

    /// The spec with every setting that applies to its task filled in from `Defaults`, and
    /// those that do not apply left out: what a checkpoint stores, so that it documents the
    /// run completely. The MNIST folder stays nil when not given (`makeTask` looks for
    /// Fashion-MNIST then).
    public func resolved() -> TaskSpec {
        var s = TaskSpec(name: name, data: name.readsData ? data : nil, limit: limit)
        if name == .tensors {
            s.testData = testData
            s.classes = classes
        }
        if name.isSynthetic { s.length = length ?? Defaults.length }
        s.validationFraction = Defaults.validationFraction(name).map { validationFraction ?? $0 }
        if name == .pmnist { s.permutationSeed = permutationSeed ?? Defaults.permutationSeed }
        s.bptt = name == .charlm ? bptt ?? Defaults.bptt : bptt
        if name == .tensors { s.padValue = padValue }
        if name.isMNIST && standardize == true { s.standardize = true }
        return s
    }

    /// The length a report names: T for adding and copy, the steps of the MNIST variants.
    public var displayLength: Int {
        switch name {
        case .smnist, .pmnist: return MNIST.pixelCount
        case .rowmnist: return MNIST.side
        case .charlm: return bptt ?? Defaults.bptt
        case .adding, .copy, .tensors: return length ?? Defaults.length
        }
    }

    /// Loads the data and builds the task. Errors name the file and how to fix it.
    public func makeTask() throws -> any TrainingTask {
        let task = try makeWholeSequenceTask()
        guard name != .charlm, let k = bptt else { return task }
        return try TruncatedSequenceTask(task, bptt: k)
    }

    /// The task without a truncation window (charlm's own windows aside).
    func makeWholeSequenceTask() throws -> any TrainingTask {
        switch name {
        case .adding:
            return try AddingTask(length: length ?? Defaults.length, testSize: limit ?? Defaults.syntheticTestSize)
        case .copy:
            return try CopyTask(length: length ?? Defaults.length, testSize: limit ?? Defaults.syntheticTestSize)
        case .smnist, .pmnist, .rowmnist:
            let directory = data ?? MNIST.fashionMNISTDirectory
            guard FileManager.default.fileExists(atPath: directory) else {
                throw DataError(.fileNotFound, "no MNIST data here", path: directory,
                                fix: "give a folder with train-images-idx3-ubyte[.gz] and the other three IDX files, or install Fashion-MNIST with 'apt-get install dataset-fashion-mnist'")
            }
            let variant: MNISTVariant = name == .smnist ? .sequential
                : name == .rowmnist ? .rows : .permuted(seed: permutationSeed ?? Defaults.permutationSeed)
            return try DatasetTask.mnist(variant, directory: directory,
                                         validationFraction: validationFraction ?? Defaults.mnistValidationFraction, limit: limit,
                                         standardize: standardize ?? false)
        case .charlm:
            guard let path = data else { throw ConfigurationError("the charlm task needs a data path: a UTF-8 text file") }
            var text = try CharacterText(path: path)
            if let n = limit {
                let ids = (text.train + text.validation + text.test).prefix(n).map(Int.init)
                text = try CharacterText(text: try text.vocabulary.decode(ids), source: text.source)
            }
            return try CharacterLMTask(text: text, bptt: bptt ?? Defaults.bptt)
        case .tensors:
            guard let path = data else {
                throw ConfigurationError("the tensors task needs a data path: a .safetensors file with tensors 'inputs' and 'targets', or a folder with inputs.npy and targets.npy")
            }
            var dataset = try Self.loadTensors(path, padValue: padValue)
            if let n = limit, n < dataset.count {
                let (x, y) = dataset.batch(indices: Array(0..<n))
                dataset = SequenceDataset(batch: x, targets: y)
            }
            var test = try testData.map { $0 == path ? dataset : try Self.loadTensors($0, padValue: padValue) }
            if let n = limit, let t = test, n < t.count { test = t.subset(0..<n) }
            return try DatasetTask.tensors(dataset, validationFraction: validationFraction ?? Defaults.tensorsValidationFraction, test: test,
                                           classes: classes, source: path, testSource: testData ?? "")
        }
    }

    /// A user's data set from a safetensors file (`inputs`, `targets`, optionally `lengths`)
    /// or a folder of `inputs.npy` and `targets.npy` (optionally `lengths.npy`); without
    /// lengths, `padValue` implies them.
    public static func loadTensors(_ path: String, padValue: Double? = nil) throws -> SequenceDataset<Float> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(.fileNotFound, "no such file or directory", path: path,
                            fix: "pass a .safetensors file with tensors 'inputs' and 'targets', or a directory holding inputs.npy and targets.npy")
        }
        if isDirectory.boolValue {
            let lengths = path + "/lengths.npy"
            return try SequenceDataset.load(inputs: path + "/inputs.npy", targets: path + "/targets.npy",
                                            lengths: FileManager.default.fileExists(atPath: lengths) ? lengths : nil, padValue: padValue)
        }
        guard path.hasSuffix(".safetensors") else {
            throw DataError(.unsupported, "tensors come as a .safetensors file or a directory of .npy files", path: path,
                            fix: "save {'inputs': x, 'targets': y} with safetensors, or put inputs.npy and targets.npy in one directory")
        }
        let file = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: path))
        return try SequenceDataset(inputs: try file.array("inputs", path: path), targets: try file.array("targets", path: path),
                                   inputsPath: "\(path) (tensor 'inputs')", targetsPath: "\(path) (tensor 'targets')",
                                   lengths: file.tensors["lengths"] == nil ? nil : try file.array("lengths", path: path),
                                   lengthsPath: "\(path) (tensor 'lengths')", padValue: padValue)
    }
}

extension SequenceBatch where Scalar == Float {
    /// The `inputs` [N, T, I] of a .safetensors file (tensor `inputs`) or a .npy file: what
    /// `recurrent predict` runs a model on. Refuses other files, other ranks, empty
    /// dimensions and non-finite values, naming the file (and the sequence).
    ///
    /// Variable lengths come from a `lengths` tensor in the same safetensors file, from
    /// `lengthsPath` (a .npy or .safetensors file with [N] integers; tensor `lengths`), or
    /// from `padValue`; steps past a sequence's length are not read.
    public static func loadInputs(_ path: String, lengths lengthsPath: String? = nil, padValue: Double? = nil) throws -> SequenceBatch<Float> {
        let array: NDArray
        var lengthsArray: NDArray?, lengthsLabel = "\(path) (tensor 'lengths')"
        if path.hasSuffix(".npy") {
            array = try NumPy.read(path: path)
        } else if path.hasSuffix(".safetensors") {
            let file = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: path))
            array = try file.array("inputs", path: path)
            if file.tensors["lengths"] != nil { lengthsArray = try file.array("lengths", path: path) }
        } else {
            throw DataError(.unsupported, "inputs come as a .safetensors file (tensor 'inputs') or a .npy file", path: path,
                            fix: "save the inputs [N, T, I] with safetensors or numpy.save")
        }
        guard array.shape.count == 3, array.shape.allSatisfy({ $0 > 0 }) else {
            throw DataError(.malformed, "inputs must have shape [N, T, I] with no empty dimension, found \(array.shape)", path: path,
                            fix: "reshape to [sequences, steps, features], e.g. x[None] for one sequence or x[:, :, None] for one feature")
        }
        let (n, t, i) = (array.shape[0], array.shape[1], array.shape[2])
        let values: [Float] = array.scalars()
        if let lengthsPath {
            if lengthsArray != nil {
                throw DataError(.invalidArgument, "the inputs file holds its own tensor 'lengths' and other lengths were given", path: path,
                                fix: "give the lengths once")
            }
            lengthsLabel = lengthsPath
            if lengthsPath.hasSuffix(".npy") {
                lengthsArray = try NumPy.read(path: lengthsPath)
            } else if lengthsPath.hasSuffix(".safetensors") {
                lengthsArray = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: lengthsPath)).array("lengths", path: lengthsPath)
            } else {
                throw DataError(.unsupported, "lengths come as a .npy file or a .safetensors file (tensor 'lengths')", path: lengthsPath,
                                fix: "save the lengths [N] as integers with numpy.save or safetensors")
            }
        }
        let lengths = try SequenceLengths.resolve(lengths: lengthsArray, lengthsPath: lengthsLabel, padValue: padValue, values: values,
                                                  count: n, steps: t, features: i, path: path)
        if let bad = values.indices.first(where: { !values[$0].isFinite && ($0 / i) % t < (lengths?[$0 / (t * i)] ?? t) }) {
            throw DataError(.malformed, "inputs contain a non-finite value (step \((bad / i) % t))", path: path,
                            recordIndex: bad / (t * i), fix: lengths == nil ? "replace NaN/infinite values, or give the lengths of the sequences if these steps are padding"
                                : "replace NaN/infinite values within each sequence's length (the padding after it is not read)")
        }
        return SequenceBatch(batch: n, steps: t, features: i, values: values, lengths: lengths)
    }
}

extension TrainingTask {
    /// The character vocabulary of a charlm task (nil for other tasks): stored in checkpoints
    /// (`recurrent.vocabulary`) so that sampling needs no text.
    public var vocabulary: CharacterVocabulary? { (self as? CharacterLMTask)?.text.vocabulary }
}
