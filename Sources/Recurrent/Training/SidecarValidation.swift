import Foundation

// MARK: - Checking a sidecar before a resumed run uses it

extension TrainingCheckpoint {
    /// The optimizer buffers a sidecar may hold, and whether each must be >= 0 (a running
    /// average of squares: a negative value would make sqrt(v) NaN at the next step).
    static let optimizerSlots: [String: Bool] = [
        "exp_avg": false, "exp_avg_sq": true,           // Adam, AdamW
        "momentum_buffer": false,                       // SGD, RMSProp with momentum
        "square_avg": true, "grad_avg": false,          // RMSProp (grad_avg: centered)
    ]

    /// Checks everything `restore` takes from a sidecar against the trainer it goes into,
    /// before any of it is used, so that a damaged or foreign sidecar is an error naming the
    /// file and the tensor instead of a trap or NaN weights a few steps later:
    ///
    /// - the step counts are >= 0 and the base learning rate is finite and positive;
    /// - the generator state is 4 words, not all zero (`SeededGenerator(validating:)`);
    /// - every `optimizer.<slot>.<parameter>` names a known slot and one of the model's
    ///   parameters, has that parameter's shape, holds finite values, and square averages
    ///   (`exp_avg_sq`, `square_avg`) are >= 0;
    /// - carried states `carried.h.l<k>` / `carried.c.l<k>` exist for every layer 0..<L when
    ///   any does, are [B, H] with finite values, and `c` is there exactly for LSTM;
    /// - the task position restores into (a copy of) the trainer's task.
    static func validateSidecar<Cell>(_ info: SidecarInfo, _ file: SafeTensorsFile, for trainer: Trainer<Cell>,
                                      path: String) throws(CheckpointError) {
        func fail(_ message: String) -> CheckpointError {
            CheckpointError(message + "; the training state is damaged or belongs to another run: use the state file written with this checkpoint, or start a new run from its weights",
                            path: path)
        }
        guard info.step >= 0, info.optimizerStep >= 0 else {
            throw fail("step \(info.step) and optimizer step \(info.optimizerStep) must be >= 0")
        }
        guard info.baseLearningRate.isFinite && info.baseLearningRate > 0 else {
            throw fail("the base learning rate \(info.baseLearningRate) is not a finite positive number")
        }
        do { _ = try SeededGenerator(validating: info.rng) } catch { throw fail("'rng': \(error)") }
        if let p = info.progress {
            guard p.sinceBest >= 0, p.plateau.badEvaluations >= 0, p.plateau.reductions >= 0 else {
                throw fail("the evaluation counts (\(p.sinceBest) since the best, \(p.plateau.badEvaluations) without improvement, \(p.plateau.reductions) reductions) must be >= 0")
            }
        }

        var parameters: [String: (rows: Int, cols: Int)] = [:]
        trainer.model.forEachParameter { _, name, m in parameters[name] = (m.rows, m.cols) }
        let layers = trainer.model.layers.count, hidden = trainer.model.hiddenSize
        var carried: [String: [Int]] = [:]   // "h.l0" -> shape
        for key in file.tensors.keys.sorted() where !key.hasPrefix(TrainingCheckpoint.modelPrefix) {  // the model snapshot is checked by Checkpoint.fill
            let tensor = file.tensors[key]!
            let parts = key.split(separator: ".", maxSplits: 2).map(String.init)
            let values: [Float]
            do { values = try tensor.floats() } catch { throw fail("tensor '\(key)' cannot be read as Float32 (\(error))") }
            let firstNonFinite = values.firstIndex { !$0.isFinite }
            if parts.count == 3, parts[0] == "optimizer" {
                guard let mustBeNonNegative = optimizerSlots[parts[1]] else {
                    throw fail("tensor '\(key)': '\(parts[1])' is not an optimizer buffer (expected one of \(optimizerSlots.keys.sorted().joined(separator: ", ")))")
                }
                guard let p = parameters[parts[2]] else {
                    throw fail("tensor '\(key)': the model has no parameter '\(parts[2])'")
                }
                let fits = tensor.shape == [p.rows, p.cols] || (tensor.shape == [p.rows * p.cols] && p.rows == 1)
                guard fits else { throw fail("tensor '\(key)' has shape \(tensor.shape), but \(parts[2]) is [\(p.rows), \(p.cols)]") }
                if let bad = firstNonFinite { throw fail("tensor '\(key)' holds \(values[bad]) at element \(bad); optimizer buffers must be finite") }
                if mustBeNonNegative, let bad = values.firstIndex(where: { $0 < 0 }) {
                    throw fail("tensor '\(key)' holds \(values[bad]) at element \(bad); a running average of squared gradients must be >= 0")
                }
            } else if parts.count == 3, parts[0] == "carried", parts[1] == "h" || parts[1] == "c",
                      parts[2].hasPrefix("l"), let l = Int(parts[2].dropFirst()), (0..<layers).contains(l) {
                guard parts[1] == "h" || Cell.hasMemory else {
                    throw fail("tensor '\(key)': a \(Cell.kind.rawValue) model carries no cell state c")
                }
                guard tensor.shape.count == 2, tensor.shape[0] >= 1, tensor.shape[1] == hidden else {
                    throw fail("tensor '\(key)' has shape \(tensor.shape), expected [B, \(hidden)] (B streams, H = \(hidden))")
                }
                if let bad = firstNonFinite { throw fail("tensor '\(key)' holds \(values[bad]) at element \(bad); a carried state must be finite") }
                carried["\(parts[1]).l\(l)"] = tensor.shape
            } else {
                throw fail("unexpected tensor '\(key)' (expected optimizer.<buffer>.<parameter>, or carried.h.l<k> / carried.c.l<k> with k < \(layers))")
            }
        }
        if !carried.isEmpty {
            let rows = carried["h.l0"]?[0]
            for l in 0..<layers {
                guard let h = carried["h.l\(l)"], h[0] == rows else {
                    throw fail("the carried state must hold carried.h.l<k> for every layer 0..<\(layers) with the same number of streams; layer \(l) is \(carried["h.l\(l)"].map { "\($0)" } ?? "missing")")
                }
                if Cell.hasMemory && carried["c.l\(l)"] != h {
                    throw fail("an LSTM's carried state needs carried.c.l\(l) of shape \(h) beside carried.h.l\(l); found \(carried["c.l\(l)"].map { "\($0)" } ?? "none")")
                }
            }
        }
        if let bad = info.taskPosition.first(where: { $0.key != "shuffleSeed" && $0.value < 0 }) {
            throw fail("the task position '\(bad.key)' = \(bad.value) is negative")
        }
        var task = trainer.task
        do { try task.restore(position: info.taskPosition) } catch let settings as ConfigurationError {
            // An intact state that this run's settings cannot continue (a run stopped inside a
            // batch, resumed with another truncation window): not damage, so no such advice.
            throw CheckpointError(settings.message, path: path, remedies: settings.remedies)
        } catch {
            throw fail("the task position \(info.taskPosition.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")) does not fit the task '\(task.name)': \(error)")
        }
    }
}
