import Logging
import NIOCore
import NIOEmbedded
import Sv1
import Sv2Binary
import Sv2Crypto
import Sv2Messages
import Sv2Sessions
import Synchronization
import Testing
@testable import Sv2Network

// MARK: - Test doubles

/// A clock the test moves.
final class ManualClock: Sendable {
    private let time = Mutex(Timestamp(seconds: 1_800_000_000))

    var clock: Sv2Clock { Sv2Clock { self.time.withLock { $0 } } }

    func advance(_ duration: Duration) { time.withLock { $0 = $0 + duration } }
}

/// Log lines the engine wrote.
final class LogCapture: Sendable {
    private let lines = Mutex([(level: Logger.Level, message: String, metadata: Logger.Metadata)]())

    var logger: Logger {
        Logger(label: "test") { _ in CaptureHandler(capture: self) }
    }

    var messages: [String] { lines.withLock { $0.map(\.message) } }

    func metadata(of message: String) -> Logger.Metadata? { lines.withLock { $0.first { $0.message == message }?.metadata } }

    fileprivate func append(_ level: Logger.Level, _ message: String, _ metadata: Logger.Metadata) {
        lines.withLock { $0.append((level, message, metadata)) }
    }

    private struct CaptureHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.append(event.level, event.message.description, metadata.merging(event.metadata ?? [:]) { $1 })
        }
    }
}

/// Strings in, strings out: the engine without a protocol.
struct StringWire: ConnectionWire {
    func makeDecoder() {}
    func decode(_ value: String, with decoder: inout Void, deliver: (String) -> Void, malformed: (WireProblem) -> Void) { deliver(value) }
    func encode(_ message: String, allocator: ByteBufferAllocator) throws -> (value: String, bytes: Int) { (message, message.utf8.count) }
    func recoverableProblem(_ error: Error) -> String? { nil }
}

/// Answers every message; "setup" sets it up, "close" closes, "effect" asks for an effect, "big" sends 10 KiB.
struct EchoSession: ConnectionSession {
    var started = 0
    var received = [String]()
    var ticks = 0
    var isSetUp = false

    mutating func start(now: Timestamp) -> [SessionAction<String, String>] {
        started += 1
        return [.send("hello")]
    }

    mutating func receive(_ message: String, now: Timestamp) -> [SessionAction<String, String>] {
        received.append(message)
        switch message {
        case "setup":
            isSetUp = true
            return [.send("ok")]
        case "close": return [.close("asked to")]
        case "effect": return [.effect("E"), .info("effect asked", ["channel": "7"])]
        case "big": return [.send(String(repeating: "x", count: 10_240))]
        default: return [.send("echo \(message)")]
        }
    }

    mutating func tick(now: Timestamp) -> [SessionAction<String, String>] {
        ticks += 1
        return []
    }
}

/// Counts flushes and reads going out of the engine, and records what it writes.
final class OutboundProbe: ChannelOutboundHandler {
    typealias OutboundIn = String
    typealias OutboundOut = String
    var flushes = 0
    var reads = 0
    var writes = [String]()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        writes.append(unwrapOutboundIn(data))
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        flushes += 1
        context.flush()
    }

    func read(context: ChannelHandlerContext) {
        reads += 1
        context.read()
    }
}

/// What the hooks saw.
final class HookRecord: Sendable {
    let effects = Mutex([String]())
    let closed = Mutex([EchoSession?]())
    let readies = Mutex(0)
    let setUps = Mutex(0)

    func hooks<Wire: ConnectionWire>(refuse: Bool = false) -> ConnectionHooks<EchoSession, Wire>
    where Wire.Message == String, Wire.Outbound == String {
        ConnectionHooks(
            ready: { _ in
                self.readies.withLock { $0 += 1 }
                return refuse ? nil : EchoSession()
            },
            effect: { effect, _ in self.effects.withLock { $0.append(effect) } },
            setUp: { _ in self.setUps.withLock { $0 += 1 } },
            closed: { _, session in self.closed.withLock { $0.append(session) } })
    }
}

// MARK: - Tests

