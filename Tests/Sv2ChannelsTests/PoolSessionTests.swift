import Bitcoin
import Sv2Binary
import Sv2Messages
import Sv2Sessions
import Testing
@testable import Sv2Channels

/// A session driven message by message, with the messages it sends collected.
private struct Harness {
    var session: PoolSession
    var board = PoolJobBoard(rewardScript: rewardScript, poolTag: "unit", extranonceLength: 32)
    var now: Timestamp = 1_700_000_000
    var sent = [Sv2Message]()
    var blocks = [FoundBlock]()
    var batches = [ShareBatch]()
    var closed: String?

    init(flags: MiningSetupFlags = [], versionRolling: Bool = true, recordsShares: Bool = false, jobTokenKey: [UInt8]? = nil) throws {
        var configuration = try #require(PoolSessionConfiguration(sharesPerMinute: 6, versionRolling: versionRolling))
        configuration.recordsShares = recordsShares
        configuration.jobTokenKey = jobTokenKey
        configuration.payoutScript = rewardScript
        session = try PoolSession(configuration: configuration, connectionPrefix: [0xaa, 0xbb])
        let setup = SetupConnection(
            protocol: 0, minVersion: 2, maxVersion: 2, flags: flags.rawValue, endpointHost: "127.0.0.1", endpointPort: 3333, vendor: "test",
            hardwareVersion: "", firmware: "", deviceID: "unit")
        record(session.receive(.setupConnection(setup), now: now))
    }

    mutating func record(_ actions: [PoolSession.Action]) {
        for action in actions {
            switch action {
            case let .send(message): sent.append(message)
            case let .effect(.submitBlock(block)): blocks.append(block)
            case let .effect(.record(batch)): batches.append(batch)
            case let .close(reason): closed = reason
            case .effect(.tallies), .effect(.forward), .effect(.reportedHashRate), .log: break
            }
        }
    }

    /// The pool's template `id` (future or on the tip) as every session hears of it; its job gets id `id` when
    /// templates come in order.
    @discardableResult
    mutating func newJob(_ id: UInt32, future: Bool) throws -> PoolJob {
        let change = try board.apply(template(id: UInt64(id), future: future))
        record(session.update(to: board.work, change: change))
        guard case let .job(job) = change else { throw PoolJobBoard.Ignored.noTipYet(templateID: UInt64(id)) }
        return job
    }

    /// A new tip activating the future job of template `id`.
    mutating func newTip(_ id: UInt32, networkTarget: U256 = U256(1), nBits: UInt32 = mainnetBits) throws {
        let tip = prevHash(jobID: id, networkTarget: networkTarget, nBits: nBits)
        let change = try board.apply(TemplateSetNewPrevHash(
            templateID: UInt64(id), prevHash: tip.prevHash, headerTimestamp: tip.minNtime, nBits: tip.nBits, target: networkTarget))
        record(session.update(to: board.work, change: change))
    }

    mutating func receive(_ message: Sv2Message) {
        record(session.receive(message, now: now))
        record(session.acknowledgeShares())
    }

    /// Sends everything queued and returns it, emptying the queue.
    mutating func take() -> [Sv2Message] {
        defer { sent.removeAll() }
        return sent
    }
}

/// A template like the embedded node's: BIP34 height, 50 BTC, a witness commitment, no other transactions.
private func template(id: UInt64, future: Bool) -> NewTemplate {
    let commitment = WitnessCommitment.outputScript(nonCoinbaseWtxids: [])
    return NewTemplate(
        templateID: id, futureTemplate: future, version: 0x2000_0000, coinbaseTxVersion: 2, coinbasePrefix: [0x01, 0x6f],
        coinbaseTxInputSequence: 0xffff_ffff, coinbaseTxValueRemaining: 5_000_000_000, coinbaseTxOutputsCount: 1,
        coinbaseTxOutputs: TransactionOutput(value: 0, scriptPubKey: commitment).serialized, coinbaseTxLocktime: 0, merklePath: [])
}

private let rewardScript: [UInt8] = [0x00, 0x14] + [UInt8](repeating: 7, count: 20)

private func job(_ id: UInt32, future: Bool) throws -> PoolJob {
    try PoolJob(id: id, template: template(id: UInt64(id), future: future), rewardScript: rewardScript, poolTag: "unit", extranonceLength: 32)
}

/// A mainnet nBits (difficulty about 5.6e13), so that no channel target in these tests meets the network cap.
private let mainnetBits: UInt32 = 0x1703_4219

private func prevHash(jobID: UInt32, networkTarget: U256 = U256(1), nBits: UInt32 = mainnetBits) -> PoolPrevHash {
    PoolPrevHash(jobID: jobID, prevHash: U256(w0: 1, w1: 2, w2: 3, w3: 4), minNtime: 1_700_000_000, nBits: nBits, networkTarget: networkTarget)
}

private func openExtended(_ harness: inout Harness, maxTarget: U256 = .max, minExtranonce: UInt16 = 4) -> OpenExtendedMiningChannelSuccess? {
    harness.receive(.openExtendedMiningChannel(OpenExtendedMiningChannel(
        requestID: 7, userIdentity: "alice", nominalHashRate: 0.01, maxTarget: maxTarget, minExtranonceSize: minExtranonce)))
    return harness.take().compactMap { if case let .openExtendedMiningChannelSuccess(success) = $0 { return success } else { return nil } }.first
}

