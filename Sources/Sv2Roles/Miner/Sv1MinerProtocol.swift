import NIOCore
import NIOPosix
import Sv1
import Sv2Binary
import Sv2Channels
import Sv2Network

/// Stratum V1 for ``CPUMiner``: plain TCP, newline-delimited JSON (``Sv1Wire``), an ``Sv1ClientSession``.
public struct Sv1MinerProtocol: MinerProtocol {
    /// What the sessions ask for; its endpoint fields are set from the host and port connected to.
    public var session: Sv1ClientConfiguration
    /// How long a connection attempt may take.
    public var connectTimeout: TimeAmount

    /// The protocol with these settings.
    public init(session: Sv1ClientConfiguration, connectTimeout: TimeAmount = .seconds(10)) {
        self.session = session
        self.connectTimeout = connectTimeout
    }

    /// `Stratum V1`.
    public var name: String { "Stratum V1" }

    /// Stratum V1 lines.
    public var wire: Sv1Wire<Sv1Message> { Sv1Wire() }

    /// The session starts as soon as TCP is up.
    public var readiness: ConnectionHandler<Sv1ClientSession, Sv1Wire<Sv1Message>>.Readiness { .active }

    /// Connects over plain TCP with the line handler.
    public func connect(to endpoint: HostPort, eventLoop: EventLoop, engine: @escaping @Sendable (Channel) throws -> Void) -> EventLoopFuture<Void> {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try engine(channel) }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .map { _ in }
    }

    /// An ``Sv1ClientSession`` whose client.reconnect defaults are `endpoint`.
    public func makeSession(endpoint: HostPort, statistics: MinerStatistics, firstWorkID: UInt64) -> Sv1ClientSession {
        var configuration = session
        configuration.endpointHost = endpoint.host
        configuration.endpointPort = endpoint.port
        return Sv1ClientSession(configuration: configuration, statistics: statistics, firstWorkID: firstWorkID)
    }

    /// The log line of a session event.
    public func logLine(for event: Sv1SessionEvent) -> MinerLogLine {
        switch event {
        case let .subscribed(extranonce1, size):
            return MinerLogLine(.info, "subscribed: extranonce1 \(Hex.encode(extranonce1)), extranonce2 size \(size)")
        case let .versionRolling(mask):
            return MinerLogLine(.info, mask == 0 ? "no version rolling" : "version rolling on mask \(Sv1Job.hex(mask))")
        case let .authorized(user):
            return MinerLogLine(.info, "authorized as \(user)")
        case let .difficultyChanged(difficulty):
            return MinerLogLine(.info, "difficulty \(difficulty)")
        case let .newPrevHash(hash, nbits):
            return MinerLogLine(.info, "new prevhash \(hash.displayHex), nbits 0x\(String(nbits, radix: 16))")
        case let .blockFound(hash):
            return MinerLogLine(.info, "block found: \(hash.displayHex)")
        case .jobsCleaned:
            return MinerLogLine(.debug, "clean jobs")
        case let .shareAccepted(requestID):
            return MinerLogLine(.debug, "share \(requestID) accepted")
        case let .shareRejected(requestID, reason):
            return MinerLogLine(.warning, "share \(requestID) rejected: \(reason)")
        case let .poolMessage(text):
            return MinerLogLine(.info, "message from the pool: \(text)")
        case let .ignored(reason):
            return MinerLogLine(.warning, "ignored: \(reason)")
        }
    }
}
