import Foundation
import Testing

@testable import Recurrent

// MARK: - MNIST loader on tiny fake IDX files

@Suite("MNIST")
struct MNISTTests {
    /// Pixel `p` of fake image `i`.
    static func pixel(_ i: Int, _ p: Int) -> UInt8 { UInt8((i * 31 + p * 7) % 256) }

    static let trainLabels: [UInt8] = [3, 1, 4, 1, 5]
    static let testLabels: [UInt8] = [9, 2]

    /// Writes fake train (5 images) and t10k (2 images) files with the given name spelling.
    static func writeFakeMNIST(
        in directory: String, separator: String = "-", gzip: Bool = false,
        labels: [UInt8] = trainLabels, imageCount: Int = 5
    ) throws {
        func images(_ n: Int, offset: Int) throws -> NDArray {
            try NDArray(
                shape: [n, 28, 28],
                elements: .uint8((0..<n).flatMap { i in (0..<784).map { pixel(i + offset, $0) } }))
        }
        let files: [(String, NDArray)] = [
            ("train-images\(separator)idx3-ubyte", try images(imageCount, offset: 0)),
            ("train-labels\(separator)idx1-ubyte", try NDArray(shape: [labels.count], elements: .uint8(labels))),
            ("t10k-images\(separator)idx3-ubyte", try images(2, offset: 100)),
            ("t10k-labels\(separator)idx1-ubyte", try NDArray(shape: [2], elements: .uint8(testLabels))),
        ]
        for (name, array) in files {
            let path = directory + "/" + name
            try IDX.write(array, to: path)
            if gzip {
                try gzipFile(path)
                try FileManager.default.removeItem(atPath: path)
            }
        }
    }

    @Test(arguments: [("-", false), (".", false), ("-", true), (".", true)])
    func loadsBothSpellingsRawAndGzip(separator: String, gzip: Bool) throws {
        if gzip && gzipPath == nil { return }
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        try Self.writeFakeMNIST(in: directory, separator: separator, gzip: gzip)
        let files = try MNISTFiles.locate(in: directory)
        #expect(files.trainImages.hasSuffix("train-images\(separator)idx3-ubyte" + (gzip ? ".gz" : "")))
        let mnist = try MNIST(directory: directory, validationFraction: 0.4)
        #expect(mnist.train.count == 3)
        #expect(mnist.validation.count == 2)
        #expect(mnist.test.count == 2)
        #expect(mnist.train.labels == [3, 1, 4])
        #expect(mnist.validation.labels == [1, 5])  // the LAST 40 % of the training files
        #expect(mnist.test.labels == [9, 2])
        #expect(mnist.validation.image(0)[5] == Float(Self.pixel(3, 5)) / 255)
        #expect(mnist.test.image(1)[783] == Float(Self.pixel(101, 783)) / 255)
    }

