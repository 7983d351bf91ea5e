import ArgumentParser
import Bitcoin
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOPosix
import Sv2Binary
import Sv2Channels
import Sv2Crypto
import Sv2Messages
import Sv2Network
import Sv2Noise
import Sv2Roles
import Sv2Sessions

/// `sv2 bench shares`: share validation on one core next to the bare SHA-256d of the same headers, and shares end
/// to end through a pool over loopback with Noise.
struct SharesBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shares",
        abstract: "Validated shares per second per core (next to the bare SHA-256d of the same headers), and end to end over Noise.",
        discussion: """
            Part 1 (one core, no I/O): a pool session validates distinct SubmitSharesStandard and \
            SubmitSharesExtended messages (job lookup, version, ntime, extranonce size, merkle root from the \
            coinbase, header hash, duplicate check, target) and, as a third row, frames decoded from bytes then \
            validated; the reference is SHA256d of the same 80-byte headers alone, the floor of any validator. \
            Part 2: a pool service on loopback with Noise and N simulated miners, each with an extended channel and \
            one share in flight: shares per second, share round trip (SubmitSharesExtended to its \
            SubmitShares.Success) p50/p99, and bytes per share on the wire in each direction. Part 3: the same with \
            monitoring off and on (a second pool whose monitoring server is scraped four times a second), in \
            alternating rounds: shares/s medians and their ratio. Medians of the rounds.
            """
    )

    @Option(help: "Shares per round in part 1.")
    var shares = 100_000
    @Option(help: "Rounds of part 1.")
    var rounds = 9
    @Option(help: "Simulated miners in part 2 (0 skips it).")
    var miners = 50
    @Option(help: "Seconds of part 2, and of each round of part 3.")
    var seconds = 5.0
    @Option(help: "Rounds of part 3, monitoring off and on alternating (0 skips it).")
    var monitoringRounds = 5

    func run() async throws {
        try validation()
        if miners > 0 { try await endToEnd() }
        if miners > 0, monitoringRounds > 0 {
            try await MonitoringBenchmark(miners: miners, seconds: seconds, rounds: monitoringRounds).run()
        }
    }

    // MARK: - Part 1

    private static let version: UInt32 = 0x2000_0000
    private static let ntime: UInt32 = 1_700_000_100
    private static let now: Timestamp = 1_700_000_000

    /// A session on job 1 with an extended channel (1) and a standard channel (3, in group 2), targets at the maximum
    /// and a network target no hash meets; the pool's work and its tip, to start each round on a new tip.
    private static func session() throws -> (
        session: PoolSession, job: PoolJob, tip: PoolPrevHash, work: PoolWork, extended: OpenExtendedMiningChannelSuccess, standardPrefix: [UInt8]
    ) {
        guard let configuration = PoolSessionConfiguration(sharesPerMinute: 6) else { throw CommandFailure("bad session settings") }
        var board = PoolJobBoard(rewardScript: [0x00, 0x14] + Array(repeating: 1, count: 20), poolTag: "bench", extranonceLength: 32)
        _ = try board.apply(NewTemplate(
            templateID: 1, futureTemplate: true, version: version, coinbaseTxVersion: 2, coinbasePrefix: [0x02, 0x10, 0x27],
            coinbaseTxInputSequence: 0xffff_ffff, coinbaseTxValueRemaining: 312_500_000, coinbaseTxOutputsCount: 1,
            coinbaseTxOutputs: TransactionOutput(value: 0, scriptPubKey: WitnessCommitment.outputScript(nonCoinbaseWtxids: [])).serialized,
            coinbaseTxLocktime: 0, merklePath: (0..<11).map { U256(UInt64($0) &* 0x9e37_79b9_7f4a_7c15) }))
        guard case let .tip(tip) = try board.apply(TemplateSetNewPrevHash(
            templateID: 1, prevHash: U256(w0: 1, w1: 2, w2: 3, w3: 4), headerTimestamp: ntime - 100, nBits: 0x1703_4219, target: .zero)),
            let job = board.work.latest
        else { throw CommandFailure("the bench template did not become a job") }
        var session = try PoolSession(configuration: configuration, connectionPrefix: [0, 0, 0, 1], work: board.work)
        _ = session.receive(.setupConnection(SetupNegotiation.request(.mining, endpointHost: "", endpointPort: 0, vendor: "bench", firmware: "")), now: now)
        var extended: OpenExtendedMiningChannelSuccess?
        for case let .send(.openExtendedMiningChannelSuccess(success)) in session.receive(.openExtendedMiningChannel(OpenExtendedMiningChannel(
            requestID: 1, userIdentity: "bench", nominalHashRate: 0.01, maxTarget: .max, minExtranonceSize: 8)), now: now) {
            extended = success
        }
        var standardPrefix: [UInt8]?
        for case let .send(.openStandardMiningChannelSuccess(success)) in session.receive(.openStandardMiningChannel(OpenStandardMiningChannel(
            requestID: 2, userIdentity: "bench", nominalHashRate: 0.01, maxTarget: .max)), now: now) {
            standardPrefix = success.extranoncePrefix
        }
        guard let extended, let standardPrefix else { throw CommandFailure("the bench session did not open its channels") }
        return (session, job, tip, board.work, extended, standardPrefix)
    }

    /// Median shares per second of `body` over the rounds; `body(round)` handles `shares` shares.
    private func rate(_ body: (Int) -> Void) -> Double {
        body(0)
        var samples = [Double]()
        for round in 1...rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            body(round)
            samples.append(Double(shares) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
        }
        return samples.sorted()[samples.count / 2]
    }

    private func validation() throws {
        var (session, job, prevHash, work, extended, standardPrefix) = try Self.session()
        let extranonce = [UInt8](repeating: 7, count: Int(extended.extranonceSize))
        let extendedRoot = job.coinbase.merkleRoot(extranonce: extended.extranoncePrefix + extranonce)
        let standardRoot = job.coinbase.merkleRoot(extranonce: standardPrefix)
        let count = shares
        var accepted = 0
        func tally(_ actions: [PoolSession.Action]) {
            for case let .send(.submitSharesSuccess(success)) in actions { accepted += Int(success.newSubmitsAcceptedCount) }
        }

        // Each round uses its own ntime so every share is new; a new prevhash empties the seen-share sets.
        let standardRate = rate { round in
            _ = session.update(to: work, change: .tip(prevHash))
            for nonce in 0..<UInt32(count) {
                tally(session.receive(.submitSharesStandard(SubmitSharesStandard(
                    channelID: 3, sequenceNumber: nonce, jobID: 1, nonce: nonce, ntime: Self.ntime + UInt32(round), version: Self.version)), now: Self.now))
                if nonce & 15 == 15 { tally(session.acknowledgeShares()) }
            }
        }
        let extendedRate = rate { round in
            _ = session.update(to: work, change: .tip(prevHash))
            for nonce in 0..<UInt32(count) {
                tally(session.receive(.submitSharesExtended(SubmitSharesExtended(
                    channelID: extended.channelID, sequenceNumber: nonce, jobID: 1, nonce: nonce, ntime: Self.ntime + UInt32(round),
                    version: Self.version, extranonce: extranonce)), now: Self.now))
                if nonce & 15 == 15 { tally(session.acknowledgeShares()) }
            }
        }
        // Frames: the bytes a connection would deliver, decoded and validated.
        let frames = (0..<UInt32(min(count, 4096))).map { nonce in
            (try? Sv2Message.submitSharesExtended(SubmitSharesExtended(
                channelID: extended.channelID, sequenceNumber: nonce, jobID: 1, nonce: nonce, ntime: Self.ntime,
                version: Self.version, extranonce: extranonce)).encodedFrame()) ?? []
        }
        var frameRound = UInt32(0)
        let frameRate = rate { _ in
            _ = session.update(to: work, change: .tip(prevHash))
            frameRound &+= 1
            for index in 0..<count {
                let frame = frames[index % frames.count]
                guard let decoded = try? Sv2DecodedFrame.decodeAll(frame).first,
                      case var .submitSharesExtended(share) = decoded.message else { continue }
                share.nonce &+= UInt32(index / frames.count) << 12
                share.ntime = Self.ntime + 100 + frameRound
                tally(session.receive(.submitSharesExtended(share), now: Self.now))
                if index & 15 == 15 { tally(session.acknowledgeShares()) }
            }
        }
        // The same extended shares through the connection engine (an embedded channel: no socket), read bursts of 16.
        let engineRate = try measureThroughEngine(session: session, work: work, tip: prevHash, extended: extended, extranonce: extranonce) { accepted += $0 }
        let expectedAccepted = 4 * (rounds + 1) * count
        guard accepted == expectedAccepted else {
            throw CommandFailure("the session accepted \(accepted) of \(expectedAccepted) shares: the benchmark is not measuring validation")
        }
        // The floor: SHA256d of the same headers and nothing else.
        var sink = U256.zero
        let floorRate = rate { round in
            for nonce in 0..<UInt32(count) {
                sink = ShareHash.header(
                    version: Self.version, previousBlockHash: prevHash.prevHash, merkleRoot: nonce & 1 == 0 ? extendedRoot : standardRoot,
                    time: Self.ntime + UInt32(round), bits: prevHash.nBits, nonce: nonce)
            }
        }
        BenchmarkTiming.consume(sink)
        print("sv2 bench shares, part 1: one core, \(count) distinct shares per round, median of \(rounds) rounds (11-step merkle path)")
        BenchmarkTiming.printTable(
            ["validated", "shares/s", "us/share", "ratio to floor"],
            [
                ["SubmitSharesStandard", BenchmarkTiming.grouped(standardRate), BenchmarkTiming.format(1e6 / standardRate, digits: 2), BenchmarkTiming.format(floorRate / standardRate, digits: 2) + "x"],
                ["SubmitSharesExtended", BenchmarkTiming.grouped(extendedRate), BenchmarkTiming.format(1e6 / extendedRate, digits: 2), BenchmarkTiming.format(floorRate / extendedRate, digits: 2) + "x"],
                ["extended from frame bytes", BenchmarkTiming.grouped(frameRate), BenchmarkTiming.format(1e6 / frameRate, digits: 2), BenchmarkTiming.format(floorRate / frameRate, digits: 2) + "x"],
                ["extended through the connection engine", BenchmarkTiming.grouped(engineRate), BenchmarkTiming.format(1e6 / engineRate, digits: 2), BenchmarkTiming.format(floorRate / engineRate, digits: 2) + "x"],
                ["SHA256d of the headers (floor, ref)", BenchmarkTiming.grouped(floorRate), BenchmarkTiming.format(1e6 / floorRate, digits: 2), "1.00x"],
            ])
        print("goal: >= 100,000 validated shares/s per core")
    }

    /// Shares per second of `session` run by a ``ConnectionHandler`` on an embedded channel: each share delivered as
    /// a decoded frame, a read burst ended every 16 shares (one SubmitShares.Success, counted through `accepted`).
    private func measureThroughEngine(
        session: PoolSession, work: PoolWork, tip: PoolPrevHash, extended: OpenExtendedMiningChannelSuccess, extranonce: [UInt8],
        accepted: (Int) -> Void
    ) throws -> Double {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        let registry = ConnectionRegistry<PoolSession, Sv2TaggedInboundWire>(group: loop, tickInterval: nil)
        let engine = ConnectionEngine(
            wire: Sv2TaggedInboundWire(), readiness: .active, configuration: ConnectionConfiguration(logger: LogSettings(level: .critical).logger("bench")),
            hooks: ConnectionHooks<PoolSession, Sv2TaggedInboundWire>(ready: { _ in session }))
        try channel.pipeline.syncOperations.addHandler(engine.handler(for: channel, registry: registry))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let header = Sv2FrameHeader(extensionType: 0, isChannelMessage: true, messageType: SubmitSharesExtended.messageType, payloadLength: 0)
        func drain() throws {
            while let written = try channel.readOutbound(as: Sv2Outbound.self) {
                guard case let .frame(frame) = written, case let .submitSharesSuccess(success) = try Sv2Message.decode(frame).message else { continue }
                accepted(Int(success.newSubmitsAcceptedCount))
            }
        }
        var failure: Error?
        let rate = rate { round in
            registry.broadcast { session, _ in session.update(to: work, change: .tip(tip)) }
            loop.run()
            for nonce in 0..<UInt32(shares) {
                let share = SubmitSharesExtended(
                    channelID: extended.channelID, sequenceNumber: nonce, jobID: 1, nonce: nonce, ntime: Self.ntime + 200 + UInt32(round),
                    version: Self.version, extranonce: extranonce)
                channel.pipeline.fireChannelRead(Sv2DecodedFrame(header: header, message: .submitSharesExtended(share), tlvs: []))
                if nonce & 15 == 15 || nonce == UInt32(shares) - 1 {
                    channel.pipeline.fireChannelReadComplete()
                    do { try drain() } catch { failure = error }
                }
            }
        }
        if let failure { throw failure }
        _ = try? channel.finish()
        return rate
    }

    // MARK: - Part 2

    private func endToEnd() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        guard let sessionConfiguration = PoolSessionConfiguration(sharesPerMinute: 6) else { throw CommandFailure("bad session settings") }
        let pool = try await BenchPool(group: group, session: sessionConfiguration)
        try await withCleanup { try await measureEndToEnd(pool: pool, group: group) } cleanup: { await pool.stop(group) }
    }

    private func measureEndToEnd(pool: BenchPool, group: EventLoopGroup) async throws {
        let figures = try await BenchRoundTrips.measure(pool: pool, group: group, miners: miners, seconds: seconds)
        let (count, p50, p99, rejected) = (figures.acknowledged, figures.p50, figures.p99, figures.rejected)
        let share = SubmitSharesExtended(
            channelID: 1, sequenceNumber: 0, jobID: 1, nonce: 0, ntime: 0, version: 0, extranonce: Array(repeating: 0, count: 8))
        let ack = SubmitSharesSuccess()
        let up = NoiseFrameEncoder.encryptedSize(payloadLength: share.encodedSize)
        let down = NoiseFrameEncoder.encryptedSize(payloadLength: ack.encodedSize)
        print("sv2 bench shares, part 2: pool on loopback with Noise, \(miners) miners with one share in flight each, \(BenchmarkTiming.format(seconds)) s")
        BenchmarkTiming.printTable(
            ["measurement", "value"],
            [
                ["shares/s (all miners)", BenchmarkTiming.grouped(Double(count) / seconds)],
                ["round trip p50", BenchmarkTiming.format(p50, digits: 1) + " us"],
                ["round trip p99", BenchmarkTiming.format(p99, digits: 1) + " us"],
                ["bytes per share up (SubmitSharesExtended, 8-byte extranonce)", "\(up)"],
                ["bytes per share down (SubmitShares.Success, unbatched)", "\(down)"],
                ["rejected", "\(rejected)"],
            ])
    }
}

