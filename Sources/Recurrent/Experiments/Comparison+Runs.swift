import Foundation

// MARK: - A run folder's identity and state

/// Where one run of a grid stands, read from its folder (`Comparison.states`).
public enum RunState: Sendable, Equatable, CustomStringConvertible {
    case finished(RunResult)
    /// A process holds the run's lock (on another host, or alive on this one).
    case running(RunLockOwner)
    /// A checkpoint at `step` and nobody training it: stopped or killed; resumes when run again.
    case stopped(step: Int?)
    case notStarted

    public var description: String {
        switch self {
        case .finished: return "finished"
        case .running(let owner): return "running (\(owner))"
        case .stopped(let step): return "stopped at step \(step.map(String.init) ?? "?"); resumes when run again"
        case .notStarted: return "not started"
        }
    }
}

/// A run of the grid that has no result yet, as the report lists it.
public struct UnfinishedRun: Sendable, Equatable {
    public var key: String
    public var label: String
    public var seed: UInt64
    public var state: RunState
    public init(key: String, label: String, seed: UInt64, state: RunState) {
        self.key = key
        self.label = label
        self.seed = seed
        self.state = state
    }
}

/// A run folder that holds a run of other options than the grid's.
public struct RunMismatchError: Error, CustomStringConvertible, Sendable {
    public var folder: String
    /// "spec.run.steps: 300 there, 500 here", one per differing setting.
    public var differences: [String]
    public var description: String {
        "\(folder) holds a run with other options (\(differences.prefix(4).joined(separator: "; "))\(differences.count > 4 ? "; …" : "")): "
            + "it is not reused. Write this comparison to another report folder, or remove that run folder to train it again"
    }
}

extension Comparison {
    /// The identity file of a run folder.
    public static let identityName = "run.json"

    /// Makes `folder` the run `planned`'s: records its identity in `run.json`, or, when one is
    /// there, checks that it is the same (throws `RunMismatchError` naming the differences). A
    /// folder from before identities were recorded is checked by its checkpoint's metadata.
    func claim(_ planned: PlannedRun, folder: URL, task: any TrainingTask) throws {
        let url = folder.appendingPathComponent(Self.identityName)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let mine = try encoder.encode(planned.identity)
        if FileIO.isFile(url.path) {
            let bytes = try FileIO.read(url.path, limit: 1 << 20, what: "run identities", fix: "remove it")
            let stored = try? JSONDecoder().decode(TrainingRequest.self, from: Data(bytes))
            guard stored != planned.identity else { return }
            if let stored, Self.continues(stored, to: planned.identity), !FileIO.isFile(folder.appendingPathComponent("result.json").path) {
                try FileIO.write(Array(mine), to: url.path)       // an unfinished run goes on to another total, as train --resume does
                return
            }
            throw RunMismatchError(folder: folder.path, differences: Self.differences(Data(bytes), mine))
        }
        let files = RunFiles(folder: folder)
        if FileIO.isFile(files.checkpoint.path) {
            // Written before run.json existed: its checkpoint says how it was trained.
            let file = try SafeTensorsFile(contentsOf: files.checkpoint)
            var stored = TrainSpec.stored(in: file.metadata)
            stored?.run.logEvery = 0
            stored?.run.checkpointEvery = 0
            let configuration = try? Checkpoint.configuration(of: file)
            let wanted = try planned.request.model.configuration(for: task, hidden: planned.request.hidden, layers: planned.request.layers)
            if stored != planned.identity.spec || configuration != wanted {
                let there = (try? encoder.encode(stored)) ?? Data("{}".utf8), here = try encoder.encode(planned.identity.spec)
                var differences = Self.differences(there, here).map { "spec." + $0 }
                if configuration != wanted { differences.append("the model: \(configuration.map { "\($0)" } ?? "unreadable") there") }
                throw RunMismatchError(folder: folder.path, differences: differences)
            }
        } else if FileIO.isFile(folder.appendingPathComponent("result.json").path) {
            throw RunMismatchError(folder: folder.path, differences: ["a result without a checkpoint or a record of its options"])
        }
        try FileIO.write(Array(mine), to: url.path)
    }