@Suite("connection engine")
struct ConnectionEngineTests {
    /// An engine on an embedded channel with a probe before it; connected.
    private static func engine(
        clock: ManualClock = ManualClock(), log: LogCapture = LogCapture(), record: HookRecord = HookRecord(), readiness: ConnectionHandler<EchoSession, StringWire>.Readiness = .active,
        setupTimeout: Duration? = nil, idleTimeout: Duration? = nil, outboundLimit: Int = 1 << 20,
        registry: ConnectionRegistry<EchoSession, StringWire>? = nil, loop: EmbeddedEventLoop = EmbeddedEventLoop()
    ) throws -> (EmbeddedChannel, OutboundProbe) {
        let probe = OutboundProbe()
        let channel = EmbeddedChannel(loop: loop)
        let configuration = ConnectionConfiguration(
            logger: log.logger, clock: clock.clock, setupTimeout: setupTimeout, idleTimeout: idleTimeout, outboundLimit: outboundLimit)
        try channel.pipeline.syncOperations.addHandler(probe)
        try channel.pipeline.syncOperations.addHandler(ConnectionHandler(
            wire: StringWire(), readiness: readiness, configuration: configuration, hooks: record.hooks(),
            ticker: registry?.connections(on: loop)))
        try channel.connect(to: SocketAddress(ipAddress: "10.1.2.3", port: 4567)).wait()
        return (channel, probe)
    }

    private static func drain(_ channel: EmbeddedChannel) throws -> [String] {
        var out = [String]()
        while let value = try channel.readOutbound(as: String.self) { out.append(value) }
        return out
    }

    @Test("the session starts when the transport is ready, not at TCP accept")
    func startsOnTransportReady() throws {
        let record = HookRecord()
        let (channel, _) = try Self.engine(record: record, readiness: .transportReady)
        #expect(record.readies.withLock { $0 } == 0)
        #expect(try Self.drain(channel).isEmpty)
        channel.pipeline.fireUserInboundEventTriggered(Sv2TransportReady())
        #expect(record.readies.withLock { $0 } == 1)
        #expect(try Self.drain(channel) == ["hello"])
        // A second ready event does not start it again.
        channel.pipeline.fireUserInboundEventTriggered(Sv2TransportReady())
        #expect(record.readies.withLock { $0 } == 1)
    }

