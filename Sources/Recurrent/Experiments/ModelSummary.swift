// MARK: - One model's numbers over its seeds

/// One model's results over its seeds.
public struct ModelSummary: Sendable, Codable, Equatable {
    public var model: String
    public var parameters: Int
    public var runs: Int
    public var metricName: String
    public var metricMean: Double?
    /// Standard deviation over seeds (0 for one seed).
    public var metricSpread: Double?
    public var solved: Int
    public var stepsToTarget: Double?
    public var secondsToTarget: Double?
    public var secondsPerStep: Double
    public var diverged: Int

    public init(model: String, runs results: [RunResult]) {
        self.model = model
        parameters = results.first?.parameters ?? 0
        runs = results.count
        metricName = results.first?.metricName.rawValue ?? ""
        let finals = results.compactMap(\.finalMetric).filter(\.isFinite)
        metricMean = finals.isEmpty ? nil : finals.reduce(0, +) / Double(finals.count)
        metricSpread = metricMean.map { m in (finals.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(max(1, finals.count))).squareRoot() }
        let hits = results.filter { $0.targetStep != nil }
        solved = hits.count
        stepsToTarget = hits.isEmpty ? nil : Double(hits.compactMap(\.targetStep).reduce(0, +)) / Double(hits.count)
        secondsToTarget = hits.isEmpty ? nil : hits.compactMap(\.targetSeconds).reduce(0, +) / Double(hits.count)
        secondsPerStep = results.isEmpty ? 0 : results.map(\.secondsPerStep).reduce(0, +) / Double(results.count)
        diverged = results.filter(\.diverged).count
    }
}
