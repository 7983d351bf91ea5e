import Sv2Binary
import Sv2Messages
import Sv2Monitoring
import Sv2Sessions

/// A device's connection to the proxy in group mode, as a ``ConnectionSession``: it answers SetupConnection itself
/// and hands every mining message to the proxy's ``GroupProxy`` (the ``Effect``); what the proxy sends back the
/// glue writes to the connection.
public struct ProxyDeviceSession: ConnectionSession {
    /// A mining message for the proxy.
    public enum Effect: Hashable, Sendable {
        /// The device sent this after its SetupConnection.
        case mining(Sv2Message)
    }

    /// The session's actions.
    public typealias Action = SessionAction<Sv2Message, Effect>

    private var flags: MiningSetupFlags?
    private var closed = false
    private let successFlags: UInt32
    /// What the device is, by its SetupConnection (monitoring's client kind).
    public private(set) var clientKind = Sv2ClientKind.unknown

    /// A connection waiting for SetupConnection, to be answered with `successFlags` (the upstream pool's:
    /// REQUIRES_FIXED_VERSION holds for the devices behind the proxy too).
    public init(successFlags: UInt32 = 0) {
        self.successFlags = successFlags
    }

    /// True once SetupConnection was accepted.
    public var isSetUp: Bool { flags != nil }

    /// The flags the device set up with (REQUIRES_STANDARD_JOBS...), once set up.
    public var setupFlags: MiningSetupFlags? { flags }

    /// A message from the device.
    public mutating func receive(_ message: Sv2Message, now: Timestamp) -> [Action] {
        guard !closed else { return [] }
        guard flags != nil else { return setUp(message) }
        switch message {
        case .openStandardMiningChannel, .openExtendedMiningChannel, .submitSharesStandard, .submitSharesExtended, .updateChannel,
             .closeChannel, .setCustomMiningJob:
            return [.effect(.mining(message))]
        case let .requestExtensions(request):
            // The proxy relays shares without judging them: it tracks no workers, and says so at once (spec 0x0001).
            return [.send(.requestExtensionsError(RequestExtensionsError(
                requestID: request.requestID, unsupportedExtensions: request.requestedExtensions, requiredExtensions: [])))]
        case .setupConnection:
            return [.warning("a second SetupConnection: ignored")]
        default:
            return [.warning("\(message.name) is not a mining client message: ignored")]
        }
    }

    private mutating func setUp(_ message: Sv2Message) -> [Action] {
        // Standard channels always get NewMiningJob from the proxy, so REQUIRES_STANDARD_JOBS is met by construction.
        let (accepted, actions): (_, [Action]) = SetupNegotiation.serve(
            firstMessage: message, protocol: .mining, supported: MiningSetupFlags.requiresStandardJobs.union(.requiresVersionRolling).rawValue,
            successFlags: successFlags)
        guard let (accepted, setup) = accepted else {
            closed = true
            return actions
        }
        flags = MiningSetupFlags(rawValue: accepted)
        clientKind = Sv2Client.kind(vendor: setup.vendor.description, hardwareVersion: setup.hardwareVersion.description, firmware: setup.firmware.description)
        return actions + [.info("device set up (vendor \(setup.vendor), device \(setup.deviceID), flags 0x\(String(accepted, radix: 16)))")]
    }
}

/// The proxy's connection to its pool in group mode, as a ``ConnectionSession``: SetupConnection for the Mining
/// Protocol (no REQUIRES_STANDARD_JOBS, so that the pool groups the devices' standard channels), then every message
/// of the pool handed to the proxy's ``GroupProxy``.
public struct ProxyUpstreamSession: ConnectionSession {
    /// What the glue does with the pool's messages.
    public enum Effect: Hashable, Sendable {
        /// The pool accepted SetupConnection with these SetupConnection.Success flags: channels may open.
        case ready(flags: UInt32)
        /// A message for the devices' channels.
        case message(Sv2Message)
        /// Every message of one read was handed over: a point to write what they made for the devices at once.
        case readComplete
        /// The pool asks the proxy to move (Reconnect; an empty host means the same one).
        case reconnect(host: String, port: Int)
    }

    /// The session's actions.
    public typealias Action = SessionAction<Sv2Message, Effect>

    private let setup: SetupConnection
    private var ready = false

    /// A session that sets up with `setup`.
    public init(setup: SetupConnection) {
        self.setup = setup
    }

    /// True once the pool accepted SetupConnection.
    public var isSetUp: Bool { ready }

    /// SetupConnection.
    public mutating func start(now: Timestamp) -> [Action] {
        [.send(.setupConnection(setup))]
    }

    /// The end of a read burst, once set up.
    public mutating func readComplete(now: Timestamp) -> [Action] {
        ready ? [.effect(.readComplete)] : []
    }

    /// A message from the pool.
    public mutating func receive(_ message: Sv2Message, now: Timestamp) -> [Action] {
        if case let .reconnect(reconnect) = message {
            let host = reconnect.newHost.bytes.isEmpty ? setup.endpointHost.description : reconnect.newHost.description
            return [.effect(.reconnect(host: host, port: Int(reconnect.newPort)))]
        }
        guard ready else {
            switch message {
            case let .setupConnectionSuccess(success):
                ready = true
                return [.info("upstream set up (flags 0x\(String(success.flags, radix: 16)))"), .effect(.ready(flags: success.flags))]
            case let .setupConnectionError(error):
                return [.close("the pool refused SetupConnection: \(error.errorCode)")]
            default:
                return [.warning("\(message.name) before SetupConnection.Success: ignored")]
            }
        }
        return [.effect(.message(message))]
    }
}