private func errorCodes(_ messages: [Sv2Message]) -> [String] {
    messages.compactMap { if case let .submitSharesError(error) = $0 { return error.errorCode.description } else { return nil } }
}

private func accepted(_ messages: [Sv2Message]) -> UInt32 {
    messages.reduce(0) { sum, message in
        if case let .submitSharesSuccess(success) = message { return sum + success.newSubmitsAcceptedCount }
        return sum
    }
}

@Suite("pool session: setup, channels, jobs, share validation")
struct PoolSessionTests {
    @Test("recording shares: a read's accepted and refused shares leave in one batch with its SubmitShares.Success, which is not sent")
    func recordedShares() throws {
        var harness = try Harness(recordsShares: true)
        try harness.newJob(1, future: true)
        try harness.newTip(1)
        harness.receive(.openExtendedMiningChannel(OpenExtendedMiningChannel(
            requestID: 7, userIdentity: "alice.rig1", nominalHashRate: 0.01, maxTarget: .max, minExtranonceSize: 4)))
        let channel = try #require(harness.take().compactMap {
            if case let .openExtendedMiningChannelSuccess(success) = $0 { return success } else { return nil }
        }.first)
        let extranonce = [UInt8](repeating: 0, count: Int(channel.extranonceSize))
        for (sequence, nonce) in [(UInt32(5), UInt32(1)), (6, 2), (7, 1)] {
            harness.record(harness.session.receive(.submitSharesExtended(SubmitSharesExtended(
                channelID: channel.channelID, sequenceNumber: sequence, jobID: 1, nonce: nonce, ntime: 1_700_000_001, version: 0x2000_0000,
                extranonce: extranonce)), now: harness.now))
        }
        #expect(errorCodes(harness.take()) == ["duplicate-share"], "a refusal is sent at once")
        harness.record(harness.session.readComplete(now: harness.now))
        #expect(accepted(harness.take()) == 0, "the acknowledgement waits for the ledger")
        let batch = try #require(harness.batches.first)
        #expect(harness.batches.count == 1)
        #expect(batch.accepted.map(\.sequenceNumber) == [5, 6])
        #expect(batch.accepted.allSatisfy { $0.user == "alice" && $0.worker == "rig1" && $0.channelID == channel.channelID && $0.jobID == 1 })
        #expect(Set(batch.accepted.map(\.hash)).count == 2)
        #expect(batch.rejected.map(\.errorCode) == ["duplicate-share"])
        #expect(batch.rejected.first?.user == "alice")
        #expect(batch.acknowledgements == [SubmitSharesSuccess(
            channelID: channel.channelID, lastSequenceNumber: 6, newSubmitsAcceptedCount: 2,
            newSharesSum: 2 * PoolSession.shareWeight(target: channel.target))])
        #expect(batch.refusals(code: PoolErrorCode.ledgerUnavailable).map { message -> UInt32 in
            if case let .submitSharesError(error) = message { return error.sequenceNumber } else { return 0 }
        } == [5, 6])
        harness.record(harness.session.readComplete(now: harness.now))
        #expect(harness.batches.count == 1, "nothing new: no empty batch")
        #expect(AcceptedShare.account("bob") == ("bob", "") && AcceptedShare.account("a.b.c") == ("a", "b.c"))
    }

    @Test("acknowledgements released together merge into one SubmitShares.Success per channel: last sequence, counts and sums added")
    func coalescedAcknowledgements() {
        let merged = ShareBatch.coalesced([
            SubmitSharesSuccess(channelID: 2, lastSequenceNumber: 4, newSubmitsAcceptedCount: 3, newSharesSum: 30),
            SubmitSharesSuccess(channelID: 5, lastSequenceNumber: 9, newSubmitsAcceptedCount: 1, newSharesSum: .max - 1),
            SubmitSharesSuccess(channelID: 2, lastSequenceNumber: 7, newSubmitsAcceptedCount: 2, newSharesSum: 20),
            SubmitSharesSuccess(channelID: 5, lastSequenceNumber: 10, newSubmitsAcceptedCount: 1, newSharesSum: 5),
        ])
        #expect(merged == [
            SubmitSharesSuccess(channelID: 2, lastSequenceNumber: 7, newSubmitsAcceptedCount: 5, newSharesSum: 50),
            SubmitSharesSuccess(channelID: 5, lastSequenceNumber: 10, newSubmitsAcceptedCount: 2, newSharesSum: .max),
        ])
        #expect(ShareBatch.coalesced([]).isEmpty)
    }

    @Test("the channels' reported nominal hash rates are summed and their changes reported (a proxy's upstream rate)")
    func reportedHashRates() throws {
        var session = try PoolSession(configuration: try #require(PoolSessionConfiguration(sharesPerMinute: 6)), connectionPrefix: [1])
        _ = session.receive(.setupConnection(SetupNegotiation.request(.mining, endpointHost: "", endpointPort: 0, firmware: "t")), now: 0)
        func changes(_ actions: [PoolSession.Action]) -> [Double] {
            actions.compactMap { if case let .effect(.reportedHashRate(change)) = $0 { return change } else { return nil } }
        }
        #expect(changes(session.receive(.openStandardMiningChannel(OpenStandardMiningChannel(
            requestID: 1, userIdentity: "a", nominalHashRate: 5e9, maxTarget: .max)), now: 0)) == [5e9])
        #expect(changes(session.receive(.openExtendedMiningChannel(OpenExtendedMiningChannel(
            requestID: 2, userIdentity: "b", nominalHashRate: .nan, maxTarget: .max, minExtranonceSize: 4)), now: 0)).isEmpty)
        #expect(changes(session.receive(.updateChannel(UpdateChannel(channelID: 3, nominalHashRate: 3e9, maximumTarget: .max)), now: 0)) == [3e9])
        #expect(session.reportedHashRate == 8e9)
        #expect(changes(session.receive(.closeChannel(CloseChannel(channelID: 3, reasonCode: "")), now: 0)) == [-3e9])
        #expect(session.reportedHashRate == 5e9)
    }

    @Test("SetupConnection first, for the mining protocol, version 2; unsupported flags are refused with their bits")
    func setup() throws {
        var harness = try Harness()
        #expect(harness.take() == [.setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: 0))])
        var wrong = try PoolSession(configuration: try #require(PoolSessionConfiguration(sharesPerMinute: 6)), connectionPrefix: [1])
        let actions = wrong.receive(.openStandardMiningChannel(OpenStandardMiningChannel()), now: 0)
        #expect(actions.contains { if case .close = $0 { return true } else { return false } })
        var templateClient = try PoolSession(configuration: try #require(PoolSessionConfiguration(sharesPerMinute: 6)), connectionPrefix: [1])
        let refused = templateClient.receive(.setupConnection(SetupConnection(protocol: 2, minVersion: 2, maxVersion: 2, flags: 0,
            endpointHost: "", endpointPort: 0, vendor: "", hardwareVersion: "", firmware: "", deviceID: "")), now: 0)
        #expect(refused.contains { if case let .send(.setupConnectionError(error)) = $0 { return error.errorCode == "unsupported-protocol" } else { return false } })
        let workSelection = try Harness(flags: .requiresWorkSelection)
        #expect(workSelection.closed != nil)
        #expect(workSelection.sent.contains { if case let .setupConnectionError(error) = $0 { return error.flags == 2 } else { return false } })
        let fixed = try Harness(versionRolling: false)
        #expect(fixed.sent.first == .setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: 1)))
    }

    @Test("extended channel: prefix after the connection's, rollable rest, current job as future + SetNewPrevHash")
    func extendedChannel() throws {
        var harness = try Harness()
        try harness.newJob(1, future: true)
        try harness.newTip(1)
        _ = harness.take()
        let success = try #require(openExtended(&harness))
        #expect(success.extranoncePrefix.starts(with: [0xaa, 0xbb]))
        #expect(success.extranoncePrefix.count + Int(success.extranonceSize) == 32)
        #expect(success.requestID == 7)
        harness.receive(.openExtendedMiningChannel(OpenExtendedMiningChannel(
            requestID: 8, userIdentity: "x", nominalHashRate: 1, maxTarget: .max, minExtranonceSize: 31)))
        #expect(harness.sent.contains { if case let .openMiningChannelError(error) = $0 { return error.errorCode == "min-extranonce-size-too-large" } else { return false } })
    }

    @Test("every rejection gets its error code, the channel stays usable and good shares keep being accepted")
    func shareErrors() throws {
        var harness = try Harness()
        try harness.newJob(1, future: true)
        try harness.newTip(1)
        let channel = try #require(openExtended(&harness))
        let extranonce = [UInt8](repeating: 0, count: Int(channel.extranonceSize))
        func share(_ sequence: UInt32, job: UInt32 = 1, nonce: UInt32 = 1, ntime: UInt32 = 1_700_000_001,
                   version: UInt32 = 0x2000_0000, extranonce custom: [UInt8]? = nil, channelID: UInt32? = nil) -> Sv2Message {
            .submitSharesExtended(SubmitSharesExtended(
                channelID: channelID ?? channel.channelID, sequenceNumber: sequence, jobID: job, nonce: nonce, ntime: ntime,
                version: version, extranonce: custom ?? extranonce))
        }
        harness.receive(share(1))
        #expect(accepted(harness.take()) == 1)
        harness.receive(share(2))
        #expect(errorCodes(harness.take()) == ["duplicate-share"])
        harness.receive(share(3, job: 99))
        #expect(errorCodes(harness.take()) == ["invalid-job-id"])
        harness.receive(share(4, nonce: 2, extranonce: [1, 2]))
        #expect(errorCodes(harness.take()) == ["bad-extranonce-size"])
        harness.receive(share(5, nonce: 3, version: 0x2000_0001))
        #expect(errorCodes(harness.take()) == ["version-rolling-not-allowed"])
        harness.receive(share(6, nonce: 4, version: 0x2000_0000 | 0x0000_e000))
        #expect(accepted(harness.take()) == 1, "BIP320 bits may roll")
        harness.receive(share(6, nonce: 40, version: 0x2000_0000 | 0x0000_1fe0))
        #expect(accepted(harness.take()) == 1, "so may the rest of BIP323's general purpose bits (5.3.16)")
        harness.receive(share(7, nonce: 5, ntime: 1_699_999_999))
        #expect(errorCodes(harness.take()) == ["invalid-timestamp"])
        harness.receive(share(8, nonce: 6, channelID: 42))
        #expect(errorCodes(harness.take()) == ["invalid-channel-id"])
        harness.receive(.submitSharesStandard(SubmitSharesStandard(
            channelID: channel.channelID, sequenceNumber: 9, jobID: 1, nonce: 7, ntime: 1_700_000_001, version: 0x2000_0000)))
        #expect(errorCodes(harness.take()) == ["invalid-channel-id"], "a standard share on an extended channel")
        // A new tip: job 1 is stale now, job 2 is current.
        try harness.newJob(2, future: true)
        try harness.newTip(2)
        _ = harness.take()
        harness.receive(share(10, nonce: 8))
        #expect(errorCodes(harness.take()) == ["stale-share"])
        harness.receive(share(11, job: 2, nonce: 1))
        #expect(accepted(harness.take()) == 1, "the seen-share set starts over on a new tip")
        #expect(harness.session.collectTallies()["alice"]?.rejected == 7, "the share for an unknown channel has no user to count")
    }

    @Test("difficulty: a hash above the channel target is refused; one at or below the network target is a block")
    func difficultyAndBlocks() throws {
        var harness = try Harness()
        try harness.newJob(1, future: true)
        try harness.newTip(1)
        let hard = try #require(openExtended(&harness, maxTarget: U256(1)))
        #expect(hard.target == U256(1))
        harness.receive(.submitSharesExtended(SubmitSharesExtended(
            channelID: hard.channelID, sequenceNumber: 1, jobID: 1, nonce: 1, ntime: 1_700_000_001, version: 0x2000_0000,
            extranonce: [UInt8](repeating: 0, count: Int(hard.extranonceSize)))))
        #expect(errorCodes(harness.take()) == ["difficulty-too-low"])

        var lucky = try Harness()
        try lucky.newJob(1, future: true)
        try lucky.newTip(1, networkTarget: .max)
        let channel = try #require(openExtended(&lucky))
        let extranonce: [UInt8] = Array(repeating: 5, count: Int(channel.extranonceSize))
        lucky.receive(.submitSharesExtended(SubmitSharesExtended(
            channelID: channel.channelID, sequenceNumber: 1, jobID: 1, nonce: 77, ntime: 1_700_000_002, version: 0x2000_0000,
            extranonce: extranonce)))
        #expect(accepted(lucky.take()) == 1)
        let block = try #require(lucky.blocks.first)
        #expect(block.templateID == 1 && block.nonce == 77 && block.user == "alice")
        // The block's coinbase carries the witness and hashes (without it) to the header's merkle root.
        let coinbase = try Transaction(bytes: block.coinbase)
        #expect(coinbase.hasWitness)
        let header = BlockHeader(
            version: 0x2000_0000, previousBlockHash: prevHash(jobID: 1).prevHash, merkleRoot: coinbase.txid, time: 1_700_000_002,
            bits: mainnetBits, nonce: 77)
        #expect(header.hash == block.hash)
        #expect(coinbase.txid == (try job(1, future: true)).coinbase.merkleRoot(extranonce: channel.extranoncePrefix + extranonce))
    }

    @Test("absurd peer values trap nothing: the largest nominal_hash_rate opens channels; a block on a channel whose target no share meets counts saturated")
    func absurdPeerValues() throws {
        var harness = try Harness()
        try harness.newJob(1, future: true)
        try harness.newTip(1, networkTarget: .max)
        harness.receive(.openStandardMiningChannel(OpenStandardMiningChannel(
            requestID: 1, userIdentity: "bob", nominalHashRate: .greatestFiniteMagnitude, maxTarget: .max)))
        harness.receive(.openExtendedMiningChannel(OpenExtendedMiningChannel(
            requestID: 2, userIdentity: "bob", nominalHashRate: .greatestFiniteMagnitude, maxTarget: .max, minExtranonceSize: 4)))
        let opened = harness.take().filter {
            if case .openStandardMiningChannelSuccess = $0 { return true }
            if case .openExtendedMiningChannelSuccess = $0 { return true }
            return false
        }
        #expect(opened.count == 2)

        // Target 1: no share meets it, but on an easy network every share is a block, and blocks are accepted.
        let hard = try #require(openExtended(&harness, maxTarget: U256(1)))
        harness.receive(.submitSharesExtended(SubmitSharesExtended(
            channelID: hard.channelID, sequenceNumber: 1, jobID: 1, nonce: 9, ntime: 1_700_000_001, version: 0x2000_0000,
            extranonce: [UInt8](repeating: 1, count: Int(hard.extranonceSize)))))
        let success = harness.take().compactMap { if case let .submitSharesSuccess(success) = $0 { return success } else { return nil } }
        #expect(success.map(\.newSharesSum) == [.max])
        #expect(harness.blocks.count == 1)
        #expect(PoolSession.rate(1e40) == "1e+22 EH/s" && PoolSession.rate(.nan) == "nan H/s" && PoolSession.rate(27_100_000) == "27.1 MH/s")
    }

    @Test("a snapshot older than the session's (a broadcast queued before the session started) changes nothing")
    func olderSnapshotIgnored() throws {
        var harness = try Harness()
        try harness.newJob(1, future: true)
        try harness.newTip(1)
        let older = harness.board.work
        try harness.newJob(2, future: false)
        let channel = try #require(openExtended(&harness))
        #expect(harness.session.update(to: older, change: .tip(prevHash(jobID: 1))).isEmpty)
        harness.receive(.submitSharesExtended(SubmitSharesExtended(
            channelID: channel.channelID, sequenceNumber: 1, jobID: 2, nonce: 1, ntime: 1_700_000_001, version: 0x2000_0000,
            extranonce: [UInt8](repeating: 0, count: Int(channel.extranonceSize)))))
        #expect(errorCodes(harness.take()).allSatisfy { $0 != "invalid-job-id" })
    }

    @Test("group channel: standard channels share one group, get one NewExtendedMiningJob, and validate with their own prefix")
    func groupChannel() throws {
        var harness = try Harness()
        try harness.newJob(1, future: true)
        try harness.newTip(1)
        _ = harness.take()
        var opened = [OpenStandardMiningChannelSuccess]()
        for request in 1...3 {
            harness.receive(.openStandardMiningChannel(OpenStandardMiningChannel(
                requestID: UInt32(request), userIdentity: "carol", nominalHashRate: 0.01, maxTarget: .max)))
            let messages = harness.take()
            opened += messages.compactMap { if case let .openStandardMiningChannelSuccess(success) = $0 { return success } else { return nil } }
            #expect(messages.contains { if case .newMiningJob = $0 { return true } else { return false } }, "the current job comes with the channel")
        }
        #expect(opened.count == 3)
        let group = try #require(opened.first?.groupChannelID)
        #expect(opened.allSatisfy { $0.groupChannelID == group } && !opened.map(\.channelID).contains(group))
        #expect(Set(opened.map(\.extranoncePrefix)).count == 3 && opened.allSatisfy { $0.extranoncePrefix.count == 32 })

        let next = try harness.newJob(2, future: false)
        let broadcast = harness.take()
        #expect(broadcast.count == 1)
        guard case let .newExtendedMiningJob(groupJob) = broadcast.first else { Issue.record("no group job"); return }
        #expect(groupJob.channelID == group && groupJob.minNtime == 1_700_000_000)
        // Each standard channel derives its merkle root from the group job and its own prefix, and its share validates.
        for channel in opened {
            let coinbase = groupJob.coinbaseTxPrefix + channel.extranoncePrefix + groupJob.coinbaseTxSuffix
            #expect(Merkle.root(coinbaseTxid: try Transaction(bytes: coinbase).txid, path: groupJob.merklePath)
                == next.coinbase.merkleRoot(extranonce: channel.extranoncePrefix))
            harness.receive(.submitSharesStandard(SubmitSharesStandard(
                channelID: channel.channelID, sequenceNumber: 1, jobID: 2, nonce: 9, ntime: 1_700_000_001, version: 0x2000_0000)))
            #expect(accepted(harness.take()) == 1)
        }
        // Closing the group closes its channels.
        harness.receive(.closeChannel(CloseChannel(channelID: group, reasonCode: "bye")))
        #expect(harness.session.channelCount == 0)
    }

    @Test("REQUIRES_STANDARD_JOBS: one NewMiningJob per standard channel with its merkle root, no group")
    func standardJobs() throws {
        var harness = try Harness(flags: .requiresStandardJobs)
        try harness.newJob(1, future: true)
        try harness.newTip(1)
        _ = harness.take()
        var prefixes = [UInt32: [UInt8]]()
        for request in 1...2 {
            harness.receive(.openStandardMiningChannel(OpenStandardMiningChannel(
                requestID: UInt32(request), userIdentity: "dave", nominalHashRate: 1e6, maxTarget: .max)))
            for case let .openStandardMiningChannelSuccess(success) in harness.take() {
                #expect(success.groupChannelID == 0)
                prefixes[success.channelID] = success.extranoncePrefix
            }
        }
        let next = try harness.newJob(2, future: true)
        let jobs = harness.take().compactMap { if case let .newMiningJob(job) = $0 { return job } else { return nil } }
        #expect(jobs.count == 2)
        for standardJob in jobs {
            #expect(standardJob.minNtime == nil)
            #expect(standardJob.merkleRoot == next.coinbase.merkleRoot(extranonce: prefixes[standardJob.channelID] ?? []))
        }
        try harness.newTip(2)
        #expect(harness.take().filter { if case .setNewPrevHash = $0 { return true } else { return false } }.count == 2)
    }

    @Test("UpdateChannel: unknown channel is an error; a smaller maximum target is honoured with SetTarget")
    func updateChannel() throws {
        var harness = try Harness()
        let channel = try #require(openExtended(&harness))
        harness.receive(.updateChannel(UpdateChannel(channelID: 99, nominalHashRate: 1, maximumTarget: .max)))
        #expect(harness.take() == [.updateChannelError(UpdateChannelError(channelID: 99, errorCode: "invalid-channel-id"))])
        harness.receive(.updateChannel(UpdateChannel(channelID: channel.channelID, nominalHashRate: 1e6, maximumTarget: U256(1000))))
        #expect(harness.take() == [.setTarget(SetTarget(channelID: channel.channelID, maximumTarget: U256(1000)))])
    }

    @Test("a channel target is never harder than the network target: on regtest every channel mines at it")
    func networkTargetCap() throws {
        let regtest = try CompactTarget(bits: 0x207f_ffff).target()
        var harness = try Harness()
        // Opened before any tip, at a rate far above what regtest needs: the first tip eases it with SetTarget.
        harness.receive(.openExtendedMiningChannel(OpenExtendedMiningChannel(
            requestID: 1, userIdentity: "early", nominalHashRate: 1e15, maxTarget: .max, minExtranonceSize: 4)))
        let early = try #require(harness.take().compactMap {
            if case let .openExtendedMiningChannelSuccess(success) = $0 { return success } else { return nil }
        }.first)
        #expect(early.target < regtest)
        try harness.newJob(1, future: true)
        try harness.newTip(1, nBits: 0x207f_ffff)
        #expect(harness.take().contains(.setTarget(SetTarget(channelID: early.channelID, maximumTarget: regtest))))
        // Opened on the tip, and updated: the network target, within the channel's maximum.
        harness.receive(.openExtendedMiningChannel(OpenExtendedMiningChannel(
            requestID: 2, userIdentity: "later", nominalHashRate: 1e15, maxTarget: .max, minExtranonceSize: 4)))
        let channel = try #require(harness.take().compactMap {
            if case let .openExtendedMiningChannelSuccess(success) = $0 { return success } else { return nil }
        }.first)
        #expect(channel.target == regtest)
        harness.receive(.updateChannel(UpdateChannel(channelID: channel.channelID, nominalHashRate: 1e18, maximumTarget: .max)))
        #expect(harness.take().isEmpty)
        harness.receive(.updateChannel(UpdateChannel(channelID: channel.channelID, nominalHashRate: 1e18, maximumTarget: U256(1000))))
        #expect(harness.take() == [.setTarget(SetTarget(channelID: channel.channelID, maximumTarget: U256(1000)))])
    }
}

