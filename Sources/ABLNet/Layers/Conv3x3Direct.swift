/// Direct kernels for the 3x3, stride-1, padding-1 convolution, one image at a time, with no
/// im2col and no BLAS call: most of WRN's and PreAct-ResNet's FLOPs are in this one shape.
///
/// Padded planes: an input x (C, H, W) is copied into `xp` (C, H+2, pw) with a zero border, where
/// `pw = 8*nv + 2` and `nv = ceil(W/8)` is the number of 8-wide vectors per output row; the
/// columns past W+1 are zero too, so a vector that hangs over the right edge reads zeros.
/// Then y[co, r, c] = Σ_ci Σ_ky Σ_kx w[co, ci, ky, kx] * xp[ci, r + ky, c + kx].
///
/// Register blocking (AVX2, 16 vector registers): 4 output channels x 3 output vectors = 12
/// accumulators; per (ci, ky, kx) 3 vector loads, 4 broadcasts and 12 FMAs.
///
/// The input gradient is the same correlation of the padded dy with the weights flipped in
/// space and with in/out channels swapped (`packTransposed`), so `forward` computes it too.
/// The weight gradient `weightGradient` correlates the padded dy with the padded x.
enum Conv3x3Direct {
    typealias V = SIMD8<Float>

    /// Output vectors per row.
    @inline(__always) static func vectorsPerRow(_ w: Int) -> Int { (w + 7) / 8 }
    /// Row length of a padded plane.
    @inline(__always) static func paddedWidth(_ w: Int) -> Int { 8 * vectorsPerRow(w) + 2 }
    /// Floats in one padded plane.
    @inline(__always) static func paddedPlane(_ h: Int, _ w: Int) -> Int { (h + 2) * paddedWidth(w) }

    /// The shapes these kernels take: 3x3, stride 1, padding 1, output channels a multiple of 4.
    static func applies(kernel: Int, stride: Int, padding: Int, outChannels: Int) -> Bool {
        kernel == 3 && stride == 1 && padding == 1 && outChannels % 4 == 0
    }

    /// xp (c, h+2, pw) = x (c, h, w) with a zero border and zero right overhang.
    static func pad(_ x: UnsafePointer<Float>, channels c: Int, _ h: Int, _ w: Int, into xp: UnsafeMutablePointer<Float>) {
        let pw = paddedWidth(w), plane = (h + 2) * pw
        for ch in 0..<c {
            let dst = xp + ch * plane, src = x + ch * h * w
            dst.update(repeating: 0, count: pw)                       // top border row
            (dst + (h + 1) * pw).update(repeating: 0, count: pw)      // bottom border row
            for r in 0..<h {
                let row = dst + (r + 1) * pw
                row[0] = 0
                (row + 1).update(from: src + r * w, count: w)
                (row + 1 + w).update(repeating: 0, count: pw - 1 - w)
            }
        }
    }

    /// Packs w (cout, cin, 3, 3) as (cout/4, cin, 9, 4): the 4 output channels of a block side by side.
    static func pack(_ w: UnsafePointer<Float>, cout: Int, cin: Int, into p: UnsafeMutablePointer<Float>) {
        for co in 0..<cout { for ci in 0..<cin { for t in 0..<9 {
            p[(((co / 4) * cin + ci) * 9 + t) * 4 + co % 4] = w[(co * cin + ci) * 9 + t]
        } } }
    }

    /// Packs the weights of the input gradient: w'[ci, co, t] = w[co, ci, 8 - t] (flipped taps,
    /// channels swapped), as (cin/4, cout, 9, 4). Needs cin % 4 == 0.
    static func packTransposed(_ w: UnsafePointer<Float>, cout: Int, cin: Int, into p: UnsafeMutablePointer<Float>) {
        for ci in 0..<cin { for co in 0..<cout { for t in 0..<9 {
            p[(((ci / 4) * cout + co) * 9 + t) * 4 + ci % 4] = w[(co * cin + ci) * 9 + 8 - t]
        } } }
    }

