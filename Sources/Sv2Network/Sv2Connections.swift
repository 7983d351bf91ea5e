import NIOCore
import NIOPosix
import Sv2Messages
import Sv2Sessions

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

    /// What each accepted connection may buffer on its way out, below the connection engine's own limit: the
    /// kernel's send buffer (SO_SNDBUF, fixed instead of growing to the system's maximum, 4 MiB on Linux) and the
    /// bytes NIO queues before it reports the channel unwritable. Together they bound what a peer that stops reading
    /// costs the process and the system.
    public struct OutboundBuffers: Sendable {
        /// SO_SNDBUF in bytes (the kernel doubles it for its bookkeeping).
        public var sendBufferSize: Int
        /// NIO's high water mark in bytes (the low one is half of it).
        public var highWaterMark: Int

        /// Limits from their parts.
        public init(sendBufferSize: Int, highWaterMark: Int) {
            self.sendBufferSize = sendBufferSize
            self.highWaterMark = highWaterMark
        }
    }

    /// Binds a server on `host`:`port` (port 0 picks a free one; see the returned channel's localAddress); each
    /// connection's outgoing buffers are bounded as `buffers` says (nil: the system's and NIO's defaults).
    public static func listen(
        host: String, port: Int, group: EventLoopGroup, configuration: Sv2TransportConfiguration,
        closesOnMalformedMessage: Bool = true, buffers: OutboundBuffers? = nil,
        initializer: @escaping @Sendable (Channel) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<Channel> {
        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        if let buffers {
            bootstrap = bootstrap
                .childChannelOption(.socketOption(.so_sndbuf), value: SocketOptionValue(buffers.sendBufferSize))
                .childChannelOption(.writeBufferWaterMark, value: .init(low: buffers.highWaterMark / 2, high: buffers.highWaterMark))
        }
        return bootstrap
            .childChannelInitializer { channel in
                configure(channel, configuration: configuration, closesOnMalformedMessage: closesOnMalformedMessage)
                    .flatMap { initializer(channel) }
            }
            .bind(host: host, port: port)
    }

    /// Binds an Sv2 server on `host`:`port` whose connections run `engine`'s sessions (each started once the
    /// transport is ready), ticked and reachable through `registry`.
    public static func listen<Session: ConnectionSession, Message: Sv2WireMessage, Outbound: Sv2WireMessage>(
        host: String, port: Int, group: EventLoopGroup, configuration: Sv2TransportConfiguration, buffers: OutboundBuffers? = nil,
        engine: ConnectionEngine<Session, Sv2Wire<Message, Outbound>>, registry: ConnectionRegistry<Session, Sv2Wire<Message, Outbound>>
    ) -> EventLoopFuture<Channel> {
        listen(host: host, port: port, group: group, configuration: configuration, closesOnMalformedMessage: false, buffers: buffers) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(engine.handler(for: channel, registry: registry))
            }
        }
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
