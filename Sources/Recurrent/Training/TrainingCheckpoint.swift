import Foundation

/// A training checkpoint: two safetensors files written atomically side by side.
///
/// - `NAME.safetensors`: the model alone, PyTorch `state_dict` names (loads with
///   `load_state_dict`), configuration in its metadata.
/// - `NAME.state.safetensors` (the sidecar): the optimizer's buffers as
///   `optimizer.<slot>.<parameter name>`, the carried state of a truncated-BPTT task as
///   `carried.h.l<k>` / `carried.c.l<k>`, and in its metadata the step, the optimizer's
///   step count and learning rate, the generator's state, the task's position and the
///   training options, as JSON.
///
/// Both files record the step; `resume` refuses a pair from different steps.
public enum TrainingCheckpoint {
    struct SidecarInfo: Codable {
        var step: Int
        var optimizerStep: Int
        var optimizer: String
        var baseLearningRate: Double
        var rng: [UInt64]
        var taskName: String
        var taskPosition: [String: Int]
        var options: TrainingOptions
    }

    /// The sidecar's URL for a model checkpoint URL.
    public static func sidecarURL(for url: URL) -> URL {
        url.deletingPathExtension().appendingPathExtension("state.safetensors")
    }

    /// Writes the model, then the sidecar (each atomically). A state with a NaN or
    /// infinite value is refused before either is written (`NonFiniteTensorsError`).
    public static func save<Cell>(_ trainer: Trainer<Cell>, to url: URL) throws {
        try trainer.requireFiniteState(saving: url)
        let stepText = String(trainer.step)
        try Checkpoint.save(trainer.model, to: url, configuration: trainer.configuration,
                            metadata: trainer.checkpointMetadata.merging(["step": stepText, "task": trainer.task.name]) { $1 })
        var tensors: [String: SafeTensor] = [:]
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
        let optimizerName: String
        switch trainer.optimizer {
        case .sgd: optimizerName = "sgd"
        case .rmsprop: optimizerName = "rmsprop"
        case .adam(let a): optimizerName = a.decoupledWeightDecay ? "adamw" : "adam"
        }
        let info = SidecarInfo(step: trainer.step, optimizerStep: trainer.optimizer.state.step, optimizer: optimizerName,
                               baseLearningRate: trainer.baseLearningRate, rng: trainer.rng.stateWords, taskName: trainer.task.name,
                               taskPosition: trainer.task.position, options: trainer.options)
        let json = String(decoding: try JSONEncoder().encode(info), as: UTF8.self)
        try SafeTensorsFile(tensors: tensors, metadata: ["trainer": json, "step": stepText]).write(to: sidecarURL(for: url))
    }

    /// Restores the trainer's full state from a checkpoint and its sidecar. The trainer
    /// must already hold the same task and an optimizer of the same kind; `steps` (the
    /// total) stays as the trainer has it, so a resumed run can be extended.
    public static func restore<Cell>(_ trainer: inout Trainer<Cell>, from url: URL) throws {
        let modelFile = try SafeTensorsFile(contentsOf: url)
        try modelFile.requireFinite(.loading, path: url.path)
        let sidecar = sidecarURL(for: url)
        guard FileManager.default.fileExists(atPath: sidecar.path) else {
            throw CheckpointError("no training state beside the checkpoint (expected \(sidecar.lastPathComponent)); "
                + "to start a new run from these weights use --init-from instead of --resume", path: url.path)
        }
        let stateFile = try SafeTensorsFile(contentsOf: sidecar)
        guard let json = stateFile.metadata["trainer"],
              let info = try? JSONDecoder().decode(SidecarInfo.self, from: Data(json.utf8)) else {
            throw CheckpointError("the training state has no valid 'trainer' metadata; it was not written by recurrent train", path: sidecar.path)
        }
        guard modelFile.metadata["step"] == String(info.step) else {
            throw CheckpointError("the checkpoint (step \(modelFile.metadata["step"] ?? "?")) and its training state (step \(info.step)) are from different steps; use a matching pair", path: url.path)
        }
        guard info.taskName == trainer.task.name else {
            throw CheckpointError("the checkpoint was trained on task '\(info.taskName)', not '\(trainer.task.name)'; pass --task \(info.taskName)", path: url.path)
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
        for (key, tensor) in stateFile.tensors {
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
        try trainer.task.restore(position: info.taskPosition)
        if !carriedLayers.isEmpty {
            trainer.carried = RecurrentState(layers: (0..<carriedLayers.count).map { l in
                let h = carriedLayers[l]?.h ?? Matrix(rows: 0, cols: 0)
                return LayerState(hidden: h, memory: carriedLayers[l]?.c ?? Matrix(rows: 0, cols: h.cols))
            })
        }
    }
}
