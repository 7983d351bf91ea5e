import ArgumentParser
import Foundation
import NIOPosix
import Sv2Crypto
import Sv2Messages
import Sv2Network
import Sv2Probe
import Sv2Roles

/// `sv2 probe`: grades an Sv2 server against the spec, check by check.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Grade an Sv2 server, or the clients of a grading pool, against the spec, check by check.",
        discussion: """
            Connects to URL (stratum2+tcp://HOST:PORT/<authority public key>, or HOST:PORT with --plaintext) as a \
            client of --protocol and runs a catalogue of checks, each on its own connections: the Noise handshake and \
            certificate, SetupConnection (unsupported protocol, version range, flags, messages before it), unknown \
            extension types and RequestExtensions, frames a server must survive, then the protocol's own checks \
            (mining: channel opening, jobs and SetNewPrevHash, every share error, SubmitShares.Success accounting, \
            UpdateChannel, CloseChannel; template distribution: templates and tips, transaction data, solutions; job \
            declaration: tokens). Each line reads PASS, FAIL (what was expected, what came back, the spec section), \
            WARN (allowed but not recommended, or the spec is silent) or SKIP (not applicable, or not reproducible \
            from outside); when the handshake fails the other checks are skipped. The exit status is 0 when nothing \
            failed, 1 otherwise. Share checks search headers on one core, so they need a server that gives a low \
            declared hash rate an easy target (a regtest pool); with a harder one they are skipped. \
            With --serve HOST:PORT the probe is a spec-strict pool instead (sv2 pool's sessions, templates from \
            --tp-address or the embedded regtest node, as sv2 pool takes them) and grades every client that \
            connects from its traffic: SetupConnection, channel requests, share sequence numbers, version bits, ntime, \
            targets, shares on past tips, declared against measured hash rate, and, with --reconnect-after, whether \
            it follows Reconnect. A report is printed as each connection ends; --connections N stops after N, \
            SIGINT or SIGTERM grade the connections still open and stop; the exit status is 1 when a client failed.
            """
    )

    @Argument(help: "The endpoint: stratum2+tcp://HOST:PORT/<authority public key> (HOST:PORT with --plaintext).")
    var url: String?

    @Option(help: "Act as a spec-strict pool on HOST:PORT and grade every client that connects.", transform: HostPort.argument)
    var serve: HostPort?

    @OptionGroup(title: "Serving (with --serve)")
    var serving: ProbeServeOptions

    @Option(help: "The subprotocol the endpoint serves: mining, template-distribution or job-declaration (default mining).")
    var `protocol`: ProbeProtocol = .mining

    @Flag(help: "Connect without Noise (only for servers configured for plaintext).")
    var plaintext = false

    @Flag(help: "Print the report as one JSON object.")
    var json = false

    @Option(parsing: .upToNextOption, help: "Run only these checks (names as --list prints them).")
    var only: [String] = []

    @Flag(help: "List the checks for --protocol and exit.")
    var list = false

    @Option(help: "Seconds to wait for an answer the spec requires (default 5).")
    var timeout: Double = 5

    @Option(help: "Nonces tried per share before share checks are skipped (default 33554432).")
    var hashBudget: Int = 1 << 25

    func validate() throws {
        guard timeout > 0, timeout <= 600 else { throw ValidationError("--timeout must be between 0 and 600 seconds") }
        guard hashBudget > 0 else { throw ValidationError("--hash-budget must be positive") }
        if serve != nil, url != nil { throw ValidationError("give an endpoint's URL or --serve, not both") }
        if serve != nil, !only.isEmpty || plaintext || list || `protocol` != .mining {
            throw ValidationError("--only, --list, --plaintext and --protocol are for probing a server, not for --serve")
        }
        if serve == nil, serving.isGiven { throw ValidationError("the serving options need --serve HOST:PORT") }
        if !list && url == nil && serve == nil { throw ValidationError("give the endpoint's URL (or --serve, or --list)") }
        if let connections = serving.connections, connections < 1 { throw ValidationError("--connections must be at least 1") }
        if let seconds = serving.reconnectAfter, !(seconds >= 0) { throw ValidationError("--reconnect-after must not be negative") }
    }

    func run() async throws {
        if let serve {
            try await serving.run(listen: serve, json: json)
            return
        }
        let subprotocol = `protocol`.subprotocol
        let checks: [ProbeCheck]
        do {
            checks = try ProbeCatalogue.checks(for: subprotocol, only: only)
        } catch {
            throw ValidationError(error.description)
        }
        guard !checks.isEmpty else { throw ValidationError("none of the checks named is for \(`protocol`.rawValue) (sv2 probe --list --protocol …)") }
        if list {
            for check in checks { print("\(check.name)  [spec \(check.section)]") }
            return
        }
        let (host, port, security) = try endpoint()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let context = ProbeContext(
            dialer: ProbeTCPDialer(host: host, port: port, security: security, group: group), answerTimeout: timeout,
            silence: min(2, timeout), hashBudget: hashBudget, now: { UInt32(clamping: Int(Date().timeIntervalSince1970)) })
        let subject = "\(host):\(port) (\(`protocol`.rawValue))"
        let printsLines = !json
        let width = checks.map(\.name.count).max() ?? 0
        let report = await ProbeCatalogue.run(checks, protocol: subprotocol, context: context, subject: subject) { result in
            guard printsLines else { return }
            print(result.line(nameWidth: width))
            fflush(nil)
        }
        try? await group.shutdownGracefully()
        print(json ? report.json : report.summary)
        if !report.passed { throw ExitCode(1) }
    }

    private func endpoint() throws -> (String, Int, Sv2TransportSecurity) {
        let text = url ?? ""
        if plaintext {
            let stripped = text.hasPrefix("stratum2+tcp://") ? String(text.dropFirst("stratum2+tcp://".count)) : text
            let hostPort = stripped.split(separator: "/", maxSplits: 1).first.map(String.init) ?? stripped
            guard let parsed = try? Sv2PoolURL("stratum2+tcp://" + hostPort) else {
                throw ValidationError("'\(text)' is not HOST:PORT")
            }
            return (parsed.host, parsed.port, .plaintext)
        }
        do {
            let parsed = try Sv2PoolURL(text)
            if parsed.authorityKey == nil {
                FileHandle.standardError.write(Data("warning: the URL has no authority public key: certificates are not checked\n".utf8))
            }
            return (parsed.host, parsed.port, .initiator(authority: parsed.authorityKey))
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

/// The options of `sv2 probe --serve`: the pool it runs (as `sv2 pool` takes them) and what it does to its clients.
struct ProbeServeOptions: ParsableArguments {
    @Option(help: "Template provider HOST:PORT (default: the embedded regtest node in-process).", transform: HostPort.argument)
    var tpAddress: HostPort?
    @Option(help: "The template provider's authority public key.")
    var tpAuthorityPublicKey: String?
    @Option(help: "Where block rewards go (required with --tp-address).")
    var coinbaseRewardScript: String?
    @Option(help: "Shares per minute each channel aims at (default 6).")
    var sharesPerMinute: Double?
    @Option(help: "Send each client Reconnect (to this server) this many seconds after its setup, to grade whether it follows.")
    var reconnectAfter: Double?
    @Option(help: "Stop after grading this many connections (default: run until SIGINT or SIGTERM).")
    var connections: Int?
    @OptionGroup(title: "Noise identity")
    var identity: AuthorityOptions
    @OptionGroup(title: "Node and templates")
    var node: EmbeddedNodeOptions
    @OptionGroup(title: "Logging")
    var logging: LoggingOptions

    /// True when any of these options was given.
    var isGiven: Bool {
        let own: [Any?] = [tpAddress, tpAuthorityPublicKey, coinbaseRewardScript, sharesPerMinute, reconnectAfter, connections]
        return own.contains { $0 != nil } || (identity.settings + node.settings + logging.settings).contains { $0.value != nil }
    }

    /// Runs the grading pool on `listen` until enough connections are graded or a signal; exits 1 when a client
    /// failed a check.
    func run(listen: HostPort, json: Bool) async throws {
        let flags = [
            SettingFlag("listen_address", listen), SettingFlag("tp_address", tpAddress), SettingFlag("tp_authority_public_key", tpAuthorityPublicKey),
            SettingFlag("coinbase_reward_script", coinbaseRewardScript), SettingFlag("shares_per_minute", sharesPerMinute),
            SettingFlag("ledger", "none"),
        ] + identity.settings + node.settings + logging.settings
        let settings = try resolveSettings(role: "probe", config: nil, keys: PoolSettings.keys, options: flags) { layers throws(ConfigurationError) in
            try PoolSettings(layers)
        }
        let logger = settings.log.logger("probe")
        let reports = ClientReports(limit: connections, json: json)
        let grader = ClientGrader(clock: .system, settings: .init(reconnectAfter: reconnectAfter)) { reports.add($0) }
        try await runRole(logger: logger) { group in
            try PoolRole(settings: settings, group: group, logger: logger, observer: grader).services + [reports]
        }
        if reports.failed { throw ExitCode(1) }
    }
}

/// The subprotocols `--protocol` names.
enum ProbeProtocol: String, ExpressibleByArgument, CaseIterable {
    case mining
    case templateDistribution = "template-distribution"
    case jobDeclaration = "job-declaration"

    /// The subprotocol.
    var subprotocol: Sv2SubProtocol {
        switch self {
        case .mining: return .mining
        case .templateDistribution: return .templateDistribution
        case .jobDeclaration: return .jobDeclaration
        }
    }
}