@Suite("pool session: vardiff through SetTarget")
struct PoolSessionVardiffTests {
    /// A miner of `hashrate` whose shares arrive as a Poisson process at the rate the channel's current target
    /// implies, against a session ticked every 5 s; returns the hashrates the SetTargets stand for, by time.
    private func simulate(claimed: Double, actual hashrate: Double, minutes: Double, seed: UInt64) throws -> [(time: Double, hashrate: Double)] {
        var harness = try Harness()
        let start = harness.now.seconds
        // Every share is a block (network target at the maximum), so the session accepts it whatever the target.
        try harness.newJob(1, future: true)
        try harness.newTip(1, networkTarget: .max)
        harness.receive(.openExtendedMiningChannel(OpenExtendedMiningChannel(
            requestID: 1, userIdentity: "sim", nominalHashRate: Float(claimed), maxTarget: .max, minExtranonceSize: 4)))
        var target = U256.max
        var rolled = 0
        for case let .openExtendedMiningChannelSuccess(success) in harness.take() {
            target = success.target
            rolled = Int(success.extranonceSize)
        }
        var random = SplitMix64(state: seed)
        var settings = [(time: Double, hashrate: Double)]()
        var nextTick = start + 5
        var nonce: UInt32 = 0
        var time = start
        while time < start + minutes * 60 {
            let wait = random.exponential(rate: hashrate / MiningTarget.expectedHashes(target: target))
            if time + wait >= nextTick {
                time = nextTick
                nextTick += 5
                harness.now = Timestamp(seconds: time)
                harness.record(harness.session.tick(now: harness.now))
                for case let .setTarget(setTarget) in harness.take() {
                    target = setTarget.maximumTarget
                    settings.append((time - start, MiningTarget.hashrate(target: target, sharesPerMinute: 6)))
                }
                continue
            }
            time += wait
            harness.now = Timestamp(seconds: time)
            nonce &+= 1
            harness.receive(.submitSharesExtended(SubmitSharesExtended(
                channelID: 1, sequenceNumber: nonce, jobID: 1, nonce: nonce, ntime: 1_700_000_001, version: 0x2000_0000,
                extranonce: [UInt8](repeating: 0, count: rolled))))
            _ = harness.take()
        }
        return settings
    }

