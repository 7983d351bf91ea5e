import Bitcoin
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import Sv2Binary
import Sv2Channels
import Sv2Messages
import Sv2Monitoring
import Sv2Network
import Sv2Node
import Sv2Sessions

/// The Template Distribution server (spec 7): serves the templates of a ``TemplateSource`` to every connected
/// client and submits the blocks they find. One ``TemplateDistributionServerSession`` per connection, on the
/// connection engine.
///
/// A new tip is sent at once as NewTemplate (future) + SetNewPrevHash. On the same tip a new template is sent
/// (NewTemplate, not future) only when its fees exceed the last one's by more than `feeDelta` satoshis and no
/// sooner than `templateInterval` after it, as Bitcoin Core's sv2 template provider does.
public final class TemplateProviderService: Service, Sendable {
    /// Settings of the service.
    public struct Configuration: Sendable {
        /// Where to listen (port 0 picks a free one).
        public var listen: HostPort
        /// Noise responder identity, or plaintext.
        public var transport: Sv2TransportConfiguration
        /// Satoshis of extra fees that justify a new template on the same tip.
        public var feeDelta: UInt64
        /// Minimum time between two templates on the same tip.
        public var templateInterval: Duration
        /// How many templates are kept for RequestTransactionData and SubmitSolution.
        public var templatesKept: Int
        /// Time a client has to complete the handshake and SetupConnection.
        public var setupTimeout: Duration

        /// Settings with Bitcoin Core's defaults for the fee delta (1000 sat) and interval (30 s).
        public init(
            listen: HostPort, transport: Sv2TransportConfiguration, feeDelta: UInt64 = 1000, templateInterval: Duration = .seconds(30),
            templatesKept: Int = 64, setupTimeout: Duration = .seconds(30)
        ) {
            self.listen = listen
            self.transport = transport
            self.feeDelta = feeDelta
            self.templateInterval = templateInterval
            self.templatesKept = templatesKept
            self.setupTimeout = setupTimeout
        }
    }

    /// The engine's types for a client connection.
    typealias Connection = ConnectionHandle<TemplateDistributionServerSession, Sv2MessageWire>

    private struct State {
        var templates: [UInt64: BlockTemplate] = [:]
        var templateOrder: [UInt64] = []
        var nextID: UInt64 = 1
        var current: (id: UInt64, template: BlockTemplate)?
        var lastSent: Timestamp?
        var pending: BlockTemplate?
        var recheck: Scheduled<Void>?
        var server: Channel?
    }

    private let configuration: Configuration
    private let source: TemplateSource
    private let group: EventLoopGroup
    private let logger: Logger
    private let clock: Sv2Clock
    private let state = NIOLockedValueBox(State())
    private let connections: ConnectionRegistry<TemplateDistributionServerSession, Sv2MessageWire>
    /// Each client connection's number (its client id in monitoring).
    private let numbers = ClientNumbers()
    private let bound: EventLoopPromise<SocketAddress>

    /// A service over `source`.
    public init(configuration: Configuration, source: TemplateSource, group: EventLoopGroup, logger: Logger, clock: Sv2Clock = .system) {
        self.configuration = configuration
        self.source = source
        self.group = group
        self.logger = logger
        self.clock = clock
        connections = ConnectionRegistry(group: group, tickInterval: nil)
        bound = group.any().makePromise()
    }

    /// Where the server listens, once bound.
    public var address: EventLoopFuture<SocketAddress> { bound.futureResult }