/// Collects share round trips from every bench miner.
final class BenchRoundTrips: @unchecked Sendable {
    /// What one end-to-end run measured.
    struct Figures {
        /// Shares acknowledged while it ran.
        var acknowledged: Int
        /// Round trip (SubmitSharesExtended to its SubmitShares.Success) median, microseconds.
        var p50: Double
        /// Round trip 99th percentile, microseconds.
        var p99: Double
        /// Shares refused.
        var rejected: Int
    }

    /// `miners` simulated miners on `pool` over Noise, each with one share in flight, for `seconds`.
    static func measure(pool: BenchPool, group: EventLoopGroup, miners: Int, seconds: Double) async throws -> Figures {
        let recorder = BenchRoundTrips()
        var channels = [Channel]()
        for index in 0..<miners {
            let handler = BenchMiner(index: index, recorder: recorder)
            channels.append(try await Sv2Connections.connect(
                host: "127.0.0.1", port: pool.port, group: group,
                configuration: .init(security: .initiator(authority: pool.authority.xOnlyPublicKey))
            ) { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
            }.get())
        }
        defer { for channel in channels { channel.close(promise: nil) } }
        try recorder.waitForMiners(miners, seconds: 60)
        recorder.start()
        try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
        let (count, samples, rejected) = recorder.stop()
        guard count > 0 else { throw CommandFailure("no share was acknowledged") }
        let sorted = samples.sorted()
        return Figures(
            acknowledged: count, p50: BenchmarkTiming.percentile(sorted, 50), p99: BenchmarkTiming.percentile(sorted, 99), rejected: rejected)
    }

