// MARK: - MNIST and Fashion-MNIST as sequence tasks
//
// Data: MNIST (Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based learning applied to
// document recognition", Proc. IEEE 86(11), 1998) and Fashion-MNIST (H. Xiao, K. Rasul,
// R. Vollgraf, "Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning
// Algorithms", arXiv:1708.07747, 2017): 60 000 training and 10 000 test grey-scale images of
// 28 × 28 pixels in IDX files (see `IDX.swift`), labels 0...9. On Debian,
// `apt-get install dataset-fashion-mnist` installs Fashion-MNIST under
// /usr/share/datasets/fashion-mnist as `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`,
// `t10k-images-idx3-ubyte.gz` and `t10k-labels-idx1-ubyte.gz`.
//
// Tasks (Le, Jaitly & Hinton, "A Simple Way to Initialize Recurrent Networks of Rectified Linear
// Units", arXiv:1504.00941, 2015, §4.2): pixels scaled to [0, 1] (value / 255) as `Float`, read
//
// - `.sequential`: one pixel per step in scanline order (row 0 left to right, then row 1, ...):
//   784 steps × 1 feature; step `t` shows pixel `t`, i.e. row `t / 28`, column `t % 28`.
// - `.permuted(seed:)`: the same 784 steps in a fixed order: step `t` shows pixel `p[t]`, where
//   `p = Draw.permutation(count: 784, SeededGenerator(seed: seed))` (`Draw.swift`).
//   The permutation is the same for every image, split and epoch; the default seed is 92916.
// - `.rows`: one row per step: 28 steps × 28 features (step `t` = row `t`).
//
// The target is the class id of the whole sequence (`Targets.classes`).

/// How an image is turned into a sequence.
public enum MNISTVariant: Sendable, Hashable {
    /// One pixel per step, scanline order: H·W steps × 1 feature.
    case sequential
    /// One pixel per step in a fixed random order drawn from `seed`: H·W steps × 1 feature.
    case permuted(seed: UInt64 = MNISTVariant.defaultPermutationSeed)
    /// One row per step: H steps × W features.
    case rows

    /// Default seed of the pixel permutation of `.permuted()`.
    public static let defaultPermutationSeed: UInt64 = 92916

    /// The pixel order of `.permuted(seed:)` for images of `pixelCount` pixels: step `t` shows
    /// pixel `permutation[t]` (a bijection of `0..<pixelCount`).
    public static func pixelPermutation(seed: UInt64, pixelCount: Int = MNIST.pixelCount) -> [Int] {
        var generator = SeededGenerator(seed: seed)
        return Draw.permutation(count: pixelCount, &generator)
    }
}

/// How a pixel byte p (0...255) becomes an input value.
public enum PixelScale: Sendable, Hashable {
    /// p / 255, in [0, 1] (Le et al.'s setting).
    case unit
    /// (p / 255 - mean) / std: zero mean and unit variance over the data the statistics came
    /// from (torchvision's `Normalize((mean,), (std,))` after `ToTensor()`). Centred inputs
    /// are negative on the background, so a ReLU unit whose input weight is negative still
    /// receives positive input there (with [0, 1] pixels it never does, and stays at zero).
    case standardized(mean: Float, std: Float)

    /// The statistics of `split`'s pixels scaled to [0, 1]: mean and population standard
    /// deviation (summed in Double, exactly, over byte counts; std 1 for constant pixels).
    public static func standardized(over split: MNISTSplit) -> PixelScale {
        var counts = [Int](repeating: 0, count: 256)
        for p in split.pixels { counts[Int(p)] += 1 }
        let n = Double(max(1, split.pixels.count))
        var mean = 0.0
        for (p, c) in counts.enumerated() { mean += Double(c) * Double(p) / 255 }
        mean /= n
        var variance = 0.0
        for (p, c) in counts.enumerated() { let d = Double(p) / 255 - mean; variance += Double(c) * d * d }
        variance /= n
        let std = variance > 0 ? variance.squareRoot() : 1
        return .standardized(mean: Float(mean), std: Float(std))
    }