    /// Binds the listening socket and starts the source; returns the bound address.
    @discardableResult
    public func start() async throws -> SocketAddress {
        let settings = ConnectionConfiguration(logger: logger, clock: clock, setupTimeout: configuration.setupTimeout, outboundLimit: 64 << 20)
        let hooks = ConnectionHooks<TemplateDistributionServerSession, Sv2MessageWire>(
            ready: { [numbers] connection in
                numbers.add(connection.id, peer: connection.peer)
                return TemplateDistributionServerSession()
            },
            effect: { [weak self] effect, connection in self?.perform(effect, for: connection) },
            closed: { [numbers] connection, _ in numbers.remove(connection.id) })
        let engine = ConnectionEngine(wire: Sv2MessageWire(), readiness: .transportReady, configuration: settings, hooks: hooks)
        let (server, address): (Channel, SocketAddress)
        do {
            (server, address) = try await ListenError.listen(
                on: configuration.listen, transport: configuration.transport, group: group, engine: engine, registry: connections)
        } catch {
            bound.fail(error)
            throw error
        }
        state.withLockedValue { $0.server = server }
        try await source.start { [weak self] template in self?.deliver(template) }
        logger.info("Template Distribution on \(address.hostPortDescription)")
        bound.succeed(address)
        return address
    }

    /// Closes the listener and every connection, and stops the source (flushing the chain).
    public func stop() async {
        let (server, recheck) = state.withLockedValue { ($0.server, $0.recheck) }
        recheck?.cancel()
        try? await server?.close().get()
        try? await connections.closeAll(reason: "the template provider is shutting down")?.get()
        await source.stop()
        bound.fail(ChannelError.ioOnClosedChannel)
    }

