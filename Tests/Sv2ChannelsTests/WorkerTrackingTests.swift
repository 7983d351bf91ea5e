import Sv2Binary
import Sv2Channels
import Sv2Messages
import Sv2Sessions
import Testing

/// Extension 0x0002 (worker-specific hashrate tracking) negotiated with RequestExtensions (extension 0x0001), on the
/// pool's side and the miner's.
@Suite("worker tracking: RequestExtensions and user_identity TLVs")
struct WorkerTrackingTests {
    static let now: Timestamp = 1_700_000_000

    /// A pool session past SetupConnection with one extended channel (id 1) for `farm`.
    static func pool() throws -> PoolSession {
        var session = try PoolSession(configuration: try #require(PoolSessionConfiguration(sharesPerMinute: 6)), connectionPrefix: [0, 1])
        _ = session.receive(.setupConnection(SetupConnection(
            protocol: 0, minVersion: 2, maxVersion: 2, flags: 0, endpointHost: "pool", endpointPort: 3333, vendor: "test",
            hardwareVersion: "", firmware: "", deviceID: "")), now: now)
        _ = session.receive(.openExtendedMiningChannel(OpenExtendedMiningChannel(
            requestID: 1, userIdentity: "farm", nominalHashRate: 1e9, maxTarget: .max, minExtranonceSize: 4)), now: now)
        return session
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

    @Test("the pool confirms 0x0002 only, refuses a request for nothing it supports, and credits tagged shares to their worker")
    func poolSide() throws {
        var session = try Self.pool()
        // Before negotiation the TLV is ignored (spec: MUST ignore unexpected TLV fields).
        _ = session.receive(Self.share(worker: "w0"), now: Self.now)
        #expect(Array(session.collectTallies().keys) == ["farm"])

        #expect(Self.sent(session.receive(.requestExtensions(RequestExtensions(requestID: 7, requestedExtensions: [0x0005])), now: Self.now))
            == [.requestExtensionsError(RequestExtensionsError(requestID: 7, unsupportedExtensions: [0x0005], requiredExtensions: []))])
        #expect(Self.sent(session.receive(.requestExtensions(RequestExtensions(requestID: 8, requestedExtensions: [0x0005, 0x0002])), now: Self.now))
            == [.requestExtensionsSuccess(RequestExtensionsSuccess(requestID: 8, supportedExtensions: [0x0002]))])

        _ = session.receive(Self.share(worker: "w1"), now: Self.now)
        _ = session.receive(Self.share(worker: "farm.w2"), now: Self.now)
        _ = session.receive(Self.share(worker: nil), now: Self.now)
        let tallies = session.collectTallies()
        #expect(tallies.keys.sorted() == ["farm", "farm.w1", "farm.w2"])
        #expect(tallies.values.allSatisfy { $0.rejected == 1 })
        let channel = try #require(session.monitoredChannels.first)
        #expect(channel.shares.rejectedByReason == ["invalid-job-id": 4] && channel.shares.lastSequenceNumber == 5)
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

        // Without a worker nothing is requested.
        var plain = Self.miner(worker: nil)
        _ = plain.start(now: Self.now)
        guard case .openExtendedMiningChannel? = Self.sent(plain.receive(
            .setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: 0)), now: Self.now)).first
        else { Issue.record("no channel opened at once"); return }
    }

    @Test("user_identity TLVs are cut to 32 bytes at a character boundary")
    func truncation() {
        #expect(Sv2TLV.userIdentity(truncating: "w1").userIdentity == "w1")
        let long = String(repeating: "é", count: 20)
        let cut = Sv2TLV.userIdentity(truncating: long)
        #expect(cut.value.count == 32 && cut.userIdentity == String(repeating: "é", count: 16))
    }
}
