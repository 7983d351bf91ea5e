import ArgumentParser

/// `sv2 bench`: benchmarks that print our figure next to a reference measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run benchmarks; each prints our figure, a reference measured in the same run, and the ratio.",
        subcommands: [CodecBenchmark.self, NoiseBenchmark.self, TemplateProviderBenchmark.self, Sha256dBenchmark.self, SharesBenchmark.self, TranslateBenchmark.self, ProxyBenchmark.self, LedgerBenchmark.self]
    )
}
