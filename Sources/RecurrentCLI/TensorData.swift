import Foundation
import Recurrent

/// Reading a user's tensors: `inputs` [N, T, I] (and `targets`) from a .safetensors file,
/// a .npy file, or a directory holding `inputs.npy` and `targets.npy`.
enum TensorData {
    /// The training data of `--task tensors`.
    static func load(_ path: String) throws -> SequenceDataset<Float> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(.fileNotFound, "no such file or directory", path: path,
                            fix: "pass a .safetensors file with tensors 'inputs' and 'targets', or a directory holding inputs.npy and targets.npy")
        }
        if isDirectory.boolValue {
            let inputs = path + "/inputs.npy", targets = path + "/targets.npy"
            return try SequenceDataset.load(inputs: inputs, targets: targets)
        }
        guard path.hasSuffix(".safetensors") else {
            throw DataError(.unsupported, "tensors come as a .safetensors file or a directory of .npy files", path: path,
                            fix: "save {'inputs': x, 'targets': y} with safetensors, or put inputs.npy and targets.npy in one directory")
        }
        let file = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: path))
        return try SequenceDataset(inputs: try array(file, "inputs", path), targets: try array(file, "targets", path),
                                   inputsPath: "\(path) (tensor 'inputs')", targetsPath: "\(path) (tensor 'targets')")
    }

    /// The `inputs` tensor [N, T, I] of a .safetensors or .npy file (`predict`).
    static func inputs(_ path: String) throws -> (values: [Float], n: Int, t: Int, i: Int) {
        let array: NumPyArray
        if path.hasSuffix(".npy") {
            array = try NumPy.read(path: path)
        } else if path.hasSuffix(".safetensors") {
            array = try self.array(try SafeTensorsFile(contentsOf: URL(fileURLWithPath: path)), "inputs", path)
        } else {
            throw DataError(.unsupported, "inputs come as a .safetensors file (tensor 'inputs') or a .npy file", path: path,
                            fix: "save the inputs [N, T, I] with safetensors or numpy.save")
        }
        guard array.shape.count == 3, array.shape.allSatisfy({ $0 > 0 }) else {
            throw DataError(.malformed, "inputs must have shape [N, T, I] with no empty dimension, found \(array.shape)", path: path,
                            fix: "reshape to [sequences, steps, features], e.g. x[None] for one sequence or x[:, :, None] for one feature")
        }
        let values: [Float] = array.scalars()
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw DataError(.malformed, "inputs contain a non-finite value", path: path,
                            recordIndex: bad / (array.shape[1] * array.shape[2]), fix: "replace NaN/infinite values")
        }
        return (values, array.shape[0], array.shape[1], array.shape[2])
    }

    /// A safetensors tensor as a NumPy-style array (floats stay floats, integers become Int64).
    static func array(_ file: SafeTensorsFile, _ name: String, _ path: String) throws -> NumPyArray {
        guard let tensor = file.tensors[name] else {
            throw DataError(.malformed, "no tensor '\(name)' (found: \(file.tensors.keys.sorted().joined(separator: ", ")))", path: path,
                            fix: "save the tensors under the names 'inputs' [N, T, I] and 'targets'")
        }
        if tensor.dtype.isInteger {
            return try NumPyArray(shape: tensor.shape, elements: .int64(try tensor.int64s()))
        }
        if tensor.dtype == .f64 { return try NumPyArray(shape: tensor.shape, elements: .float64(try tensor.doubles())) }
        return try NumPyArray(shape: tensor.shape, elements: .float32(try tensor.floats()))
    }
}