    @Test("a channel opened 1000x too high or too low settles within 5 simulated minutes and stays there", arguments: [1e3, 1e-3])
    func settles(factor: Double) throws {
        let hashrate = 1e9
        var settled = 0
        for seed in UInt64(1)...10 {
            let settings = try simulate(claimed: hashrate * factor, actual: hashrate, minutes: 20, seed: seed)
            let atFive = settings.last { $0.time <= 300 }?.hashrate ?? hashrate * factor
            if abs(atFive / hashrate - 1) <= 0.5 { settled += 1 }
            // No oscillation: after 5 minutes every setting stays within a factor 2 and there are few of them.
            let later = settings.filter { $0.time > 300 }
            #expect(later.allSatisfy { $0.hashrate < 2 * hashrate && $0.hashrate > hashrate / 2 }, "seed \(seed): \(later.map(\.hashrate))")
            #expect(later.count <= 6, "seed \(seed): \(later.count) retargets in 15 minutes")
        }
        #expect(settled >= 8, "\(settled) of 10 seeds within 50% at 5 minutes")
    }
}

/// Custom jobs (SetCustomMiningJob) checked against the job declarator's tokens.
@Suite("pool session: custom jobs with job declarator tokens")
struct PoolSessionCustomJobTests {
    static let key = [UInt8](repeating: 3, count: 32)
    /// One output paying the pool 50 BTC, CompactSize-prefixed as SetCustomMiningJob carries outputs.
    static let payingPool: [UInt8] = [1] + TransactionOutput(value: 5_000_000_000, scriptPubKey: rewardScript).serialized
    static let payingOther: [UInt8] = [1] + TransactionOutput(value: 5_000_000_000, scriptPubKey: [0x51]).serialized
    static let payingPoolLittle: [UInt8] = [2] + TransactionOutput(value: 1, scriptPubKey: rewardScript).serialized
        + TransactionOutput(value: 4_999_999_999, scriptPubKey: [0x51]).serialized

