import ArgumentParser
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
import Sv2Roles
import Sv2Sessions

/// `sv2 bench tp`: time from SubmitSolution to NewTemplate + SetNewPrevHash delivered to every connected client.
struct TemplateProviderBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tp",
        abstract: "SubmitSolution to NewTemplate + SetNewPrevHash at N clients, next to the bare fan-out of the same frames.",
        discussion: """
            Starts a template provider on an in-memory regtest node (Noise on loopback) and connects N clients that \
            set up Template Distribution. Each round one client solves the current template and submits it; the \
            time runs until the last client has the new SetNewPrevHash (block assembled, validated, connected, new \
            template built and fanned out). The reference, measured in the same run over the same connections, \
            resends the current NewTemplate + SetNewPrevHash to every client: the fan-out alone. Medians of the rounds.
            """
    )

    @Option(help: "Connected clients.")
    var clients = 1000
    @Option(help: "Rounds of each measurement.")
    var rounds = 15

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        var random = SystemRandom()
        let authority = Secp256k1SecretKey.generate(using: &random)
        let node = try RegtestNode(configuration: RegtestNodeConfiguration(generationRate: 0))
        let clock = Sv2Clock.system
        let service = TemplateProviderService(
            configuration: .init(
                listen: HostPort(host: "127.0.0.1", port: 0),
                transport: Sv2TransportConfiguration(security: .responder(Sv2ResponderIdentity(authoritySecretKey: authority)), clock: clock)),
            source: EmbeddedNodeSource(node: node, eventLoop: group.next(), clock: clock), group: group,
            logger: LogSettings(level: .warning).logger("bench"))
        guard let port = try await service.start().port else { throw CommandFailure("the template provider did not bind") }
        try await withCleanup { try await measure(service: service, port: port, authority: authority, group: group) } cleanup: {
            await service.stop()
            try? await group.shutdownGracefully()
        }
    }

    private func measure(service: TemplateProviderService, port: Int, authority: Secp256k1SecretKey, group: EventLoopGroup) async throws {
        let counter = BenchCounter()
        var channels = [Channel]()
        let connectStart = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<clients {
            let handler = BenchClient(counter: counter)
            channels.append(try await Sv2Connections.connect(
                host: "127.0.0.1", port: port, group: group, configuration: .init(security: .initiator(authority: authority.xOnlyPublicKey))
            ) { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
            }.get())
        }
        try counter.waitFor(count: clients, seconds: 120)
        let connectSeconds = Double(DispatchTime.now().uptimeNanoseconds - connectStart) / 1e9
        defer { for channel in channels { channel.close(promise: nil) } }

        var submitToAll = [Double]()
        var fanOut = [Double]()
        for _ in 0..<rounds {
            guard let current = service.currentTemplate else { throw CommandFailure("no template") }
            let block = Self.solve(current.template, id: current.id)
            counter.reset()
            let start = DispatchTime.now().uptimeNanoseconds
            try await channels[0].writeAndFlush(Sv2Outbound.message(.submitSolution(block))).get()
            try counter.waitFor(count: clients, seconds: 60)
            submitToAll.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)

            counter.reset()
            let referenceStart = DispatchTime.now().uptimeNanoseconds
            service.rebroadcastCurrentTemplate()
            try counter.waitFor(count: clients, seconds: 60)
            fanOut.append(Double(DispatchTime.now().uptimeNanoseconds - referenceStart) / 1e6)
        }
        let ours = submitToAll.sorted()[rounds / 2]
        let reference = fanOut.sorted()[rounds / 2]
        print("sv2 bench tp: \(clients) Noise clients on loopback (connected and set up in \(BenchmarkTiming.format(connectSeconds, digits: 2)) s), median of \(rounds) rounds")
        BenchmarkTiming.printTable(
            ["measurement", "ms (median)", "ms (min)", "ms (max)", "ratio"],
            [
                ["SubmitSolution -> SetNewPrevHash at all clients", BenchmarkTiming.format(ours, digits: 2),
                 BenchmarkTiming.format(submitToAll.min() ?? 0, digits: 2), BenchmarkTiming.format(submitToAll.max() ?? 0, digits: 2),
                 BenchmarkTiming.format(ours / reference, digits: 2) + "x"],
                ["fan-out of the same frames (ref)", BenchmarkTiming.format(reference, digits: 2),
                 BenchmarkTiming.format(fanOut.min() ?? 0, digits: 2), BenchmarkTiming.format(fanOut.max() ?? 0, digits: 2), "1.00x"],
            ])
        print("goal: median <= 10 ms at 1,000 clients")
    }

    /// A SubmitSolution for `template`: a coinbase paying to P2WSH(OP_TRUE), the nonce ground until the header
    /// meets the target (half of all hashes do on regtest).
    static func solve(_ template: BlockTemplate, id: UInt64) -> SubmitSolution {
        let coinbase = Transaction(
            version: TemplateDistribution.coinbaseVersion,
            inputs: [TransactionInput(
                previousOutput: .null, scriptSig: template.coinbaseScriptSigPrefix + [4, 1, 2, 3, 4],
                witness: [[UInt8](repeating: 0, count: 32)])],
            outputs: [
                TransactionOutput(value: template.coinbaseValue, scriptPubKey: NodeScripts.p2wshOpTrue),
                TransactionOutput(value: 0, scriptPubKey: template.witnessCommitmentScript),
            ],
            lockTime: 0)
        var header = BlockHeader(
            version: template.version, previousBlockHash: template.previousBlockHash,
            merkleRoot: Merkle.root([coinbase.txid] + template.transactions.map(\.txid)), time: template.currentTime,
            bits: template.bits, nonce: 0)
        while !header.meets(target: template.target) { header.nonce &+= 1 }
        return SubmitSolution(
            templateID: id, version: header.version, headerTimestamp: header.time, headerNonce: header.nonce,
            coinbaseTx: coinbase.serialized(includingWitness: true))
    }
}

