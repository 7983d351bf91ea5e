import Bitcoin
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Sv2Binary
import Sv2Messages
import Sv2Network
import Sv2Node

/// The Template Distribution server (spec 7): serves the templates of a ``TemplateSource`` to every connected
/// client and submits the blocks they find.
///
/// A new tip is sent at once as NewTemplate (future) + SetNewPrevHash. On the same tip a new template is sent
/// (NewTemplate, not future) only when its fees exceed the last one's by more than `feeDelta` satoshis and no
/// sooner than `templateInterval` after it, as Bitcoin Core's sv2 template provider does.
public final class TemplateProviderService: @unchecked Sendable {
    /// Settings of the service.
    public struct Configuration: Sendable {
        /// Address to listen on.
        public var host: String
        /// Port to listen on (0 picks a free one).
        public var port: Int
        /// Noise responder identity, or plaintext.
        public var transport: Sv2TransportConfiguration
        /// Satoshis of extra fees that justify a new template on the same tip.
        public var feeDelta: UInt64
        /// Minimum time between two templates on the same tip.
        public var templateInterval: TimeAmount
        /// How many templates are kept for RequestTransactionData and SubmitSolution.
        public var templatesKept: Int

        /// Settings with Bitcoin Core's defaults for the fee delta (1000 sat) and interval (30 s).
        public init(
            host: String, port: Int, transport: Sv2TransportConfiguration, feeDelta: UInt64 = 1000,
            templateInterval: TimeAmount = .seconds(30), templatesKept: Int = 64
        ) {
            self.host = host
            self.port = port
            self.transport = transport
            self.feeDelta = feeDelta
            self.templateInterval = templateInterval
            self.templatesKept = templatesKept
        }
    }

    private struct Client {
        let channel: Channel
        var receivesTemplates = false
    }

    private let configuration: Configuration
    private let source: TemplateSource
    private let group: EventLoopGroup
    let logger: Logger
    private let lock = NIOLock()
    private var templates: [UInt64: BlockTemplate] = [:]
    private var templateOrder: [UInt64] = []
    private var nextID: UInt64 = 1
    private var current: (id: UInt64, template: BlockTemplate)?
    private var lastSent = NIODeadline.distantPast
    private var pending: BlockTemplate?
    private var recheck: Scheduled<Void>?
    private var clients: [ObjectIdentifier: Client] = [:]
    private var server: Channel?

    /// A service over `source`.
    public init(configuration: Configuration, source: TemplateSource, group: EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.source = source
        self.group = group
        self.logger = logger
    }

