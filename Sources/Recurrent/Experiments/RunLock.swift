#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

// MARK: - One writer per run folder

/// Who trains a run: the process that holds the lock file `runs/KEY/lock`.
public struct RunLockOwner: Codable, Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var pid: Int32
    /// The scheduler's task this process is, when it is one: `slurm:<job>_<task>` or
    /// `kubernetes:<job>/<index>`. A scheduler runs one instance of a task at a time, so a
    /// lock held by the same task is left by its killed predecessor (a requeue, a restarted pod).
    public var task: String?

    public init(host: String, pid: Int32, task: String? = nil) {
        self.host = host
        self.pid = pid
        self.task = task
    }

    /// This process, with its scheduler task read from `environment` (Slurm's
    /// `SLURM_ARRAY_JOB_ID` + `SLURM_ARRAY_TASK_ID` or `SLURM_JOB_ID`, and `SLURM_PROCID`; in a Kubernetes
    /// Indexed Job `JOB_COMPLETION_INDEX` and `RECURRENT_JOB_NAME`, which the job file sets).
    public static func current(environment: [String: String] = ProcessInfo.processInfo.environment) -> RunLockOwner {
        var task: String?
        let process = environment["SLURM_PROCID"].map { "/\($0)" } ?? ""     // one of several srun tasks of a job
        if let job = environment["SLURM_ARRAY_JOB_ID"], let index = environment["SLURM_ARRAY_TASK_ID"] {
            task = "slurm:\(job)_\(index)" + process
        } else if let job = environment["SLURM_JOB_ID"] {
            task = "slurm:\(job)" + process
        } else if let index = environment["JOB_COMPLETION_INDEX"] {
            task = "kubernetes:\(environment["RECURRENT_JOB_NAME"] ?? "")/\(index)"
        }
        return RunLockOwner(host: hostName(), pid: getpid(), task: task)
    }

    /// The machine's name (`gethostname`).
    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String { "host \(host), pid \(pid)" + (task.map { ", task \($0)" } ?? "") }
}

/// The lock file of a run folder: created whole and at once (written beside it, then
/// hard-linked to its name, which fails if it exists), so that two processes, also on two
/// machines sharing the folder, never train the same run. A lock is stale, and taken over,
/// when its owner was on this host and its pid is gone, or was on another host and is the
/// same scheduler task (a requeued array task, a restarted pod's index).
public enum RunLock {
    public static let fileName = "lock"

    public enum Outcome: Sendable, Equatable {
        /// The lock is ours; `replaced` is the stale owner whose lock was removed.
        case acquired(replaced: RunLockOwner?)
        /// Another live (or unknowable, on another host) owner holds it.
        case held(by: RunLockOwner)
    }

    /// Takes the lock of `folder` for `owner`. `isAlive` says whether a pid on this host runs.
    public static func acquire(in folder: URL, owner: RunLockOwner, isAlive: (Int32) -> Bool = processIsAlive) throws -> Outcome {
        let path = folder.appendingPathComponent(fileName).path
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = Array(try encoder.encode(owner)) + [0x0A]
        var replaced: RunLockOwner?
        for _ in 0..<4 {
            let temporary = folder.appendingPathComponent(".lock-\(owner.host)-\(owner.pid)-\(UInt32.random(in: 0...UInt32.max))").path
            try FileIO.write(text, to: temporary)
            let linked = link(temporary, path) == 0
            let code = errno
            _ = unlink(temporary)
            if linked { return .acquired(replaced: replaced) }
            guard code == EEXIST else {
                throw DataError(.io, "cannot create the lock file (\(String(cString: strerror(code))))", path: path,
                                fix: "check that the folder is writable")
            }
            guard let holder = self.holder(in: folder) else { continue }      // removed meanwhile, or being written: retry
            // On this host the pid decides; across hosts only the same scheduler task does (a
            // scheduler runs one instance of a task at a time: the holder is its killed predecessor).
            let stale = holder.host == owner.host ? holder.pid == owner.pid || !isAlive(holder.pid)
                                                  : holder.task != nil && holder.task == owner.task
            guard stale else { return .held(by: holder) }
            guard removeIfUnchanged(path, holder: holder) else { continue }
            replaced = holder
        }
        if let holder = holder(in: folder) { return .held(by: holder) }
        throw DataError(.io, "cannot take the lock file: it keeps changing", path: path, fix: "check which processes train in this folder")
    }

    /// Removes the lock of `folder` if `owner` holds it.
    public static func release(in folder: URL, owner: RunLockOwner) {
        let path = folder.appendingPathComponent(fileName).path
        if holder(in: folder) == owner { _ = removeIfUnchanged(path, holder: owner) }
    }

    /// The owner written in the lock of `folder`, or nil when there is none (or it is unreadable).
    public static func holder(in folder: URL) -> RunLockOwner? {
        let path = folder.appendingPathComponent(fileName).path
        guard let bytes = try? FileIO.read(path, limit: 1 << 16, what: "lock files", fix: "remove it") else { return nil }
        return try? JSONDecoder().decode(RunLockOwner.self, from: Data(bytes))
    }

    /// Whether process `pid` exists on this machine (`kill(pid, 0)`).
    public static func processIsAlive(_ pid: Int32) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }

    /// Moves the lock aside and deletes it if it still names `holder`; if another process
    /// took it meanwhile, puts that one back. True when the lock was `holder`'s and is gone.
    static func removeIfUnchanged(_ path: String, holder: RunLockOwner) -> Bool {
        let aside = path + ".stale-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard rename(path, aside) == 0 else { return false }
        defer { _ = unlink(aside) }
        let bytes = try? FileIO.read(aside, limit: 1 << 16, what: "lock files", fix: "remove it")
        if bytes.flatMap({ try? JSONDecoder().decode(RunLockOwner.self, from: Data($0)) }) == holder { return true }
        _ = link(aside, path)                                   // not the one we judged: restore it (fails if a new one exists)
        return false
    }
}