    @Test("a session refused by the role closes the connection")
    func refused() throws {
        let record = HookRecord()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ConnectionHandler(
            wire: StringWire(), readiness: .active, configuration: ConnectionConfiguration(logger: LogCapture().logger),
            hooks: record.hooks(refuse: true) as ConnectionHooks<EchoSession, StringWire>))
        try channel.connect(to: SocketAddress(ipAddress: "10.1.2.3", port: 4567)).wait()
        #expect(!channel.isActive)
    }

    @Test("answers to a read burst are written as they come and flushed once")
    func oneFlushPerReadBurst() throws {
        let (channel, probe) = try Self.engine()
        _ = try Self.drain(channel)
        let flushesBefore = probe.flushes
        for message in ["a", "b", "c"] { channel.pipeline.fireChannelRead(NIOAny(message)) }
        #expect(probe.writes.suffix(3) == ["echo a", "echo b", "echo c"])
        #expect(probe.flushes == flushesBefore)
        channel.pipeline.fireChannelReadComplete()
        #expect(probe.flushes == flushesBefore + 1)
        #expect(try Self.drain(channel) == ["echo a", "echo b", "echo c"])
    }

    @Test("effects go to the role, log lines carry the peer and the session's metadata, the setup hook fires once")
    func effectsLogsAndSetUp() throws {
        let log = LogCapture()
        let record = HookRecord()
        let (channel, _) = try Self.engine(log: log, record: record)
        try channel.writeInbound("effect")
        #expect(record.effects.withLock { $0 } == ["E"])
        #expect(log.metadata(of: "effect asked") == ["peer": "10.1.2.3:4567", "channel": "7"])
        try channel.writeInbound("setup")
        try channel.writeInbound("setup")
        #expect(record.setUps.withLock { $0 } == 1)
    }

    @Test("a handle updates the session from outside a read and flushes once")
    func handleUpdates() throws {
        let loop = EmbeddedEventLoop()
        let registry = ConnectionRegistry<EchoSession, StringWire>(group: loop, tickInterval: nil)
        let (channel, probe) = try Self.engine(registry: registry, loop: loop)
        _ = try Self.drain(channel)
        let flushes = probe.flushes
        registry.broadcast { session, _ in
            session.received.append("job")
            return [.send("job 1"), .send("job 2")]
        }
        loop.run()
        #expect(try Self.drain(channel) == ["job 1", "job 2"])
        #expect(probe.flushes == flushes + 1)
        #expect(registry.count == 1)
        try channel.close().wait()
        #expect(registry.count == 0)
    }

    @Test("backpressure: no reads and nothing written while not writable; held output goes out when writable again")
    func holdsWhileNotWritable() throws {
        let (channel, probe) = try Self.engine()
        _ = try Self.drain(channel)
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        let reads = probe.reads
        channel.read()
        #expect(probe.reads == reads, "the engine held the read back")
        try channel.writeInbound("a")
        try channel.writeInbound("b")
        #expect(try Self.drain(channel).isEmpty)
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(try Self.drain(channel) == ["echo a", "echo b"])
        #expect(probe.reads == reads + 1, "the deferred read was passed on")
    }

    @Test("a peer that never reads is closed alone once the held output passes the limit")
    func outboundLimitClosesThatConnectionAlone() throws {
        let log = LogCapture()
        let record = HookRecord()
        let loop = EmbeddedEventLoop()
        let (slow, _) = try Self.engine(log: log, record: record, outboundLimit: 64 * 1024, loop: loop)
        let (healthy, _) = try Self.engine(log: log, record: record, outboundLimit: 64 * 1024, loop: loop)
        slow.isWritable = false
        slow.pipeline.fireChannelWritabilityChanged()
        var sent = 0
        while slow.isActive, sent < 100 {
            try slow.writeInbound("big")
            sent += 1
        }
        #expect(!slow.isActive)
        #expect(sent == 7, "6 × 10 KiB held fit in 64 KiB; the 7th passes the limit")
        #expect(log.messages.contains("connection closed: more than 65536 bytes unsent: the peer does not read"))
        #expect(record.closed.withLock { $0.count } == 1)
        try healthy.writeInbound("still here")
        #expect(try Self.drain(healthy).suffix(1) == ["echo still here"])
        #expect(healthy.isActive)
    }

    @Test("the setup timeout closes a session that is not set up in time, on the loop's timers")
    func setupTimeout() throws {
        let loop = EmbeddedEventLoop()
        let log = LogCapture()
        let (lazy, _) = try Self.engine(log: log, setupTimeout: .seconds(5), loop: loop)
        let (prompt, _) = try Self.engine(log: log, setupTimeout: .seconds(5), loop: loop)
        try prompt.writeInbound("setup")
        loop.advanceTime(by: .seconds(4))
        #expect(lazy.isActive)
        loop.advanceTime(by: .seconds(1))
        #expect(!lazy.isActive)
        #expect(prompt.isActive)
        #expect(log.messages.contains("connection closed: not set up within 5 s"))
    }

    @Test("the idle timeout closes a connection with no input for too long; ticks reach the session")
    func idleTimeout() throws {
        let loop = EmbeddedEventLoop()
        let clock = ManualClock()
        let log = LogCapture()
        let record = HookRecord()
        let registry = ConnectionRegistry<EchoSession, StringWire>(group: loop, tickInterval: .seconds(1))
        let (quiet, _) = try Self.engine(clock: clock, log: log, record: record, idleTimeout: .seconds(30), registry: registry, loop: loop)
        let (chatty, _) = try Self.engine(clock: clock, log: log, record: record, idleTimeout: .seconds(30), registry: registry, loop: loop)
        for _ in 0..<40 {
            clock.advance(.seconds(1))
            loop.advanceTime(by: .seconds(1))
            try chatty.writeInbound("ping")
        }
        #expect(!quiet.isActive)
        #expect(chatty.isActive)
        #expect(log.messages.contains("connection closed: nothing received for 30 s"))
        let closedSession = try #require(record.closed.withLock { $0.first } ?? nil)
        #expect(closedSession.ticks >= 29)
        registry.stop()
    }

    @Test("the close reason of a session is logged once and the role sees the last session")
    func closeReason() throws {
        let log = LogCapture()
        let record = HookRecord()
        let (channel, _) = try Self.engine(log: log, record: record)
        try channel.writeInbound("x")
        try channel.writeInbound("close")
        #expect(!channel.isActive)
        #expect(log.messages.filter { $0.hasPrefix("connection closed") } == ["connection closed: asked to"])
        #expect(record.closed.withLock { $0.first??.received } == ["x", "close"])
    }
}

