import Foundation

// MARK: - A comparison's grid, run by run

/// One run of a comparison's grid: which model, seed and length, the whole request that
/// trains it (`TrainingRequest`: every option that changes its result), and its folder
/// `runs/KEY/`. One line of the manifest (`manifest.jsonl`), which `Comparison.writeManifest`
/// writes into the report folder and the shards of a sweep split by `index`.
public struct PlannedRun: Codable, Sendable, Equatable {
    /// Position in the grid (0-based): shard `i/n` runs the indexes `k` with `k % n == i`.
    public var index: Int
    /// The folder name under `runs/`, unique in the grid: the model's slug, `-T<length>`
    /// when the grid has several lengths, `-seed<k>`; e.g. `irnn_lr_1e-3-T100-seed2`.
    public var key: String
    /// The report's row: the model as written, with ` T=<length>` when the grid has several.
    public var label: String
    /// The model as written, e.g. `irnn:lr=1e-3`.
    public var model: String
    public var seed: UInt64
    /// T of adding and copy; nil for other tasks.
    public var length: Int?
    /// The run's folder relative to the report folder.
    public var folder: String
    /// Everything the run is trained from (`request.run(in:)` trains it alone). The model's
    /// `hidden=` / `layers=` are resolved into `hidden` / `layers`.
    public var request: TrainingRequest

    /// The request without the settings that do not change the run's weights, curve or result
    /// (how often it logs and saves): what `run.json` in the run's folder holds, and what must
    /// match for a finished or half-done run to be reused.
    public var identity: TrainingRequest {
        var r = request
        r.spec.run.logEvery = 0
        r.spec.run.checkpointEvery = 0
        return r
    }
}

extension ComparisonSettings {
    /// The lengths the grid runs at: `lengths`, or the task's one (nil for tasks without one).
    public var gridLengths: [Int?] {
        if let lengths, !lengths.isEmpty { return lengths.map { $0 } }
        return [task.resolved().length]
    }

    /// Whether labels and folders name the length (the grid has several).
    var namesLength: Bool { gridLengths.count > 1 }

    /// The report's rows in order: one per model and length.
    public var labels: [String] {
        models.flatMap { model in gridLengths.map { label(model, length: $0) } }
    }

    func label(_ model: ModelSpec, length: Int?) -> String {
        namesLength ? "\(model) T=\(length.map(String.init) ?? "?")" : model.description
    }

    /// The task of one length of the grid.
    public func task(length: Int?) -> TaskSpec {
        var t = task
        if let length { t.length = length }
        return t.resolved()
    }

    /// Every run of the grid, models outermost, then lengths, then seeds (the order of the
    /// report and of the manifest). Throws for several lengths on a task without one, a
    /// repeated length or model, or a model whose optimizer cannot be built.
    public func plan() throws(ConfigurationError) -> [PlannedRun] {
        if let lengths, lengths.count > 1 {
            guard task.name.isSynthetic else {
                throw ConfigurationError("several lengths apply to adding and copy, not to \(task.name)")
            }
            guard Set(lengths).count == lengths.count, lengths.allSatisfy({ $0 >= 1 }) else {
                throw ConfigurationError("the lengths \(lengths.map(String.init).joined(separator: ", ")) must be distinct and at least 1")
            }
        }
        guard Set(models).count == models.count else {
            throw ConfigurationError("a model is listed twice (\(models.map(\.description).joined(separator: ", "))); each run of a grid must differ")
        }
        var runs: [PlannedRun] = []
        for model in models {
            for length in gridLengths {
                var settings = self
                settings.task = task(length: length)
                for offset in 0..<seeds {
                    let seed = firstSeed + UInt64(offset)
                    let hidden: Int, layers: Int
                    do throws(ConfigurationError) {
                        hidden = try model.size("hidden") ?? self.hidden
                        layers = try model.size("layers") ?? self.layers
                    } catch {
                        throw ConfigurationError("model '\(model)': \(error.message)")
                    }
                    let request = TrainingRequest(spec: try settings.spec(for: model, seed: seed), model: model, hidden: hidden, layers: layers)
                    let key = model.slug + (namesLength ? "-T\(length.map(String.init) ?? "")" : "") + "-seed\(seed)"
                    runs.append(PlannedRun(index: runs.count, key: key, label: label(model, length: length), model: model.description,
                                           seed: seed, length: settings.task.length, folder: "runs/" + key, request: request))
                }
            }
        }
        return runs
    }
}

// MARK: - The manifest

extension Comparison {
    /// The manifest's file name in the report folder.
    public static let manifestName = "manifest.jsonl"

    public var manifestURL: URL { directory.appendingPathComponent(Self.manifestName) }

    /// The manifest's text: one JSON object per run (`PlannedRun`), keys sorted.
    public static func manifestText(_ plan: [PlannedRun]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try plan.map { String(decoding: try encoder.encode($0), as: UTF8.self) + "\n" }.joined()
    }

    /// Writes `manifest.jsonl` (atomically: shards starting together each write the same text).
    public func writeManifest(_ plan: [PlannedRun]) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileIO.write(Array(Self.manifestText(plan).utf8), to: manifestURL.path)
    }

    /// The manifest in the report folder, or nil when there is none.
    public func readManifest() throws -> [PlannedRun]? {
        guard FileIO.isFile(manifestURL.path) else { return nil }
        let bytes = try FileIO.read(manifestURL.path, limit: 1 << 28, what: "manifests", fix: "split the grid into several report folders")
        var runs: [PlannedRun] = []
        for (n, line) in String(decoding: bytes, as: UTF8.self).split(separator: "\n").enumerated() {
            do { runs.append(try JSONDecoder().decode(PlannedRun.self, from: Data(line.utf8))) } catch {
                throw ConfigurationError("\(manifestURL.path), line \(n + 1): not a run of a comparison's manifest (\(error))")
            }
        }
        return runs
    }

    /// Throws when the report folder's manifest lists another grid than `plan` (other runs,
    /// another order, other options): shards of one sweep must agree on what run `k` is.
    public func checkManifest(_ plan: [PlannedRun]) throws {
        guard let stored = try readManifest() else { return }
        let same = stored.count == plan.count && zip(stored, plan).allSatisfy { $0.key == $1.key && $0.identity == $1.identity }
        guard !same else { return }
        let first = zip(stored, plan).first { $0.key != $1.key || $0.identity != $1.identity }
        let detail = first.map { "run \($0.0.index) is \($0.0.key) there, \($0.1.key) here" + ($0.0.key == $0.1.key ? " with other options" : "") }
            ?? "it lists \(stored.count) runs, this grid \(plan.count)"
        throw ConfigurationError("\(manifestURL.path) was planned for another grid (\(detail)); the shards of a sweep must run the command that planned it, or plan again into another report folder")
    }
}