    /// Whether `stored` and `wanted` differ only in the total of steps, and the learning-rate
    /// schedule does not depend on it: then an unfinished run of `stored` resumed to `wanted`'s
    /// total ends with the bits of a run of `wanted` (the steps it took are the same steps).
    static func continues(_ stored: TrainingRequest, to wanted: TrainingRequest) -> Bool {
        var same = stored
        same.spec.run.steps = wanted.spec.run.steps
        guard same == wanted else { return false }
        let schedule = wanted.spec.optimizer.schedule
        return (try? LearningRateSchedule(parsing: schedule, totalSteps: stored.spec.run.steps))
            == (try? LearningRateSchedule(parsing: schedule, totalSteps: wanted.spec.run.steps))
    }

    /// The settings that differ between two JSON documents, as "path: a there, b here".
    static func differences(_ there: Data, _ here: Data) -> [String] {
        func flatten(_ value: Any?, _ path: String, into out: inout [String: String]) {
            if let object = value as? [String: Any] {
                for (k, v) in object { flatten(v, path.isEmpty ? k : path + "." + k, into: &out) }
            } else if let value, !(value is NSNull) {
                out[path] = "\(value)"
            }
        }
        var a: [String: String] = [:], b: [String: String] = [:]
        flatten(try? JSONSerialization.jsonObject(with: there), "", into: &a)
        flatten(try? JSONSerialization.jsonObject(with: here), "", into: &b)
        let differing = Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted()
        return differing.isEmpty ? ["unreadable"] : differing.map { "\($0): \(a[$0] ?? "none") there, \(b[$0] ?? "none") here" }
    }

    /// Where each run of the plan stands, in grid order; reads the folders and trains nothing.
    public func states(isAlive: (Int32) -> Bool = RunLock.processIsAlive) throws -> [(run: PlannedRun, state: RunState)] {
        let plan = try settings.plan()
        let here = RunLockOwner.hostName()
        var tasks: [TaskSpec: any TrainingTask] = [:]
        return try plan.map { planned in
            let folder = runDirectory(planned)
            let spec = planned.request.spec.task
            if tasks[spec] == nil { tasks[spec] = try spec.makeTask() }
            let identity = try? FileIO.read(folder.appendingPathComponent(Self.identityName).path, limit: 1 << 20, what: "run identities", fix: "")
            let matches = identity.flatMap { try? JSONDecoder().decode(TrainingRequest.self, from: Data($0)) } == planned.identity
            if let holder = RunLock.holder(in: folder), holder.host != here || isAlive(holder.pid) {
                return (planned, .running(holder))
            }
            if matches, let done = finishedResult(planned, task: tasks[spec]!) { return (planned, .finished(done)) }
            let checkpoint = RunFiles(folder: folder).checkpoint
            if matches, FileIO.isFile(checkpoint.path) {
                let step = (try? SafeTensorsFile(contentsOf: checkpoint))?.metadata["step"].flatMap { Int($0) }
                return (planned, .stopped(step: step))
            }
            return (planned, .notStarted)
        }
    }
}

// MARK: - What one run needs

extension Comparison {
    /// The run of the plan with the largest memory estimate, and the estimate: what each task
    /// of a sweep asks its scheduler for (every task may get that run).
    public func largestMemoryEstimate() throws -> (run: PlannedRun, estimate: MemoryEstimate) {
        var tasks: [TaskSpec: any TrainingTask] = [:]
        var largest: (run: PlannedRun, estimate: MemoryEstimate)?
        for planned in try settings.plan() {
            let spec = planned.request.spec.task
            if tasks[spec] == nil { tasks[spec] = try spec.makeTask() }
            let (session, configuration) = try planned.request.session(task: tasks[spec]!)
            let estimate = session.memoryEstimate(configuration)
            if largest == nil || estimate.bytes > largest!.estimate.bytes { largest = (planned, estimate) }
        }
        guard let largest else { throw ConfigurationError("a comparison needs at least one model, one seed and one step") }
        return largest
    }
}

extension Comparison {
    /// The task's trivial baseline, when it is the same at every length of the grid (copy's
    /// depends on T: then none is drawn).
    public func baseline() throws -> (value: Double, description: String)? {
        let baselines = try settings.gridLengths.map { try settings.task(length: $0).makeTask().baseline }
        guard let first = baselines.first ?? nil, baselines.allSatisfy({ $0?.value == first.value }) else { return nil }
        return first
    }
}
