import Bitcoin
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import Sv2Channels
import Sv2Crypto
import Sv2Messages
import Sv2Network
import Sv2Sessions

/// The Job Declarator Server (spec 6.1): one ``JobDeclaratorSession`` per connection on the connection engine, with
/// the pool's node (``DeclaratorNode``) answering the sessions' lookups, job checks and block submissions.
public final class JobDeclaratorService: Service, Sendable {
    /// Settings of the service.
    public struct Configuration: Sendable {
        /// Where to listen (port 0 picks a free one).
        public var listen: HostPort
        /// Noise responder identity.
        public var transport: Sv2TransportConfiguration
        /// What every session is built with.
        public var session: JobDeclaratorSession.Configuration
        /// Time a client has to complete the handshake and SetupConnection.
        public var setupTimeout: Duration

        /// Settings with a 30 s setup timeout.
        public init(listen: HostPort, transport: Sv2TransportConfiguration, session: JobDeclaratorSession.Configuration, setupTimeout: Duration = .seconds(30)) {
            self.listen = listen
            self.transport = transport
            self.session = session
            self.setupTimeout = setupTimeout
        }
    }

    /// The engine's types for a client connection.
    typealias Connection = ConnectionHandle<JobDeclaratorSession, Sv2MessageWire>

    private let configuration: Configuration
    private let node: any DeclaratorNode
    private let group: EventLoopGroup
    private let logger: Logger
    private let clock: Sv2Clock
    private let server = NIOLockedValueBox<Channel?>(nil)
    private let connections: ConnectionRegistry<JobDeclaratorSession, Sv2MessageWire>

    /// A service over `node`.
    public init(configuration: Configuration, node: any DeclaratorNode, group: EventLoopGroup, logger: Logger, clock: Sv2Clock = .system) {
        self.configuration = configuration
        self.node = node
        self.group = group
        self.logger = logger
        self.clock = clock
        connections = ConnectionRegistry(group: group, tickInterval: nil)
    }

    /// Binds the listening socket; returns the bound address.
    @discardableResult
    public func start() async throws -> SocketAddress {
        let settings = ConnectionConfiguration(logger: logger, clock: clock, setupTimeout: configuration.setupTimeout, outboundLimit: 16 << 20)
        let session = configuration.session
        let hooks = ConnectionHooks<JobDeclaratorSession, Sv2MessageWire>(
            ready: { _ in JobDeclaratorSession(configuration: session, random: SystemRandom()) },
            effect: { [weak self] effect, connection in self?.perform(effect, for: connection) },
            closed: { _, _ in })
        let engine = ConnectionEngine(wire: Sv2MessageWire(), readiness: .transportReady, configuration: settings, hooks: hooks)
        let (channel, address) = try await ListenError.listen(
            on: configuration.listen, transport: configuration.transport, group: group, engine: engine, registry: connections)
        server.withLockedValue { $0 = channel }
        logger.info("Job Declaration on \(address.hostPortDescription)")
        return address
    }

    /// Closes the listener and every connection.
    public func stop() async {
        try? await server.withLockedValue({ $0 })?.close().get()
        try? await connections.closeAll(reason: "the job declarator is shutting down")?.get()
    }

    /// Runs until graceful shutdown: starts, waits, stops.
    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        await stop()
    }

    /// Times a job whose block is not on the node's tip is checked again, and the wait before each: the node may be a
    /// block behind the client's (it has not heard of the block yet).
    static let staleRechecks = 5
    static let staleRecheckDelay = Duration.milliseconds(200)

    /// The block `job` makes on the node's tip, checked as a proposal; a stale answer is checked again up to
    /// ``staleRechecks`` times while the node may still reach the job's tip.
    static func check(_ job: DeclaredJob, on node: any DeclaratorNode, clock: Sv2Clock) async throws -> JobDeclaratorSession.NodeAnswer {
        var attempt = 0
        while true {
            let tip = try await node.tip()
            let block = try job.block(
                previousBlockHash: tip.hash, version: job.version, time: max(tip.medianTimePast + 1, clock.now().unixSeconds), bits: tip.bits,
                nonce: 0, extranonce: [UInt8](repeating: 0, count: job.extranonceSize))
            let rejection = try await node.checkProposal(block)
            guard let reason = rejection, JobDeclaratorSession.isStale(reason), attempt < staleRechecks else {
                return .proposal(tip: tip.hash, bits: tip.bits, rejection: rejection)
            }
            attempt += 1
            try await Task.sleep(for: staleRecheckDelay)
        }
    }

    private func perform(_ effect: JobDeclaratorSession.Effect, for connection: Connection) {
        let node = self.node
        let logger = self.logger
        let clock = self.clock
        switch effect {
        case let .lookUp(declaration, wtxids):
            Task {
                let answer: JobDeclaratorSession.NodeAnswer
                do {
                    answer = .transactions(try await node.transactions(wtxids: wtxids))
                } catch {
                    answer = .unavailable("\(error)")
                }
                connection.update { session, now in session.answer(answer, for: declaration, now: now) }
            }
        case let .check(declaration, job):
            Task {
                let answer: JobDeclaratorSession.NodeAnswer
                do {
                    answer = try await Self.check(job, on: node, clock: clock)
                } catch {
                    answer = .unavailable("\(error)")
                }
                connection.update { session, now in session.answer(answer, for: declaration, now: now) }
            }
        case let .submit(block):
            Task {
                do {
                    if let rejection = try await node.submit(block) {
                        logger.warning("pushed block \(block.hash.displayHex) rejected: \(rejection)")
                    } else {
                        logger.info("pushed block \(block.hash.displayHex) accepted by the node")
                    }
                } catch {
                    logger.warning("pushed block \(block.hash.displayHex) not submitted: \(error)")
                }
            }
        }
    }
}
