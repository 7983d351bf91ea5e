import Bitcoin
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Sv2Binary
import Sv2Channels
import Sv2Crypto
import Sv2Messages
import Sv2Network
import Testing
@testable import Sv2Roles

/// A tiny Mining Protocol server for the miner's tests: answers setup and channel opens, serves one group job at a
/// time to every connection, and checks every share on its own (its own coinbase, spec 5.3.16 merkle fold,
/// BlockHeader hash against the target).
final class FakePool: @unchecked Sendable {
    struct Job {
        var id: UInt32
        var prefix: [UInt8]
        var suffix: [UInt8]
        var path: [U256]
        var minNtime: UInt32
        var sentAt: Date
    }

    /// A share as the pool judged it: valid, stale (its job is gone with an older prevhash) or invalid.
    struct Share {
        enum Verdict { case valid, stale, invalid }
        var channelID: UInt32
        var jobID: UInt32
        var verdict: Verdict
        var at: Date
        var valid: Bool { verdict == .valid }
    }

    static let groupID: UInt32 = 1000
    static let version: UInt32 = 0x2000_0000

    let authority: Secp256k1SecretKey
    let target: U256
    private let lock = NIOLock()
    private let condition = NSCondition()
    private var server: Channel?
    private var connections: [Channel] = []
    private var channelPrefixes: [UInt32: [UInt8]] = [:]
    private var nextChannelID: UInt32 = 1
    private var jobs: [UInt32: Job] = [:]
    private var currentJob: UInt32 = 1
    private var prevHash = U256(w0: 0x1111, w1: 0x2222, w2: 0x3333, w3: 0x4444)
    private let refusesChannels: Bool
    private var received: [Sv2Message] = []
    private var sharesReceived: [Share] = []

    /// A pool with a fresh authority key unless one is given.
    init(target: U256, refusesChannels: Bool = false, authority: Secp256k1SecretKey? = nil) {
        var random = SystemRandom()
        self.authority = authority ?? Secp256k1SecretKey.generate(using: &random)
        self.target = target
        self.refusesChannels = refusesChannels
        jobs[1] = Self.job(id: 1, minNtime: UInt32(Date().timeIntervalSince1970))
    }

    static func job(id: UInt32, minNtime: UInt32) -> Job {
        let others = (0..<3).map { U256(w0: UInt64(id), w1: UInt64($0), w2: 0xabcd, w3: 0x1234) }
        return Job(
            id: id, prefix: [0x02, 0, 0, 0, 0x01] + [UInt8](repeating: UInt8(truncatingIfNeeded: id), count: 41) + [0x03, 0x01, 0x02, 0x03],
            suffix: [0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x51, 0, 0, 0, 0],
            path: Merkle.coinbasePath(transactionIDs: others), minNtime: minNtime, sentAt: Date())
    }

