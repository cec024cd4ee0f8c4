import Foundation

/// One run as one value: the spec (task, optimizer, run) and the model (a preset with its
/// overrides, e.g. `irnn:lr=1e-4`), Codable. What a sweep hands each worker, one JSON document
/// per shard, and what a comparison trains for each model and seed:
///
///     let request = try JSONDecoder().decode(TrainingRequest.self, from: json)   // spec in
///     let outcome = try request.run(in: folder)                                  // run folder in
///     print(outcome.summary.reason, outcome.summary.test?.metric ?? .nan)        // summary out
///
/// Run again on the same folder after any stop, also a `kill -9`, it resumes from the
/// checkpoint pair there and ends with the bits of one uninterrupted run (`TrainingSession`).
public struct TrainingRequest: Codable, Sendable, Equatable {
    public var spec: TrainSpec
    /// The model: a preset and its overrides. Optimizer overrides (`lr=`, `optimizer=`, ...)
    /// are applied to `spec` by `ComparisonSettings.spec(for:seed:)`, not here.
    public var model: ModelSpec
    /// H and L unless the model's `hidden=` / `layers=` say otherwise.
    public var hidden: Int
    public var layers: Int

    public init(spec: TrainSpec, model: ModelSpec, hidden: Int = TrainingDefaults.hidden, layers: Int = TrainingDefaults.layers) {
        self.spec = spec
        self.model = model
        self.hidden = hidden
        self.layers = layers
    }

    /// The session (task built unless `task` is given; nothing written) and the model's
    /// configuration for its task.
    public func session(task: (any TrainingTask)? = nil) throws -> (session: TrainingSession, configuration: ModelConfiguration) {
        let session = try TrainingSession(spec, task: task)
        return (session, try model.configuration(for: session.task, hidden: hidden, layers: layers))
    }

    /// Starts the run in `folder` (`RunFiles(folder:)`), or resumes it when a training state
    /// is there, and trains it to its end, a stop request or a divergence.
    public func run(in folder: URL, started: (SessionStart) throws -> Void = { _ in }, observer: (TrainingEvent) -> Void = { _ in },
                    shouldStop: () -> Bool = { false }) throws -> TrainingOutcome {
        let (session, configuration) = try session()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try session.run(configuration, files: RunFiles(folder: folder), started: started, observer: observer, shouldStop: shouldStop)
    }
}
