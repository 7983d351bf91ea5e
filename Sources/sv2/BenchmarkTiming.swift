import Foundation

/// Timing helpers shared by the benchmarks: medians over repeated rounds and the table printer.
enum BenchmarkTiming {
    /// Keeps a value alive so the optimiser cannot drop the work that produced it.
    @inline(never)
    static func consume<T>(_ value: T) {
        withExtendedLifetime(value) {}
    }

    /// Median nanoseconds per call of `body` over `rounds` rounds of `iterations` calls.
    static func nanosecondsPerCall(rounds: Int = 15, iterations: Int, _ body: () -> Void) -> Double {
        for _ in 0..<max(1, iterations / 10) { body() }
        var samples = [Double]()
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<iterations { body() }
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            samples.append(Double(elapsed) / Double(iterations))
        }
        samples.sort()
        return samples[samples.count / 2]
    }

    /// The `percent` percentile of `sorted` (ascending, not empty): the sample at index count * percent / 100.
    static func percentile(_ sorted: [Double], _ percent: Int) -> Double {
        sorted[min(sorted.count - 1, sorted.count * percent / 100)]
    }

    /// A rate rounded to a whole number with thousands separated: `123,456`.
    static func grouped(_ rate: Double) -> String {
        let whole = Int(rate.rounded())
        var text = String(whole)
        var index = text.count - 3
        while index > 0 {
            text.insert(",", at: text.index(text.startIndex, offsetBy: index))
            index -= 3
        }
        return text
    }

    /// Prints rows as an aligned table with `header` on top.
    static func printTable(_ header: [String], _ rows: [[String]]) {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            let cells = row.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                return index == 0 ? cell + pad : pad + cell
            }
            print(cells.joined(separator: "  "))
        }
    }

    /// `12.3` style formatting with one decimal.
    static func format(_ value: Double, digits: Int = 1) -> String {
        String(format: "%.\(digits)f", value)
    }
}
