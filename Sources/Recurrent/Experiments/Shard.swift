// MARK: - One share of a grid

/// Share `index` of `count` (0-based, as Slurm's array task ids and Kubernetes' completion
/// indexes are): the runs of a grid whose index `k` has `k % count == index`, so shards mix
/// models and lengths and take about equal time.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) throws(ConfigurationError) {
        guard count >= 1, index >= 0, index < count else {
            throw ConfigurationError("shard \(index)/\(count) does not exist: shards are numbered 0 to count-1, e.g. 0/4 to 3/4")
        }
        self.index = index
        self.count = count
    }

    /// `i/n`, e.g. `0/4`.
    public init(parsing text: String) throws(ConfigurationError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw ConfigurationError("shard '\(text.prefix(40))' is not i/n (this share, 0-based, of n), e.g. 0/4")
        }
        try self.init(index: i, count: n)
    }

    /// The shard a scheduler's task is: `SLURM_ARRAY_TASK_ID` of `SLURM_ARRAY_TASK_COUNT`
    /// (an array started at 0, as `sbatch --array=0-N` numbers it), or `JOB_COMPLETION_INDEX`
    /// (a Kubernetes Indexed Job) of `count`. nil outside a scheduler's array; throws when the
    /// variables are there but unusable (the message names them).
    public static func fromEnvironment(_ environment: [String: String], count: Int?) throws(ConfigurationError) -> Shard? {
        if let id = environment["SLURM_ARRAY_TASK_ID"] {
            let total = environment["SLURM_ARRAY_TASK_COUNT"]
            let first = environment["SLURM_ARRAY_TASK_MIN"].flatMap { Int($0) } ?? 0
            guard let i = Int(id), let n = total.flatMap({ Int($0) }) ?? count else {
                throw ConfigurationError("SLURM_ARRAY_TASK_ID=\(id) with SLURM_ARRAY_TASK_COUNT=\(total ?? "(unset)"): not a task of an array of known size")
            }
            guard first == 0 else {
                throw ConfigurationError("the Slurm array starts at \(first): a sweep's array must be numbered 0 to N-1 (array=0-\(n - 1))")
            }
            return try Shard(index: i, count: n)
        }
        if let index = environment["JOB_COMPLETION_INDEX"] {
            guard let i = Int(index) else { throw ConfigurationError("JOB_COMPLETION_INDEX=\(index.prefix(40)) is not a whole number") }
            guard let count else {
                throw ConfigurationError("JOB_COMPLETION_INDEX=\(i) (a Kubernetes Indexed Job) needs the number of shards, the job's completions")
            }
            return try Shard(index: i, count: count)
        }
        return nil
    }

    /// Whether the run at `index` in the grid is this shard's.
    public func contains(_ runIndex: Int) -> Bool { runIndex % count == index }

    public var description: String { "\(index)/\(count)" }
}