    private let lock = NSCondition()
    private var ready = 0
    private var running = false
    private var samples = [Double]()
    private var count = 0
    private var rejected = 0

    var isRunning: Bool { lock.withLock { running } }

    func minerReady() {
        lock.withLock {
            ready += 1
            lock.broadcast()
        }
    }

    func waitForMiners(_ miners: Int, seconds: Double) throws {
        let deadline = Date(timeIntervalSinceNow: seconds)
        lock.lock()
        defer { lock.unlock() }
        while ready < miners {
            guard lock.wait(until: deadline) else { throw CommandFailure("only \(ready) of \(miners) miners got a job") }
        }
    }

    func start() {
        lock.withLock { running = true }
    }

    func stop() -> (count: Int, samples: [Double], rejected: Int) {
        lock.withLock {
            running = false
            return (count, samples, rejected)
        }
    }

    func record(microseconds: Double, accepted: Bool) {
        lock.withLock {
            guard running else { return }
            if accepted {
                count += 1
                samples.append(microseconds)
            } else {
                rejected += 1
            }
        }
    }
}

/// A simulated miner: opens an extended channel and, once the benchmark runs, keeps one share in flight.
final class BenchMiner: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Sv2DecodedFrame
    typealias OutboundOut = Sv2Outbound

    private let index: Int
    private let recorder: BenchRoundTrips
    private var channelID: UInt32 = 0
    private var extranonceSize = 0
    private var jobID: UInt32 = 0
    private var ntime: UInt32 = 0
    private var sequence: UInt32 = 0
    private var sentAt: UInt64 = 0

    init(index: Int, recorder: BenchRoundTrips) {
        self.index = index
        self.recorder = recorder
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is Sv2TransportReady else { return context.fireUserInboundEventTriggered(event) }
        context.write(wrapOutboundOut(.message(.setupConnection(SetupNegotiation.request(
            .mining, endpointHost: "127.0.0.1", endpointPort: 0, vendor: "sv2-bench", firmware: "", deviceID: "\(index)")))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.message(.openExtendedMiningChannel(OpenExtendedMiningChannel(
            requestID: 1, userIdentity: Sv2String("bench\(index)"), nominalHashRate: 0.01, maxTarget: .max, minExtranonceSize: 8)))), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data).message {
        case let .openExtendedMiningChannelSuccess(success):
            channelID = success.channelID
            extranonceSize = Int(success.extranonceSize)
        case let .setNewPrevHash(prevHash):
            jobID = prevHash.jobID
            ntime = prevHash.minNtime
            recorder.minerReady()
            waitForStart(context)
        case .submitSharesSuccess:
            finish(context, accepted: true)
        case .submitSharesError:
            finish(context, accepted: false)
        default:
            break
        }
    }

    private func waitForStart(_ context: ChannelHandlerContext) {
        if recorder.isRunning {
            send(context)
        } else {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(5)) { self.waitForStart(bound.value) }
        }
    }

    private func finish(_ context: ChannelHandlerContext, accepted: Bool) {
        recorder.record(microseconds: Double(DispatchTime.now().uptimeNanoseconds - sentAt) / 1000, accepted: accepted)
        if recorder.isRunning { send(context) }
    }

    private func send(_ context: ChannelHandlerContext) {
        sequence &+= 1
        sentAt = DispatchTime.now().uptimeNanoseconds
        context.writeAndFlush(wrapOutboundOut(.message(.submitSharesExtended(SubmitSharesExtended(
            channelID: channelID, sequenceNumber: sequence, jobID: jobID, nonce: sequence, ntime: ntime, version: 0x2000_0000,
            extranonce: [UInt8](repeating: 0, count: extranonceSize))))), promise: nil)
    }
}
