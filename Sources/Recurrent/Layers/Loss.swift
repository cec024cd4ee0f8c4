/// What a loss compares the outputs with, row for row.
public enum LossTarget<Scalar: NeuralScalar>: Sendable, Equatable {
    /// One class id per output row; -1 means "no loss on this row".
    case classes([Int])
    /// One target vector per output row: [N, O].
    case values(Matrix<Scalar>)
    /// One target vector per output row [N, O], of which only the rows where `counted` [N]
    /// is true enter the loss (the steps of variable-length sequences; PyTorch's loss on
    /// the packed outputs).
    case valuesOnRows(Matrix<Scalar>, counted: [Bool])
}

/// The training objectives, PyTorch's definitions (mean reduction).
public enum Loss: String, Sendable, Codable, CaseIterable {
    /// Softmax cross-entropy, L = -(1/N) Σ_n log softmax(z_n)[y_n], N the number of
    /// rows with a class (rows with -1 are ignored, like `ignore_index`).
    /// dL/dz_n = (softmax(z_n) - onehot(y_n)) / N.
    case crossEntropy = "cross_entropy"
    /// Mean squared error, L = (1/(N O)) Σ (z - y)^2; dL/dz = 2 (z - y) / (N O).
    case meanSquaredError = "mse"

    /// The loss (accumulated in Double) and its gradient with respect to `outputs` [N, O].
    public func evaluate<T: NeuralScalar>(_ outputs: Matrix<T>, _ target: LossTarget<T>) throws(ConfigurationError)
        -> (value: Double, gradient: Matrix<T>) {
        var gradient = outputs.zerosLike
        switch (self, target) {
        case (.crossEntropy, .classes(let labels)):
            guard labels.count == outputs.rows else {
                throw ConfigurationError("cross-entropy: \(labels.count) class ids for \(outputs.rows) output rows")
            }
            let counted = labels.filter { $0 >= 0 }.count
            if counted == 0 { return (0, gradient) }
            var total = 0.0
            let scale = 1 / Double(counted)
            for (r, label) in labels.enumerated() where label >= 0 {
                guard label < outputs.cols else {
                    throw ConfigurationError("cross-entropy: class id \(label) at row \(r) is outside 0..<\(outputs.cols); the model has \(outputs.cols) outputs")
                }
                let row = outputs.row(r).map(Double.init)
                let m = row.max() ?? 0
                let exps = row.map { Double.exp($0 - m) }
                let sum = exps.reduce(0, +)
                total += -(row[label] - m - Double.log(sum))
                for c in 0..<outputs.cols {
                    let p = exps[c] / sum
                    gradient[r, c] = T((p - (c == label ? 1 : 0)) * scale)
                }
            }
            return (total * scale, gradient)
        case (.meanSquaredError, .values(let y)):
            guard y.rows == outputs.rows && y.cols == outputs.cols else {
                throw ConfigurationError("mse: targets \(y.shape) do not match outputs \(outputs.shape)")
            }
            let n = Double(max(1, outputs.count))
            var total = 0.0
            for i in outputs.storage.indices {
                let d = Double(outputs.storage[i]) - Double(y.storage[i])
                total += d * d
                gradient.storage[i] = T(2 * d / n)
            }
            return (total / n, gradient)
        case (.meanSquaredError, .valuesOnRows(let y, let counted)):
            // L = (1/(N' O)) Σ over counted rows (z - y)^2, N' the counted rows; 0 elsewhere.
            guard y.rows == outputs.rows && y.cols == outputs.cols && counted.count == outputs.rows else {
                throw ConfigurationError("mse: targets \(y.shape) (\(counted.count) rows counted or not) do not match outputs \(outputs.shape)")
            }
            let n = Double(max(1, counted.filter { $0 }.count * outputs.cols))
            var total = 0.0
            for r in 0..<outputs.rows where counted[r] {
                for c in 0..<outputs.cols {
                    let d = Double(outputs[r, c]) - Double(y[r, c])
                    total += d * d
                    gradient[r, c] = T(2 * d / n)
                }
            }
            return (total / n, gradient)
        case (.crossEntropy, .values), (.crossEntropy, .valuesOnRows):
            throw ConfigurationError("cross-entropy needs class ids as targets, got values; use mse for regression")
        case (.meanSquaredError, .classes):
            throw ConfigurationError("mse needs value targets, got class ids; use cross-entropy for classification")
        }
    }

    /// Fraction of counted rows whose largest output is the target class (cross-entropy
    /// only; nil for mse). The largest is PyTorch's `argmax`: a row with a NaN picks the
    /// NaN's index.
    public func accuracy<T: NeuralScalar>(_ outputs: Matrix<T>, _ target: LossTarget<T>) -> Double? {
        guard case .classes(let labels) = target, self == .crossEntropy else { return nil }
        var correct = 0, counted = 0
        for (r, label) in labels.enumerated() where label >= 0 {
            counted += 1
            if outputs.row(r).argmax() == label { correct += 1 }
        }
        return counted == 0 ? nil : Double(correct) / Double(counted)
    }
}
