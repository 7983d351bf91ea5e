import NIOConcurrencyHelpers
import Sv2Binary
import Sv2Channels
import Sv2Messages

/// What waiting for a particular message came to.
enum Awaited<Value> {
    /// The message, as the picker took it.
    case got(Value)
    /// The connection closed first (with the reason, when known).
    case closed(String?)
    /// Nothing suitable arrived in time.
    case timeout

    /// The outcome for a report line ("connection closed: …", "nothing within 5 s").
    func describe(within seconds: Double) -> String {
        switch self {
        case .got: return "the message"
        case let .closed(reason): return "the connection closed" + (reason.map { " (\($0))" } ?? "")
        case .timeout: return "nothing within \(seconds.formatted) s"
        }
    }
}

/// One of two answers a request can get (neither need be an `Error`, unlike `Result`).
enum Reply<Good, Bad> {
    /// The answer hoped for.
    case good(Good)
    /// The other one.
    case bad(Bad)
}

extension Double {
    /// The number without a fraction when it has none.
    var formatted: String {
        rounded() == self && abs(self) < 1e15 ? String(Int(self)) : String(self)
    }
}

/// One connection of a check: sends, waits for answers while keeping a ``MiningView`` of everything received.
final class ProbeConversation {
    /// Opens a check's connections and closes them all when the check is done.
    final class Opener: @unchecked Sendable {
        let context: ProbeContext
        /// The subprotocol the endpoint serves.
        let `protocol`: Sv2SubProtocol
        private let lock = NIOLock()
        private var peers: [any ProbePeer] = []

        init(context: ProbeContext, protocol: Sv2SubProtocol) {
            self.context = context
            self.protocol = `protocol`
        }

        /// A new connection with its handshake done; a failure ends the check as FAIL.
        func connect() async throws -> (peer: any ProbePeer, handshake: ProbeHandshake) {
            do {
                let opened = try await context.dialer.open()
                lock.withLock { peers.append(opened.peer) }
                return opened
            } catch {
                throw ProbeStop(verdict: .fail(expected: "a connection and a completed handshake", got: "\(error)"))
            }
        }

        /// A new conversation; with `setUp` it has sent SetupConnection for the endpoint's protocol with `flags`
        /// and received SetupConnection.Success.
        func conversation(setUp: Bool = true, flags: UInt32 = 0) async throws -> ProbeConversation {
            let (peer, handshake) = try await connect()
            let conversation = ProbeConversation(peer: peer, handshake: handshake, context: context, protocol: `protocol`)
            if setUp { _ = try await conversation.setUp(flags: flags) }
            return conversation
        }

        /// Closes every connection opened.
        func closeAll() async {
            let opened = lock.withLock { peers }
            for peer in opened { await peer.close() }
        }
    }

    let peer: any ProbePeer
    let handshake: ProbeHandshake
    let context: ProbeContext
    let `protocol`: Sv2SubProtocol
    /// Channels, jobs and targets as the server described them.
    var view = MiningView()
    /// The last sequence number used in a share.
    private var sequence: UInt32 = 0
    private var nextRequestID: UInt32 = 1
    /// Where the next share search starts, so that no two shares of a connection share a nonce.
    var nonceCursor: UInt32 = 0
    /// The flags of the server's SetupConnection.Success.
    private(set) var serverFlags: UInt32 = 0

    init(peer: any ProbePeer, handshake: ProbeHandshake, context: ProbeContext, protocol: Sv2SubProtocol) {
        self.peer = peer
        self.handshake = handshake
        self.context = context
        self.protocol = `protocol`
    }

    /// A fresh request id.
    func requestID() -> UInt32 {
        defer { nextRequestID += 1 }
        return nextRequestID
    }

    /// The next share sequence number.
    func nextSequence() -> UInt32 {
        sequence += 1
        return sequence
    }

