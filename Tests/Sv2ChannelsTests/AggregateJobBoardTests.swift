import Bitcoin
import Sv2Binary
import Sv2Messages
import Sv2Sessions
import Testing
@testable import Sv2Channels

private let coinbasePrefix: [UInt8] = [0x02, 0, 0, 0, 0x01] + [UInt8](repeating: 0, count: 32) + [0xff, 0xff, 0xff, 0xff, 0x20, 0x01, 0x65]
    + [0xa1, 0xa2, 0xa3, 0xa4]  // the upstream channel's extranonce prefix
private let coinbaseSuffix: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0x01] + [UInt8](repeating: 0, count: 8) + [0x01, 0x51, 0, 0, 0, 0]

/// Upstream work as the proxy's miner client session delivers it: 20 extranonce bytes to roll.
private func work(id: UInt64, prevHash: U256 = U256(5), target: U256 = U256(w0: 0, w1: 0, w2: 0, w3: 1 << 58), time: UInt32 = 1_700_000_000) -> MiningWork {
    MiningWork(
        id: id, version: 0x2000_0000, versionRollingMask: MiningWork.bip320VersionMask, previousBlockHash: prevHash,
        merkleRoot: .coinbase(CoinbaseTemplate(prefix: coinbasePrefix, extranonceSize: 20, suffix: coinbaseSuffix, merklePath: [U256(3)])),
        time: time, bits: 0x207f_ffff, target: target)
}

@Suite("proxy, aggregate mode: upstream work served to devices by pool sessions")
struct AggregateJobBoardTests {
    @Test("a new tip is a future job then its prevhash; more work on it is a job; a new target alone only updates the snapshot")
    func changes() throws {
        var board = AggregateJobBoard(extranonceSize: 16)
        let first = try board.apply(work(id: 1))
        guard case let .job(job) = first.first, case let .tip(tip) = first.last, first.count == 2 else {
            Issue.record("expected a job and a tip, got \(first)")
            return
        }
        #expect(job.isFuture && tip.jobID == job.id && tip.prevHash == U256(5) && tip.minNtime == 1_700_000_000)
        #expect(job.coinbase.extranonceSize == 16)
        #expect(job.coinbase.prefix == coinbasePrefix + [0, 0, 0, 0], "the 4 bytes devices do not fill are zeros after the upstream prefix")
        #expect(board.work.upstreamTarget == U256(w0: 0, w1: 0, w2: 0, w3: 1 << 58))

        #expect(try board.apply(work(id: 1, target: U256(w0: 0, w1: 0, w2: 0, w3: 1 << 48))) == [.upstreamTarget])
        #expect(board.work.upstreamTarget == U256(w0: 0, w1: 0, w2: 0, w3: 1 << 48))

        let more = try board.apply(work(id: 2, time: 1_700_000_100))
        guard case let .job(second)? = more.first, more.count == 1 else {
            Issue.record("expected one job, got \(more)")
            return
        }
        #expect(!second.isFuture && board.work.jobs.count == 2 && board.work.latest == second)

        let next = try board.apply(work(id: 3, prevHash: U256(6)))
        #expect(next.count == 2)
        #expect(board.work.staleJobIDs == [job.id, second.id])

        let lost = board.upstreamLost()
        #expect(lost)
        #expect(board.work.jobs.isEmpty && board.work.staleJobIDs.isSuperset(of: [job.id, second.id]) && board.work.upstreamTarget == nil)
        let again = board.upstreamLost()
        #expect(!again, "nothing more to make stale")
        #expect(try board.apply(work(id: 9, prevHash: U256(6))).count == 2, "the next connection's first work starts clean")
    }

    @Test("work the devices cannot share is refused")
    func refusals() {
        var board = AggregateJobBoard(extranonceSize: 24)
        #expect(throws: AggregateJobBoard.Refusal.extranonceTooSmall(available: 20, needed: 24)) { try board.apply(work(id: 1)) }
        var fixed = work(id: 1)
        fixed.merkleRoot = .fixed(U256(1))
        #expect(throws: AggregateJobBoard.Refusal.fixedMerkleRoot) { try board.apply(fixed) }
    }

