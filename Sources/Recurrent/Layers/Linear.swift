/// A fully connected layer y = x Wᵀ + b (PyTorch `nn.Linear`): the readout head.
public struct Linear<Scalar: NeuralScalar>: Sendable, Equatable {
    /// `head.weight`: [O, H]
    public var weight: Matrix<Scalar>
    /// `head.bias`: [1, O]
    public var bias: Matrix<Scalar>

    public init(weight: Matrix<Scalar>, bias: Matrix<Scalar>) {
        precondition(bias.rows == 1 && bias.cols == weight.rows, "Linear: bias must be [1, \(weight.rows)], got \(bias.shape)")
        self.weight = weight
        self.bias = bias
    }

    /// PyTorch's default initialisation: weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)).
    public init(inputSize: Int, outputSize: Int, using rng: inout some RandomNumberGenerator) {
        let bound = 1 / Double(max(1, inputSize)).squareRoot()
        weight = Initializer.uniform(bound: bound).matrix(rows: outputSize, cols: inputSize, using: &rng)
        bias = Initializer.uniform(bound: bound).matrix(rows: 1, cols: outputSize, using: &rng)
    }

    public var inputSize: Int { weight.cols }
    public var outputSize: Int { weight.rows }
    public var zerosLike: Linear { Linear(weight: weight.zerosLike, bias: bias.zerosLike) }

    // MARK: - Forward

    /// y = x Wᵀ + b: [N, H] -> [N, O].
    public func forward(_ x: Matrix<Scalar>) -> Matrix<Scalar> {
        var y = Matrix.product(x, weight, transposeB: true)
        y.storage.withUnsafeMutableBufferPointer { yp in
            bias.storage.withUnsafeBufferPointer { bp in
                if let y0 = yp.baseAddress, let b0 = bp.baseAddress {
                    Kernels.addRowVector(b0, to: y0, rows: x.rows, cols: outputSize)
                }
            }
        }
        return y
    }

    // MARK: - Backward (mirror order)

    /// Given dL/dy [N, O]: accumulates dW += dyᵀ x and db += Σ dy into `gradients`
    /// and returns dL/dx = dy W [N, H].
    public func backward(_ x: Matrix<Scalar>, outputGradient dy: Matrix<Scalar>, into gradients: inout Linear) -> Matrix<Scalar> {
        let dW = Matrix.product(dy, x, transposeA: true)
        for i in dW.storage.indices { gradients.weight.storage[i] += dW.storage[i] }
        for r in 0..<dy.rows { for c in 0..<dy.cols { gradients.bias.storage[c] += dy[r, c] } }
        return Matrix.product(dy, weight)
    }
}
