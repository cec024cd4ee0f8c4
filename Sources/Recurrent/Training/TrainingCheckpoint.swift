import Foundation

/// A training checkpoint: two safetensors files side by side, kill-safe as one unit.
///
/// - `NAME.state.safetensors` (the training state, "sidecar"): everything a resume needs, in
///   one file: the model's tensors as `model.<state_dict name>` and the model file's metadata
///   (key `model`, JSON), the optimizer's buffers as `optimizer.<slot>.<parameter name>`, the
///   carried state of a truncated-BPTT task as `carried.h.l<k>` / `carried.c.l<k>`, and in its
///   metadata the step, the optimizer's step count and learning rate, the generator's state,
///   the task's position and the training options, as JSON.
/// - `NAME.safetensors`: the model alone, PyTorch `state_dict` names (loads with
///   `load_state_dict`), configuration in its metadata: the copy people and `eval` read.
///
/// `save` writes the training state first, then the model file, each atomically (temporary
/// file, fsync, rename, fsync of the directory). A process killed at any moment therefore
/// leaves a complete training state of the last or the new step, and a model file of the same
/// step or one save behind; `recover` rewrites a model file that is behind, missing or
/// unreadable from the training state, and removes temporary files the kill left. Sidecars
/// written before the model snapshot existed still resume (their weights come from the model
/// file, and both files must record the same step).
public enum TrainingCheckpoint {
    struct SidecarInfo: Codable {
        var step: Int
        var optimizerStep: Int
        var optimizer: OptimizerKind
        var baseLearningRate: Double
        var rng: [UInt64]
        var taskName: TaskKind
        var taskPosition: [String: Int]
        var options: TrainingOptions
        /// Early stopping, best checkpoint and plateau state; only for runs that use them.
        var progress: EvaluationProgress?
    }

    /// Prefix of the model's tensors in the training state.
    static let modelPrefix = "model."
    /// Training-state metadata key of the model file's metadata (a JSON object of strings).
    static let modelMetadataKey = "model"

    /// The sidecar's URL for a model checkpoint URL.
    public static func sidecarURL(for url: URL) -> URL {
        url.deletingPathExtension().appendingPathExtension("state.safetensors")
    }

    // MARK: - Saving

    /// Writes the training state (the resumable unit), then the model file, each atomically.
    /// A state with a NaN or infinite value is refused before either is written
    /// (`NonFiniteTensorsError`).
    public static func save<Cell>(_ trainer: Trainer<Cell>, to url: URL) throws {
        try trainer.requireFiniteState(saving: url)
        let model = Checkpoint.stateDict(trainer.model, configuration: trainer.configuration,
                                         metadata: trainer.checkpointMetadata.merging(["step": String(trainer.step), "task": trainer.task.name.rawValue]) { $1 })
        let state = try trainingState(trainer, model: model)
        try state.write(to: sidecarURL(for: url))
        try model.write(to: url)
    }

    /// The sidecar's contents: the model file's tensors and metadata, the optimizer's
    /// buffers, the carried state and the trainer's scalars.
    static func trainingState<Cell>(_ trainer: Trainer<Cell>, model: SafeTensorsFile) throws -> SafeTensorsFile {
        var tensors: [String: SafeTensor] = [:]
        for (name, tensor) in model.tensors { tensors[modelPrefix + name] = tensor }
        var names: [String] = []
        trainer.model.forEachParameter { _, name, _ in names.append(name) }
        for (slot, buffers) in trainer.optimizer.state.slots {
            for (index, m) in buffers {
                tensors["optimizer.\(slot).\(names[index])"] = SafeTensor(floats: m.storage, shape: [m.rows, m.cols])
            }
        }
        if let carried = trainer.carried {
            for (l, layer) in carried.layers.enumerated() {
                tensors["carried.h.l\(l)"] = SafeTensor(floats: layer.hidden.storage, shape: [layer.hidden.rows, layer.hidden.cols])
                if layer.memory.rows > 0 {
                    tensors["carried.c.l\(l)"] = SafeTensor(floats: layer.memory.storage, shape: [layer.memory.rows, layer.memory.cols])
                }
            }
        }
        let info = SidecarInfo(step: trainer.step, optimizerStep: trainer.optimizer.state.step, optimizer: trainer.optimizer.kind,
                               baseLearningRate: trainer.baseLearningRate, rng: trainer.rng.stateWords, taskName: trainer.task.name,
                               taskPosition: trainer.task.position, options: trainer.options,
                               progress: trainer.options.tracksEvaluations ? trainer.progress : nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(info), as: UTF8.self)
        let modelMetadata = String(decoding: try encoder.encode(model.metadata), as: UTF8.self)
        return SafeTensorsFile(tensors: tensors, metadata: ["trainer": json, "step": String(trainer.step), modelMetadataKey: modelMetadata])
    }