    /// The value of each byte 0...255 (a table, so that batching is one lookup per pixel).
    /// `.unit` gives exactly Float(p) / 255.
    public var table: [Float] {
        switch self {
        case .unit: return (0..<256).map { Float($0) / 255 }
        case .standardized(let mean, let std): return (0..<256).map { (Float($0) / 255 - mean) / std }
        }
    }
}

// MARK: - Files

/// The four IDX files of an MNIST-style data set.
public struct MNISTFiles: Sendable, Hashable {
    public var trainImages: String
    public var trainLabels: String
    public var testImages: String
    public var testLabels: String

    public init(trainImages: String, trainLabels: String, testImages: String, testLabels: String) {
        self.trainImages = trainImages
        self.trainLabels = trainLabels
        self.testImages = testImages
        self.testLabels = testLabels
    }

    /// Finds the files in `directory`. For each of `train-images`/`idx3`, `train-labels`/`idx1`,
    /// `t10k-images`/`idx3` and `t10k-labels`/`idx1` it accepts, in this order of preference,
    /// `train-images-idx3-ubyte`, `train-images.idx3-ubyte`, `train-images-idx3-ubyte.gz`,
    /// `train-images.idx3-ubyte.gz` (uncompressed first: faster to read).
    public static func locate(in directory: String) throws(DataError) -> MNISTFiles {
        func find(_ stem: String, _ idx: String) throws(DataError) -> String {
            let names = ["\(stem)-\(idx)-ubyte", "\(stem).\(idx)-ubyte"]
            let candidates = (names + names.map { $0 + ".gz" }).map { directory + "/" + $0 }
            if let found = candidates.first(where: FileIO.isFile) { return found }
            throw DataError(
                .fileNotFound,
                "no \(stem) file: tried \(candidates.map(\.lastComponent).joined(separator: ", "))",
                path: directory,
                fix: "put the MNIST/Fashion-MNIST IDX files in this directory (Fashion-MNIST: `apt-get install dataset-fashion-mnist`, then use \(MNIST.fashionMNISTDirectory))")
        }
        return MNISTFiles(
            trainImages: try find("train-images", "idx3"), trainLabels: try find("train-labels", "idx1"),
            testImages: try find("t10k-images", "idx3"), testLabels: try find("t10k-labels", "idx1"))
    }
}

extension String {
    /// The last path component (text after the last `/`).
    fileprivate var lastComponent: String {
        split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? self
    }
}

// MARK: - Data set

/// MNIST or Fashion-MNIST loaded into memory, with a deterministic validation split.
///
/// **Validation split.** `validation` is the *last* `round(n × validationFraction)` images of the
/// training files (rounding half to even) and `train` the images before them, in file order; no
/// randomness is involved, so the split is the same on every machine and run. With the default
/// fraction 0 the validation split is empty. `test` is the t10k files.
public struct MNIST: Sendable {
    /// Image side of MNIST and Fashion-MNIST.
    public static let side = 28
    /// Pixels per image (28 × 28).
    public static let pixelCount = 784
    /// Number of classes.
    public static let classCount = 10
    /// Where Debian's `dataset-fashion-mnist` package installs Fashion-MNIST.
    public static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"

    public let train: MNISTSplit
    public let validation: MNISTSplit
    public let test: MNISTSplit

    /// Loads the files found by ``MNISTFiles/locate(in:)`` in `directory`.
    public init(directory: String, validationFraction: Double = 0) throws(DataError) {
        try self.init(files: MNISTFiles.locate(in: directory), validationFraction: validationFraction)
    }

    /// Loads the four files; `validationFraction` must be in [0, 1).
    public init(files: MNISTFiles, validationFraction: Double = 0) throws(DataError) {
        guard validationFraction >= 0, validationFraction < 1 else {
            throw DataError(
                .invalidArgument, "validation fraction \(validationFraction) is outside [0, 1)",
                path: files.trainImages, fix: "pass a fraction such as 0.1 (0 for no validation split)")
        }
        let full = try MNISTSplit(images: files.trainImages, labels: files.trainLabels)
        let validationCount = Int((Double(full.count) * validationFraction).rounded(.toNearestOrEven))
        train = full.slice(0..<(full.count - validationCount))
        validation = full.slice((full.count - validationCount)..<full.count)
        test = try MNISTSplit(images: files.testImages, labels: files.testLabels)
        guard test.height == train.height, test.width == train.width else {
            throw DataError(
                .mismatch,
                "test images are \(test.height)×\(test.width) but training images are \(train.height)×\(train.width)",
                path: files.testImages, fix: "use the test files of the same data set")
        }
    }
}