    /// Sends `message`; a connection that is gone ends the check as FAIL.
    func send(_ message: Sv2Message, tlvs: [Sv2TLV] = []) async throws {
        do {
            try await peer.send(message, tlvs: tlvs)
        } catch {
            throw ProbeStop(verdict: .fail(expected: "the connection to stay open to send \(message.name)", got: "\(error)"))
        }
    }

    /// Sends `frame` as it is.
    func send(frame: Sv2Frame) async throws {
        do {
            try await peer.send(frame: frame)
        } catch {
            throw ProbeStop(verdict: .fail(expected: "the connection to stay open to send a frame", got: "\(error)"))
        }
    }

    /// Waits up to `seconds` (the answer timeout by default) for the first message `pick` takes, keeping the view
    /// of every message on the way.
    func wait<Value>(within seconds: Double? = nil, _ pick: (Sv2Message) -> Value?) async -> Awaited<Value> {
        let deadline = Deadline(seconds: seconds ?? context.answerTimeout)
        while true {
            guard let left = deadline.remaining else { return .timeout }
            switch await peer.next(within: left) {
            case let .message(frame):
                view.observe(frame.message)
                if let value = pick(frame.message) { return .got(value) }
            case let .closed(reason):
                return .closed(reason)
            case .timeout:
                return .timeout
            }
        }
    }

    /// Like ``wait(within:_:)``, but anything other than the message ends the check as FAIL expecting `what`.
    func expect<Value>(_ what: String, within seconds: Double? = nil, _ pick: (Sv2Message) -> Value?) async throws -> Value {
        let awaited = await wait(within: seconds, pick)
        guard case let .got(value) = awaited else {
            throw ProbeStop(verdict: .fail(expected: what, got: awaited.describe(within: seconds ?? context.answerTimeout)))
        }
        return value
    }

    /// Takes in whatever arrives for `seconds`; false when the connection closed meanwhile.
    func drain(for seconds: Double) async -> Bool {
        if case .closed = await wait(within: seconds, { _ in Optional<Void>.none }) { return false }
        return true
    }

    /// Sends SetupConnection for the endpoint's protocol (versions `minVersion`…`maxVersion`, `flags`), and waits
    /// for SetupConnection.Success; an error or silence ends the check as FAIL.
    func setUp(flags: UInt32 = 0) async throws -> SetupConnectionSuccess {
        try await send(.setupConnection(setupConnection(flags: flags)))
        switch try await expect("SetupConnection.Success", SetupChecks.setupAnswer) {
        case let .good(success):
            serverFlags = success.flags
            return success
        case let .bad(error):
            throw ProbeStop(verdict: .fail(expected: "SetupConnection.Success", got: "SetupConnection.Error \(error.errorCode) (flags 0x\(String(error.flags, radix: 16)))"))
        }
    }

    /// The probe's SetupConnection for `protocol` (the endpoint's by default), naming the endpoint dialed and filled
    /// as the spec asks of a client (3.6.1: vendor, hardware_version, firmware).
    func setupConnection(protocol: UInt8? = nil, minVersion: UInt16 = 2, maxVersion: UInt16 = 2, flags: UInt32 = 0) -> SetupConnection {
        let endpoint = context.dialer.endpoint
        return SetupConnection(
            protocol: `protocol` ?? self.protocol.rawValue, minVersion: minVersion, maxVersion: maxVersion, flags: flags,
            endpointHost: Sv2String(endpoint.host), endpointPort: UInt16(clamping: endpoint.port),
            vendor: "sv2", hardwareVersion: "sv2 probe", firmware: "sv2 probe", deviceID: "probe")
    }
}

/// A point in time a wait must end by.
struct Deadline {
    private let end: ContinuousClock.Instant

    /// `seconds` from now (at most a day).
    init(seconds: Double) {
        end = ContinuousClock.now.advanced(by: .milliseconds(Int64(min(max(0, seconds), 86_400) * 1000)))
    }

    /// Seconds left, nil once the deadline passed.
    var remaining: Double? {
        let left = ContinuousClock.now.duration(to: end)
        return left > .zero ? Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18 : nil
    }
}
