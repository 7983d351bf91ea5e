import Foundation
import Logging
import NIOCore
import NIOPosix
import Sv2Channels
import Sv2Crypto
import Testing
@testable import Sv2Roles

/// A Stratum V1 miner for tests: sends lines, collects the lines it receives, notices when it is closed.
final class Sv1TestMiner: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let condition = NSCondition()
    private var received = ""
    private var closed = false
    private(set) var channel: Channel?

    static func connect(port: Int, group: EventLoopGroup) throws -> Sv1TestMiner {
        let miner = Sv1TestMiner()
        miner.channel = try ClientBootstrap(group: group)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(miner) } }
            .connect(host: "127.0.0.1", port: port).wait()
        return miner
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let text = String(buffer: unwrapInboundIn(data))
        condition.withLock {
            received += text
            condition.broadcast()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        condition.withLock {
            closed = true
            condition.broadcast()
        }
    }

    func send(_ line: String) throws {
        try channel?.writeAndFlush(ByteBuffer(string: line + "\n")).wait()
    }

    /// Waits up to `seconds` until `done` holds for the complete lines received so far (or the connection closed).
    @discardableResult
    func wait(seconds: Double = 10, until done: ([String]) -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        while !done(received.split(separator: "\n").map(String.init)), !closed {
            guard condition.wait(until: deadline) else { return false }
        }
        return !closed
    }

    var isClosed: Bool { condition.withLock { closed } }

    /// The difficulties of the mining.set_difficulty lines among `lines`.
    static func difficulties(_ lines: [String]) -> [Double] {
        lines.compactMap { line in
            guard line.contains("mining.set_difficulty"),
                  let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let params = object["params"] as? [Any], let first = params.first as? NSNumber
            else { return nil }
            return first.doubleValue
        }
    }
}

@Suite("translator service: Sv1 miners without a pool")
struct TranslatorServiceTests {
    /// Runs `body` with a translator whose only pool is unreachable (port 1), then stops it.
    private static func withService(
        maximumClients: Int = 100, _ body: (TranslatorService, Int, MultiThreadedEventLoopGroup) throws -> Void
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        // A share every 10 ms expected: an idle miner is overdue within a few ticks.
        let downstream = try #require(Sv1ServerConfiguration(sharesPerMinute: 6000, initialDifficulty: 1e6))
        var random = SystemRandom()
        let nowhere = UpstreamPool(
            host: "127.0.0.1", port: 1, authority: Secp256k1SecretKey.generate(using: &random).xOnlyPublicKey, userIdentity: "test")
        let service = TranslatorService(
            configuration: .init(
                listen: HostPort(host: "127.0.0.1", port: 0), upstreams: [nowhere], downstream: downstream, maximumClients: maximumClients,
                vardiffInterval: .milliseconds(50)),
            group: group, logger: LogSettings(level: .critical).logger("test"))
        let port = try #require(try await service.start().port)
        try await withCleanup { try body(service, port, group) } cleanup: {
            await service.stop()
            try? await group.shutdownGracefully()
        }
    }

    @Test("vardiff runs from one timer per event loop: every idle miner's difficulty goes down")
    func vardiff() async throws {
        try await Self.withService { service, port, group in
        let miners = try (0..<4).map { _ in try Sv1TestMiner.connect(port: port, group: group) }
        for miner in miners {
            try miner.send(#"{"id":1,"method":"mining.subscribe","params":[]}"#)
            try miner.send(#"{"id":2,"method":"mining.authorize","params":["w","x"]}"#)
        }
        for miner in miners {
            #expect(miner.wait { lines in Sv1TestMiner.difficulties(lines).first == 1e6 && Sv1TestMiner.difficulties(lines).contains { $0 < 1e6 } })
        }
        #expect(service.clientCount == 4)
        }
    }

    @Test("the client limit refuses the connection over it, and a closed miner frees its place")
    func limit() async throws {
        try await Self.withService(maximumClients: 2) { service, port, group in
        let first = try Sv1TestMiner.connect(port: port, group: group)
        let second = try Sv1TestMiner.connect(port: port, group: group)
        for miner in [first, second] {
            try miner.send(#"{"id":1,"method":"mining.subscribe","params":[]}"#)
            #expect(miner.wait { $0.contains { $0.contains("\"id\":1") } })
        }
        let refused = try Sv1TestMiner.connect(port: port, group: group)
        #expect(!refused.wait { _ in false })
        #expect(refused.isClosed && service.clientCount == 2)
        try first.channel?.close().wait()
        let deadline = Date(timeIntervalSinceNow: 10)
        while service.clientCount != 1, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(service.clientCount == 1)
        let third = try Sv1TestMiner.connect(port: port, group: group)
        try third.send(#"{"id":1,"method":"mining.subscribe","params":[]}"#)
        #expect(third.wait { $0.contains { $0.contains("\"id\":1") } })
        #expect(service.clientCount == 2)
        }
    }
}