    /// Listens on a free port of 127.0.0.1.
    func start(group: EventLoopGroup) throws -> Int {
        let channel = try Sv2Connections.listen(
            host: "127.0.0.1", port: 0, group: group,
            configuration: Sv2TransportConfiguration(security: .responder(Sv2ResponderIdentity(authoritySecretKey: authority)))
        ) { [self] channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(FakePoolConnection(pool: self))
            }
        }.wait()
        lock.withLock { server = channel }
        return channel.localAddress?.port ?? 0
    }

    func stop() {
        let (server, connections) = lock.withLock { (self.server, self.connections) }
        for connection in connections { try? connection.close().wait() }
        try? server?.close().wait()
    }

    func add(_ channel: Channel) {
        lock.withLock { connections.append(channel) }
    }

    func remove(_ channel: Channel) {
        lock.withLock { connections.removeAll { $0 === channel } }
    }

    /// Every connection open now.
    var openConnections: [Channel] { lock.withLock { connections } }

    /// The answers to a message from a miner.
    func handle(_ message: Sv2Message) -> [Sv2Message] {
        defer {
            condition.lock()
            received.append(message)
            condition.broadcast()
            condition.unlock()
        }
        return lock.withLock { () -> [Sv2Message] in
            switch message {
            case .setupConnection:
                return [.setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: 0))]
            case let .openExtendedMiningChannel(open):
                guard !refusesChannels else {
                    return [.openMiningChannelError(OpenMiningChannelError(requestID: open.requestID, errorCode: "unknown-user"))]
                }
                let id = openChannel()
                return [.openExtendedMiningChannelSuccess(OpenExtendedMiningChannelSuccess(
                    requestID: open.requestID, channelID: id, target: target, extranonceSize: open.minExtranonceSize,
                    extranoncePrefix: channelPrefixes[id] ?? [], groupChannelID: Self.groupID))] + currentJobMessages()
            case let .openStandardMiningChannel(open):
                let id = openChannel()
                return [.openStandardMiningChannelSuccess(OpenStandardMiningChannelSuccess(
                    requestID: open.requestID, channelID: id, target: target,
                    extranoncePrefix: (channelPrefixes[id] ?? []) + [0, 0, 0, 0], groupChannelID: Self.groupID))] + currentJobMessages()
            case let .submitSharesExtended(share):
                return [verdict(channelID: share.channelID, sequenceNumber: share.sequenceNumber, jobID: share.jobID,
                                nonce: share.nonce, ntime: share.ntime, version: share.version, extranonce: share.extranonce)]
            case let .submitSharesStandard(share):
                return [verdict(channelID: share.channelID, sequenceNumber: share.sequenceNumber, jobID: share.jobID,
                                nonce: share.nonce, ntime: share.ntime, version: share.version, extranonce: [0, 0, 0, 0])]
            default:
                return []
            }
        }
    }

    private func openChannel() -> UInt32 {
        let id = nextChannelID
        nextChannelID += 1
        channelPrefixes[id] = [0x5a, UInt8(truncatingIfNeeded: id)]
        return id
    }

    /// The current job as a future job with its SetNewPrevHash (what a newly opened channel gets).
    private func currentJobMessages() -> [Sv2Message] {
        guard let job = jobs[currentJob] else { return [] }
        return [
            .newExtendedMiningJob(NewExtendedMiningJob(
                channelID: Self.groupID, jobID: job.id, minNtime: nil, version: Self.version, versionRollingAllowed: true,
                merklePath: job.path, coinbaseTxPrefix: job.prefix, coinbaseTxSuffix: job.suffix)),
            .setNewPrevHash(SetNewPrevHash(
                channelID: Self.groupID, jobID: job.id, prevHash: prevHash, minNtime: job.minNtime, nbits: 0x1d00_ffff)),
        ]
    }

    private func verdict(
        channelID: UInt32, sequenceNumber: UInt32, jobID: UInt32, nonce: UInt32, ntime: UInt32, version: UInt32, extranonce: [UInt8]
    ) -> Sv2Message {
        var verdict = Share.Verdict.stale
        if let job = jobs[jobID], let channelPrefix = channelPrefixes[channelID] {
            let root = specMerkleRoot(coinbase: job.prefix + channelPrefix + extranonce + job.suffix, path: job.path)
            let header = BlockHeader(
                version: version, previousBlockHash: prevHash, merkleRoot: root, time: ntime, bits: 0x1d00_ffff, nonce: nonce)
            let allowedTime = UInt64(job.minNtime) + UInt64(Date().timeIntervalSince(job.sentAt)) + 1
            let valid = header.hash <= target && ntime >= job.minNtime && UInt64(ntime) <= allowedTime
                && (version ^ Self.version) & ~MiningWork.bip320VersionMask == 0
            verdict = valid ? .valid : .invalid
        }
        condition.lock()
        sharesReceived.append(Share(channelID: channelID, jobID: jobID, verdict: verdict, at: Date()))
        condition.broadcast()
        condition.unlock()
        switch verdict {
        case .valid:
            return .submitSharesSuccess(SubmitSharesSuccess(
                channelID: channelID, lastSequenceNumber: sequenceNumber, newSubmitsAcceptedCount: 1, newSharesSum: 1))
        case .stale:
            return .submitSharesError(SubmitSharesError(channelID: channelID, sequenceNumber: sequenceNumber, errorCode: "stale-share"))
        case .invalid:
            return .submitSharesError(SubmitSharesError(channelID: channelID, sequenceNumber: sequenceNumber, errorCode: "invalid-share"))
        }
    }

    /// Sends a new job to every connection: active at once (min_ntime set), or as a future job with a new prevhash.
    @discardableResult
    func newJob(newBlock: Bool) -> Date {
        let messages = lock.withLock { () -> [Sv2Message] in
            currentJob += 1
            let job = Self.job(id: currentJob, minNtime: UInt32(Date().timeIntervalSince1970))
            jobs[job.id] = job
            if newBlock {
                prevHash.w0 += 1
                jobs = [job.id: job]
                return currentJobMessages()
            }
            return [.newExtendedMiningJob(NewExtendedMiningJob(
                channelID: Self.groupID, jobID: job.id, minNtime: job.minNtime, version: Self.version, versionRollingAllowed: true,
                merklePath: job.path, coinbaseTxPrefix: job.prefix, coinbaseTxSuffix: job.suffix))]
        }
        let now = Date()
        send(messages)
        return now
    }

    func send(_ messages: [Sv2Message]) {
        for connection in openConnections {
            for message in messages { connection.write(Sv2Outbound.message(message), promise: nil) }
            connection.flush()
        }
    }

    var shares: [Share] {
        condition.lock()
        defer { condition.unlock() }
        return sharesReceived
    }

    var messages: [Sv2Message] {
        condition.lock()
        defer { condition.unlock() }
        return received
    }

    /// Waits up to `seconds` for `predicate` over the shares and messages received.
    func wait(seconds: Double = 20, until predicate: ([Share], [Sv2Message]) -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        while !predicate(sharesReceived, received) {
            guard condition.wait(until: deadline) else { return predicate(sharesReceived, received) }
        }
        return true
    }
}

