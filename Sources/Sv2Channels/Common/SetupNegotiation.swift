import Sv2Binary
import Sv2Messages
import Sv2Sessions

/// SetupConnection (spec 3.6.1) for every role, both sides: the client's message, and the server's check of it
/// against the protocol it speaks, version 2 and the flags it supports.
public enum SetupNegotiation {
    /// The only protocol version of Sv2.
    public static let version: UInt16 = 2

    /// Why a server refuses a SetupConnection: the SetupConnection.Error to send and a sentence for the log.
    public struct Refusal: Error, Hashable, Sendable {
        /// The answer.
        public var error: SetupConnectionError
        /// Why, for the log.
        public var reason: String
    }

    /// A client's SetupConnection for `protocol` with `flags`, naming the endpoint it connected to and itself.
    public static func request(
        _ protocol: Sv2SubProtocol, flags: UInt32 = 0, endpointHost: String, endpointPort: Int, vendor: String = "sv2",
        hardwareVersion: String = "", firmware: String, deviceID: String = ""
    ) -> SetupConnection {
        SetupConnection(
            protocol: `protocol`.rawValue, minVersion: version, maxVersion: version, flags: flags,
            endpointHost: Sv2String(endpointHost), endpointPort: UInt16(clamping: endpointPort), vendor: Sv2String(vendor),
            hardwareVersion: Sv2String(hardwareVersion), firmware: Sv2String(firmware), deviceID: Sv2String(deviceID))
    }

    /// The flags the spec defines for SetupConnection of `protocol` (5.3.1, 6.4.1; none for Template Distribution).
    public static func definedFlags(_ protocol: Sv2SubProtocol) -> UInt32 {
        switch `protocol` {
        case .mining: return (MiningSetupFlags.requiresStandardJobs.union(.requiresWorkSelection).union(.requiresVersionRolling)).rawValue
        case .jobDeclaration: return JobDeclarationSetupFlags.declareTransactionData.rawValue
        case .templateDistribution: return 0
        }
    }

    /// A server's check of `setup`: it must ask for `protocol` at version 2, and of the flags the spec defines for
    /// it only those in `supported` (bits the spec does not define are ignored). Returns the client's flags, or the
    /// refusal (spec 3.6.3 error codes; an unsupported-feature-flags error lists every defined flag asked for that
    /// the server does not support, so that a client can probe with all flags set).
    public static func accept(_ setup: SetupConnection, protocol: Sv2SubProtocol, supported: UInt32) -> Result<UInt32, Refusal> {
        guard setup.protocol == `protocol`.rawValue else {
            let asked = Sv2SubProtocol(rawValue: setup.protocol).map(\.description) ?? "\(setup.protocol)"
            return .failure(Refusal(
                error: SetupConnectionError(flags: 0, errorCode: "unsupported-protocol"),
                reason: "SetupConnection for protocol \(asked); this server speaks \(`protocol`)"))
        }
        guard setup.minVersion <= version, setup.maxVersion >= version else {
            return .failure(Refusal(
                error: SetupConnectionError(flags: 0, errorCode: "protocol-version-mismatch"),
                reason: "SetupConnection versions \(setup.minVersion)...\(setup.maxVersion) exclude \(version)"))
        }
        let unsupported = setup.flags & definedFlags(`protocol`) & ~supported
        guard unsupported == 0 else {
            return .failure(Refusal(
                error: SetupConnectionError(flags: unsupported, errorCode: "unsupported-feature-flags"),
                reason: "SetupConnection asks for unsupported features (flags 0x\(String(unsupported, radix: 16)))"))
        }
        return .success(setup.flags)
    }

    /// A server's handling of a connection's first message, which must be a SetupConnection that
    /// ``accept(_:protocol:supported:)`` takes: the client's flags and message when it is set up (nil when refused),
    /// with what to do: SetupConnection.Success with `successFlags`, or SetupConnection.Error (when it was one) and the
    /// close.
    public static func serve<Effect>(
        firstMessage message: Sv2Message, protocol: Sv2SubProtocol, supported: UInt32, successFlags: UInt32 = 0
    ) -> (accepted: (flags: UInt32, setup: SetupConnection)?, actions: [SessionAction<Sv2Message, Effect>]) {
        guard case let .setupConnection(setup) = message else {
            return (nil, [.close("the first message must be SetupConnection, got \(message.name)")])
        }
        switch accept(setup, protocol: `protocol`, supported: supported) {
        case let .failure(refusal):
            return (nil, [.send(.setupConnectionError(refusal.error)), .close(refusal.reason)])
        case let .success(flags):
            return ((flags, setup), [.send(.setupConnectionSuccess(SetupConnectionSuccess(usedVersion: version, flags: successFlags)))])
        }
    }
}