    /// Stores the first n lanes of v at dst.
    @inline(__always)
    static func store(_ v: V, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        if n >= 8 {
            UnsafeMutableRawPointer(dst).storeBytes(of: v, as: V.self)
        } else {
            for i in 0..<n { dst[i] = v[i] }
        }
    }

    /// y (images, cout, h, w) = correlation of xp (images, cin, h+2, pw) with the packed weights
    /// `wp` (cout/4, cin, 9, 4). Output vectors are taken 3 at a time over the flattened
    /// (image, row, vector) index, so small planes (an 8x8 or 7x7 map is 8 or 7 vectors) fill
    /// whole tiles across images; the last tile repeats the last vector, which stores the same
    /// values twice.
    static func forward(xp: UnsafePointer<Float>, cin: Int, h: Int, w: Int, images: Int,
                        wp: UnsafePointer<Float>, cout: Int, y: UnsafeMutablePointer<Float>) {
        let nv = vectorsPerRow(w), pw = paddedWidth(w), plane = (h + 2) * pw, hw = h * w
        let perImage = h * nv, slots = images * perImage
        let raw = UnsafeRawPointer(xp)
        // padded offset of a vector's top-left tap, and where its output row segment starts
        @inline(__always) func input(_ slot: Int) -> Int {
            let img = slot / perImage, rem = slot % perImage
            return img * cin * plane + (rem / nv) * pw + (rem % nv) * 8
        }
        for cb in 0..<(cout / 4) {
            let wb = wp + cb * cin * 36
            var s = 0
            while s < slots {
                let s1 = min(s + 1, slots - 1), s2 = min(s + 2, slots - 1)
                let o0 = input(s), o1 = input(s1), o2 = input(s2)
                var a00 = V(), a01 = V(), a02 = V()   // channel 0 of the block, vectors 0, 1, 2
                var a10 = V(), a11 = V(), a12 = V()
                var a20 = V(), a21 = V(), a22 = V()
                var a30 = V(), a31 = V(), a32 = V()
                for ci in 0..<cin {
                    let wc = wb + ci * 36
                    for ky in 0..<3 {
                        let r = ci &* plane &+ ky &* pw
                        for kx in 0..<3 {
                            let v0 = raw.loadUnaligned(fromByteOffset: (o0 &+ r &+ kx) &* 4, as: V.self)
                            let v1 = raw.loadUnaligned(fromByteOffset: (o1 &+ r &+ kx) &* 4, as: V.self)
                            let v2 = raw.loadUnaligned(fromByteOffset: (o2 &+ r &+ kx) &* 4, as: V.self)
                            let wt = wc + (ky * 3 + kx) * 4
                            let w0 = V(repeating: wt[0]), w1 = V(repeating: wt[1])
                            let w2 = V(repeating: wt[2]), w3 = V(repeating: wt[3])
                            a00 = a00.addingProduct(v0, w0); a01 = a01.addingProduct(v1, w0); a02 = a02.addingProduct(v2, w0)
                            a10 = a10.addingProduct(v0, w1); a11 = a11.addingProduct(v1, w1); a12 = a12.addingProduct(v2, w1)
                            a20 = a20.addingProduct(v0, w2); a21 = a21.addingProduct(v1, w2); a22 = a22.addingProduct(v2, w2)
                            a30 = a30.addingProduct(v0, w3); a31 = a31.addingProduct(v1, w3); a32 = a32.addingProduct(v2, w3)
                        }
                    }
                }
                // each vector's 4 channels at its (image, row, column); lanes inside the row only
                @inline(__always) func put(_ slot: Int, _ c0: V, _ c1: V, _ c2: V, _ c3: V) {
                    let img = slot / perImage, rem = slot % perImage
                    let col = (rem % nv) * 8, n = w - col
                    let d = y + (img * cout + cb * 4) * hw + (rem / nv) * w + col
                    store(c0, d, n); store(c1, d + hw, n); store(c2, d + 2 * hw, n); store(c3, d + 3 * hw, n)
                }
                put(s, a00, a10, a20, a30)
                put(s1, a01, a11, a21, a31)
                put(s2, a02, a12, a22, a32)
                s += 3
            }
        }
    }