// MARK: - Split

/// Images and labels of one split, pixels kept as bytes (0...255) and scaled when batched.
public struct MNISTSplit: Sendable {
    /// Pixels `[count, height, width]`, row-major, 0...255.
    public let pixels: [UInt8]
    /// Class ids in `0..<MNIST.classCount`.
    public let labels: [Int]
    public let height: Int
    public let width: Int

    /// Number of images.
    public var count: Int { labels.count }
    public var pixelsPerImage: Int { height * width }

    /// An in-memory split; `pixels.count` must be `labels.count × height × width`, labels in 0...9.
    public init(pixels: [UInt8], labels: [Int], height: Int = MNIST.side, width: Int = MNIST.side) throws(DataError) {
        guard height > 0, width > 0, pixels.count == labels.count * height * width else {
            throw DataError(
                .mismatch,
                "\(pixels.count) pixels do not make \(labels.count) images of \(height)×\(width)",
                path: "<memory>", fix: "pass labels.count × height × width pixels")
        }
        if let bad = labels.firstIndex(where: { !(0..<MNIST.classCount).contains($0) }) {
            throw DataError(
                .malformed, "label \(labels[bad]) is outside 0...9", path: "<memory>", recordIndex: bad,
                fix: "use class ids 0...9")
        }
        self.pixels = pixels
        self.labels = labels
        self.height = height
        self.width = width
    }

    /// Reads an images file (`UInt8`, shape `[n, h, w]`) and a labels file (`UInt8`, shape `[n]`).
    public init(images imagesPath: String, labels labelsPath: String) throws(DataError) {
        let images = try IDX.read(path: imagesPath)
        guard case .uint8(let pixels) = images.elements, images.shape.count == 3 else {
            throw DataError(
                .malformed,
                "expected unsigned-byte images of shape [n, height, width], found \(images.elementType) of shape \(images.shape)",
                path: imagesPath, byteOffset: 2, fix: "pass an images file (…-images-idx3-ubyte)")
        }
        let labelsArray = try IDX.read(path: labelsPath)
        guard case .uint8(let labelBytes) = labelsArray.elements, labelsArray.shape.count == 1 else {
            throw DataError(
                .malformed,
                "expected unsigned-byte labels of shape [n], found \(labelsArray.elementType) of shape \(labelsArray.shape)",
                path: labelsPath, byteOffset: 2, fix: "pass a labels file (…-labels-idx1-ubyte)")
        }
        guard labelBytes.count == images.shape[0] else {
            throw DataError(
                .mismatch,
                "\(labelBytes.count) labels for \(images.shape[0]) images in \(imagesPath)",
                path: labelsPath, byteOffset: 4,
                fix: "pair each images file with the labels file of the same split (train with train, t10k with t10k)")
        }
        if let bad = labelBytes.firstIndex(where: { $0 >= MNIST.classCount }) {
            throw DataError(
                .malformed, "label \(labelBytes[bad]) is outside 0...9", path: labelsPath,
                byteOffset: 8 + bad, recordIndex: bad, fix: "the labels file is corrupted; download it again")
        }
        self.pixels = pixels
        self.labels = labelBytes.map(Int.init)
        self.height = images.shape[1]
        self.width = images.shape[2]
    }

    private init(unchecked pixels: [UInt8], labels: [Int], height: Int, width: Int) {
        self.pixels = pixels
        self.labels = labels
        self.height = height
        self.width = width
    }

    /// The images in `range`, in order.
    public func slice(_ range: Range<Int>) -> MNISTSplit {
        let n = pixelsPerImage
        return MNISTSplit(
            unchecked: Array(pixels[(range.lowerBound * n)..<(range.upperBound * n)]),
            labels: Array(labels[range]), height: height, width: width)
    }

