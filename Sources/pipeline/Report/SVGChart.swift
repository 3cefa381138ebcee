import Foundation

/// Small, dependency-free SVG charts for the self-contained HTML report.
enum SVGChart {
    struct Series {
        let name: String
        let color: String
        let points: [(x: Double, y: Double)]
        var dashed = false
    }

    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    /// A line chart with y in [0, 1] shown as percent; x from the data. `id` names the chart.
    static func lines(id: String, title: String, xLabel: String, series: [Series], width: Double = 560, height: Double = 260) -> String {
        let left = 46.0, right = 12.0, top = 26.0, bottom = 36.0
        let xs = series.flatMap { $0.points.map(\.x) }
        let x0 = xs.min() ?? 0, x1 = max(xs.max() ?? 1, x0 + 1)
        let pw = width - left - right, ph = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * pw }
        func py(_ y: Double) -> Double { top + (1 - max(0, min(1, y))) * ph }
        var s = "<svg id=\"\(id)\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(fmt(width)) \(fmt(height))\" width=\"\(fmt(width))\" height=\"\(fmt(height))\" role=\"img\" aria-label=\"\(esc(title))\">"
        s += "<text x=\"\(fmt(left))\" y=\"16\" class=\"title\">\(esc(title))</text>"
        for t in stride(from: 0.0, through: 1.0, by: 0.25) {
            s += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(py(t)))\" x2=\"\(fmt(width - right))\" y2=\"\(fmt(py(t)))\" class=\"grid\"/>"
            s += "<text x=\"\(fmt(left - 6))\" y=\"\(fmt(py(t) + 4))\" class=\"tick\" text-anchor=\"end\">\(Int(t * 100))%</text>"
        }
        let xt = Array(Set(xs.map { $0.rounded() })).sorted()
        let every = max(1, xt.count / 10)
        for (i, x) in xt.enumerated() where i % every == 0 {
            s += "<text x=\"\(fmt(px(x)))\" y=\"\(fmt(height - bottom + 16))\" class=\"tick\" text-anchor=\"middle\">\(JSONNumber.short(x))</text>"
        }
        s += "<text x=\"\(fmt(left + pw / 2))\" y=\"\(fmt(height - 4))\" class=\"tick\" text-anchor=\"middle\">\(esc(xLabel))</text>"
        for (k, ser) in series.enumerated() where !ser.points.isEmpty {
            let path = ser.points.map { "\(fmt(px($0.x))),\(fmt(py($0.y)))" }.joined(separator: " ")
            s += "<polyline data-series=\"\(esc(ser.name))\" points=\"\(path)\" fill=\"none\" stroke=\"\(ser.color)\" stroke-width=\"2\"\(ser.dashed ? " stroke-dasharray=\"5 3\"" : "")/>"
            for p in ser.points {
                s += "<circle cx=\"\(fmt(px(p.x)))\" cy=\"\(fmt(py(p.y)))\" r=\"2.5\" fill=\"\(ser.color)\" data-x=\"\(p.x)\" data-y=\"\(p.y)\"><title>\(esc(ser.name)) \(JSONNumber.short(p.x)): \(String(format: "%.2f", p.y * 100)) %</title></circle>"
            }
            let ly = top + 14 + Double(k) * 14
            s += "<rect x=\"\(fmt(width - right - 120))\" y=\"\(fmt(ly - 9))\" width=\"10\" height=\"10\" fill=\"\(ser.color)\"/><text x=\"\(fmt(width - right - 106))\" y=\"\(fmt(ly))\" class=\"tick\">\(esc(ser.name))</text>"
        }
        return s + "</svg>"
    }

    /// A two-colour histogram of log10(values): `a` and `b` (for example poisoned and clean losses).
    static func histogram(id: String, title: String, a: (name: String, color: String, values: [Double]), b: (name: String, color: String, values: [Double]),
                          bins: Int = 40, width: Double = 560, height: Double = 260) -> String {
        let left = 46.0, right = 12.0, top = 26.0, bottom = 36.0
        let la = a.values.map { log10(max($0, 1e-8)) }, lb = b.values.map { log10(max($0, 1e-8)) }
        let all = la + lb
        let lo = (all.min() ?? -8).rounded(.down), hi = max((all.max() ?? 1).rounded(.up), lo + 1)
        func counts(_ v: [Double]) -> [Int] {
            var c = [Int](repeating: 0, count: bins)
            for x in v { c[min(bins - 1, max(0, Int((x - lo) / (hi - lo) * Double(bins))))] += 1 }
            return c
        }
        let ca = counts(la), cb = counts(lb)
        // each group scaled to its own maximum so the small poisoned group stays visible
        let ma = Double(max(ca.max() ?? 1, 1)), mb = Double(max(cb.max() ?? 1, 1))
        let pw = width - left - right, ph = height - top - bottom, bw = pw / Double(bins)
        var s = "<svg id=\"\(id)\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(fmt(width)) \(fmt(height))\" width=\"\(fmt(width))\" height=\"\(fmt(height))\" role=\"img\" aria-label=\"\(esc(title))\">"
        s += "<text x=\"\(fmt(left))\" y=\"16\" class=\"title\">\(esc(title))</text>"
        for (c, m, color, name) in [(cb, mb, b.color, b.name), (ca, ma, a.color, a.name)] {
            for i in 0..<bins where c[i] > 0 {
                let h = Double(c[i]) / m * ph
                s += "<rect data-group=\"\(esc(name))\" data-count=\"\(c[i])\" x=\"\(fmt(left + Double(i) * bw))\" y=\"\(fmt(top + ph - h))\" width=\"\(fmt(bw - 1))\" height=\"\(fmt(h))\" fill=\"\(color)\" fill-opacity=\"0.6\"><title>\(esc(name)): \(c[i])</title></rect>"
            }
        }
        for e in stride(from: lo, through: hi, by: 1) {
            s += "<text x=\"\(fmt(left + (e - lo) / (hi - lo) * pw))\" y=\"\(fmt(height - bottom + 16))\" class=\"tick\" text-anchor=\"middle\">1e\(Int(e))</text>"
        }
        s += "<text x=\"\(fmt(left + pw / 2))\" y=\"\(fmt(height - 4))\" class=\"tick\" text-anchor=\"middle\">per-sample loss after isolation (log scale; each group scaled to its own peak)</text>"
        for (k, (name, color, n)) in [(a.name, a.color, a.values.count), (b.name, b.color, b.values.count)].enumerated() {
            let ly = top + 14 + Double(k) * 14
            s += "<rect x=\"\(fmt(width - right - 150))\" y=\"\(fmt(ly - 9))\" width=\"10\" height=\"10\" fill=\"\(color)\"/><text x=\"\(fmt(width - right - 136))\" y=\"\(fmt(ly))\" class=\"tick\">\(esc(name)) (\(n))</text>"
        }
        return s + "</svg>"
    }
}

enum JSONNumber {
    static func short(_ v: Double) -> String { v.rounded() == v ? String(Int(v)) : String(format: "%g", v) }
}
