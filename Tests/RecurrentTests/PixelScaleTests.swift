import Foundation
import Testing
@testable import Recurrent

/// `--standardize`: pixels (p/255 - mean)/std with the training images' statistics, the same
/// numbers for every split; without it, p/255 exactly as before.
@Suite("Pixel scaling")
struct PixelScaleTests {
    @Test func unitTableIsTheDivision() {
        let table = PixelScale.unit.table
        #expect(table.count == 256)
        #expect((0..<256).allSatisfy { table[$0] == Float($0) / 255 })
    }

    /// The statistics against a direct two-pass computation over p/255 in Double.
    @Test func statisticsOfTheSplit() throws {
        let pixels: [UInt8] = (0..<(3 * 784)).map { (i: Int) -> UInt8 in
            let v: Int = i * 37 + (i / 11) * 5
            return UInt8(v % 256)
        }
        let split = try MNISTSplit(pixels: pixels, labels: [0, 1, 2])
        let x = pixels.map { Double($0) / 255 }
        let mean = x.reduce(0, +) / Double(x.count)
        let std = (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count)).squareRoot()
        guard case .standardized(let m, let s) = PixelScale.standardized(over: split) else {
            Issue.record("not standardized"); return
        }
        #expect(m == Float(mean) && abs(Double(s) - std) <= 1e-7 * std, "\(m) \(s) against \(mean) \(std)")
        // Constant images: the standard deviation is 1, so values are only centred.
        let flat = try MNISTSplit(pixels: [UInt8](repeating: 51, count: 784), labels: [4])
        #expect(PixelScale.standardized(over: flat) == .standardized(mean: 0.2, std: 1))
    }

    /// Every split of the task uses the training split's numbers; permuted order is kept.
    @Test(arguments: [MNISTVariant.sequential, .permuted(seed: 7), .rows])
    func taskUsesTrainingStatistics(variant: MNISTVariant) throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        try MNISTTests.writeFakeMNIST(in: directory)
        let task = try DatasetTask.mnist(variant, directory: directory, validationFraction: 0.4, standardize: true)
        let plain = try DatasetTask.mnist(variant, directory: directory, validationFraction: 0.4)
        let data = try MNIST(directory: directory, validationFraction: 0.4)
        let expected = PixelScale.standardized(over: data.train)
        guard case .standardized(let mean, let std) = expected else { Issue.record("not standardized"); return }
        for (scaled, raw) in [(task.train, plain.train), (task.validation!, plain.validation!), (task.test!, plain.test!)] {
            #expect(scaled.scale == expected)
            let a = scaled.batch(indices: [1, 0]).0.values, b = raw.batch(indices: [1, 0]).0.values
            #expect(a.count == b.count)
            // raw is p/255 in the same order: the scaled value is (raw - mean) / std.
            #expect(zip(a, b).allSatisfy { $0 == ($1 - mean) / std })
        }
        let values = task.train.batch(indices: [0, 1, 2]).0.values.map(Double.init)
        let m = values.reduce(0, +) / Double(values.count)
        #expect(abs(m) < 1e-5, "the training images have mean 0 after scaling: \(m)")
    }

    /// Through the binary: the option reaches the checkpoint, eval rebuilds the same inputs,
    /// and it is refused where it does not apply.
    @Test func trainEvalAndRefusal() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let idx = dir.appendingPathComponent("idx")
        try FileManager.default.createDirectory(at: idx, withIntermediateDirectories: true)
        try MNISTTests.writeFakeMNIST(in: idx.path, labels: (0..<10).map { UInt8($0) }, imageCount: 10)
        let common = ["--task", "rowmnist", "--data", idx.path, "--hidden", "6", "--batch", "4", "--steps", "3", "--val-fraction", "0.2", "--json"]
        var results: [String: [String: Any]] = [:]
        for (name, extra) in [("plain", [String]()), ("standardized", ["--standardize"])] {
            let r = try CLI.run(["train"] + common + extra + ["--name", name], in: dir)
            #expect(r.status == 0, "\(r.output)")
            results[name] = try CLI.json(r)
        }
        func trainLoss(_ name: String) -> Double? { (results[name]?["train"] as? [String: Any])?["loss"] as? Double }
        let plainLoss = trainLoss("plain"), standardizedLoss = trainLoss("standardized")
        #expect(plainLoss != nil && standardizedLoss != nil && plainLoss != standardizedLoss, "the inputs differ")
        let config = try String(contentsOf: dir.appendingPathComponent("checkpoints/standardized.safetensors"), encoding: .isoLatin1)
        #expect(config.contains("\\\"standardize\\\":true"), "the checkpoint's task spec (JSON inside the header's metadata) says so")
        let plainConfig = try String(contentsOf: dir.appendingPathComponent("checkpoints/plain.safetensors"), encoding: .isoLatin1)
        #expect(!plainConfig.contains("standardize"), "no key unless the option is on")

        let eval = try CLI.run(["eval", "--checkpoint", "checkpoints/standardized.safetensors", "--json"], in: dir)
        #expect(eval.status == 0, "\(eval.output)")
        let test = (results["standardized"]?["test"] as? [String: Any])?["loss"] as? Double
        let evalTest = (try CLI.json(eval)["test"] as? [String: Any])?["loss"] as? Double
        #expect(test != nil && test == evalTest, "eval scores the same inputs: train \(test ?? .nan), eval \(evalTest ?? .nan)")

        let refused = try CLI.run(CLI.tinyAdding + ["--standardize"], in: dir)
        #expect(refused.status == 64 && refused.stderr.contains("--standardize applies to smnist, pmnist and rowmnist"), "\(refused.output)")
    }
}
