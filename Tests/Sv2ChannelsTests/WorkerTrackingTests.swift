import Sv2Binary
import Sv2Channels
import Sv2Messages
import Sv2Monitoring
import Sv2Sessions
import Testing

/// Extension 0x0002 (worker-specific hashrate tracking) negotiated with RequestExtensions (extension 0x0001), on the
/// pool's side and the miner's.
@Suite("worker tracking: RequestExtensions and user_identity TLVs")
struct WorkerTrackingTests {
    static let now: Timestamp = 1_700_000_000

    /// A pool session past SetupConnection (and RequestExtensions for `extensions`, when given, with its answer),
    /// with one extended channel (id 1) for `farm`.
    static func pool(requesting extensions: [UInt16]? = nil) throws -> (session: PoolSession, answer: [Sv2Message]) {
        var session = try PoolSession(configuration: try #require(PoolSessionConfiguration(sharesPerMinute: 6)), connectionPrefix: [0, 1])
        _ = session.receive(.setupConnection(SetupConnection(
            protocol: 0, minVersion: 2, maxVersion: 2, flags: 0, endpointHost: "pool", endpointPort: 3333, vendor: "test",
            hardwareVersion: "", firmware: "", deviceID: "")), now: now)
        let answer = extensions.map {
            sent(session.receive(.requestExtensions(RequestExtensions(requestID: 8, requestedExtensions: $0)), now: now))
        } ?? []
        _ = session.receive(.openExtendedMiningChannel(OpenExtendedMiningChannel(
            requestID: 1, userIdentity: "farm", nominalHashRate: 1e9, maxTarget: .max, minExtranonceSize: 4)), now: now)
        return (session, answer)
    }

    static func sent(_ actions: [PoolSession.Action]) -> [Sv2Message] {
        actions.compactMap { if case let .send(message) = $0 { return message } else { return nil } }
    }

    /// A share of job 99 (no such job: refused, and counted against whoever it is credited to) tagged with `worker`.
    static func share(worker: String?) -> Sv2TaggedMessage {
        Sv2TaggedMessage(
            .submitSharesExtended(SubmitSharesExtended(
                channelID: 1, sequenceNumber: 5, jobID: 99, nonce: 0, ntime: 0, version: 0x2000_0000, extranonce: [0, 0, 0, 0])),
            tlvs: worker.map { [Sv2TLV.userIdentity(truncating: $0)] } ?? [])
    }

    @Test("the pool confirms 0x0002 once, before any channel, and credits tagged shares to their worker")
    func poolSide() throws {
        // Without negotiation the TLV is ignored (spec: MUST ignore unexpected TLV fields), and a late request too.
        var (plain, _) = try Self.pool()
        #expect(Self.sent(plain.receive(.requestExtensions(RequestExtensions(requestID: 9, requestedExtensions: [0x0002])), now: Self.now)).isEmpty)
        _ = plain.receive(Self.share(worker: "w0"), now: Self.now)
        #expect(Array(plain.collectTallies().keys) == ["farm"])

        let (_, refused) = try Self.pool(requesting: [0x0005])
        #expect(refused == [.requestExtensionsError(RequestExtensionsError(requestID: 8, unsupportedExtensions: [0x0005], requiredExtensions: []))])

        var (session, answer) = try Self.pool(requesting: [0x0005, 0x0002])
        #expect(answer == [.requestExtensionsSuccess(RequestExtensionsSuccess(requestID: 8, supportedExtensions: [0x0002]))])
        _ = session.receive(Self.share(worker: "w1"), now: Self.now)
        _ = session.receive(Self.share(worker: "farm.w2"), now: Self.now)
        _ = session.receive(Self.share(worker: nil), now: Self.now)
        _ = session.receive(Self.share(worker: "farm"), now: Self.now)
        let tallies = session.collectTallies()
        #expect(tallies.keys.sorted() == ["farm", "farm.w1", "farm.w2"])
        #expect(tallies["farm.w1"]?.rejected == 1 && tallies["farm.w2"]?.rejected == 1 && tallies["farm"]?.rejected == 2)
        let channel = try #require(session.monitoredChannels.first)
        #expect(channel.shares.rejectedByReason == ["invalid-job-id": 4] && channel.shares.lastSequenceNumber == 5)
    }

    @Test("workers beyond the channel's limit are credited to the channel's user")
    func workerLimit() throws {
        var (session, _) = try Self.pool(requesting: [0x0002])
        for index in 0...PoolSession.maximumWorkersPerChannel { _ = session.receive(Self.share(worker: "w\(index)"), now: Self.now) }
        let tallies = session.collectTallies()
        #expect(tallies.count == PoolSession.maximumWorkersPerChannel + 1 && tallies["farm"]?.rejected == 1)
    }

    static func miner(worker: String?) -> MinerClientSession {
        MinerClientSession(configuration: MinerSessionConfiguration(
            userIdentity: "farm.rig1", channelKind: .extended, channelCount: 1, requiresStandardJobs: false, nominalHashRate: 1e6,
            minimumExtranonceSize: 4, endpointHost: "pool", endpointPort: 3333, worker: worker))
    }

    static func sent(_ actions: [MinerClientSession.Action]) -> [Sv2Message] {
        actions.compactMap { if case let .send(message) = $0 { return message.message } else { return nil } }
    }

    @Test("the miner asks for 0x0002 right after setup and opens its channels once answered, or after the timeout")
    func minerSide() {
        var session = Self.miner(worker: "rig1")
        _ = session.start(now: Self.now)
        let setUp = session.receive(.setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: 0)), now: Self.now)
        #expect(Self.sent(setUp) == [.requestExtensions(RequestExtensions(requestID: 0, requestedExtensions: [0x0002]))])
        #expect(!session.isSetUp && session.tick(now: Self.now + .seconds(1)).isEmpty)
        let answered = session.receive(.requestExtensionsSuccess(RequestExtensionsSuccess(requestID: 0, supportedExtensions: [0x0002])), now: Self.now)
        #expect(session.tracksWorkers && session.isSetUp)
        guard case .openExtendedMiningChannel? = Self.sent(answered).first else { Issue.record("no channel opened"); return }

