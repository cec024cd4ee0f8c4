// MARK: - A checkpoint's configuration checked against its own tensors

extension Checkpoint {
    /// Throws unless `configuration` is possible and every tensor it implies is in `file`
    /// with the shape it implies (and no other tensor is), so that sizes from metadata are
    /// never trusted before the file's own tensors confirm them: a 2.5 kB file whose
    /// metadata says H = 100000 is refused here instead of building an 80 GB model.
    ///
    /// Shapes accepted are those `fill` accepts: [rows, cols], or [rows * cols] for a
    /// parameter with one row or column (PyTorch's 1-D biases and IndRNN's u).
    public static func checkTensors(of configuration: ModelConfiguration, in file: SafeTensorsFile) throws(CheckpointError) {
        do { try configuration.validate() } catch {
            throw CheckpointError("the stored model configuration is impossible: \(error.message)")
        }
        var missing: [String] = [], wrong: [String] = []
        let expected = configuration.parameterShapes
        for (name, rows, cols, vector) in expected {
            guard let tensor = file.tensors[name] else { missing.append(name); continue }
            if !CellTensor.fileShapeFits(tensor.shape, rows: rows, cols: cols) {
                wrong.append("\(name) is \(tensor.shape), expected \(vector ? [rows * cols] : [rows, cols])")
            }
        }
        let names = Set(expected.map(\.name))
        let unexpected = file.tensors.keys.filter { !names.contains($0) }.sorted()
        guard missing.isEmpty && wrong.isEmpty && unexpected.isEmpty else {
            var problems: [String] = []
            if !missing.isEmpty { problems.append("missing tensors: \(missing.joined(separator: ", "))") }
            if !unexpected.isEmpty { problems.append("unexpected tensors: \(unexpected.joined(separator: ", "))") }
            if !wrong.isEmpty { problems.append("wrong shapes: \(wrong.joined(separator: "; "))") }
            let c = configuration, model = "a \(c.layers)-layer \(c.cell.rawValue) model with I=\(c.inputSize), H=\(c.hiddenSize), O=\(c.outputs)"
            if file.metadata[configurationKey] != nil {
                throw CheckpointError("the metadata describes \(model), but the tensors do not match it: " + problems.joined(separator: "; ")
                    + ". The file is inconsistent: remove the metadata '\(configurationKey)' to infer the model from the tensor shapes, or save the file again")
            }
            throw CheckpointError("the tensors do not form one model (read as \(model) from the layer-0 tensors and head.weight): "
                + problems.joined(separator: "; ") + ". Save the file from Model(rnn=nn.RNN/LSTM/GRU(...), head=nn.Linear(...)).state_dict()")
        }
    }
}
