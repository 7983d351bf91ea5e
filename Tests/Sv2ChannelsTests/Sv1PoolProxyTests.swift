import Bitcoin
import Sv2Binary
import Sv2Messages
import Sv2Sessions
import Testing
@testable import Sv2Channels

/// The proxy with devices named by strings, its outputs sorted by kind.
private struct Harness {
    var proxy = Sv1PoolProxy<String>(sharesPerMinute: 6, defaultUser: "anonymous")
    var devices = [String: [Sv2Message]]()
    var connects = [String]()
    var disconnects = [String]()
    var submits = [(user: String, share: FoundShare, tag: Sv1PoolProxy<String>.ShareTag)]()

    mutating func record(_ outputs: [Sv1PoolProxy<String>.Output]) {
        for output in outputs {
            switch output {
            case let .device(device, message): devices[device, default: []].append(message)
            case let .connect(user, _): connects.append(user)
            case let .disconnect(user): disconnects.append(user)
            case let .submit(user, share, tag): submits.append((user, share, tag))
            case .log: break
            }
        }
    }

    mutating func device(_ device: String, _ message: Sv2Message) { record(proxy.fromDevice(device, message)) }

    mutating func take(_ device: String) -> [Sv2Message] {
        defer { devices[device] = nil }
        return devices[device] ?? []
    }

    mutating func open(_ device: String, user: Sv2String, requestID: UInt32 = 1) {
        self.device(device, .openStandardMiningChannel(OpenStandardMiningChannel(requestID: requestID, userIdentity: user, nominalHashRate: 1e9, maxTarget: .max)))
    }

    mutating func share(_ device: String, channel: UInt32 = 1, sequence: UInt32, job: UInt32, nonce: UInt32 = 1, ntime: UInt32 = 1_700_000_000) {
        self.device(device, .submitSharesStandard(SubmitSharesStandard(
            channelID: channel, sequenceNumber: sequence, jobID: job, nonce: nonce, ntime: ntime, version: 0x2000_0000)))
    }
}

private func errorCodes(_ messages: [Sv2Message]) -> [String] {
    messages.compactMap { if case let .submitSharesError(error) = $0 { return error.errorCode.description } else { return nil } }
}

private let coinbase1: [UInt8] = [0x01, 0, 0, 0, 0x01] + [UInt8](repeating: 0, count: 32) + [0xff, 0xff, 0xff, 0xff, 0x10, 0x03, 0x01, 0x02]
    + [0xe1, 0xe2, 0xe3, 0xe4]  // extranonce1
private let coinbase2: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0x01] + [UInt8](repeating: 0, count: 8) + [0x01, 0x51, 0, 0, 0, 0]
private let branch = [U256(w0: 5, w1: 6, w2: 7, w3: 8)]

/// Work as the Sv1 session makes it from mining.notify: coinb1 + extranonce1, a 4-byte extranonce2, coinb2.
private func work(id: UInt64, prevHash: U256 = U256(9), target: U256 = .max, time: UInt32 = 1_700_000_000) -> MiningWork {
    MiningWork(
        id: id, version: 0x2000_0000, versionRollingMask: MiningWork.bip320VersionMask, previousBlockHash: prevHash,
        merkleRoot: .coinbase(CoinbaseTemplate(prefix: coinbase1, extranonceSize: 4, suffix: coinbase2, merklePath: branch)),
        time: time, bits: 0x1d00_ffff, target: target)
}