    /// Binds the listening socket and starts the source; returns the bound address.
    public func start() throws -> SocketAddress? {
        let channel = try Sv2Connections.listen(
            host: configuration.host, port: configuration.port, group: group, configuration: configuration.transport
        ) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(TemplateProviderHandler(service: self))
            }
        }.wait()
        lock.withLock { server = channel }
        try source.start { [weak self] template in self?.deliver(template) }
        return channel.localAddress
    }

    /// Closes every connection, stops the source (flushing the chain).
    public func stop() {
        let (server, channels) = lock.withLock { () -> (Channel?, [Channel]) in
            recheck?.cancel()
            let channels = clients.values.map(\.channel)
            clients.removeAll()
            return (self.server, channels)
        }
        for channel in channels { channel.close(promise: nil) }
        try? server?.close().wait()
        source.stop()
    }

    /// The number of connected clients (for tests and the benchmark).
    public var clientCount: Int { lock.withLock { clients.count } }

    /// The id and template clients currently work on.
    public var currentTemplate: (id: UInt64, template: BlockTemplate)? { lock.withLock { current } }

    // MARK: - Templates

    /// A new candidate from the source: sent on at once for a new tip, held back otherwise until it is worth it.
    func deliver(_ template: BlockTemplate) {
        let now = NIODeadline.now()
        let outgoing: (messages: [Sv2Message], channels: [Channel], summary: String)? = lock.withLock {
            let newTip = current?.template.previousBlockHash != template.previousBlockHash
            if !newTip {
                let lastFees = current?.template.fees ?? 0
                guard template.fees > lastFees + configuration.feeDelta else {
                    return nil
                }
                let due = lastSent + configuration.templateInterval
                guard now >= due else {
                    pending = template
                    if recheck == nil {
                        recheck = group.next().scheduleTask(deadline: due) { [weak self] in self?.deliverPending() }
                    }
                    return nil
                }
            }
            pending = nil
            let id = nextID
            nextID += 1
            templates[id] = template
            templateOrder.append(id)
            if templateOrder.count > configuration.templatesKept {
                templates[templateOrder.removeFirst()] = nil
            }
            current = (id, template)
            lastSent = now
            var messages: [Sv2Message] = [.newTemplate(TemplateDistribution.newTemplate(template, id: id, future: newTip))]
            if newTip { messages.append(.templateSetNewPrevHash(TemplateDistribution.setNewPrevHash(template, id: id))) }
            let channels = clients.values.filter(\.receivesTemplates).map(\.channel)
            let summary = "template \(id): height \(template.height), \(template.transactions.count) transactions, fees \(template.fees) sat"
                + (newTip ? ", new tip \(template.previousBlockHash.displayHex)" : "") + ", to \(channels.count) client(s)"
            return (messages, channels, summary)
        }
        guard let outgoing else { return }
        logger.info("\(outgoing.summary)")
        send(outgoing.messages, to: outgoing.channels)
    }

    private func deliverPending() {
        let template = lock.withLock { () -> BlockTemplate? in
            recheck = nil
            return pending
        }
        if let template { deliver(template) }
    }

    private func send(_ messages: [Sv2Message], to channel: Channel) {
        send(messages, to: [channel])
    }

    /// Sends `messages` to every channel: encoded once, then one task per event loop writes them to that loop's
    /// channels (no per-channel hop from this thread).
    private func send(_ messages: [Sv2Message], to channels: [Channel]) {
        let frames = messages.compactMap { try? $0.frame() }
        var byLoop = [ObjectIdentifier: (loop: EventLoop, channels: [Channel])]()
        for channel in channels {
            byLoop[ObjectIdentifier(channel.eventLoop), default: (channel.eventLoop, [])].channels.append(channel)
        }
        for (loop, loopChannels) in byLoop.values {
            loop.execute {
                for channel in loopChannels {
                    for frame in frames { channel.write(Sv2Outbound.frame(frame), promise: nil) }
                    channel.flush()
                }
            }
        }
    }

    /// Sends the current template (NewTemplate + SetNewPrevHash) again to every client that receives templates:
    /// the bare fan-out, without building a template or connecting a block (the reference of `sv2 bench tp`).
    public func rebroadcastCurrentTemplate() {
        let (current, channels) = lock.withLock { (self.current, clients.values.filter(\.receivesTemplates).map(\.channel)) }
        guard let current else { return }
        let messages: [Sv2Message] = [
            .newTemplate(TemplateDistribution.newTemplate(current.template, id: current.id, future: true)),
            .templateSetNewPrevHash(TemplateDistribution.setNewPrevHash(current.template, id: current.id)),
        ]
        send(messages, to: channels)
    }

    // MARK: - Clients

    func add(_ channel: Channel) {
        lock.withLock { clients[ObjectIdentifier(channel)] = Client(channel: channel) }
    }

    func remove(_ channel: Channel) {
        lock.withLock { clients[ObjectIdentifier(channel)] = nil }
    }

    /// The client sent CoinbaseOutputConstraints: from now on it receives templates, starting with the current one.
    func startTemplates(for channel: Channel, maximumAdditionalSize: UInt32) {
        let current = lock.withLock { () -> (id: UInt64, template: BlockTemplate)? in
            clients[ObjectIdentifier(channel)]?.receivesTemplates = true
            return self.current
        }
        if maximumAdditionalSize > 4000 {
            logger.warning("a client asks for \(maximumAdditionalSize) bytes of coinbase outputs; templates reserve about 1000")
        }
        guard let current else { return }
        send([
            .newTemplate(TemplateDistribution.newTemplate(current.template, id: current.id, future: true)),
            .templateSetNewPrevHash(TemplateDistribution.setNewPrevHash(current.template, id: current.id)),
        ], to: channel)
    }

    /// The answer to RequestTransactionData.
    func transactionData(templateID: UInt64) -> Sv2Message {
        let template = lock.withLock { templates[templateID] }
        guard let template else {
            let known = lock.withLock { templateOrder.first.map { templateID < $0 } ?? false }
            return .requestTransactionDataError(RequestTransactionDataError(
                templateID: templateID, errorCode: known ? "stale-template-id" : "template-id-not-found"))
        }
        return .requestTransactionDataSuccess(RequestTransactionDataSuccess(
            templateID: templateID, excessData: [], transactionList: TemplateDistribution.transactionData(template)))
    }

    /// Assembles the block of a solution and submits it; the outcome is logged (spec 7 has no reply).
    func submit(_ solution: SubmitSolution) {
        guard let template = lock.withLock({ templates[solution.templateID] }) else {
            logger.warning("SubmitSolution for unknown template \(solution.templateID): ignored")
            return
        }
        let block: Block
        do {
            block = try TemplateDistribution.block(for: solution, template: template)
        } catch {
            logger.warning("SubmitSolution for template \(solution.templateID) rejected: \(error)")
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

/// One client connection: runs its ``TemplateDistributionSession`` and carries out the actions.
final class TemplateProviderHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Sv2DecodedFrame
    typealias OutboundOut = Sv2Outbound

    private let service: TemplateProviderService
    private var session = TemplateDistributionSession()

    init(service: TemplateProviderService) {
        self.service = service
    }

    func channelActive(context: ChannelHandlerContext) {
        service.add(context.channel)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        service.remove(context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        for action in session.receive(unwrapInboundIn(data).message) {
            switch action {
            case let .send(message):
                context.writeAndFlush(wrapOutboundOut(.message(message)), promise: nil)
            case let .useConstraints(size, _):
                service.startTemplates(for: context.channel, maximumAdditionalSize: size)
            case let .requestTransactionData(id):
                context.writeAndFlush(wrapOutboundOut(.message(service.transactionData(templateID: id))), promise: nil)
            case let .submitSolution(solution):
                service.submit(solution)
            case let .ignore(reason):
                service.logger.warning("\(context.channel.peerDescription): ignored \(reason)")
            case let .close(reason):
                service.logger.warning("\(context.channel.peerDescription): closing: \(reason)")
                context.close(promise: nil)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        service.logger.warning("\(context.channel.peerDescription): \(error)")
    }
}
