import Bitcoin
import NIOConcurrencyHelpers
import NIOCore
import Sv2Binary
import Sv2Node
import Sv2Sessions

/// Where a template provider gets its block templates and sends the blocks found: the embedded regtest node or
/// Bitcoin Core over JSON-RPC.
public protocol TemplateSource: AnyObject, Sendable {
    /// Starts producing templates: `deliver` is called (from any thread) with the first template and then with
    /// every new candidate (new tip, or a changed mempool); the provider decides which to send on.
    func start(deliver: @escaping @Sendable (BlockTemplate) -> Void) async throws
    /// Submits a block; completes with its hash once connected, or with the reason it was rejected.
    func submit(_ block: Block, completion: @escaping @Sendable (Result<U256, Error>) -> Void)
    /// Stops producing templates and releases resources (the embedded node flushes its chain).
    func stop() async
}

/// The embedded regtest node as a template source; its transaction generator runs on a timer.
public final class EmbeddedNodeSource: TemplateSource {
    /// The node.
    public let node: RegtestNode
    private let eventLoop: EventLoop
    private let generatorInterval: TimeAmount
    private let clock: Sv2Clock
    private let generator = NIOLockedValueBox<RepeatedTask?>(nil)

    /// A source over `node`, running the generator every `generatorInterval` on `eventLoop` with Unix time from
    /// `clock`.
    public init(node: RegtestNode, eventLoop: EventLoop, generatorInterval: TimeAmount = .seconds(1), clock: Sv2Clock) {
        self.node = node
        self.eventLoop = eventLoop
        self.generatorInterval = generatorInterval
        self.clock = clock
    }

    /// Delivers the node's template now and on every change; starts the transaction generator.
    public func start(deliver: @escaping @Sendable (BlockTemplate) -> Void) async throws {
        let node = self.node
        let clock = self.clock
        node.onChange { _ in deliver(node.template()) }
        deliver(node.template())
        let task = eventLoop.scheduleRepeatedTask(initialDelay: generatorInterval, delay: generatorInterval) { _ in
            node.generateTransactions(now: clock.now().unixSeconds)
        }
        generator.withLockedValue { $0 = task }
    }

    /// Validates and connects `block` on the node.
    public func submit(_ block: Block, completion: @escaping @Sendable (Result<U256, Error>) -> Void) {
        completion(node.submit(block).mapError { $0 as Error })
    }

    /// Stops the generator and closes the node (flushing its chain).
    public func stop() async {
        generator.withLockedValue { $0?.cancel() }
        node.close()
    }
}
