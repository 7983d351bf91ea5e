import NIOCore
import Sv2Binary
import Sv2Channels
import Sv2Messages
import Sv2Network

/// Stratum V2 for ``CPUMiner``: Noise (or plaintext) transport, a ``MinerClientSession`` with its channels.
public struct Sv2MinerProtocol: MinerProtocol {
    /// What the sessions ask for; its endpoint fields are set from the host and port connected to.
    public var session: MinerSessionConfiguration
    /// Noise initiator with the pool's authority key (or plaintext for local tests).
    public var transport: Sv2TransportConfiguration

    /// The protocol with these settings.
    public init(session: MinerSessionConfiguration, transport: Sv2TransportConfiguration) {
        self.session = session
        self.transport = transport
    }

    /// `Stratum V2`.
    public var name: String { "Stratum V2" }

    /// Sv2 messages with their TLV fields (extension 0x0002).
    public var wire: Sv2TaggedWire { Sv2TaggedWire() }

    /// The session starts once the Noise handshake is done.
    public var readiness: ConnectionHandler<MinerClientSession, Sv2TaggedWire>.Readiness { .transportReady }

    /// Connects over Noise (or plaintext).
    public func connect(to endpoint: HostPort, eventLoop: EventLoop, engine: @escaping @Sendable (Channel) throws -> Void) -> EventLoopFuture<Void> {
        Sv2Connections.connect(host: endpoint.host, port: endpoint.port, group: eventLoop, configuration: transport, closesOnMalformedMessage: false) { channel in
            channel.eventLoop.makeCompletedFuture { try engine(channel) }
        }.map { _ in }
    }

    /// A ``MinerClientSession`` whose SetupConnection names `endpoint`.
    public func makeSession(endpoint: HostPort, statistics: MinerStatistics, firstWorkID: UInt64) -> MinerClientSession {
        var configuration = session
        configuration.endpointHost = endpoint.host
        configuration.endpointPort = UInt16(clamping: endpoint.port)
        return MinerClientSession(configuration: configuration, statistics: statistics, firstWorkID: firstWorkID)
    }

    /// The log line of a session event.
    public func logLine(for event: MinerSessionEvent) -> MinerLogLine {
        switch event {
        case let .setUp(flags):
            return MinerLogLine(.info, "connection set up (SetupConnection.Success flags 0x\(String(flags, radix: 16)))")
        case let .channelOpened(lane, channelID, kind, target, prefix, size, group):
            return MinerLogLine(.info, "channel \(channelID) opened (\(kind.rawValue), lane \(lane), group \(group)): "
                + "target \(target.displayHex), extranonce prefix \(Hex.encode(prefix)), extranonce size \(size)")
        case let .extensionsNegotiated(tracksWorkers, detail):
            return MinerLogLine(.info, (tracksWorkers
                ? "the pool tracks this worker (extension 0x0002): shares carry user_identity \"\(session.worker ?? "")\""
                : "mining without worker tracking") + " (\(detail))")
        case let .channelRefused(lane, reason):
            return MinerLogLine(.warning, "channel of lane \(lane) refused: \(reason)")
        case let .channelClosed(lane, channelID, reason):
            return MinerLogLine(.warning, "the pool closed channel \(channelID) (lane \(lane)): \(reason)")
        case let .targetChanged(channelID, target):
            return MinerLogLine(.info, "channel \(channelID): target \(target.displayHex)")
        case let .newPrevHash(hash, nbits):
            return MinerLogLine(.info, "new prevhash \(hash.displayHex), nbits 0x\(String(nbits, radix: 16))")
        case let .blockFound(channelID, hash):
            return MinerLogLine(.info, "block found on channel \(channelID): \(hash.displayHex)")
        case let .sharesAccepted(channelID, count, shares):
            let listed = shares.map { "\($0.sequenceNumber) \($0.hash.displayHex)" }.joined(separator: ", ")
            return MinerLogLine(.debug, "channel \(channelID): \(count) share(s) accepted" + (shares.isEmpty ? "" : ": \(listed)"))
        case let .shareRejected(channelID, sequenceNumber, errorCode):
            return MinerLogLine(.warning, "channel \(channelID): share \(sequenceNumber) rejected: \(errorCode)")
        case let .ignored(reason):
            return MinerLogLine(.warning, "ignored: \(reason)")
        }
    }
}
