import ArgumentParser
import Foundation
import NIOPosix
import Sv2Crypto
import Sv2Messages
import Sv2Network
import Sv2Probe

/// `sv2 probe`: grades an Sv2 server against the spec, check by check.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Grade an Sv2 endpoint against the spec, check by check.",
        discussion: """
            Connects to URL (stratum2+tcp://HOST:PORT/<authority public key>, or HOST:PORT with --plaintext) as a \
            client of --protocol and runs a catalogue of checks, each on its own connections: the Noise handshake and \
            certificate, SetupConnection (unsupported protocol, version range, flags, messages before it), unknown \
            extension types and RequestExtensions, frames a server must survive, then the protocol's own checks \
            (mining: channel opening, jobs and SetNewPrevHash, every share error, SubmitShares.Success accounting, \
            UpdateChannel, CloseChannel; template distribution: templates and tips, transaction data, solutions; job \
            declaration: tokens). Each line reads PASS, FAIL (what was expected, what came back, the spec section), \
            WARN (allowed but not recommended, or the spec is silent) or SKIP (not applicable, or not reproducible \
            from outside). The exit status is 0 when nothing failed, 1 otherwise. Share checks search headers on one \
            core, so they need a server that gives a low declared hash rate an easy target (a regtest pool); with a \
            harder one they are skipped.
            """
    )

    @Argument(help: "The endpoint: stratum2+tcp://HOST:PORT/<authority public key> (HOST:PORT with --plaintext).")
    var url: String?

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
        if !list && url == nil { throw ValidationError("give the endpoint's URL (or --list)") }
    }

    func run() async throws {
        let subprotocol = `protocol`.subprotocol
        let checks: [ProbeCheck]
        do {
            checks = try ProbeCatalogue.checks(for: subprotocol, only: only)
        } catch {
            throw ValidationError(error.description)
        }
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
