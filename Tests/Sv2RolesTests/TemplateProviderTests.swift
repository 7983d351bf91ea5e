import Bitcoin
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Sv2Binary
import Sv2Crypto
import Sv2Messages
import Sv2Network
import Sv2Node
@testable import Sv2Roles
import Sv2Sessions
import Sv2TestSupport
import Testing

/// A Template Distribution client for tests: collects every message, lets the test wait for the next one.
final class TemplateClient: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Sv2DecodedFrame
    typealias OutboundOut = Sv2Outbound

    private let condition = NSCondition()
    private var inbox: [Sv2Message] = []
    private(set) var channel: Channel?

    static func connect(port: Int, group: EventLoopGroup, authority: XOnlyPublicKey) throws -> TemplateClient {
        let client = TemplateClient()
        client.channel = try Sv2Connections.connect(
            host: "127.0.0.1", port: port, group: group, configuration: .init(security: .initiator(authority: authority))
        ) { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(client) }
        }.wait()
        return client
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        condition.lock()
        inbox.append(unwrapInboundIn(data).message)
        condition.broadcast()
        condition.unlock()
    }

    func send(_ message: Sv2Message) throws {
        try channel?.writeAndFlush(Sv2Outbound.message(message)).wait()
    }

    /// The next message received, waiting up to `seconds`.
    func next(within seconds: Double = 10) throws -> Sv2Message {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        while inbox.isEmpty {
            guard condition.wait(until: deadline) else { throw Sv2InputError("no message within \(seconds) s") }
        }
        return inbox.removeFirst()
    }

    /// SetupConnection for Template Distribution, then CoinbaseOutputConstraints; returns the first template.
    func setUp() throws -> (NewTemplate, TemplateSetNewPrevHash) {
        try send(.setupConnection(SetupConnection(
            protocol: 2, minVersion: 2, maxVersion: 2, flags: 0, endpointHost: "127.0.0.1", endpointPort: 8442,
            vendor: "sv2-tests", hardwareVersion: "", firmware: "", deviceID: "")))
        guard case .setupConnectionSuccess = try next() else { throw Sv2InputError("no SetupConnection.Success") }
        try send(.coinbaseOutputConstraints(CoinbaseOutputConstraints(coinbaseOutputMaxAdditionalSize: 100, coinbaseOutputMaxAdditionalSigops: 0)))
        return try nextTemplatePair()
    }

    /// Waits for NewTemplate(future) followed by SetNewPrevHash.
    func nextTemplatePair() throws -> (NewTemplate, TemplateSetNewPrevHash) {
        while true {
            guard case let .newTemplate(template) = try next(), template.futureTemplate else { continue }
            guard case let .templateSetNewPrevHash(prevHash) = try next() else { throw Sv2InputError("NewTemplate without SetNewPrevHash") }
            return (template, prevHash)
        }
    }
}

/// Builds the coinbase a template asks for and grinds a nonce until the header meets the target.
func solve(_ template: NewTemplate, _ prevHash: TemplateSetNewPrevHash, extranonce: [UInt8] = [1, 2, 3, 4]) throws -> (SubmitSolution, U256) {
    let payout = TransactionOutput(value: template.coinbaseTxValueRemaining, scriptPubKey: [0x00, 0x20] + Sv2Hash.sha256([0x51]))
    let templateOutputs = try TransactionOutput.decodeList(template.coinbaseTxOutputs, count: Int(template.coinbaseTxOutputsCount))
    let coinbase = Transaction(
        version: template.coinbaseTxVersion,
        inputs: [TransactionInput(
            previousOutput: .null, scriptSig: template.coinbasePrefix + [UInt8(extranonce.count)] + extranonce,
            sequence: template.coinbaseTxInputSequence, witness: [[UInt8](repeating: 0, count: 32)])],
        outputs: [payout] + templateOutputs, lockTime: template.coinbaseTxLocktime)
    var header = BlockHeader(
        version: template.version, previousBlockHash: prevHash.prevHash,
        merkleRoot: Merkle.root(coinbaseTxid: coinbase.txid, path: template.merklePath), time: prevHash.headerTimestamp,
        bits: prevHash.nBits, nonce: 0)
    while !header.meets(target: prevHash.target) { header.nonce += 1 }
    return (SubmitSolution(
        templateID: template.templateID, version: header.version, headerTimestamp: header.time, headerNonce: header.nonce,
        coinbaseTx: coinbase.serialized(includingWitness: true)), header.hash)
}

