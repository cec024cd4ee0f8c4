import Foundation
import Testing
@testable import Recurrent

/// The reported findings through the binary: each is refused with status 1 and a message naming
/// the file and the limit, quickly and without a crash.
@Suite("CLI: parser limits")
struct CLIParserLimitsTests {

    @Test(".npy input with a 100 KB header of '('")
    func nestedNumPy() throws {
        let dir = try CLI.directory()
        let r0 = try CLI.run(CLI.tinyAdding + ["--steps", "2", "--name", "m"], in: dir)
        #expect(r0.status == 0, "\(r0.output)")
        try FileManager.default.copyItem(atPath: fixturePath("regressions/NumPy/finding-nested-parentheses-100KB.npy"),
                                         toPath: dir.appendingPathComponent("deep.npy").path)
        let r = try CLI.run(["predict", "--checkpoint", "checkpoints/m.safetensors", "--input", "deep.npy", "--output", "y.safetensors"], in: dir)
        #expect(r.status == 1, "\(r.output)")
        #expect(r.stderr.contains("deep.npy") && r.stderr.contains("deeper than 32 levels"), "\(r.stderr)")
    }

    @Test("a gzip bomb as MNIST images")
    func gzipBomb() throws {
        let dir = try CLI.directory()
        let data = dir.appendingPathComponent("idx")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixturePath("regressions/Gzip/finding-bomb-8MiB-declares-10-bytes.gz"),
                                         toPath: data.appendingPathComponent("train-images-idx3-ubyte.gz").path)
        func header(_ words: [UInt32]) -> Data { Data(words.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (24 - 8 * $0)) } }) }
        try (header([2049, 1]) + Data(count: 1)).write(to: data.appendingPathComponent("train-labels-idx1-ubyte"))
        try (header([2051, 1, 28, 28]) + Data(count: 784)).write(to: data.appendingPathComponent("t10k-images-idx3-ubyte"))
        try (header([2049, 1]) + Data(count: 1)).write(to: data.appendingPathComponent("t10k-labels-idx1-ubyte"))
        let r = try CLI.run(["train", "--task", "rowmnist", "--data", "idx", "--steps", "1"], in: dir)
        #expect(r.status == 1, "\(r.output)")
        #expect(r.stderr.contains("train-images-idx3-ubyte.gz") && r.stderr.contains("decompresses to more than"), "\(r.stderr)")
    }

    @Test("/dev/zero as a checkpoint", .enabled(if: FileManager.default.fileExists(atPath: "/dev/zero")))
    func devZeroCheckpoint() throws {
        let r = try CLI.run(["eval", "--checkpoint", "/dev/zero"], in: try CLI.directory())
        #expect(r.status == 1, "\(r.output)")
        #expect(r.stderr.contains("/dev/zero") && r.stderr.contains("not valid JSON"), "\(r.stderr)")
    }

    @Test("a text with more distinct characters than a vocabulary may hold")
    func hugeVocabulary() throws {
        let dir = try CLI.directory()
        try FileManager.default.copyItem(atPath: fixturePath("regressions/Text/finding-20000-distinct-characters.txt"),
                                         toPath: dir.appendingPathComponent("cjk.txt").path)
        let r = try CLI.run(["train", "--task", "charlm", "--data", "cjk.txt", "--steps", "1"], in: dir)
        #expect(r.status == 1, "\(r.output)")
        #expect(r.stderr.contains("cjk.txt") && r.stderr.contains("20000 distinct characters") && r.stderr.contains("16384"), "\(r.stderr)")
    }

    @Test("a model spec whose hidden size does not fit an Int")
    func hugeHiddenSize() throws {
        let r = try CLI.run(["compare", "--task", "adding", "--models", "irnn:hidden=1e300", "--steps", "1"], in: try CLI.directory())
        #expect(r.status == 64, "\(r.output)")
        #expect(r.stderr.contains("hidden=1e300: '1e300' is not a whole number"), "\(r.stderr)")
    }
}