/// One miner connection to the ``FakePool``.
final class FakePoolConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Sv2DecodedFrame
    typealias OutboundOut = Sv2Outbound

    private let pool: FakePool

    init(pool: FakePool) {
        self.pool = pool
    }

    func channelActive(context: ChannelHandlerContext) {
        pool.add(context.channel)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        pool.remove(context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        for answer in pool.handle(unwrapInboundIn(data).message) {
            context.write(wrapOutboundOut(.message(answer)), promise: nil)
        }
        context.flush()
    }
}

@Suite("CPU miner against a fake pool", .serialized)
struct CPUMinerTests {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    /// One hash in 4096: about a thousand shares a second from two debug-build threads.
    static let target = U256(w0: .max, w1: .max, w2: .max, w3: 0x000f_ffff_ffff_ffff)

    /// A running miner against `pool` on `port`.
    static func miner(
        pool: FakePool, port: Int, kind: MiningChannelKind = .extended, channels: Int = 1,
        failures: NIOLockedValueBox<[String]> = NIOLockedValueBox([])
    ) throws -> CPUMiner<Sv2MinerProtocol> {
        let configuration = CPUMiner.Configuration(
            protocol: Sv2MinerProtocol(
                session: MinerSessionConfiguration(
                    userIdentity: "test", channelKind: kind, channelCount: channels, requiresStandardJobs: false,
                    nominalHashRate: 4e6, minimumExtranonceSize: 4, endpointHost: "127.0.0.1", endpointPort: UInt16(port)),
                transport: Sv2TransportConfiguration(security: .initiator(authority: pool.authority.xOnlyPublicKey))),
            pool: HostPort(host: "127.0.0.1", port: port),
            engine: HashingEngine.Configuration(threads: 2, lanes: channels, chunkNonces: 4096),
            reportInterval: .milliseconds(500), initialBackoff: .milliseconds(100), maximumBackoff: .milliseconds(400))
        let miner = try CPUMiner(
            configuration: configuration, eventLoop: group.next(), logger: LogSettings(level: .warning).logger("mine-test")
        ) { reason in failures.withLockedValue { $0.append(reason) } }
        miner.start()
        return miner
    }

    @Test("valid shares over Noise; a new job and a new prevhash are mined within the deadline; shares are counted")
    func minesAndSwitchesJobs() async throws {
        let pool = FakePool(target: Self.target)
        let port = try pool.start(group: Self.group)
        defer { pool.stop() }
        let miner = try Self.miner(pool: pool, port: port)
        try await whileMining(miner) {
            #expect(pool.wait { shares, _ in shares.filter { $0.jobID == 1 }.count >= 20 })

            // Each switch is watched until shares of the new job have come in for longer than the deadline.
            let deadline = 0.1
            let switchedAt = pool.newJob(newBlock: false)
            #expect(pool.wait { shares, _ in shares.contains { $0.jobID == 2 && $0.at.timeIntervalSince(switchedAt) > deadline * 2 } })
            let newBlockAt = pool.newJob(newBlock: true)
            #expect(pool.wait { shares, _ in shares.contains { $0.jobID == 3 && $0.at.timeIntervalSince(newBlockAt) > deadline * 2 } })
            // A zero target ends the shares; then the miner's counts must match the pool's verdicts.
            pool.send([.setTarget(SetTarget(channelID: FakePool.groupID, maximumTarget: .zero))])
            let settled = Date(timeIntervalSinceNow: 10)
            while Date() < settled {
                let statistics = await miner.statistics
                if statistics.accepted + statistics.rejected == pool.shares.count { break }
                usleep(20_000)
            }
            let statistics = await miner.statistics
            let shares = pool.shares

            #expect(!shares.contains { $0.verdict == .invalid }, "\(shares.filter { $0.verdict == .invalid }.count) invalid shares")
            let lastOfFirst = try #require(shares.filter { $0.jobID == 1 }.map(\.at).max())
            let lastOfSecond = try #require(shares.filter { $0.jobID == 2 }.map(\.at).max())
            #expect(lastOfFirst.timeIntervalSince(switchedAt) < deadline, "job 1 mined \(lastOfFirst.timeIntervalSince(switchedAt)) s after job 2 came")
            #expect(lastOfSecond.timeIntervalSince(newBlockAt) < deadline, "job 2 mined \(lastOfSecond.timeIntervalSince(newBlockAt)) s after the prevhash")
            // Shares on their way while the prevhash changed are stale (the pool dropped job 2), and only those.
            let stale = shares.filter { $0.verdict == .stale }
            #expect(stale.allSatisfy { $0.jobID == 2 })
            #expect(statistics.accepted == shares.filter(\.valid).count && statistics.rejected == stale.count)
            #expect(statistics.submitted == shares.count && statistics.blocks == 0)
            // SetupConnection as spec 5.3.1 wants it, then one extended channel.
            guard case let .setupConnection(setup)? = pool.messages.first else { Issue.record("no SetupConnection"); return }
            #expect(setup.protocol == 0 && setup.flags == 0 && setup.minVersion == 2 && setup.maxVersion == 2)
            guard case let .openExtendedMiningChannel(open)? = pool.messages.dropFirst().first else { Issue.record("no open"); return }
            #expect(open.userIdentity == "test" && open.minExtranonceSize == 4 && open.maxTarget == .max)
            await miner.stop()
            #expect(pool.wait(seconds: 5) { _, messages in messages.contains { if case .closeChannel = $0 { return true } else { return false } } })
        }
    }

