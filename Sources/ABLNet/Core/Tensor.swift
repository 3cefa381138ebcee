/// A Float32 tensor on the CPU: a shape and an owned, reusable buffer.
///
/// Images are NCHW. `reshape(to:)` keeps the allocation when the new element count fits, so a
/// layer that owns its output tensor allocates once and reuses it every step.
public final class Tensor: @unchecked Sendable {
    public private(set) var shape: [Int]
    public private(set) var count: Int
    public private(set) var data: UnsafeMutablePointer<Float>
    private var capacity: Int

    public init(shape: [Int]) {
        self.shape = shape
        count = shape.reduce(1, *)
        capacity = max(count, 1)
        data = .allocate(capacity: capacity)
        data.initialize(repeating: 0, count: capacity)
    }

    public convenience init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "Tensor(values:): \(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    deinit { data.deallocate() }

    /// Changes the shape; grows the buffer only when needed (contents are then undefined).
    public func reshape(to newShape: [Int]) {
        let n = newShape.reduce(1, *)
        if n > capacity {
            data.deallocate()
            capacity = n
            data = .allocate(capacity: n)
            data.initialize(repeating: 0, count: n)
        }
        shape = newShape
        count = n
    }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: data, count: count) }
    public var array: [Float] { Array(buffer) }
    public func zero() { data.update(repeating: 0, count: count) }

    public subscript(i: Int) -> Float {
        get { data[i] }
        set { data[i] = newValue }
    }

    /// Batch size (first dimension).
    public var n: Int { shape[0] }
    /// Elements per sample.
    public var sampleSize: Int { shape.count > 1 ? shape.dropFirst().reduce(1, *) : 1 }

    /// Copies another tensor's shape and values.
    public func copy(from other: Tensor) {
        reshape(to: other.shape)
        data.update(from: other.data, count: count)
    }

    public func copy() -> Tensor {
        let t = Tensor(shape: shape)
        t.data.update(from: data, count: count)
        return t
    }
}

/// A trainable tensor with its gradient and its optimiser state.
public final class Parameter: @unchecked Sendable {
    public let value: Tensor
    public let grad: Tensor
    /// SGD momentum buffer (allocated by the optimiser on first use).
    public var momentum: Tensor?

    public init(shape: [Int]) {
        value = Tensor(shape: shape)
        grad = Tensor(shape: shape)
    }
}