    // MARK: - Restoring

    /// Restores the trainer's full state from a checkpoint's training state (and, for
    /// sidecars written before the model snapshot, the model file beside it). The trainer
    /// must already hold the same task and an optimizer of the same kind; `steps` (the
    /// total) stays as the trainer has it, so a resumed run can be extended.
    public static func restore<Cell>(_ trainer: inout Trainer<Cell>, from url: URL) throws {
        let sidecar = sidecarURL(for: url)
        let (stateFile, info) = try readTrainingState(of: url)
        let modelFile = try modelFile(of: url, state: stateFile, step: info.step)
        try modelFile.requireFinite(.loading, path: url.path)
        guard info.taskName == trainer.task.name else {
            throw CheckpointError("the checkpoint was trained on task '\(info.taskName)', not '\(trainer.task.name)'", path: url.path,
                                  remedies: [.useTask(info.taskName.rawValue)])
        }
        try validateSidecar(info, stateFile, for: trainer, path: sidecar.path)   // shapes, ranges, square averages >= 0
        try stateFile.requireFinite(.loading, path: sidecar.path)               // and nothing else non-finite
        do {
            trainer.model = try Checkpoint.fill(trainer.model, from: modelFile)
        } catch let error as CheckpointError {
            throw CheckpointError(error.message, path: url.path)
        }
        var names: [String] = []
        trainer.model.forEachParameter { _, name, _ in names.append(name) }
        var state = OptimizerState<Float>()
        state.step = info.optimizerStep
        var carriedLayers: [Int: (h: Matrix<Float>?, c: Matrix<Float>?)] = [:]
        for (key, tensor) in stateFile.tensors where !key.hasPrefix(modelPrefix) {
            let values = try tensor.floats()
            let shape = tensor.shape.count == 2 ? tensor.shape : [1, values.count]
            let m = Matrix<Float>(rows: shape[0], cols: shape[1], values)
            let parts = key.split(separator: ".", maxSplits: 2).map(String.init)
            if parts.count == 3, parts[0] == "optimizer", let index = names.firstIndex(of: parts[2]) {
                state.set(parts[1], index, m)
            } else if parts.count == 3, parts[0] == "carried", let l = Int(parts[2].dropFirst()) {
                if parts[1] == "h" { carriedLayers[l, default: (nil, nil)].h = m } else { carriedLayers[l, default: (nil, nil)].c = m }
            } else {
                throw CheckpointError("unexpected tensor '\(key)' in the training state", path: sidecar.path)
            }
        }
        trainer.optimizer.state = state
        trainer.baseLearningRate = info.baseLearningRate
        trainer.rng = SeededGenerator(state: info.rng)
        trainer.step = info.step
        trainer.progress = info.progress ?? EvaluationProgress()
        try trainer.task.restore(position: info.taskPosition)
        if !carriedLayers.isEmpty {
            trainer.carried = RecurrentState(layers: (0..<carriedLayers.count).map { l in
                let h = carriedLayers[l]?.h ?? Matrix(rows: 0, cols: 0)
                return LayerState(hidden: h, memory: carriedLayers[l]?.c ?? Matrix(rows: 0, cols: h.cols))
            })
        }
    }