@Suite("proxy in front of a Stratum V1 pool: one session per user, jobs and answers translated")
struct Sv1PoolProxyTests {
    @Test("one session per user identity; channels of a user share it with their own extranonce2 and merkle root")
    func channelsAndJobs() {
        var harness = Harness()
        harness.open("a", user: "alice")
        harness.open("b", user: "alice", requestID: 7)
        harness.open("c", user: "bob")
        harness.open("d", user: "")
        #expect(harness.connects == ["alice", "bob", "anonymous"])
        #expect(harness.devices.isEmpty, "channels wait for their user's first job")

        harness.record(harness.proxy.work(user: "alice", work(id: 1)))
        for (device, requestID, index) in [("a", UInt32(1), UInt8(0)), ("b", 7, 1)] {
            let extranonce2: [UInt8] = [0, 0, 0, index]
            let root = Merkle.root(coinbase: coinbase1 + extranonce2 + coinbase2, path: branch)
            #expect(harness.take(device) == [
                .openStandardMiningChannelSuccess(OpenStandardMiningChannelSuccess(
                    requestID: requestID, channelID: 1, target: .max, extranoncePrefix: extranonce2, groupChannelID: 0)),
                .newMiningJob(NewMiningJob(channelID: 1, jobID: 1, minNtime: nil, version: 0x2000_0000, merkleRoot: root)),
                .setNewPrevHash(SetNewPrevHash(channelID: 1, jobID: 1, prevHash: U256(9), minNtime: 1_700_000_000, nbits: 0x1d00_ffff)),
            ])
        }
        #expect(harness.take("c").isEmpty, "bob's session has no job yet")

        // More work on the same prevhash: a job usable at once; a harder target: SetTarget; clean_jobs: a new prevhash.
        harness.record(harness.proxy.work(user: "alice", work(id: 2, time: 1_700_000_030)))
        guard case let .newMiningJob(second)? = harness.take("a").first else {
            Issue.record("no second job")
            return
        }
        #expect(second.jobID == 2 && second.minNtime == 1_700_000_030)
        harness.record(harness.proxy.work(user: "alice", work(id: 2, target: U256(1 << 40), time: 1_700_000_030)))
        #expect(harness.take("a") == [.setTarget(SetTarget(channelID: 1, maximumTarget: U256(1 << 40)))])
        harness.proxy.cleaned(user: "alice")
        harness.record(harness.proxy.work(user: "alice", work(id: 3, target: U256(1 << 40))))
        #expect(harness.take("a").contains { if case let .setNewPrevHash(prevHash) = $0 { return prevHash.jobID == 3 } else { return false } })

        // A channel opened once the user has work is answered at once, with the current job.
        harness.open("e", user: "alice")
        #expect(harness.take("e").count == 3)
    }

    @Test("shares become mining.submit; the pool's answers come back as SubmitShares.Success or .Error with the Sv2 code")
    func shares() {
        var harness = Harness()
        harness.open("a", user: "alice")
        harness.record(harness.proxy.work(user: "alice", work(id: 1)))
        _ = harness.take("a")

        harness.share("a", sequence: 1, job: 1)
        guard let submitted = harness.submits.first else {
            Issue.record("no mining.submit")
            return
        }
        #expect(submitted.user == "alice" && submitted.share.workID == 1 && submitted.share.extranonce == [0, 0, 0, 0])
        harness.record(harness.proxy.submitted(user: "alice", tag: submitted.tag, requestID: 11))
        harness.record(harness.proxy.answered(user: "alice", requestID: 11, accepted: true, reason: nil))
        #expect(harness.take("a") == [.submitSharesSuccess(SubmitSharesSuccess(channelID: 1, lastSequenceNumber: 1, newSubmitsAcceptedCount: 1, newSharesSum: 1))])

        let reasons = ["23 Low difficulty share", "21 Job not found", "22 Duplicate share", "24 Unauthorized worker", "Stale share", "20 Other"]
        let codes = ["difficulty-too-low", "stale-share", "duplicate-share", "unauthorized-worker", "stale-share", "invalid-share"]
        for (index, reason) in reasons.enumerated() {
            harness.record(harness.proxy.submitted(user: "alice", tag: submitted.tag, requestID: UInt64(20 + index)))
            harness.record(harness.proxy.answered(user: "alice", requestID: UInt64(20 + index), accepted: false, reason: reason))
        }
        #expect(errorCodes(harness.take("a")) == codes)

        harness.share("a", sequence: 2, job: 99)
        harness.share("a", channel: 5, sequence: 3, job: 1)
        harness.record(harness.proxy.submitted(user: "alice", tag: submitted.tag, requestID: nil))
        #expect(errorCodes(harness.take("a"))
            == ["invalid-job-id", "invalid-channel-id", "stale-share"])

        harness.record(harness.proxy.work(user: "alice", work(id: 2, prevHash: U256(10), target: .zero)))
        _ = harness.take("a")
        harness.share("a", sequence: 4, job: 1)
        harness.share("a", sequence: 5, job: 2)
        #expect(errorCodes(harness.take("a"))
            == ["stale-share", "difficulty-too-low"], "a job of the old prevhash is stale; a hash above the target is refused here")
    }

    @Test("the pool going away: answers owed and new shares get upstream-unavailable; the next connection's first job is clean")
    func upstreamLoss() {
        var harness = Harness()
        harness.open("a", user: "alice")
        harness.record(harness.proxy.work(user: "alice", work(id: 1)))
        _ = harness.take("a")
        harness.share("a", sequence: 1, job: 1)
        harness.record(harness.proxy.submitted(user: "alice", tag: harness.submits[0].tag, requestID: 3))
        harness.record(harness.proxy.upstreamLost(user: "alice"))
        harness.share("a", sequence: 2, job: 1)
        #expect(errorCodes(harness.take("a"))
            == ["upstream-unavailable", "upstream-unavailable"])
        harness.record(harness.proxy.work(user: "alice", work(id: 1)))
        #expect(harness.take("a").contains { if case .setNewPrevHash = $0 { return true } else { return false } }, "same prevhash, but clean")
    }

    @Test("the last channel of a user ends its session; a refused user's channels close")
    func lifecycle() {
        var harness = Harness()
        harness.open("a", user: "alice")
        harness.open("b", user: "alice")
        harness.record(harness.proxy.deviceGone("a"))
        #expect(harness.disconnects.isEmpty)
        harness.device("b", .closeChannel(CloseChannel(channelID: 1, reasonCode: "bye")))
        #expect(harness.disconnects == ["alice"])

        harness.open("c", user: "mallory", requestID: 4)
        harness.record(harness.proxy.refused(user: "mallory", reason: "unknown worker"))
        #expect(harness.take("c") == [.openMiningChannelError(OpenMiningChannelError(requestID: 4, errorCode: "unknown-user"))])
        #expect(harness.disconnects == ["alice", "mallory"])
        harness.device("c", .openExtendedMiningChannel(OpenExtendedMiningChannel(requestID: 5, userIdentity: "x", nominalHashRate: 1, maxTarget: .max, minExtranonceSize: 4)))
        #expect(harness.take("c") == [.openMiningChannelError(OpenMiningChannelError(requestID: 5, errorCode: "extended-channels-unsupported"))])
    }

    @Test("extranonce2 of a channel: its index big-endian in the pool's size; none when it does not fit")
    func extranonce2() {
        #expect(Sv1PoolProxy<String>.extranonce2(1, size: 4) == [0, 0, 0, 1])
        #expect(Sv1PoolProxy<String>.extranonce2(0x0102, size: 2) == [1, 2])
        #expect(Sv1PoolProxy<String>.extranonce2(256, size: 1) == nil)
        #expect(Sv1PoolProxy<String>.extranonce2(0, size: 0) == [])
        #expect(Sv1PoolProxy<String>.extranonce2(1, size: 0) == nil)
        #expect(Sv1PoolProxy<String>.extranonce2(7, size: 10) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 7])
    }

    @Test("a device may have only so many channels (each may be a session upstream)")
    func channelLimit() {
        var harness = Harness()
        harness.proxy = Sv1PoolProxy(sharesPerMinute: 6, defaultUser: "anonymous", maximumChannelsPerDevice: 2)
        harness.open("a", user: "u1", requestID: 1)
        harness.open("a", user: "u2", requestID: 2)
        harness.open("a", user: "u3", requestID: 3)
        #expect(harness.connects == ["u1", "u2"])
        #expect(harness.take("a") == [.openMiningChannelError(OpenMiningChannelError(requestID: 3, errorCode: "too-many-channels"))])
        harness.device("a", .closeChannel(CloseChannel(channelID: 1, reasonCode: "")))
        harness.open("a", user: "u3", requestID: 4)
        #expect(harness.connects == ["u1", "u2", "u3"])
    }
}