// MARK: - Over the real transports

/// A Mining Protocol setup in miniature: the client sends SetupConnection at the start, the server answers it;
/// a malformed frame is a warning when `tolerant`, else it closes (the protocol's default).
struct SetupSession: ConnectionSession {
    let client: Bool
    var tolerant = false
    var isSetUp = false
    var malformedInputs = 0

    mutating func start(now: Timestamp) -> [SessionAction<Sv2Message, NoEffect>] {
        client ? [.send(.setupConnection(SetupConnection(
            protocol: 0, minVersion: 2, maxVersion: 2, flags: 0, endpointHost: "", endpointPort: 0, vendor: "test", hardwareVersion: "",
            firmware: "", deviceID: "")))] : []
    }

    mutating func receive(_ message: Sv2Message, now: Timestamp) -> [SessionAction<Sv2Message, NoEffect>] {
        switch message {
        case .setupConnection:
            isSetUp = true
            return [.send(.setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: 0)))]
        case .setupConnectionSuccess:
            isSetUp = true
            return []
        default:
            return [.warning("unexpected \(message.name)")]
        }
    }

    mutating func malformed(_ problem: String, now: Timestamp) -> [SessionAction<Sv2Message, NoEffect>] {
        guard tolerant else { return [.close("malformed message: \(problem)")] }
        malformedInputs += 1
        return [.warning("skipped a malformed message")]
    }
}

/// The last state of a session, from the closed hook.
final class LastSession: Sendable {
    let value = Mutex<SetupSession?>(nil)
}

/// Mirrors Sv1 requests back as responses; a malformed line gets an error response.
struct Sv1EchoSession: ConnectionSession {
    var isSetUp: Bool { true }

    mutating func receive(_ message: Sv1Message, now: Timestamp) -> [SessionAction<Sv1Message, NoEffect>] {
        guard case let .request(id, _, _) = message else { return [] }
        return [.send(.response(id: id, result: .bool(true), error: .null))]
    }

    mutating func malformed(_ problem: String, now: Timestamp) -> [SessionAction<Sv1Message, NoEffect>] {
        [.send(.response(id: .null, result: .null, error: .string(problem)))]
    }
}

@Suite("connection engine over the Sv2 and Sv1 transports")
struct ConnectionEngineTransportTests {
    private static func sv2Channel(
        _ security: Sv2TransportSecurity, session: SetupSession, clock: ManualClock, log: LogCapture
    ) throws -> (EmbeddedChannel, LastSession) {
        let channel = EmbeddedChannel()
        let last = LastSession()
        let configuration = ConnectionConfiguration(logger: log.logger, clock: clock.clock)
        try channel.pipeline.syncOperations.addHandlers([
            Sv2TransportHandler(configuration: Sv2TransportConfiguration(security: security, clock: clock.clock)),
            Sv2MessageHandler(closesOnMalformedMessage: false),
            ConnectionHandler(
                wire: Sv2MessageWire(), readiness: .transportReady, configuration: configuration,
                hooks: ConnectionHooks<SetupSession, Sv2MessageWire>(ready: { _ in session }, closed: { _, session in last.value.withLock { $0 = session } })),
        ])
        return (channel, last)
    }