    @Test("a device's share through a pool session comes back as the upstream work's share with the same header")
    func forwarding() throws {
        var board = AggregateJobBoard(extranonceSize: 16)
        let configuration = try #require(PoolSessionConfiguration(sharesPerMinute: 6, extranonceLength: 16))
        var session = try PoolSession(configuration: configuration, connectionPrefix: [0xbb, 0xcc])
        let setup = SetupConnection(
            protocol: 0, minVersion: 2, maxVersion: 2, flags: MiningSetupFlags.requiresStandardJobs.rawValue, endpointHost: "", endpointPort: 0,
            vendor: "", hardwareVersion: "", firmware: "", deviceID: "")
        _ = session.receive(.setupConnection(setup), now: 1_700_000_000)
        let upstream = work(id: 1, target: .max)
        var sent = [Sv2Message]()
        for change in try board.apply(upstream) {
            for case let .send(message) in session.update(to: board.work, change: change) { sent.append(message) }
        }
        for case let .send(message) in session.receive(.openStandardMiningChannel(OpenStandardMiningChannel(
            requestID: 1, userIdentity: "dev", nominalHashRate: 1, maxTarget: .max)), now: 1_700_000_000) { sent.append(message) }
        guard case let .newMiningJob(job)? = sent.first(where: { if case .newMiningJob = $0 { return true } else { return false } }),
              case let .openStandardMiningChannelSuccess(opened)? = sent.first(where: { if case .openStandardMiningChannelSuccess = $0 { return true } else { return false } })
        else {
            Issue.record("no channel or job: \(sent)")
            return
        }
        // The upstream target is the maximum: every share the device's channel accepts is forwarded.
        var forwarded = [ForwardedShare]()
        for nonce in UInt32(0)..<500 where forwarded.isEmpty {
            let actions = session.receive(.submitSharesStandard(SubmitSharesStandard(
                channelID: opened.channelID, sequenceNumber: nonce, jobID: job.jobID, nonce: nonce, ntime: 1_700_000_001, version: 0x2000_0000)),
                now: 1_700_000_001)
            for case let .effect(.forward(share)) in actions { forwarded.append(share) }
        }
        let share = try #require(forwarded.first)
        let found = try #require(board.upstreamShare(share))
        #expect(found.workID == 1 && found.extranonce.count == 20 && found.extranonce.starts(with: [0, 0, 0, 0]))
        let header = try #require(upstream.header(for: found))
        #expect(header.merkleRoot == job.merkleRoot, "the upstream's coinbase with the forwarded extranonce is the device's")
        #expect(header.nonce == share.nonce && header.time == 1_700_000_001)
    }

    @Test("an upstream that forbids version rolling forbids it to the devices")
    func fixedVersion() throws {
        var board = AggregateJobBoard(extranonceSize: 16)
        var fixed = work(id: 1)
        fixed.versionRollingMask = 0
        guard case let .job(job)? = try board.apply(fixed).first else {
            Issue.record("no job")
            return
        }
        #expect(!job.versionRollingAllowed)
        #expect(!job.extendedJob(channelID: 1, minNtime: nil, versionRollingAllowed: true).versionRollingAllowed)
        let configuration = try #require(PoolSessionConfiguration(sharesPerMinute: 6, extranonceLength: 16))
        var session = try PoolSession(configuration: configuration, connectionPrefix: [1, 2], work: board.work)
        _ = session.receive(.setupConnection(SetupNegotiation.request(.mining, endpointHost: "", endpointPort: 0, firmware: "t")), now: 1_700_000_000)
        let opened = session.receive(.openExtendedMiningChannel(OpenExtendedMiningChannel(
            requestID: 1, userIdentity: "dev", nominalHashRate: 1, maxTarget: .max, minExtranonceSize: 4)), now: 1_700_000_000)
        guard case let .send(.openExtendedMiningChannelSuccess(channel))? = opened.first else {
            Issue.record("no channel: \(opened)")
            return
        }
        let rolled = session.receive(.submitSharesExtended(SubmitSharesExtended(
            channelID: channel.channelID, sequenceNumber: 1, jobID: job.id, nonce: 1, ntime: 1_700_000_001, version: 0x2000_2000,
            extranonce: [UInt8](repeating: 0, count: Int(channel.extranonceSize)))), now: 1_700_000_001)
        #expect(rolled.contains { if case let .send(.submitSharesError(error)) = $0 { return error.errorCode == "version-rolling-not-allowed" } else { return false } })
    }
}