    static func token(_ kind: MiningJobToken.Kind = .allocation, expiry: UInt32 = 1_700_000_060, commitment: [UInt8] = MiningJobToken.userCommitment("alice"), key: [UInt8] = key, nonce: UInt8 = .random(in: 0...255)) -> [UInt8] {
        MiningJobToken(kind: kind, expiry: expiry, nonce: [nonce, 9, 9, 9, 9, 9, 9, UInt8.random(in: 0...255)], commitment: commitment).encoded(key: key)
    }

    static func request(channelID: UInt32, token: [UInt8], prev: U256 = prevHash(jobID: 1).prevHash, outputs: [UInt8] = payingPool, nbits: UInt32? = nil) -> SetCustomMiningJob {
        let tip = prevHash(jobID: 1)
        return SetCustomMiningJob(
            channelID: channelID, requestID: 5, miningJobToken: token, version: 0x2000_0000, prevHash: prev, minNtime: tip.minNtime, nbits: nbits ?? tip.nBits,
            coinbaseTxVersion: 2, coinbasePrefix: [0x03, 0x01, 0x02, 0x03], coinbaseTxInputNSequence: 0xffff_ffff, coinbaseTxOutputs: outputs,
            coinbaseTxLocktime: 0, merklePath: [U256(5)])
    }

