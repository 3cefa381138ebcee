/// What data-parallel training does to a network's replicas: every rank runs forward and
/// backward on its shard of the global batch, the BatchNorm layers share their batch statistics
/// (`shareBatchStatistics`), and the gradients are summed over the ranks before the optimiser
/// step (`sumGradients`). With per-sample loss weights that already divide by the global batch,
/// the sum is the gradient of the global batch, so every rank takes the step one process would.
extension Network {
    /// Makes every BatchNorm layer compute its batch statistics over the ranks of `group` (nil:
    /// over this process's batch alone).
    public func shareBatchStatistics(_ group: (any Collective)?) {
        for (_, bn) in batchNorms { bn.collective = group }
    }

    /// Sums every parameter's gradient over the ranks, through one buffer (`scratch`, reused):
    /// one allreduce of 4 bytes per parameter per step.
    public func sumGradients(_ group: any Collective, scratch: inout [Float]) {
        guard group.isDistributed else { return }
        let params = parameters.map(\.1)
        let total = params.reduce(0) { $0 + $1.grad.count }
        if scratch.count != total { scratch = [Float](repeating: 0, count: total) }
        scratch.withUnsafeMutableBufferPointer { buf in
            var at = 0
            for p in params { (buf.baseAddress! + at).update(from: p.grad.data, count: p.grad.count); at += p.grad.count }
            group.sum(buf)
            at = 0
            for p in params { p.grad.data.update(from: buf.baseAddress! + at, count: p.grad.count); at += p.grad.count }
        }
    }

    /// Copies rank 0's parameters, momentum buffers and BatchNorm statistics to every rank. The
    /// replicas already agree when every rank received the same sums; this keeps them equal
    /// whatever the MPI library's reduction order.
    public func broadcastState(_ group: any Collective) {
        guard group.isDistributed else { return }
        var tensors = parameters.map(\.1.value) + buffers.map(\.1)
        tensors += parameters.compactMap(\.1.momentum)
        for t in tensors { group.broadcast(UnsafeMutableRawBufferPointer(t.buffer)) }
    }
}

extension Tensor {
    /// Copies samples `rows` (along the first dimension) of `source` into this tensor.
    public func copy(rows: Range<Int>, of source: Tensor) {
        var shape = source.shape
        shape[0] = rows.count
        reshape(to: shape)
        let size = source.sampleSize
        data.update(from: source.data + rows.lowerBound * size, count: rows.count * size)
    }
}