    /// dw (cout, cin, 3, 3) += Σ_images Σ_pixels dy[co, r, c] * xp[ci, r + ky, c + kx], over
    /// `images` consecutive padded images of xp (cin planes each) and dyp (dy padded like xp, cout
    /// planes each; its border and overhang are zero, so overhanging lanes add nothing).
    /// Blocks of 4 output channels x the 3 kx taps = 12 accumulators per (ci, ky), summed
    /// across lanes once per block and chunk of images (not per image: an 8x8 plane is only 8
    /// vectors). Per vector: 3 x loads, then for each of the 4 channels one dy load and 3 FMAs,
    /// which keeps 12 accumulators + 3 + 1 values within the 16 AVX2 registers.
    static func weightGradient(xp: UnsafePointer<Float>, cin: Int, h: Int, w: Int, images: Int,
                               dyp: UnsafePointer<Float>, cout: Int, dw: UnsafeMutablePointer<Float>) {
        let nv = vectorsPerRow(w), pw = paddedWidth(w), plane = (h + 2) * pw
        let xImage = cin * plane, dyImage = cout * plane
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        for cb in 0..<(cout / 4) {
            for ci in 0..<cin {
                for ky in 0..<3 {
                    var a00 = V(), a01 = V(), a02 = V()   // output channel 0 of the block, kx = 0, 1, 2
                    var a10 = V(), a11 = V(), a12 = V()
                    var a20 = V(), a21 = V(), a22 = V()
                    var a30 = V(), a31 = V(), a32 = V()
                    for img in 0..<images {
                        // dy[cb*4, 0, 0] and xp[ci, ky, 0] of this image
                        let gOffset: Int = img &* dyImage &+ cb &* 4 &* plane &+ pw &+ 1
                        let xOffset: Int = img &* xImage &+ ci &* plane &+ ky &* pw
                        let g = dyp + gOffset, x = xp + xOffset
                        for r in 0..<h {
                            var gr = g + r &* pw, xr = x + r &* pw
                            for _ in 0..<nv {
                                let x0 = load(xr), x1 = load(xr + 1), x2 = load(xr + 2)
                                var d = load(gr)
                                a00 = a00.addingProduct(d, x0); a01 = a01.addingProduct(d, x1); a02 = a02.addingProduct(d, x2)
                                d = load(gr + plane)
                                a10 = a10.addingProduct(d, x0); a11 = a11.addingProduct(d, x1); a12 = a12.addingProduct(d, x2)
                                d = load(gr + 2 &* plane)
                                a20 = a20.addingProduct(d, x0); a21 = a21.addingProduct(d, x1); a22 = a22.addingProduct(d, x2)
                                d = load(gr + 3 &* plane)
                                a30 = a30.addingProduct(d, x0); a31 = a31.addingProduct(d, x1); a32 = a32.addingProduct(d, x2)
                                gr += 8; xr += 8
                            }
                        }
                    }
                    var p = dw + ((cb * 4) * cin + ci) * 9 + ky * 3
                    p[0] += a00.sum(); p[1] += a01.sum(); p[2] += a02.sum()
                    p += cin * 9
                    p[0] += a10.sum(); p[1] += a11.sum(); p[2] += a12.sum()
                    p += cin * 9
                    p[0] += a20.sum(); p[1] += a21.sum(); p[2] += a22.sum()
                    p += cin * 9
                    p[0] += a30.sum(); p[1] += a31.sum(); p[2] += a32.sum()
                }
            }
        }
    }
}