    @Test("standard channels in a group: each derives its merkle root from its own extranonce prefix")
    func standardGroup() async throws {
        let pool = FakePool(target: Self.target)
        let port = try pool.start(group: Self.group)
        defer { pool.stop() }
        let miner = try Self.miner(pool: pool, port: port, kind: .standard, channels: 2)
        #expect(pool.wait { shares, _ in Set(shares.map(\.channelID)).count == 2 && shares.count >= 10 })
        await miner.stop()
        #expect(pool.shares.allSatisfy { $0.valid })
        #expect(pool.messages.contains { if case .submitSharesStandard = $0 { return true } else { return false } })
    }

    @Test("Reconnect moves the miner to another server; a dropped connection is retried")
    func reconnects() async throws {
        let first = FakePool(target: Self.target)
        let firstPort = try first.start(group: Self.group)
        defer { first.stop() }
        // The second server must present a certificate of the same authority.
        let second = FakePool(target: Self.target, authority: first.authority)
        let secondPort = try second.start(group: Self.group)
        defer { second.stop() }
        let miner = try Self.miner(pool: first, port: firstPort)
        try await whileMining(miner) {
            #expect(first.wait { shares, _ in !shares.isEmpty })
            first.send([.reconnect(Reconnect(newHost: "", newPort: UInt16(secondPort)))])
            #expect(second.wait { shares, _ in shares.count >= 3 })

            // The server drops the connection: the miner comes back to the same (new) address after its backoff.
            for connection in second.openConnections { connection.close(promise: nil) }
            let setups = { (messages: [Sv2Message]) in messages.filter { if case .setupConnection = $0 { return true } else { return false } }.count }
            #expect(second.wait { _, messages in setups(messages) >= 2 })
            let before = second.shares.count
            #expect(second.wait { shares, _ in shares.count >= before + 3 })
            #expect(first.openConnections.isEmpty)
        }
    }

    @Test("a target every hash meets: a flood of shares is submitted (what the loop cannot take is dropped and counted), every one valid and answered before the miner stops")
    func floodOfShares() async throws {
        let pool = FakePool(target: .max)
        let port = try pool.start(group: Self.group)
        defer { pool.stop() }
        let miner = try Self.miner(pool: pool, port: port)
        #expect(pool.wait { shares, _ in shares.count >= 1000 })
        usleep(300_000)
        let statistics = await miner.stop()
        #expect(statistics.submitted >= 1000, "\(statistics)")
        #expect(statistics.accepted == pool.shares.count, "the miner waited for the answer to every share it sent")
        #expect(pool.shares.allSatisfy { $0.valid })
    }

    @Test("a pool that refuses the only channel stops the miner with a reason")
    func refusedChannel() async throws {
        let pool = FakePool(target: Self.target, refusesChannels: true)
        let port = try pool.start(group: Self.group)
        defer { pool.stop() }
        let failures = NIOLockedValueBox<[String]>([])
        let miner = try Self.miner(pool: pool, port: port, failures: failures)
        let deadline = Date(timeIntervalSinceNow: 10)
        while failures.withLockedValue(\.isEmpty), Date() < deadline { usleep(10_000) }
        await miner.stop()
        #expect(failures.withLockedValue { $0 } == ["no mining channel could be opened"])
    }
}