@Suite("Template Provider over TCP", .serialized)
struct TemplateProviderTests {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    /// Runs `body` with a provider on a fresh in-memory node (its port and authority key), then stops it.
    func withProvider(
        generationRate: Int = 3, feeDelta: UInt64 = 0, templateInterval: Duration = .milliseconds(100),
        _ body: (TemplateProviderService, RegtestNode, Int, XOnlyPublicKey) throws -> Void
    ) async throws {
        let (service, node, port, authority) = try await provider(generationRate: generationRate, feeDelta: feeDelta, templateInterval: templateInterval)
        try await withCleanup { try body(service, node, port, authority) } cleanup: { await service.stop() }
    }

    func provider(generationRate: Int, feeDelta: UInt64, templateInterval: Duration) async throws -> (TemplateProviderService, RegtestNode, Int, XOnlyPublicKey) {
        var random = SystemRandom()
        let authority = Secp256k1SecretKey.generate(using: &random)
        let clock = Sv2Clock.system
        let node = try RegtestNode(configuration: RegtestNodeConfiguration(datadir: nil, generationRate: generationRate, clock: clock))
        let service = TemplateProviderService(
            configuration: .init(
                listen: HostPort(host: "127.0.0.1", port: 0),
                transport: Sv2TransportConfiguration(security: .responder(Sv2ResponderIdentity(authoritySecretKey: authority)), clock: clock),
                feeDelta: feeDelta, templateInterval: templateInterval),
            source: EmbeddedNodeSource(node: node, eventLoop: Self.group.next(), generatorInterval: .milliseconds(50), clock: clock),
            group: Self.group, logger: LogSettings(level: .warning).logger("tp-test"))
        let port = try #require(try await service.start().port)
        return (service, node, port, authority.xOnlyPublicKey)
    }

    @Test("a client mines 50 blocks in a row, each answered by the next template; transactions are served")
    func fiftyBlocks() async throws {
        try await withProvider { service, node, port, authority in
            let client = try TemplateClient.connect(port: port, group: Self.group, authority: authority)
            defer { client.channel?.close(promise: nil) }
            var (template, prevHash) = try client.setUp()
            let startHeight = node.tip.height
            var sawTransactions = false
            for _ in 0..<50 {
                try client.send(.requestTransactionData(RequestTransactionData(templateID: template.templateID)))
                var reply = try client.next()
                while case .newTemplate = reply { reply = try client.next() }
                guard case let .requestTransactionDataSuccess(data) = reply else { throw Sv2InputError("no transaction data: \(reply.name)") }
                #expect(data.templateID == template.templateID)
                #expect(template.merklePath.isEmpty == data.transactionList.isEmpty)
                if !data.transactionList.isEmpty { sawTransactions = true }
                let (solution, hash) = try solve(template, prevHash)
                // Fresh mempool transactions, so that the template built on the new tip carries some.
                node.generateTransactions(now: UInt32(Date().timeIntervalSince1970))
                try client.send(.submitSolution(solution))
                (template, prevHash) = try client.nextTemplatePair()
                #expect(prevHash.prevHash == hash)
            }
            #expect(node.tip.height == startHeight + 50)
            #expect(sawTransactions)
            // Bitcoin Core's consensus engine accepts every block, the 50 mined through Template Distribution included.
            if let python = KernelCheck.python {
                let (status, text) = try KernelCheck.validate(node, python: python)
                #expect(status == 0, "\(text)")
                #expect(text.contains("VALID: all \(startHeight + 50) blocks"))
            }
        }
    }

