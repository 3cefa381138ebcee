/// The input gradient of the stride-2, padding-1 3x3 convolution on direct kernels.
///
///     dx[ci, i, j] = Σ_co Σ_{ky, kx : i = 2r + ky - 1, j = 2c + kx - 1} w[co, ci, ky, kx] * dy[co, r, c]
///
/// An even row i = 2a is reached only through ky = 1 (r = a); an odd row i = 2a + 1 through
/// ky = 0 (r = a + 1) and ky = 2 (r = a); columns alike. So each of the four parity classes
/// (i mod 2, j mod 2) of dx is a small correlation of dy with 1, 2 or 4 of the taps,
///
///     dx[ci, 2a + pi, 2b + pj] = Σ_co Σ_{(ky, dr) ∈ K(pi)} Σ_{(kx, dc) ∈ K(pj)} w[co, ci, ky, kx] * dy[co, a + dr, b + dc]
///
/// with K(0) = {(1, 0)} and K(1) = {(0, 1), (2, 0)}: 9 taps over the four classes, the FLOPs of
/// the forward. dy is read padded as for the stride-1 kernels (`Layout.outputLayout`), whose zero
/// bottom row and right column stand for the r = a + 1 and c = b + 1 taps past the edge. The
/// register blocking is the forward kernel's: 4 input channels x 3 vectors of 8 outputs.
extension Conv3x3Direct {
    /// One parity class of dx and its taps (ky, kx, dr, dc).
    struct ParityClass: Sendable {
        let pi, pj: Int
        let taps: [(ky: Int, kx: Int, dr: Int, dc: Int)]

        static let all: [ParityClass] = {
            let k: [[(Int, Int)]] = [[(1, 0)], [(0, 1), (2, 0)]]   // (kernel offset, dy offset) by parity
            var out: [ParityClass] = []
            for pi in 0..<2 { for pj in 0..<2 {
                var taps: [(ky: Int, kx: Int, dr: Int, dc: Int)] = []
                for (ky, dr) in k[pi] { for (kx, dc) in k[pj] { taps.append((ky, kx, dr, dc)) } }
                out.append(ParityClass(pi: pi, pj: pj, taps: taps))
            } }
            return out
        }()
    }

    /// Packs one class's weights as (cin/4, cout, taps, 4): 4 input channels side by side.
    static func packParity(_ w: UnsafePointer<Float>, cout: Int, cin: Int, _ cls: ParityClass, into p: UnsafeMutablePointer<Float>) {
        let t = cls.taps.count
        for ci in 0..<cin { for co in 0..<cout { for (k, tap) in cls.taps.enumerated() {
            p[(((ci / 4) * cout + co) * t + k) * 4 + ci % 4] = w[(co * cin + ci) * 9 + tap.ky * 3 + tap.kx]
        } } }
    }

    /// One parity class of dx (images, cin, h, w) from dyp (images, cout padded planes in
    /// `out`, the stride-1 layout of dy) and the class's packed weights `wp`. Needs cin % 4 == 0.
    static func inputGradientStride2(dyp: UnsafePointer<Float>, cout: Int, out: Layout, images: Int, _ cls: ParityClass,
                                     wp: UnsafePointer<Float>, cin: Int, h: Int, w: Int, dx: UnsafeMutablePointer<Float>) {
        let ha = (h - cls.pi + 1) / 2, wb = (w - cls.pj + 1) / 2   // the class's grid
        guard ha > 0, wb > 0 else { return }
        let nv = (wb + 7) / 8, perImage = ha * nv, slots = images * perImage
        let plane = out.plane, pw = out.rowStep, hw = h * w, t = cls.taps.count
        let raw = UnsafeRawPointer(dyp)
        // tap offsets from dy[co, a, b] in the padded plane
        let offsets = cls.taps.map { $0.dr * pw + $0.dc }
        offsets.withUnsafeBufferPointer { tapOffset in
            // offset of dy[0, a, b0] (padded: row a + 1, column b0 + 1) of a slot's image
            @inline(__always) func input(_ slot: Int) -> Int {
                let img = slot / perImage, rem = slot % perImage
                return img * cout * plane + (rem / nv + 1) * pw + (rem % nv) * 8 + 1
            }
            for cb in 0..<(cin / 4) {
                let wb0 = wp + cb * cout * t * 4
                var s = 0
                while s < slots {
                    let s1 = min(s + 1, slots - 1), s2 = min(s + 2, slots - 1)
                    let o0 = input(s), o1 = input(s1), o2 = input(s2)
                    var a00 = V(), a01 = V(), a02 = V()   // input channel 0 of the block, vectors 0, 1, 2
                    var a10 = V(), a11 = V(), a12 = V()
                    var a20 = V(), a21 = V(), a22 = V()
                    var a30 = V(), a31 = V(), a32 = V()
                    for co in 0..<cout {
                        let wc = wb0 + co * t * 4, base = co &* plane
                        for k in 0..<t {
                            let r = base &+ tapOffset[k]
                            let v0 = raw.loadUnaligned(fromByteOffset: (o0 &+ r) &* 4, as: V.self)
                            let v1 = raw.loadUnaligned(fromByteOffset: (o1 &+ r) &* 4, as: V.self)
                            let v2 = raw.loadUnaligned(fromByteOffset: (o2 &+ r) &* 4, as: V.self)
                            let wt = wc + k * 4
                            let w0 = V(repeating: wt[0]), w1 = V(repeating: wt[1])
                            let w2 = V(repeating: wt[2]), w3 = V(repeating: wt[3])
                            a00 = a00.addingProduct(v0, w0); a01 = a01.addingProduct(v1, w0); a02 = a02.addingProduct(v2, w0)
                            a10 = a10.addingProduct(v0, w1); a11 = a11.addingProduct(v1, w1); a12 = a12.addingProduct(v2, w1)
                            a20 = a20.addingProduct(v0, w2); a21 = a21.addingProduct(v1, w2); a22 = a22.addingProduct(v2, w2)
                            a30 = a30.addingProduct(v0, w3); a31 = a31.addingProduct(v1, w3); a32 = a32.addingProduct(v2, w3)
                        }
                    }
                    // lane l of a vector is dx[ci, 2a + pi, 2(b0 + l) + pj]: every other column
                    @inline(__always) func put(_ slot: Int, _ c0: V, _ c1: V, _ c2: V, _ c3: V) {
                        let img = slot / perImage, rem = slot % perImage
                        let b0 = (rem % nv) * 8, n = min(8, wb - b0)
                        let d = dx + (img * cin + cb * 4) * hw + (2 * (rem / nv) + cls.pi) * w + 2 * b0 + cls.pj
                        for l in 0..<n {
                            d[2 * l] = c0[l]; d[hw + 2 * l] = c1[l]; d[2 * hw + 2 * l] = c2[l]; d[3 * hw + 2 * l] = c3[l]
                        }
                    }
                    put(s, a00, a10, a20, a30)
                    put(s1, a01, a11, a21, a31)
                    put(s2, a02, a12, a22, a32)
                    s += 3
                }
            }
        }
    }
}