    /// Moves bytes between two channels until neither has anything to send.
    private static func shuttle(_ a: EmbeddedChannel, _ b: EmbeddedChannel) throws {
        var moved = true
        while moved {
            moved = false
            while let bytes = try a.readOutbound(as: ByteBuffer.self) {
                try b.writeInbound(bytes)
                moved = true
            }
            while let bytes = try b.readOutbound(as: ByteBuffer.self) {
                try a.writeInbound(bytes)
                moved = true
            }
        }
    }

    @Test("Noise NX first, then the sessions: the client's SetupConnection is answered over the encrypted channel")
    func handshakeThenReady() throws {
        var random = SystemRandom()
        let authority = Secp256k1SecretKey.generate(using: &random)
        let clock = ManualClock()
        let log = LogCapture()
        let (server, _) = try Self.sv2Channel(
            .responder(Sv2ResponderIdentity(authoritySecretKey: authority)), session: SetupSession(client: false), clock: clock, log: log)
        let (client, clientLast) = try Self.sv2Channel(
            .initiator(authority: authority.xOnlyPublicKey), session: SetupSession(client: true), clock: clock, log: log)
        try server.connect(to: SocketAddress(ipAddress: "10.0.0.1", port: 1)).wait()
        try client.connect(to: SocketAddress(ipAddress: "10.0.0.2", port: 2)).wait()
        // Only act 1 is out: the client's SetupConnection waits for the handshake.
        let act1 = try #require(try client.readOutbound(as: ByteBuffer.self))
        #expect(act1.readableBytes == 64)
        #expect(try client.readOutbound(as: ByteBuffer.self) == nil)
        try server.writeInbound(act1)
        try Self.shuttle(client, server)
        try client.close().wait()
        #expect(clientLast.value.withLock { $0?.isSetUp } == true)
    }

    @Test("a frame that does not decode goes to the session: tolerated, or closing by default")
    func malformedFrames() throws {
        let clock = ManualClock()
        let log = LogCapture()
        // SetupConnection cut short: its header says 3 bytes of payload.
        let truncated = ByteBuffer(bytes: [0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x00])
        let (tolerant, tolerantLast) = try Self.sv2Channel(.plaintext, session: SetupSession(client: false, tolerant: true), clock: clock, log: log)
        try tolerant.connect(to: SocketAddress(ipAddress: "10.0.0.1", port: 1)).wait()
        try tolerant.writeInbound(truncated)
        #expect(tolerant.isActive)
        #expect(log.messages.contains("skipped a malformed message"))
        try tolerant.close().wait()
        #expect(tolerantLast.value.withLock { $0?.malformedInputs } == 1)

        let (strict, _) = try Self.sv2Channel(.plaintext, session: SetupSession(client: false), clock: clock, log: log)
        try strict.connect(to: SocketAddress(ipAddress: "10.0.0.1", port: 1)).wait()
        try strict.writeInbound(truncated)
        #expect(!strict.isActive)
        #expect(log.messages.contains { $0.hasPrefix("connection closed: malformed message:") })
    }

    @Test("a frame of an unknown extension type is discarded (spec 3), even by a session that closes on malformed input")
    func unknownExtensionDiscarded() throws {
        let clock = ManualClock()
        let log = LogCapture()
        let (strict, _) = try Self.sv2Channel(.plaintext, session: SetupSession(client: false), clock: clock, log: log)
        try strict.connect(to: SocketAddress(ipAddress: "10.0.0.1", port: 1)).wait()
        // extension_type 0x4242 (a channel message of it, and one for the connection), message type 0x00, 4-byte payloads.
        try strict.writeInbound(ByteBuffer(bytes: [0x42, 0xc2, 0x00, 0x04, 0x00, 0x00, 1, 0, 0, 0, 0x42, 0x42, 0x00, 0x04, 0x00, 0x00, 1, 2, 3, 4]))
        #expect(strict.isActive)
        #expect(log.messages.filter { $0 == "discarded a message of an unknown extension type" }.count == 2)
        #expect(log.metadata(of: "discarded a message of an unknown extension type")?["extension_type"] == "0x4242")
    }