    /// Image `index` scaled to [0, 1], row-major.
    public func image(_ index: Int) -> [Float] {
        let n = pixelsPerImage
        return pixels[(index * n)..<((index + 1) * n)].map { Float($0) / 255 }
    }

    /// This split read as sequences of the given variant, pixels scaled by `scale`.
    public func sequences(_ variant: MNISTVariant, scale: PixelScale = .unit) -> MNISTSequences {
        MNISTSequences(split: self, variant: variant, scale: scale)
    }

    /// Mini-batches of this split, reshuffled every epoch (see ``ShuffledBatches``); the shuffle
    /// seed is drawn from `rng`.
    public func batches(
        _ variant: MNISTVariant, batchSize: Int, dropLast: Bool = false, using rng: inout some RandomNumberGenerator
    ) throws(DataError) -> ShuffledBatches<MNISTSequences> {
        try ShuffledBatches(source: sequences(variant), batchSize: batchSize, dropLast: dropLast, using: &rng)
    }
}

// MARK: - Sequences

/// An ``MNISTSplit`` read as sequences; the source of ``ShuffledBatches``.
public struct MNISTSequences: IndexedSequenceSource {
    public typealias Scalar = Float

    public let split: MNISTSplit
    public let variant: MNISTVariant
    /// Step `t` of `.sequential`/`.permuted` shows pixel `pixelOrder[t]`; `nil` means identity.
    public let pixelOrder: [Int]?
    public let scale: PixelScale
    /// `scale.table`: the input value of each pixel byte.
    private let pixelValues: [Float]

    public init(split: MNISTSplit, variant: MNISTVariant, scale: PixelScale = .unit) {
        self.split = split
        self.variant = variant
        self.scale = scale
        self.pixelValues = scale.table
        if case .permuted(let seed) = variant {
            pixelOrder = MNISTVariant.pixelPermutation(seed: seed, pixelCount: split.pixelsPerImage)
        } else {
            pixelOrder = nil
        }
    }

    public var count: Int { split.count }

    /// Steps per sequence: H·W, or H for `.rows`.
    public var steps: Int { variant == .rows ? split.height : split.pixelsPerImage }

    /// Features per step: 1, or W for `.rows`.
    public var features: Int { variant == .rows ? split.width : 1 }

    /// Inputs `[indices.count, steps, features]` and `Targets.classes` with the labels.
    /// A pixel p becomes `scale`'s value (Float(p) / 255 for `.unit`); one pass over raw
    /// buffers per image (the training step builds a batch every step), each index checked first.
    /// The images are split among the threads (`Compute.threads`) for a batch of at least
    /// `Compute.copyValuesPerThread` values: a copy, the same values either way.
    public func batch(indices: [Int]) -> (SequenceBatch<Float>, Targets<Float>) {
        let n = split.pixelsPerImage, count = indices.count * n
        let labels = indices.map { split.labels[$0] }           // traps on an index outside the split
        // Every value is written below: no zero fill first.
        let values = [Float](unsafeUninitializedCapacity: count) { out, initialized in
            initialized = count
            split.pixels.withUnsafeBufferPointer { pixels in
              pixelValues.withUnsafeBufferPointer { value in
                Compute.forEachSlice(of: indices.count, parts: count >= Compute.copyValuesPerThread ? Compute.threads : 1) { rows in
                    for row in rows {
                        let source = pixels.baseAddress! + indices[row] * n, destination = out.baseAddress! + row * n
                        if let order = pixelOrder {           // a permutation of 0 ..< n
                            order.withUnsafeBufferPointer { order in
                                for t in 0..<n { destination[t] = value[Int(source[order[t]])] }
                            }
                        } else {
                            for t in 0..<n { destination[t] = value[Int(source[t])] }
                        }
                    }
                }
              }
            }
        }
        let inputs = SequenceBatch(batch: indices.count, steps: steps, features: features, values: values)
        return (inputs, .classes(labels))
    }
}
