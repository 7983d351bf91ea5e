import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import Sv2Channels
import Sv2Crypto
import Sv2Messages
import Sv2Network
import Sv2Sessions

/// The pool's link to its template provider: a ``TemplateDistributionClientSession`` on the connection engine,
/// kept up by a ``ClientConnector`` (1 s doubling to 30 s between attempts). Templates and prevhashes go to
/// `onEvent` (on the connection's event loop).
public final class TemplateDistributionClient: Service, Sendable {
    /// Where the provider is: its address (possibly not known yet, for the embedded one) and authority key.
    public struct Provider: Sendable, CustomStringConvertible {
        /// The address, once known.
        public var address: @Sendable (EventLoop) -> EventLoopFuture<HostPort>
        /// The key its certificate must be signed by (nil: not checked).
        public var authority: XOnlyPublicKey?
        /// For the log.
        public var description: String

        /// A provider at a known address.
        public init(_ address: HostPort, authority: XOnlyPublicKey?) {
            self.address = { $0.makeSucceededFuture(address) }
            self.authority = authority
            self.description = address.description
        }

        /// The embedded regtest node's template provider, in-process on a loopback port known once it is bound.
        public init(embedded role: TemplateProviderRole) {
            let bound = role.provider.address
            self.address = { loop in bound.hop(to: loop).map { HostPort(host: "127.0.0.1", port: $0.port ?? 0) } }
            self.authority = role.authorityPublicKey
            self.description = Self.embeddedDescription
        }

        /// Stands for the embedded node's provider in settings until ``ProxyRole`` runs the node: connecting fails,
        /// saying so.
        static let embeddedNotRunning = Provider(
            address: { $0.makeFailedFuture(TemplateSourceError.unavailable("\(embeddedDescription) is not running")) }, authority: nil,
            description: embeddedDescription)

        private static let embeddedDescription = "the embedded template provider"

        private init(address: @escaping @Sendable (EventLoop) -> EventLoopFuture<HostPort>, authority: XOnlyPublicKey?, description: String) {
            self.address = address
            self.authority = authority
            self.description = description
        }
    }

    private typealias Session = TemplateDistributionClientSession
    private let connector: ClientConnector<Session, Sv2MessageWire, Provider>
    private let events = NIOLockedValueBox<@Sendable (TemplateDistributionClientSession.Effect) -> Void>({ _ in })

    /// A client of `provider` asking for room for `coinbaseOutputMaximumSize` bytes of coinbase outputs; templates
    /// go where ``onEvent(_:)`` says.
    /// `firmware` names the client in SetupConnection.
    public init(provider: Provider, coinbaseOutputMaximumSize: UInt32, firmware: String = "sv2 pool", group: EventLoopGroup, logger: Logger) {
        let events = self.events
        connector = ClientConnector(
            eventLoop: group.next(), failover: Failover(endpoints: [provider], initialDelay: .seconds(1), maximumDelay: .seconds(30)),
            wire: Sv2MessageWire(), readiness: .transportReady, configuration: ConnectionConfiguration(logger: logger, setupTimeout: .seconds(30)),
            connect: { provider, loop, engine in
                provider.address(loop).flatMap { address in
                    Sv2Connections.connect(
                        host: address.host, port: address.port, group: loop,
                        configuration: Sv2TransportConfiguration(security: .initiator(authority: provider.authority)),
                        closesOnMalformedMessage: false
                    ) { channel in channel.eventLoop.makeCompletedFuture { try engine(channel) } }.map { _ in }
                }
            },
            hooks: .init(
                makeSession: { provider, handle in
                    let setup = SetupNegotiation.request(
                        .templateDistribution, endpointHost: handle.channel.remoteAddress?.ipAddress ?? provider.description,
                        endpointPort: handle.channel.remoteAddress?.port ?? 0, hardwareVersion: HostPlatform.hardwareVersion,
                        firmware: firmware)
                    return Session(
                        setup: setup,
                        constraints: CoinbaseOutputConstraints(coinbaseOutputMaxAdditionalSize: coinbaseOutputMaximumSize, coinbaseOutputMaxAdditionalSigops: 0))
                },
                effect: { effect, _ in events.withLockedValue { $0 }(effect) }))
    }

    /// Templates and prevhashes go to `handle` from now on (called on the connection's event loop).
    public func onEvent(_ handle: @escaping @Sendable (TemplateDistributionClientSession.Effect) -> Void) {
        events.withLockedValue { $0 = handle }
    }

    /// Connects (and keeps reconnecting until ``stop()``).
    public func start() {
        connector.start()
    }

    /// Closes the connection for good.
    public func stop() async {
        try? await connector.stop().get()
    }

    /// Connects, runs until graceful shutdown, then closes.
    public func run() async throws {
        start()
        try? await gracefulShutdown()
        await stop()
    }

    /// Asks for the transactions of template `id`; they come to `onEvent` as
    /// ``TemplateDistributionClientSession/Effect/transactionData(templateID:transactions:)``.
    public func requestTransactionData(templateID id: UInt64) {
        connector.update { session, _ in session.requestTransactionData(templateID: id) }
    }

    /// Sends a solution; `sent` is called (on the connection's loop) with false when no connection is set up (the
    /// block is then lost to this provider).
    public func submit(_ solution: SubmitSolution, sent: @escaping @Sendable (Bool) -> Void) {
        connector.update({ session, _ in
            sent(session.isSetUp)
            return session.submit(solution)
        }, otherwise: { sent(false) })
    }
}
