/// Fully connected layer: y (N, out) = x (N, in) * W^T + b, with W (out, in) as in `nn.Linear`.
public final class Linear: Layer {
    public let name: String
    public let inFeatures, outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter
    private var input: Tensor?
    private let out = Tensor(shape: [0]), dx = Tensor(shape: [0])

    public init(name: String, inFeatures: Int, outFeatures: Int) {
        self.name = name
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Parameter(shape: [outFeatures, inFeatures])
        bias = Parameter(shape: [outFeatures])
    }

    public func parameters(prefix: String) -> [(String, Parameter)] { [(prefix + "weight", weight), (prefix + "bias", bias)] }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard x.shape.count == 2, x.shape[1] == inFeatures else {
            throw ABLNetError.shapeMismatch(layer: name, expected: "(N, \(inFeatures))", got: x.shape)
        }
        guard x.shape[0] > 0 else { throw ABLNetError.emptyBatch(name) }
        input = x
        let n = x.shape[0]
        out.reshape(to: [n, outFeatures])
        for i in 0..<n { (out.data + i * outFeatures).update(from: bias.value.data, count: outFeatures) }
        BLAS.sgemm(transB: true, m: n, n: outFeatures, k: inFeatures, a: x.data, lda: inFeatures,
                   b: weight.value.data, ldb: inFeatures, beta: 1, c: out.data, ldc: outFeatures)
        return out
    }

    public func backward(_ dy: Tensor) throws -> Tensor {
        guard let x = input, dy.shape == out.shape else {
            throw ABLNetError.shapeMismatch(layer: name + " (backward)", expected: "\(out.shape)", got: dy.shape)
        }
        let n = x.shape[0]
        // dW (out x in) = dy^T (out x N) * x (N x in); db = Σ_n dy; dx (N x in) = dy * W
        BLAS.sgemm(transA: true, m: outFeatures, n: inFeatures, k: n, a: dy.data, lda: outFeatures, b: x.data, ldb: inFeatures,
                   c: weight.grad.data, ldc: inFeatures)
        for o in 0..<outFeatures {
            var s: Float = 0
            for i in 0..<n { s += dy.data[i * outFeatures + o] }
            bias.grad.data[o] = s
        }
        dx.reshape(to: x.shape)
        BLAS.sgemm(m: n, n: inFeatures, k: outFeatures, a: dy.data, lda: outFeatures, b: weight.value.data, ldb: inFeatures,
                   c: dx.data, ldc: inFeatures)
        return dx
    }
}
