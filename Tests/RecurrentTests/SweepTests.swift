import Foundation
import Testing
@testable import Recurrent

/// Grids, manifests, shards, locks and merges of a comparison (`compare --plan / --shard /
/// --merge` in the library's terms), on tiny adding problems.
@Suite("Sweeps: plans, shards, locks, merges")
struct SweepTests {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-sweep-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// 2 models x 2 lengths x 2 seeds = 8 runs of 20 steps.
    func grid(lengths: [Int]? = [5, 7]) throws -> ComparisonSettings {
        var s = ComparisonSettings(task: TaskSpec(name: .adding, length: 5), models: try ModelSpec.alternatives(parsing: "irnn:lr=1e-2|3e-3"),
                                   steps: 20, seeds: 2)
        s.lengths = lengths
        s.hidden = 4
        s.batchSize = 4
        s.evaluateEvery = 10
        s.task.limit = 20
        return s
    }

    // MARK: - Grids

    @Test func alternativesExpandIntoEveryCombinationInOrder() throws {
        #expect(try ModelSpec.alternatives(parsing: "irnn").map(\.description) == ["irnn"])
        #expect(try ModelSpec.alternatives(parsing: "irnn:lr=1e-3|3e-4|1e-4").map(\.description)
                == ["irnn:lr=1e-3", "irnn:lr=3e-4", "irnn:lr=1e-4"])
        #expect(try ModelSpec.alternatives(parsing: "lstm:lr=1e-3|3e-3:hidden=8|16").map(\.description)
                == ["lstm:hidden=8:lr=1e-3", "lstm:hidden=16:lr=1e-3", "lstm:hidden=8:lr=3e-3", "lstm:hidden=16:lr=3e-3"])
        // A value with ':' (an initializer) keeps it; alternatives are split per option.
        #expect(try ModelSpec.alternatives(parsing: "rnn-relu-gaussian:recurrent-init=gaussian:0.01|gaussian:0.1").map { $0.overrides["recurrent-init"]! }
                == ["gaussian:0.01", "gaussian:0.1"])
    }

    @Test(arguments: ["irnn:lr=1e-3||1e-4", "irnn:lr=abc|1e-3", "irnn:lr=1e-3|1e-3", "irnn:speed=1|2", "transformer:lr=1|2"])
    func badAlternativesAreRefused(_ text: String) {
        #expect(throws: ConfigurationError.self) { try ModelSpec.alternatives(parsing: text) }
    }

    @Test func thePlanListsEveryRunWithAUniqueFolderAndItsWholeRequest() throws {
        let plan = try grid().plan()
        #expect(plan.count == 8)
        #expect(plan.map(\.index) == Array(0..<8))
        #expect(Set(plan.map(\.key)).count == 8 && Set(plan.map(\.folder)).count == 8)
        #expect(plan[0].key == "irnn_lr_1e-2-T5-seed1" && plan[0].label == "irnn:lr=1e-2 T=5" && plan[0].folder == "runs/irnn_lr_1e-2-T5-seed1")
        #expect(plan[3].key == "irnn_lr_1e-2-T7-seed2" && plan[3].length == 7 && plan[3].seed == 2)
        for run in plan {
            #expect(run.request.spec.task.length == run.length)
            #expect(run.request.spec.run.seed == run.seed)
            #expect(run.request.spec.optimizer.learningRate == (run.model.hasSuffix("1e-2") ? 1e-2 : 3e-3))
            #expect(run.request.hidden == 4)
        }
        // One length: the folders are named as before sweeps existed (runs/<model>-seed<k>).
        #expect(try grid(lengths: nil).plan().map(\.key) == ["irnn_lr_1e-2-seed1", "irnn_lr_1e-2-seed2", "irnn_lr_3e-3-seed1", "irnn_lr_3e-3-seed2"])
        // A model's hidden= is resolved into the request, so the settings' H does not change its identity.
        var s = try grid(lengths: nil)
        s.models = [try ModelSpec(parsing: "irnn:hidden=6")]
        #expect(try s.plan().allSatisfy { $0.request.hidden == 6 })
    }

    @Test func theManifestRoundTripsAndAnotherGridIsRefusedByShards() throws {
        let dir = try temporaryDirectory()
        let comparison = try Comparison(settings: try grid(), directory: dir)
        let plan = try comparison.settings.plan()
        try comparison.writeManifest(plan)
        let lines = try String(contentsOf: comparison.manifestURL, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 8)
        #expect(lines[0].contains("\"folder\":\"runs/irnn_lr_1e-2-T5-seed1\"") && lines[0].contains("\"steps\":20"), "\(lines[0])")
        #expect(try comparison.readManifest() == plan)
        try comparison.checkManifest(plan)
        var other = try grid()
        other.steps = 30
        #expect(throws: ConfigurationError.self) { try comparison.checkManifest(try other.plan()) }
    }

    @Test func severalLengthsNeedASyntheticTaskAndDistinctValues() throws {
        var s = try grid(lengths: [5, 5])
        #expect(throws: ConfigurationError.self) { try s.plan() }
        s = try grid(lengths: [5, 7])
        s.task = TaskSpec(name: .charlm, data: "/nonexistent")
        #expect(throws: ConfigurationError.self) { try s.plan() }
    }

    // MARK: - Shards

    @Test func shardsParseAndComeFromTheSchedulersEnvironment() throws {
        #expect(try Shard(parsing: "0/4") == Shard(index: 0, count: 4))
        for bad in ["4/4", "-1/4", "1/0", "a/b", "3", "1/2/3"] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try Shard(parsing: bad) }
        }
        #expect(try Shard.fromEnvironment([:], count: nil) == nil)
        #expect(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "12"], count: nil) == Shard(index: 3, count: 12))
        #expect(try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "5"], count: 8) == Shard(index: 5, count: 8))
        #expect(throws: ConfigurationError.self) { try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "5"], count: nil) }
        #expect(throws: ConfigurationError.self) { try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "3"], count: nil) }
        #expect(throws: ConfigurationError.self) {
            try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"], count: nil)
        }
    }

    @Test(arguments: [1, 2, 3, 5, 8, 9])
    func everyRunIsInExactlyOneShard(_ count: Int) throws {
        let shards = try (0..<count).map { try Shard(index: $0, count: count) }
        for run in 0..<20 { #expect(shards.filter { $0.contains(run) }.count == 1) }
    }

    /// Shards trained one after another into one folder give the bytes of one plain run of the
    /// grid in another, and the merge before the last shard lists exactly the unfinished runs.
    @Test func shardsGiveTheBitsOfOnePlainComparisonAndMergeMarksTheRest() throws {
        let settings = try grid()
        let sharded = try Comparison(settings: settings, directory: try temporaryDirectory())
        let first = try sharded.run(shard: Shard(index: 0, count: 3))
        #expect(first.count == 3 && first.map(\.model) == ["irnn:lr=1e-2 T=5", "irnn:lr=1e-2 T=7", "irnn:lr=3e-3 T=7"])
        let states = try sharded.states()
        #expect(states.count == 8)
        for (run, state) in states {
            if run.index % 3 == 0 {
                guard case .finished = state else { Issue.record("\(run.key): \(state)"); continue }
            } else {
                #expect(state == .notStarted, "\(run.key)")
            }
        }
        let unfinished = states.filter { $0.run.index % 3 != 0 }.map { UnfinishedRun(key: $0.run.key, label: $0.run.label, seed: $0.run.seed, state: $0.state) }
        let md = ComparisonReport.markdown(first, settings: settings, baseline: nil, machine: "test", command: "test", unfinished: unfinished)
        #expect(md.contains("## Unfinished runs") && md.contains("| runs/irnn_lr_1e-2-T5-seed2 | irnn:lr=1e-2 T=5 | 2 | not started |"), "\(md)")
        #expect(md.contains("(1 of 2 runs finished)"))
        _ = try sharded.run(shard: Shard(index: 1, count: 3))
        _ = try sharded.run(shard: Shard(index: 2, count: 3))

        let plain = try Comparison(settings: settings, directory: try temporaryDirectory())
        let all = try plain.run()
        #expect(all.count == 8)
        for run in try settings.plan() {
            let a = RunFiles(folder: sharded.runDirectory(run)), b = RunFiles(folder: plain.runDirectory(run))
            for (x, y) in [(a.checkpoint, b.checkpoint), (a.trainingState, b.trainingState)] {
                #expect(try Data(contentsOf: x) == Data(contentsOf: y), "\(x.lastPathComponent) of \(run.key) differs")
            }
        }
        let merged = try sharded.states().compactMap { if case .finished(let r) = $0.state { r } else { nil } }
        #expect(merged.map(\.finalMetric) == all.map(\.finalMetric) && merged.map(\.curve.count) == all.map(\.curve.count))
    }

    // MARK: - A run's identity

    @Test func aFolderOfOtherOptionsIsRefusedAndOneOfOtherCadencesReused() throws {
        let dir = try temporaryDirectory()
        var s = try grid(lengths: nil)
        s.models = [try ModelSpec(parsing: "irnn")]
        s.seeds = 1
        _ = try Comparison(settings: s, directory: dir).run()
        var skipped = 0
        var cadence = s
        cadence.checkpointEvery = 5              // saves more often: the same run
        cadence.run.logEvery = 3
        _ = try Comparison(settings: cadence, directory: dir).run(observer: { if case .runSkipped = $0 { skipped += 1 } })
        #expect(skipped == 1)
        let changes: [(inout ComparisonSettings) -> Void] = [{ $0.hidden = 5 }, { $0.steps = 30 }, { $0.learningRate = 0.5 },
                                                              { $0.task.limit = 10 }, { $0.evaluateEvery = 5 }, { $0.batchSize = 3 }]
        for change in changes {
            var other = s
            change(&other)
            do {
                _ = try Comparison(settings: other, directory: dir).run()
                Issue.record("a changed option reused the run")
            } catch let error as RunMismatchError {
                #expect(error.description.contains("there") && error.description.contains("here") && !error.differences.isEmpty)
            }
        }
        // A folder from before run.json: its checkpoint's metadata is checked instead.
        let folder = dir.appendingPathComponent("runs/irnn-seed1")
        try FileManager.default.removeItem(at: folder.appendingPathComponent(Comparison.identityName))
        var other = s
        other.hidden = 5
        #expect(throws: RunMismatchError.self) { try Comparison(settings: other, directory: dir).run() }
        skipped = 0
        _ = try Comparison(settings: s, directory: dir).run(observer: { if case .runSkipped = $0 { skipped += 1 } })
        #expect(skipped == 1 && FileManager.default.fileExists(atPath: folder.appendingPathComponent(Comparison.identityName).path))
    }

    /// An unfinished run may go on to another total (as `train --resume --steps N` does) when
    /// the schedule does not depend on it; with a cosine schedule it is another run.
    @Test func anUnfinishedRunContinuesToAnotherTotalUnlessTheScheduleDependsOnIt() throws {
        for schedule in ["constant", "cosine"] {
            let dir = try temporaryDirectory()
            var s = try grid(lengths: nil)
            s.models = [try ModelSpec(parsing: "irnn")]
            s.seeds = 1
            s.steps = 1000
            s.checkpointEvery = 5
            s.optimizer.schedule = schedule
            var polls = 0
            #expect(try Comparison(settings: s, directory: dir).run(shouldStop: { polls += 1; return polls == 12 }).isEmpty)
            var shorter = s
            shorter.steps = 20
            if schedule == "constant" {
                var resumedAt: Int?
                let results = try Comparison(settings: shorter, directory: dir).run(observer: { if case .runStarted(_, _, let at) = $0 { resumedAt = at } })
                #expect(results.count == 1 && results[0].steps == 20 && resumedAt != nil)
                let straight = try Comparison(settings: shorter, directory: try temporaryDirectory())
                _ = try straight.run()
                let run = try shorter.plan()[0]
                #expect(try Data(contentsOf: RunFiles(folder: straight.runDirectory(run)).checkpoint)
                        == Data(contentsOf: RunFiles(folder: dir.appendingPathComponent(run.folder)).checkpoint))
            } else {
                #expect(throws: RunMismatchError.self) { try Comparison(settings: shorter, directory: dir).run() }
            }
        }
    }

    // MARK: - Locks

    @Test func aLockIsHeldByALiveOwnerAndTakenOverFromAGoneOne() throws {
        let dir = try temporaryDirectory()
        let a = RunLockOwner(host: "node1", pid: 100, task: "slurm:7_3")
        #expect(try RunLock.acquire(in: dir, owner: a, isAlive: { _ in true }) == .acquired(replaced: nil))
        #expect(RunLock.holder(in: dir) == a)
        // Same host, live pid: held. Another host: held (its pid cannot be checked from here).
        let b = RunLockOwner(host: "node1", pid: 101)
        #expect(try RunLock.acquire(in: dir, owner: b, isAlive: { _ in true }) == .held(by: a))
        let c = RunLockOwner(host: "node2", pid: 5)
        #expect(try RunLock.acquire(in: dir, owner: c, isAlive: { _ in false }) == .held(by: a))
        // Releasing needs the owner.
        RunLock.release(in: dir, owner: b)
        #expect(RunLock.holder(in: dir) == a)
        // Same host, pid gone: stale, taken over.
        #expect(try RunLock.acquire(in: dir, owner: b, isAlive: { $0 != 100 }) == .acquired(replaced: a))
        #expect(RunLock.holder(in: dir) == b)
        // The same scheduler task on another host (a requeue): its predecessor's lock.
        let d = RunLockOwner(host: "node3", pid: 9, task: "slurm:7_3")
        RunLock.release(in: dir, owner: b)
        #expect(RunLock.holder(in: dir) == nil)
        #expect(try RunLock.acquire(in: dir, owner: a, isAlive: { _ in true }) == .acquired(replaced: nil))
        #expect(try RunLock.acquire(in: dir, owner: d, isAlive: { _ in true }) == .acquired(replaced: a))
        // The same task on the same host with a live pid is another live process (two compares in one job): held.
        let e = RunLockOwner(host: "node3", pid: 10, task: "slurm:7_3")
        #expect(try RunLock.acquire(in: dir, owner: e, isAlive: { _ in true }) == .held(by: d))
        RunLock.release(in: dir, owner: d)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(leftovers.isEmpty, "temporary or moved-aside lock files left: \(leftovers)")
    }

    @Test func theOwnerComesFromTheSchedulersEnvironment() {
        #expect(RunLockOwner.current(environment: ["SLURM_ARRAY_JOB_ID": "41", "SLURM_ARRAY_TASK_ID": "2", "SLURM_JOB_ID": "43"]).task == "slurm:41_2")
        #expect(RunLockOwner.current(environment: ["SLURM_JOB_ID": "43"]).task == "slurm:43")
        #expect(RunLockOwner.current(environment: ["SLURM_JOB_ID": "43", "SLURM_PROCID": "1"]).task == "slurm:43/1")
        #expect(RunLockOwner.current(environment: ["JOB_COMPLETION_INDEX": "4", "RECURRENT_JOB_NAME": "sweep"]).task == "kubernetes:sweep/4")
        let me = RunLockOwner.current(environment: [:])
        #expect(me.task == nil && me.pid == getpid() && !me.host.isEmpty)
    }

    /// A comparison leaves a run locked by a live process to it (the merge says where it runs),
    /// and takes over a lock whose process on this host is gone, resuming the run.
    @Test func aComparisonSkipsALockedRunAndTakesOverAStaleLock() throws {
        let dir = try temporaryDirectory()
        var s = try grid(lengths: nil)
        s.models = [try ModelSpec(parsing: "irnn")]
        s.seeds = 1
        let comparison = try Comparison(settings: s, directory: dir)
        let run = try s.plan()[0]
        let folder = comparison.runDirectory(run)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let elsewhere = RunLockOwner(host: "some-other-node", pid: 1)
        _ = try RunLock.acquire(in: folder, owner: elsewhere)
        var locked: RunLockOwner?
        #expect(try comparison.run(observer: { if case .runLocked(_, _, let o) = $0 { locked = o } }).isEmpty)
        #expect(locked == elsewhere)
        #expect(try comparison.states().map(\.state) == [.running(elsewhere)])
        // Gone: a pid above any pid_max, on this host.
        try FileManager.default.removeItem(at: folder.appendingPathComponent(RunLock.fileName))
        let gone = RunLockOwner(host: RunLockOwner.hostName(), pid: Int32.max)
        _ = try RunLock.acquire(in: folder, owner: gone)
        var replaced: RunLockOwner?
        #expect(try comparison.run(observer: { if case .staleLockReplaced(_, _, let o) = $0 { replaced = o } }).count == 1)
        #expect(replaced == gone)
        #expect(RunLock.holder(in: folder) == nil, "the lock is released after the run")
    }
}