        // A pool that ignores RequestExtensions: the channels open after the timeout, without worker tracking.
        var silent = Self.miner(worker: "rig1")
        _ = silent.start(now: Self.now)
        _ = silent.receive(.setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: 0)), now: Self.now)
        let late = silent.tick(now: Self.now + MinerClientSession.extensionAnswerTimeout)
        guard case .openExtendedMiningChannel? = Self.sent(late).first else { Issue.record("no channel after the timeout"); return }
        #expect(!silent.tracksWorkers)

        // A pool that drops the connection over the request: the next connection's session does not ask again.
        var dropped = Self.miner(worker: "rig1")
        _ = dropped.start(now: Self.now)
        _ = dropped.receive(.setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: 0)), now: Self.now)
        #expect(dropped.statistics.negotiationsLost == 1)
        var next = MinerClientSession(configuration: Self.miner(worker: "rig1").configuration, statistics: dropped.statistics)
        _ = next.start(now: Self.now)
        guard case .openExtendedMiningChannel? = Self.sent(next.receive(
            .setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: 0)), now: Self.now)).first
        else { Issue.record("the next session asked again"); return }

        // Without a worker nothing is requested.
        var plain = Self.miner(worker: nil)
        _ = plain.start(now: Self.now)
        guard case .openExtendedMiningChannel? = Self.sent(plain.receive(
            .setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: 0)), now: Self.now)).first
        else { Issue.record("no channel opened at once"); return }
    }

    @Test("user_identity TLVs fit 32 bytes: a longer name keeps what follows its first dot, then is cut at a character boundary")
    func truncation() {
        #expect(Sv2TLV.userIdentity(truncating: "w1").userIdentity == "w1")
        #expect(Sv2TLV.userIdentity(truncating: "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080.rig1").userIdentity == "rig1")
        let long = String(repeating: "é", count: 20)
        let cut = Sv2TLV.userIdentity(truncating: long)
        #expect(cut.value.count == 32 && cut.userIdentity == String(repeating: "é", count: 16))
    }
}

/// A relaying proxy's share counters, kept from the messages it relays.
@Suite("proxy: device share counters from relayed messages")
struct DeviceShareCountersTests {
    @Test("submitted from the device, accepted and refused from the answers, per device and channel, forgotten with the device")
    func counters() {
        var counters = DeviceShareCounters<String>()
        for sequence in UInt32(0)..<3 {
            counters.fromDevice("a", .submitSharesStandard(SubmitSharesStandard(
                channelID: 1, sequenceNumber: sequence, jobID: 1, nonce: 0, ntime: 0, version: 0)))
        }
        counters.fromDevice("b", .submitSharesStandard(SubmitSharesStandard(channelID: 1, sequenceNumber: 9, jobID: 1, nonce: 0, ntime: 0, version: 0)))
        counters.toDevice("a", .submitSharesSuccess(SubmitSharesSuccess(channelID: 1, lastSequenceNumber: 1, newSubmitsAcceptedCount: 2, newSharesSum: 20)))
        counters.toDevice("a", .submitSharesError(SubmitSharesError(channelID: 1, sequenceNumber: 2, errorCode: "stale-share")))
        counters.toDevice("a", .setTarget(SetTarget(channelID: 1, maximumTarget: .max)))
        let a = counters.counters(device: "a", channelID: 1)
        #expect(a.submitted == 3 && a.accepted == 2 && a.acknowledgedWorkSum == 20 && a.lastSequenceNumber == 2)
        #expect(a.rejectedByReason == ["stale-share": 1] && a.lastBatchAccepted == 2)
        #expect(counters.counters(device: "b", channelID: 1).submitted == 1 && counters.counters(device: "a", channelID: 2).submitted == 0)
        counters.deviceGone("a")
        #expect(counters.counters(device: "a", channelID: 1).submitted == 0 && counters.counters(device: "b", channelID: 1).submitted == 1)
    }
}