    @Test("Stratum V1 lines in any chunking: a malformed line is answered and the connection stays; an overlong line closes it")
    func sv1Lines() throws {
        let log = LogCapture()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ConnectionHandler(
            wire: Sv1Wire<Sv1Message>(maximumLineLength: 256), readiness: .active, configuration: ConnectionConfiguration(logger: log.logger),
            hooks: ConnectionHooks<Sv1EchoSession, Sv1Wire<Sv1Message>>(ready: { _ in Sv1EchoSession() })))
        try channel.connect(to: SocketAddress(ipAddress: "10.0.0.1", port: 1)).wait()
        for byte in "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[]}\r\nnot json\n".utf8 {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        let first = try #require(try channel.readOutbound(as: ByteBuffer.self))
        let second = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(String(buffer: first) == "{\"id\":1,\"result\":true,\"error\":null}\n")
        #expect(String(buffer: second).hasPrefix("{\"id\":null,\"result\":null,\"error\":\"A Stratum V1 line is not valid JSON"))
        #expect(channel.isActive)
        try channel.writeInbound(ByteBuffer(string: String(repeating: "x", count: 300)))
        #expect(!channel.isActive)
        #expect(log.messages.contains { $0.hasPrefix("connection closed: A Stratum V1 line is longer than 256 bytes") })
    }
}

@Suite("client connector")
struct ClientConnectorTests {
    /// Connections the connector asked for, each an embedded channel on `loop` with the engine installed.
    final class Dialer: Sendable {
        let loop: EmbeddedEventLoop
        private let channels = Mutex([EmbeddedChannel]())

        init(loop: EmbeddedEventLoop) { self.loop = loop }

        var count: Int { channels.withLock { $0.count } }
        var last: EmbeddedChannel? { channels.withLock { $0.last } }

        func connect(_ endpoint: String, _ eventLoop: EventLoop, _ engine: @escaping @Sendable (Channel) throws -> Void) -> EventLoopFuture<Void> {
            let channel = EmbeddedChannel(loop: loop)
            channels.withLock { $0.append(channel) }
            return loop.makeCompletedFuture {
                try engine(channel)
                try channel.connect(to: SocketAddress(ipAddress: "10.0.0.1", port: 3336)).wait()
            }
        }
    }

    @Test("a connection that closes before its session starts (a failed handshake) is retried, on the next endpoint after the delay")
    func retriesAfterFailedHandshake() throws {
        let loop = EmbeddedEventLoop()
        let dialer = Dialer(loop: loop)
        let ended = Mutex([EchoSession?]())
        let connector = ClientConnector<EchoSession, StringWire, String>(
            eventLoop: loop, failover: Failover(endpoints: ["a", "b"], initialDelay: .seconds(2)), wire: StringWire(),
            readiness: .transportReady, configuration: ConnectionConfiguration(logger: LogCapture().logger),
            connect: { dialer.connect($0, $1, $2) },
            hooks: .init(makeSession: { _, _ in EchoSession() }, ended: { _, session in ended.withLock { $0.append(session) } }))
        connector.start()
        loop.run()
        #expect(dialer.count == 1)
        // TCP is up but the transport never becomes ready: the peer closes.
        try #require(dialer.last).pipeline.fireChannelInactive()
        loop.run()
        #expect(ended.withLock { $0.count } == 1 && ended.withLock { $0.first ?? nil } == nil)
        loop.advanceTime(by: .seconds(1))
        #expect(dialer.count == 1)
        loop.advanceTime(by: .seconds(1))
        #expect(dialer.count == 2)
        // This time the transport is ready: the session starts and the connection is current.
        let second = try #require(dialer.last)
        second.pipeline.fireUserInboundEventTriggered(Sv2TransportReady(certificate: nil, responderStaticEncoding: nil))
        #expect(try second.readOutbound(as: String.self) == "hello")
        #expect(connector.current != nil)
        _ = connector.stop()
        loop.run()
        #expect(dialer.count == 2)
    }
}
