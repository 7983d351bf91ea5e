import NIOCore
import NIOPosix

/// Listening and connecting with the Sv2 pipeline: ``Sv2TransportHandler`` then ``Sv2MessageHandler``, then the
/// caller's handlers (added by `initializer`, which sees ``Sv2DecodedFrame`` in and writes ``Sv2Outbound``).
public enum Sv2Connections {
    /// Adds the transport and message handlers to `channel`'s pipeline.
    public static func configure(
        _ channel: Channel, configuration: Sv2TransportConfiguration, closesOnMalformedMessage: Bool = true
    ) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandlers([
                Sv2TransportHandler(configuration: configuration),
                Sv2MessageHandler(closesOnMalformedMessage: closesOnMalformedMessage),
            ])
        }
    }

    /// Binds a server on `host`:`port` (port 0 picks a free one; see the returned channel's localAddress).
    public static func listen(
        host: String, port: Int, group: EventLoopGroup, configuration: Sv2TransportConfiguration,
        closesOnMalformedMessage: Bool = true,
        initializer: @escaping @Sendable (Channel) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<Channel> {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                configure(channel, configuration: configuration, closesOnMalformedMessage: closesOnMalformedMessage)
                    .flatMap { initializer(channel) }
            }
            .bind(host: host, port: port)
    }

    /// Connects to `host`:`port`.
    public static func connect(
        host: String, port: Int, group: EventLoopGroup, configuration: Sv2TransportConfiguration,
        closesOnMalformedMessage: Bool = true, connectTimeout: TimeAmount = .seconds(10),
        initializer: @escaping @Sendable (Channel) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<Channel> {
        ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                configure(channel, configuration: configuration, closesOnMalformedMessage: closesOnMalformedMessage)
                    .flatMap { initializer(channel) }
            }
            .connect(host: host, port: port)
    }
}