    @Test("a bad solution is rejected, the tip stays, and other clients keep receiving templates")
    func badSolutions() async throws {
        try await withProvider(generationRate: 0) { service, node, port, authority in
            let miner = try TemplateClient.connect(port: port, group: Self.group, authority: authority)
            let watcher = try TemplateClient.connect(port: port, group: Self.group, authority: authority)
            defer {
                miner.channel?.close(promise: nil)
                watcher.channel?.close(promise: nil)
            }
            let (template, prevHash) = try miner.setUp()
            _ = try watcher.setUp()
            let tip = node.tip
            let (solution, _) = try solve(template, prevHash)
            var wrongNonce = solution
            // Find a nonce whose hash misses the target (half of them do on regtest).
            repeat {
                wrongNonce.headerNonce &+= 1
            } while (try? TemplateDistribution.block(for: wrongNonce, template: service.currentTemplate!.template))?.header.meets(target: prevHash.target) ?? true
            try miner.send(.submitSolution(wrongNonce))
            var mangled = solution
            mangled.coinbaseTx = Array(mangled.coinbaseTx.dropLast(3))
            try miner.send(.submitSolution(mangled))
            Thread.sleep(forTimeInterval: 0.3)
            #expect(node.tip == tip)
            // The honest solution still works, and the watcher gets the new tip too.
            try miner.send(.submitSolution(solution))
            let (_, newPrevHash) = try watcher.nextTemplatePair()
            #expect(newPrevHash.prevHash != tip.hash)
            #expect(node.tip.height == tip.height + 1)
        }
    }

    @Test("on the same tip a new template comes only when fees grew by more than the delta, at most once per interval")
    func feeDeltaAndInterval() async throws {
        try await withProvider(generationRate: 5, feeDelta: 2000, templateInterval: .milliseconds(400)) { service, _, port, authority in
            let client = try TemplateClient.connect(port: port, group: Self.group, authority: authority)
            defer { client.channel?.close(promise: nil) }
            var (template, _) = try client.setUp()
            var arrivals = [Date]()
            for _ in 0..<3 {
                guard case let .newTemplate(update) = try client.next(within: 10) else { throw Sv2InputError("expected NewTemplate") }
                #expect(!update.futureTemplate)
                // Fees (value remaining minus the subsidy, the same on one tip) grew by more than the delta.
                #expect(update.coinbaseTxValueRemaining > template.coinbaseTxValueRemaining + 2000)
                template = update
                arrivals.append(Date())
            }
            for (earlier, later) in zip(arrivals, arrivals.dropFirst()) {
                #expect(later.timeIntervalSince(earlier) >= 0.35)
            }
        }
    }

    @Test("setup errors: wrong protocol gets SetupConnection.Error; unknown template ids get RequestTransactionData.Error")
    func setupErrors() async throws {
        try await withProvider(generationRate: 0) { service, _, port, authority in
            let client = try TemplateClient.connect(port: port, group: Self.group, authority: authority)
            defer { client.channel?.close(promise: nil) }
            try client.send(.setupConnection(SetupConnection(
                protocol: 0, minVersion: 2, maxVersion: 2, flags: 0, endpointHost: "", endpointPort: 0, vendor: "", hardwareVersion: "",
                firmware: "", deviceID: "")))
            guard case let .setupConnectionError(error) = try client.next() else { throw Sv2InputError("expected SetupConnection.Error") }
            #expect(error.errorCode == "unsupported-protocol")
            let second = try TemplateClient.connect(port: port, group: Self.group, authority: authority)
            defer { second.channel?.close(promise: nil) }
            _ = try second.setUp()
            try second.send(.requestTransactionData(RequestTransactionData(templateID: 999_999)))
            guard case let .requestTransactionDataError(unknown) = try second.next() else { throw Sv2InputError("expected RequestTransactionData.Error") }
            #expect(unknown.errorCode == "template-id-not-found")
        }
    }
}