    /// SetCustomMiningJob's answer.
    enum Answer: Equatable {
        case job(UInt32)
        case refused(String)
    }

    static func answer(_ messages: [Sv2Message]) -> Answer? {
        for message in messages {
            if case let .setCustomMiningJobSuccess(success) = message { return .job(success.jobID) }
            if case let .setCustomMiningJobError(error) = message { return .refused(error.errorCode.description) }
        }
        return nil
    }

    /// The first nonce whose header hash, from `request`'s coinbase (paying the pool) with `channel`'s prefix and
    /// `extranonce`, satisfies `accept`.
    static func nonce(
        _ request: SetCustomMiningJob, _ channel: OpenExtendedMiningChannelSuccess, extranonce: [UInt8], where accept: (U256) -> Bool
    ) -> Int? {
        let prefix: [UInt8] = [2, 0, 0, 0, 1] + [UInt8](repeating: 0, count: 32) + [0xff, 0xff, 0xff, 0xff, UInt8(4 + 32)] + request.coinbasePrefix
            + channel.extranoncePrefix
        let coinbase = CoinbaseTemplate(
            prefix: prefix, extranonceSize: extranonce.count, suffix: [0xff, 0xff, 0xff, 0xff] + payingPool + [0, 0, 0, 0], merklePath: request.merklePath)
        let root = coinbase.merkleRoot(extranonce: extranonce)
        return (0..<100_000).first { nonce in
            accept(ShareHash.header(
                version: 0x2000_0000, previousBlockHash: request.prevHash, merkleRoot: root, time: request.minNtime, bits: request.nbits, nonce: UInt32(nonce)))
        }
    }

