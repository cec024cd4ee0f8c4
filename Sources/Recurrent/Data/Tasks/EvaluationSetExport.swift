import Foundation

// MARK: - A task's evaluation sets as files
//
// What a run evaluates on, written out so that another framework can evaluate on the very same
// tensors (benchmarks/torch_time_to_solve.py reads them): one safetensors file per split in the
// `tensors` task's own form, so `--task tensors --data FILE` reads it back:
//
//   inputs   F32 [N, T, I]
//   targets  I64 [N] (classes) or [N, T] (a class per step, -1 = no loss), or F32 [N, O] / [N, T, O]
//   lengths  I64 [N], only when the sequences differ in length
//
// and the task's spec (JSON) and the split's name in the metadata (`recurrent.task`, `recurrent.split`).

extension TrainingTask {
    /// The whole evaluation split `split` as one data set: exactly the sequences, in the order,
    /// that `evaluationBatches(split, batchSize:)` hands the evaluator.
    ///
    /// - Throws: `ConfigurationError` when the task has no such split, or carries its state from
    ///   one batch to the next (charlm, truncated BPTT): its evaluation is a stream, not a set.
    public func evaluationSet(_ split: EvaluationSplit) throws -> SequenceDataset<Float> {
        guard !carriesState else {
            throw ConfigurationError("the \(name) task evaluates a stream whose state is carried from one window to the next; "
                                     + "its evaluation data cannot be written as a set of sequences")
        }
        guard evaluationSplits.contains(split) else {
            throw ConfigurationError("the \(name) task has no \(split == .validation ? "validation" : "test") split "
                                     + "(it has: \(evaluationSplits.map(\.rawValue).joined(separator: ", ")))")
        }
        let batches = try evaluationBatches(split, batchSize: Swift.max(1, evaluationSequences))
        guard let first = batches.first else { throw ConfigurationError("the \(name) task's \(split.rawValue) split is empty") }
        var values: [Float] = []
        var lengths: [Int] = []
        var targets = first.targets
        for (k, b) in batches.enumerated() {
            values += b.inputs.values                                  // [B, T, I] each
            lengths += (0..<b.inputs.batch).map(b.inputs.length)
            if k > 0 { targets = targets.appending(b.targets) }
        }
        let count = lengths.count
        let joined = SequenceBatch(batch: count, steps: first.inputs.steps, features: first.inputs.features, values: values,
                                   lengths: lengths.contains { $0 != first.inputs.steps } ? lengths : nil)
        return SequenceDataset(batch: joined, targets: targets)
    }
}

extension Targets {
    /// These targets followed by `other`'s (the same form).
    func appending(_ other: Targets) -> Targets {
        switch (self, other) {
        case (.classes(let a), .classes(let b)): return .classes(a + b)
        case (.classesPerStep(let a), .classesPerStep(let b)): return .classesPerStep(a + b)
        case (.values(let a, let c), .values(let b, _)): return .values(a + b, columns: c)
        case (.valuesPerStep(let a, let c), .valuesPerStep(let b, _)): return .valuesPerStep(a + b, columns: c)
        default: preconditionFailure("targets of one split come in one form")
        }
    }
}

extension SequenceDataset where Scalar == Float {
    /// The data set in the `tensors` task's safetensors form (see the top of this file).
    public func safeTensors(metadata: [String: String] = [:]) -> SafeTensorsFile {
        var tensors = ["inputs": SafeTensor(floats: inputs, shape: [count, steps, features])]
        switch targets {
        case .classes(let ids): tensors["targets"] = SafeTensor(int64s: ids.map(Int64.init), shape: [count])
        case .classesPerStep(let ids): tensors["targets"] = SafeTensor(int64s: ids.map(Int64.init), shape: [count, steps])
        case .values(let v, let c): tensors["targets"] = SafeTensor(floats: v, shape: [count, c])
        case .valuesPerStep(let v, let c): tensors["targets"] = SafeTensor(floats: v, shape: [count, steps, c])
        }
        if let lengths { tensors["lengths"] = SafeTensor(int64s: lengths.map(Int64.init), shape: [count]) }
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }
}

extension TaskSpec {
    /// Builds the task and writes each of its evaluation splits to `directory/SPLIT.safetensors`
    /// (`val`, `test`), creating the folder. Returns the files written and their sequence counts.
    public func exportEvaluationSets(to directory: URL) throws -> [(split: EvaluationSplit, path: String, sequences: Int)] {
        let task = try makeTask()
        let sets = try task.evaluationSplits.map { ($0, try task.evaluationSet($0)) }   // every check before any file
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw DataError(.io, "cannot create the folder (\(error.localizedDescription))", path: directory.path,
                            fix: "give a writable folder")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let spec = String(decoding: try encoder.encode(resolved()), as: UTF8.self)
        return try sets.map { split, set in
            let url = directory.appendingPathComponent("\(split.rawValue).safetensors")
            try set.safeTensors(metadata: ["recurrent.task": spec, "recurrent.split": split.rawValue]).write(to: url)
            return (split, url.path, set.count)
        }
    }
}