/// Counts SetNewPrevHash arrivals across all bench clients.
final class BenchCounter: Sendable {
    private let condition = NIOLockedValueBox(0)
    private let signal = NSCondition()

    func increment() {
        condition.withLockedValue { $0 += 1 }
        signal.lock()
        signal.broadcast()
        signal.unlock()
    }

    func reset() {
        condition.withLockedValue { $0 = 0 }
    }

    func waitFor(count: Int, seconds: Double) throws {
        let deadline = Date(timeIntervalSinceNow: seconds)
        signal.lock()
        defer { signal.unlock() }
        while condition.withLockedValue({ $0 }) < count {
            guard signal.wait(until: deadline) else {
                throw CommandFailure("only \(condition.withLockedValue { $0 }) of \(count) clients answered within \(seconds) s")
            }
        }
    }
}

/// A Template Distribution client that sets up and counts every SetNewPrevHash it receives.
final class BenchClient: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Sv2DecodedFrame
    typealias OutboundOut = Sv2Outbound
    private let counter: BenchCounter

    init(counter: BenchCounter) {
        self.counter = counter
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is Sv2TransportReady else { return context.fireUserInboundEventTriggered(event) }
        context.write(wrapOutboundOut(.message(.setupConnection(SetupConnection(
            protocol: 2, minVersion: 2, maxVersion: 2, flags: 0, endpointHost: "127.0.0.1", endpointPort: 0,
            vendor: "sv2-bench", hardwareVersion: "", firmware: "", deviceID: "")))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.message(.coinbaseOutputConstraints(
            CoinbaseOutputConstraints(coinbaseOutputMaxAdditionalSize: 100, coinbaseOutputMaxAdditionalSigops: 0)))), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .templateSetNewPrevHash = unwrapInboundIn(data).message { counter.increment() }
    }
}