    @Test("a valid token on the pool's tip gets a job whose shares are validated; a new tip makes them stale")
    func acceptedJob() throws {
        var harness = try Harness(flags: .requiresWorkSelection, jobTokenKey: Self.key)
        #expect(harness.take().contains { if case .setupConnectionSuccess = $0 { return true } else { return false } }, "REQUIRES_WORK_SELECTION is accepted")
        try harness.newJob(1, future: true)
        try harness.newTip(1)
        let channel = try #require(openExtended(&harness))
        _ = harness.take()
        let request = Self.request(channelID: channel.channelID, token: Self.token())
        harness.receive(.setCustomMiningJob(request))
        guard case let .job(jobID)? = Self.answer(harness.take()) else { Issue.record("no SetCustomMiningJob.Success"); return }
        #expect(jobID & 0x8000_0000 != 0)

        // A share on the custom job: its header hashed from the custom coinbase, the channel's prefix and the tip named.
        let rolled = [UInt8](repeating: 0, count: Int(channel.extranonceSize))
        let nonce = try #require(Self.nonce(request, channel, extranonce: rolled) { $0 <= channel.target })
        func share(_ sequence: UInt32) -> Sv2Message {
            .submitSharesExtended(SubmitSharesExtended(
                channelID: channel.channelID, sequenceNumber: sequence, jobID: jobID, nonce: UInt32(nonce), ntime: request.minNtime, version: 0x2000_0000, extranonce: rolled))
        }
        harness.receive(share(1))
        #expect(accepted(harness.take()) == 1)
        try harness.newJob(2, future: true)
        try harness.newTip(2)
        _ = harness.take()
        harness.receive(share(2))
        #expect(errorCodes(harness.take()) == ["stale-share"])
    }