    /// The training state beside `url`, and its decoded `trainer` metadata.
    static func readTrainingState(of url: URL) throws -> (file: SafeTensorsFile, info: SidecarInfo) {
        let sidecar = sidecarURL(for: url)
        guard FileManager.default.fileExists(atPath: sidecar.path) else {
            throw CheckpointError("no training state beside the checkpoint (expected \(sidecar.lastPathComponent)), so the run cannot be resumed",
                                  path: url.path, remedies: [.startFromWeights])
        }
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(contentsOf: sidecar) } catch {
            throw CheckpointError("the training state cannot be read, so the run cannot be resumed (the reader said: \(error))",
                                  path: sidecar.path, remedies: [.startFromWeights])
        }
        guard let json = file.metadata["trainer"],
              let info = try? JSONDecoder().decode(SidecarInfo.self, from: Data(json.utf8)) else {
            throw CheckpointError("the training state has no valid 'trainer' metadata; it was not written by recurrent train", path: sidecar.path)
        }
        return (file, info)
    }

    /// The model file as of the training state's step: the snapshot the state holds, or
    /// (sidecars written before snapshots) the file at `url`, which must record that step.
    static func modelFile(of url: URL, state: SafeTensorsFile, step: Int) throws -> SafeTensorsFile {
        if let snapshot = try snapshot(in: state, path: sidecarURL(for: url).path) { return snapshot }
        let file = try SafeTensorsFile(contentsOf: url)
        guard file.metadata["step"] == String(step) else {
            throw CheckpointError("the checkpoint (step \(file.metadata["step"] ?? "?")) and its training state (step \(step)) are from different steps; use a matching pair", path: url.path)
        }
        return file
    }

    /// The model file held in a training state (`model.*` tensors and the `model` metadata),
    /// or nil for a sidecar written before snapshots.
    static func snapshot(in state: SafeTensorsFile, path: String) throws -> SafeTensorsFile? {
        guard let text = state.metadata[modelMetadataKey] else { return nil }
        guard let metadata = try? JSONDecoder().decode([String: String].self, from: Data(text.utf8)) else {
            throw CheckpointError("the training state's '\(modelMetadataKey)' metadata is not a JSON object of strings", path: path)
        }
        var tensors: [String: SafeTensor] = [:]
        for (key, tensor) in state.tensors where key.hasPrefix(modelPrefix) { tensors[String(key.dropFirst(modelPrefix.count))] = tensor }
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }

    // MARK: - Recovering from a kill

    /// What ``recover(_:)`` found: the step the run resumes at, and one line per repair.
    public struct Recovery: Sendable, Equatable {
        /// The training state's step.
        public var step: Int
        /// What was repaired, one line each, for the user (empty when nothing was).
        public var notes: [String]
    }

    /// Makes the checkpoint at `url` whole again before a resume reads it: removes the
    /// temporary files a killed save left beside it, and rewrites the model file from the
    /// training state when the model file is missing, unreadable or from another step (the
    /// process was killed between the two writes of a save). The training state is the last
    /// complete save; the run resumes from it.
    /// - Throws: `CheckpointError` when the training state is missing or unreadable.
    public static func recover(_ url: URL) throws -> Recovery {
        var notes: [String] = []
        let removed = removeLeftoverTemporaries(of: url)
        if !removed.isEmpty {
            notes.append("removed \(removed.count) temporary file\(removed.count == 1 ? "" : "s") of a save cut short beside \(url.path) (\(removed.map(\.lastPathComponent).joined(separator: ", ")))")
        }
        let (state, info) = try readTrainingState(of: url)
        guard let snapshot = try snapshot(in: state, path: sidecarURL(for: url).path) else { return Recovery(step: info.step, notes: notes) }
        let found: String
        do {
            let file = try SafeTensorsFile(contentsOf: url)
            if file.metadata["step"] == String(info.step) { return Recovery(step: info.step, notes: notes) }
            found = "at step \(file.metadata["step"] ?? "?")"
        } catch {
            found = FileManager.default.fileExists(atPath: url.path) ? "unreadable" : "missing"
        }
        try snapshot.write(to: url)
        notes.append("\(url.path) was \(found) but its training state is at step \(info.step) (a save was cut short): "
            + "rewrote the model file from the training state, the last complete save")
        return Recovery(step: info.step, notes: notes)
    }

    /// Removes the temporary files that saves of this checkpoint (model file and training
    /// state) left when their process was killed mid-write; only those. Returns them.
    @discardableResult
    public static func removeLeftoverTemporaries(of url: URL) -> [URL] {
        [url, sidecarURL(for: url)].flatMap { FileIO.removeLeftoverTemporaries(of: $0.path) }.map { URL(fileURLWithPath: $0) }
    }
}
