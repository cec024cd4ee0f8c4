import Foundation
import Recurrent

/// Reading the `inputs` [N, T, I] that `predict` runs the model on (training data is
/// read by `TaskSpec.loadTensors`).
enum TensorData {
    /// The `inputs` tensor [N, T, I] of a .safetensors or .npy file (`predict`).
    static func inputs(_ path: String) throws -> (values: [Float], n: Int, t: Int, i: Int) {
        let array: NDArray
        if path.hasSuffix(".npy") {
            array = try NumPy.read(path: path)
        } else if path.hasSuffix(".safetensors") {
            array = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: path)).array("inputs", path: path)
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
}
