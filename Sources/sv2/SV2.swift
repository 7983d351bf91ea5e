import ArgumentParser

/// The `sv2` command: a Stratum V2 toolkit. A link named `sv2-<subcommand>` runs that subcommand (busybox style).
@main
struct SV2: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sv2",
        abstract: "Stratum V2 toolkit: wire codec and tools for Bitcoin mining.",
        version: "0.1.0",
        subcommands: [
            DecodeCommand.self, EncodeCommand.self, PoolCommand.self, ProxyCommand.self, TranslateCommand.self, MineCommand.self, TemplateProviderCommand.self, ReplCommand.self,
            KeygenCommand.self, BenchCommand.self, ProbeCommand.self, JobDeclaratorCommand.self,
        ]
    )

    /// Runs the subcommand named by the program name when it is `sv2-<name>`, otherwise parses as usual.
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let program = CommandLine.arguments.first.map { $0.split(separator: "/").last.map(String.init) ?? $0 } ?? "sv2"
        if program.hasPrefix("sv2-") {
            arguments.insert(String(program.dropFirst(4)), at: 0)
        }
        await main(arguments)
    }
}