    @Test("a block on a custom job is accepted as a share even below the channel's target, and left to the miner to submit")
    func customJobBlockBelowChannelTarget() throws {
        var harness = try Harness(flags: .requiresWorkSelection, jobTokenKey: Self.key)
        try harness.newJob(1, future: true)
        // One hash in 16 is a block; the channel's target takes one in 256 (as on regtest, where blocks are easier).
        let networkTarget = U256(w0: .max, w1: .max, w2: .max, w3: UInt64.max >> 4)
        try harness.newTip(1, networkTarget: networkTarget)
        let channel = try #require(openExtended(&harness, maxTarget: U256(w0: .max, w1: .max, w2: .max, w3: UInt64.max >> 8)))
        _ = harness.take()
        let request = Self.request(channelID: channel.channelID, token: Self.token())
        harness.receive(.setCustomMiningJob(request))
        guard case let .job(jobID)? = Self.answer(harness.take()) else { Issue.record("no SetCustomMiningJob.Success"); return }
        let rolled = [UInt8](repeating: 0, count: Int(channel.extranonceSize))
        let nonce = try #require(Self.nonce(request, channel, extranonce: rolled) { $0 <= networkTarget && $0 > channel.target })
        harness.receive(.submitSharesExtended(SubmitSharesExtended(
            channelID: channel.channelID, sequenceNumber: 1, jobID: jobID, nonce: UInt32(nonce), ntime: request.minNtime, version: 0x2000_0000, extranonce: rolled)))
        let answer = harness.take()
        #expect(accepted(answer) == 1 && errorCodes(answer).isEmpty)
        #expect(harness.blocks.isEmpty, "a custom job's block is not the pool's to submit")
    }

    @Test("forged, expired, reused and foreign tokens, another tip or nBits, coinbases not paying the pool, other channels and connections without work selection are refused with their codes")
    func refused() throws {
        var harness = try Harness(flags: .requiresWorkSelection, jobTokenKey: Self.key)
        try harness.newJob(1, future: true)
        try harness.newTip(1)
        let channel = try #require(openExtended(&harness))
        _ = harness.take()
        let cases: [(SetCustomMiningJob, String)] = [
            (Self.request(channelID: channel.channelID, token: Self.token(key: [UInt8](repeating: 4, count: 32))), "invalid-mining-job-token"),
            (Self.request(channelID: channel.channelID, token: Self.token(expiry: 1_699_999_999)), "stale-mining-job-token"),
            (Self.request(channelID: channel.channelID, token: Self.token(commitment: MiningJobToken.userCommitment("bob"))), "invalid-mining-job-token"),
            (Self.request(channelID: channel.channelID, token: Self.token(), prev: U256(77)), "invalid-prev-hash"),
            (Self.request(channelID: channel.channelID, token: Self.token(), outputs: Self.payingOther), "invalid-coinbase"),
            (Self.request(channelID: channel.channelID, token: Self.token(), outputs: Self.payingPoolLittle), "invalid-coinbase"),
            (Self.request(channelID: channel.channelID, token: Self.token(), nbits: 0x207f_ffff), "invalid-job-parameters"),
            (Self.request(channelID: 99, token: Self.token()), "invalid-channel-id"),
            (Self.request(channelID: channel.channelID, token: Self.token(expiry: 1_700_000_000 + MiningJobToken.maximumLifetime + 1)), "invalid-mining-job-token"),
        ]
        for (request, code) in cases {
            harness.receive(.setCustomMiningJob(request))
            #expect(Self.answer(harness.take()) == .refused(code), "\(code)")
        }
        // A declared-job token commits to the tip and the merkle path.
        let declared = Self.token(.declaredJob, commitment: MiningJobToken.declaredJobCommitment(
            previousBlockHash: prevHash(jobID: 1).prevHash, merklePath: [U256(5)], outputs: Self.payingPool))
        harness.receive(.setCustomMiningJob(Self.request(channelID: channel.channelID, token: declared)))
        guard case .job? = Self.answer(harness.take()) else { Issue.record("declared-job token refused"); return }
        harness.receive(.setCustomMiningJob(Self.request(channelID: channel.channelID, token: declared)))
        #expect(Self.answer(harness.take()) == .refused("invalid-mining-job-token"), "a token is good for one job")
        let otherOutputs = Self.token(.declaredJob, commitment: MiningJobToken.declaredJobCommitment(
            previousBlockHash: prevHash(jobID: 1).prevHash, merklePath: [U256(5)], outputs: Self.payingPool))
        let changedOutputs: [UInt8] = [2] + TransactionOutput(value: 5_000_000_000, scriptPubKey: rewardScript).serialized
            + TransactionOutput(value: 0, scriptPubKey: [0x6a]).serialized
        harness.receive(.setCustomMiningJob(Self.request(channelID: channel.channelID, token: otherOutputs, outputs: changedOutputs)))
        #expect(Self.answer(harness.take()) == .refused("invalid-mining-job-token"), "outputs other than those declared")

        var unflagged = try Harness(jobTokenKey: Self.key)
        try unflagged.newJob(1, future: true)
        try unflagged.newTip(1)
        let plainChannel = try #require(openExtended(&unflagged))
        _ = unflagged.take()
        unflagged.receive(.setCustomMiningJob(Self.request(channelID: plainChannel.channelID, token: Self.token())))
        #expect(Self.answer(unflagged.take()) == .refused("work-selection-not-negotiated"))

        var plain = try Harness()
        try plain.newJob(1, future: true)
        try plain.newTip(1)
        let other = try #require(openExtended(&plain))
        _ = plain.take()
        plain.receive(.setCustomMiningJob(Self.request(channelID: other.channelID, token: Self.token())))
        #expect(Self.answer(plain.take()) == .refused("custom-jobs-unsupported"))
    }
}