    @Test func sequentialIsScanlineOrder() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        try Self.writeFakeMNIST(in: directory)
        let mnist = try MNIST(directory: directory)
        let (inputs, targets) = mnist.train.sequences(.sequential).batch(indices: [2, 0])
        #expect(inputs.batch == 2 && inputs.steps == 784 && inputs.features == 1)
        for t in 0..<784 {
            #expect(inputs.values[t] == Float(Self.pixel(2, t)) / 255)
            #expect(inputs.values[784 + t] == Float(Self.pixel(0, t)) / 255)
        }
        guard case .classes(let labels) = targets else { Issue.record("expected .classes"); return }
        #expect(labels == [4, 3])
        #expect(inputs.values.allSatisfy { (0...1).contains($0) })
    }

    @Test func rowsVariant() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        try Self.writeFakeMNIST(in: directory)
        let mnist = try MNIST(directory: directory)
        let (inputs, _) = mnist.train.sequences(.rows).batch(indices: [1])
        #expect(inputs.steps == 28 && inputs.features == 28)
        for row in 0..<28 {
            for column in 0..<28 {
                #expect(inputs.values[row * 28 + column] == Float(Self.pixel(1, row * 28 + column)) / 255)
            }
        }
    }

    @Test(arguments: [UInt64(0), 1, 92916, .max])
    func permutationIsAFixedBijection(seed: UInt64) throws {
        let permutation = MNISTVariant.pixelPermutation(seed: seed)
        #expect(permutation.sorted() == Array(0..<784))
        #expect(permutation == MNISTVariant.pixelPermutation(seed: seed))
        #expect(permutation != Array(0..<784))
        #expect(permutation != MNISTVariant.pixelPermutation(seed: seed &+ 1))

        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        try Self.writeFakeMNIST(in: directory)
        let mnist = try MNIST(directory: directory)
        let (inputs, _) = mnist.train.sequences(.permuted(seed: seed)).batch(indices: [4])
        for t in 0..<784 {
            #expect(inputs.values[t] == Float(Self.pixel(4, permutation[t])) / 255)
        }
    }

    @Test func defaultPermutationSeed() {
        #expect(MNISTVariant.permuted() == .permuted(seed: 92916))
        // Pinned with an independent Python re-implementation of SplitMix64-seeded xoshiro256**,
        // Lemire's bounded integers and Fisher–Yates (see Draw.swift), so that a change of
        // generator or shuffle algorithm — which would change the task — is noticed.
        #expect(Array(MNISTVariant.pixelPermutation(seed: 92916).prefix(8)) == [416, 153, 458, 219, 290, 388, 757, 516])
    }

    @Test func errorsNameTheFiles() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        // 6 labels for 5 images.
        try Self.writeFakeMNIST(in: directory, labels: [1, 2, 3, 4, 5, 6])
        let mismatch = expectDataError { () throws(DataError) in _ = try MNIST(directory: directory) }
        #expect(mismatch?.kind == .mismatch)
        #expect(mismatch?.path == directory + "/train-labels-idx1-ubyte")
        #expect(mismatch?.what.contains("6 labels for 5 images") == true)

        try Self.writeFakeMNIST(in: directory, labels: [1, 2, 12, 4, 5])
        let range = expectDataError { () throws(DataError) in _ = try MNIST(directory: directory) }
        #expect(range?.recordIndex == 2)
        #expect(range?.byteOffset == 10)

        let empty = try makeTemporaryDirectory("empty")
        defer { removeDirectory(empty) }
        let missing = expectDataError { () throws(DataError) in _ = try MNIST(directory: empty) }
        #expect(missing?.kind == .fileNotFound)
        #expect(missing?.path == empty)
        #expect(missing?.description.contains("train-images.idx3-ubyte.gz") == true)

        try Self.writeFakeMNIST(in: empty)
        let fraction = expectDataError { () throws(DataError) in _ = try MNIST(directory: empty, validationFraction: 1) }
        #expect(fraction?.kind == .invalidArgument)
    }

    @Test func shuffledBatchesOverAnEpoch() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        try Self.writeFakeMNIST(in: directory)
        let mnist = try MNIST(directory: directory)
        var rng = SeededGenerator(seed: 5)
        var batches = try mnist.train.batches(.rows, batchSize: 2, using: &rng)
        var seen: [Int] = []
        while let (inputs, targets) = batches.next() {
            #expect(inputs.steps == 28 && inputs.features == 28)
            guard case .classes(let labels) = targets else { continue }
            seen += labels
        }
        #expect(seen.sorted() == [1, 1, 3, 4, 5])
        #expect(batches.position.epoch == 1 && batches.position.batchIndex == 0)
    }

    static let fashionAvailable = FileManager.default.fileExists(atPath: MNIST.fashionMNISTDirectory)

    @Test(.enabled(if: fashionAvailable, "needs `apt-get install dataset-fashion-mnist`"))
    func fashionMNISTFromDebianPackage() throws {
        let mnist = try MNIST(directory: MNIST.fashionMNISTDirectory, validationFraction: 0.1)
        #expect(mnist.train.count + mnist.validation.count == 60000)
        #expect(mnist.validation.count == 6000)
        #expect(mnist.test.count == 10000)
        #expect(mnist.train.height == 28 && mnist.train.width == 28)
        for split in [mnist.train, mnist.validation, mnist.test] {
            #expect(split.labels.allSatisfy { (0..<10).contains($0) })
        }
        // Fashion-MNIST is balanced: 6000 training and 1000 test images per class.
        var trainCounts = [Int](repeating: 0, count: 10), testCounts = trainCounts
        for label in mnist.train.labels + mnist.validation.labels { trainCounts[label] += 1 }
        for label in mnist.test.labels { testCounts[label] += 1 }
        #expect(trainCounts == [Int](repeating: 6000, count: 10))
        #expect(testCounts == [Int](repeating: 1000, count: 10))
        let (inputs, _) = mnist.test.sequences(.sequential).batch(indices: [0])
        #expect(inputs.values.contains { $0 > 0.5 })
    }
}
