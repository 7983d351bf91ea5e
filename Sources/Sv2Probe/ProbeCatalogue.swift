import Sv2Binary
import Sv2Channels
import Sv2Messages

/// Why a check ended before its last step: the verdict it reached.
struct ProbeStop: Error {
    var verdict: ProbeVerdict
}

/// What every check is given: how to reach the endpoint and how long to wait.
public struct ProbeContext: Sendable {
    /// Opens the check's connections.
    public var dialer: any ProbeDialer
    /// Seconds to wait for an answer the spec requires.
    public var answerTimeout: Double
    /// Seconds of silence that count as "ignored".
    public var silence: Double
    /// Nonces tried to find one share before the share checks give up (SKIP).
    public var hashBudget: Int
    /// The user_identity the probe's channels open with.
    public var user: String
    /// The clock, in unix seconds (certificate validity, share times).
    public var now: @Sendable () -> UInt32

    /// A context; defaults: 5 s answers, 2 s of silence, 2^25 nonces per share (about 10 s on one core).
    public init(
        dialer: any ProbeDialer, answerTimeout: Double = 5, silence: Double = 2, hashBudget: Int = 1 << 25, user: String = "sv2-probe",
        now: @escaping @Sendable () -> UInt32
    ) {
        self.dialer = dialer
        self.answerTimeout = answerTimeout
        self.silence = silence
        self.hashBudget = hashBudget
        self.user = user
        self.now = now
    }
}

/// One check of the catalogue.
public struct ProbeCheck: Sendable {
    /// Its name in the report and for `--only`.
    public var name: String
    /// The spec section it grades against.
    public var section: String
    /// The subprotocols whose servers it applies to.
    public var protocols: Set<Sv2SubProtocol>
    /// Runs the check; connections it opened are closed by the runner.
    var run: @Sendable (ProbeConversation.Opener) async throws -> ProbeVerdict

    init(_ name: String, _ section: String, _ protocols: Set<Sv2SubProtocol>, run: @escaping @Sendable (ProbeConversation.Opener) async throws -> ProbeVerdict) {
        self.name = name
        self.section = section
        self.protocols = protocols
        self.run = run
    }
}

/// The checks `sv2 probe` runs against a server, and the runner.
public enum ProbeCatalogue {
    /// Every check, in the order they run.
    public static var all: [ProbeCheck] {
        TransportChecks.all + SetupChecks.all + MiningChecks.all + TemplateDistributionChecks.all + JobDeclarationChecks.all
    }

    /// The checks for a server of `protocol`, narrowed to `only` when it is not empty. Throws the names in `only`
    /// that are not checks.
    public static func checks(for protocol: Sv2SubProtocol, only: [String] = []) throws(UnknownChecks) -> [ProbeCheck] {
        let known = Set(all.map(\.name))
        let unknown = only.filter { !known.contains($0) }
        guard unknown.isEmpty else { throw UnknownChecks(names: unknown) }
        return all.filter { $0.protocols.contains(`protocol`) && (only.isEmpty || only.contains($0.name)) }
    }

    /// Names given to `--only` that no check has.
    public struct UnknownChecks: Error, Hashable, CustomStringConvertible {
        /// The names.
        public var names: [String]
        /// A sentence for the user.
        public var description: String {
            "no check named \(names.joined(separator: ", ")) (sv2 probe --list shows them)"
        }
    }

    /// Runs `checks` one after the other against the context's endpoint, `protocol` being what it serves; each
    /// check's connections are closed before the next starts. `progress` sees each result as it comes.
    public static func run(
        _ checks: [ProbeCheck], protocol: Sv2SubProtocol, context: ProbeContext, subject: String,
        progress: @Sendable (ProbeResult) -> Void = { _ in }
    ) async -> ProbeReport {
        var report = ProbeReport(subject: subject)
        var handshakeFailed = false
        for check in checks {
            let opener = ProbeConversation.Opener(context: context, protocol: `protocol`)
            let verdict: ProbeVerdict
            do {
                verdict = handshakeFailed ? .skip("no connection to test: the handshake failed (noise-handshake)") : try await check.run(opener)
            } catch let stop as ProbeStop {
                verdict = stop.verdict
            } catch {
                verdict = .fail(expected: "the check to run", got: "\(error)")
            }
            await opener.closeAll()
            // Past a failed handshake every other check would fail the same way: the report names the cause once.
            if check.name == TransportChecks.handshake, verdict.isFailure { handshakeFailed = true }
            let result = ProbeResult(name: check.name, section: check.section, verdict: verdict)
            progress(result)
            report.results.append(result)
        }
        return report
    }
}