    /// Runs until graceful shutdown: starts, waits, stops.
    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        await stop()
    }

    /// Connections open now.
    public var clientCount: Int { connections.count }

    /// The id and template clients currently work on.
    public var currentTemplate: (id: UInt64, template: BlockTemplate)? { state.withLockedValue { $0.current } }

    // MARK: - Templates

    /// A new candidate from the source: sent on at once for a new tip, held back otherwise until it is worth it.
    func deliver(_ template: BlockTemplate) {
        let now = clock.now()
        let outgoing: (messages: [Sv2Message], newTip: Bool, id: UInt64)? = state.withLockedValue { state in
            let newTip = state.current?.template.previousBlockHash != template.previousBlockHash
            if !newTip {
                let lastFees = state.current?.template.fees ?? 0
                guard template.fees > lastFees + configuration.feeDelta else { return nil }
                if let lastSent = state.lastSent, now - lastSent < configuration.templateInterval {
                    state.pending = template
                    if state.recheck == nil {
                        let wait = configuration.templateInterval - (now - lastSent)
                        state.recheck = group.any().scheduleTask(in: TimeAmount(wait)) { [weak self] in self?.deliverPending() }
                    }
                    return nil
                }
            }
            state.pending = nil
            let id = state.nextID
            state.nextID += 1
            state.templates[id] = template
            state.templateOrder.append(id)
            if state.templateOrder.count > configuration.templatesKept { state.templates[state.templateOrder.removeFirst()] = nil }
            state.current = (id, template)
            state.lastSent = now
            var messages: [Sv2Message] = [.newTemplate(TemplateDistribution.newTemplate(template, id: id, future: newTip))]
            if newTip { messages.append(.templateSetNewPrevHash(TemplateDistribution.setNewPrevHash(template, id: id))) }
            return (messages, newTip, id)
        }
        guard let outgoing else { return }
        let tip = outgoing.newTip ? ", new tip \(template.previousBlockHash.displayHex)" : ""
        logger.info("""
            template \(outgoing.id): height \(template.height), \(template.transactions.count) transactions, fees \(template.fees) sat\
            \(tip), to \(connections.count) client(s)
            """)
        broadcast(outgoing.messages)
    }

    private func deliverPending() {
        let template = state.withLockedValue { state -> BlockTemplate? in
            state.recheck = nil
            return state.pending
        }
        if let template { deliver(template) }
    }

    /// Sends `messages` to every client that receives templates: encoded once per event loop, written by one task
    /// per loop.
    private func broadcast(_ messages: [Sv2Message]) {
        connections.broadcast(encoded: { Self.frames(messages) }, to: { $0.receivesTemplates })
    }

    private static func frames(_ messages: [Sv2Message]) -> [(value: Sv2Outbound, bytes: Int)] {
        messages.compactMap { message in
            (try? message.frame()).map { (.frame($0), Sv2FrameHeader.size + $0.payload.count) }
        }
    }

    /// The current template as a new client gets it: NewTemplate (future) + SetNewPrevHash.
    private func currentMessages() -> [Sv2Message] {
        guard let current = state.withLockedValue({ $0.current }) else { return [] }
        return [
            .newTemplate(TemplateDistribution.newTemplate(current.template, id: current.id, future: true)),
            .templateSetNewPrevHash(TemplateDistribution.setNewPrevHash(current.template, id: current.id)),
        ]
    }

    /// Sends the current template (NewTemplate + SetNewPrevHash) again to every client that receives templates:
    /// the bare fan-out, without building a template or connecting a block (the reference of `sv2 bench tp`).
    public func rebroadcastCurrentTemplate() {
        broadcast(currentMessages())
    }

    // MARK: - Clients

    private func perform(_ effect: TemplateDistributionServerSession.Effect, for connection: Connection) {
        switch effect {
        case let .useConstraints(size, _):
            if size > 4000 {
                logger.warning("a client asks for more coinbase output room than templates reserve (about 1000 bytes)", metadata: ["bytes": "\(size)"])
            }
            let messages = currentMessages()
            connection.update { _, _ in messages.map { .send($0) } }
        case let .requestTransactionData(id):
            let answer = transactionData(templateID: id)
            connection.update { _, _ in [.send(answer)] }
        case let .submitSolution(solution):
            submit(solution)
        }
    }

    /// The answer to RequestTransactionData.
    func transactionData(templateID: UInt64) -> Sv2Message {
        let (template, known) = state.withLockedValue { ($0.templates[templateID], $0.templateOrder.first.map { templateID < $0 } ?? false) }
        guard let template else {
            return .requestTransactionDataError(RequestTransactionDataError(
                templateID: templateID, errorCode: known ? "stale-template-id" : "template-id-not-found"))
        }
        return .requestTransactionDataSuccess(RequestTransactionDataSuccess(
            templateID: templateID, excessData: [], transactionList: TemplateDistribution.transactionData(template)))
    }

    /// Assembles the block of a solution and submits it; the outcome is logged (spec 7 has no reply).
    func submit(_ solution: SubmitSolution) {
        guard let template = state.withLockedValue({ $0.templates[solution.templateID] }) else {
            logger.warning("SubmitSolution for an unknown template: ignored", metadata: ["template": "\(solution.templateID)"])
            return
        }
        let block: Block
        do {
            block = try TemplateDistribution.block(for: solution, template: template)
        } catch {
            logger.warning("SubmitSolution rejected: \(error)", metadata: ["template": "\(solution.templateID)"])
            return
        }
        let logger = self.logger
        let height = template.height
        source.submit(block) { result in
            switch result {
            case let .success(hash): logger.info("block \(hash.displayHex) at height \(height) connected")
            case let .failure(reason): logger.warning("block \(block.hash.displayHex) at height \(height) rejected: \(reason)")
            }
        }
    }
}

extension TemplateProviderService: MonitoringSource {
    /// The Template Distribution clients (pools, job declarator clients: clients without mining channels), connections
    /// by state and the age of the newest template sent.
    public func snapshot() async -> MonitoringSnapshot {
        let numbers = self.numbers
        let clients = (try? await connections.collect { session, id -> Sv2Client? in
            guard session.isSetUp, let client = numbers[id] else { return nil }
            return Sv2Client(clientID: UInt64(client.number), kind: .unknown, peer: client.peer, channels: [])
        }?.get()) ?? []
        let now = clock.now()
        return MonitoringSnapshot(
            sv2Clients: clients,
            connections: MonitoringSnapshot.connections(ready: clients.count, total: connections.count),
            templateAge: MonitoringSnapshot.age(of: state.withLockedValue { $0.lastSent }, now: now))
    }
}
