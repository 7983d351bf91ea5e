import Foundation
import NIOConcurrencyHelpers
import Sv2Binary
import Sv2Channels
import Sv2Messages
import Sv2Sessions
import Testing

@testable import Sv2Probe

/// The probe's sans-IO parts: reports, the view of a server's channels, share search and grading, the runner over
/// a scripted peer, and the grading of clients.
@Suite("sv2 probe: reports, views, share grading, the runner and client grading")
struct ProbeTests {
    @Test("reports: one line per check, the summary, JSON, and the verdict")
    func reports() throws {
        var report = ProbeReport(subject: "pool", results: [
            ProbeResult(name: "a", section: "3.6", verdict: .pass("fine")),
            ProbeResult(name: "longer", section: "5.3", verdict: .warn("odd")),
            ProbeResult(name: "c", section: "4.5", verdict: .skip("n/a")),
        ])
        #expect(report.passed)
        #expect(report.lines == [
            "PASS  a       fine [spec 3.6]", "WARN  longer  odd [spec 5.3]", "SKIP  c       n/a [spec 4.5]",
            "pool: 1 pass, 0 fail, 1 warn, 1 skip — conforms",
        ])
        report.results.append(ProbeResult(name: "d", section: "5.3.14", verdict: .fail(expected: "x", got: "y")))
        #expect(!report.passed)
        #expect(report.summary.hasSuffix("DOES NOT CONFORM"))
        let json = try #require(report.json.data(using: .utf8))
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(object["passed"] as? Bool == false)
        let checks = try #require(object["checks"] as? [[String: String]])
        #expect(checks.last == ["name": "d", "section": "5.3.14", "verdict": "FAIL", "detail": "expected x; got y"])
    }

    @Test("the catalogue: checks per protocol, --only narrows, unknown names are refused")
    func catalogue() throws {
        let mining = try ProbeCatalogue.checks(for: .mining)
        #expect(mining.first?.name == "noise-handshake")
        #expect(mining.contains { $0.name == "share-stale" } && !mining.contains { $0.name.hasPrefix("td-") })
        #expect(try ProbeCatalogue.checks(for: .templateDistribution).contains { $0.name == "td-template-and-tip" })
        #expect(try ProbeCatalogue.checks(for: .mining, only: ["setup-connection"]).map(\.name) == ["setup-connection"])
        #expect(throws: ProbeCatalogue.UnknownChecks(names: ["nope"])) { try ProbeCatalogue.checks(for: .mining, only: ["nope"]) }
        #expect(Set(ProbeCatalogue.all.map(\.name)).count == ProbeCatalogue.all.count)
    }

    static let coinbasePrefix: [UInt8] = [1, 0, 0, 0, 1] + [UInt8](repeating: 0, count: 32)
    static let coinbaseSuffix: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]

    /// A view with extended channel 5 (prefix aabb, 4 bytes to roll) holding future job 1 made current by a tip.
    static func extendedView(target: U256 = U256(w0: 0, w1: 0, w2: 0, w3: 0x00ff_ffff_ffff_ffff)) -> MiningView {
        var view = MiningView()
        view.observe(.openExtendedMiningChannelSuccess(OpenExtendedMiningChannelSuccess(
            requestID: 1, channelID: 5, target: target, extranonceSize: 4, extranoncePrefix: [0xaa, 0xbb], groupChannelID: 0)))
        view.observe(.newExtendedMiningJob(NewExtendedMiningJob(
            channelID: 5, jobID: 1, minNtime: nil, version: 0x2000_0000, versionRollingAllowed: true, merklePath: [U256(7)],
            coinbaseTxPrefix: coinbasePrefix, coinbaseTxSuffix: coinbaseSuffix)))
        view.observe(.setNewPrevHash(SetNewPrevHash(channelID: 5, jobID: 1, prevHash: U256(42), minNtime: 1_700_000_000, nbits: 0x1d00_ffff)))
        return view
    }

    @Test("the view: jobs for channels and groups, the tip's work, stale jobs kept as they were, targets")
    func view() throws {
        var view = Self.extendedView()
        let channel = try #require(view.channels[5])
        let work = try #require(channel.activeWork)
        let template = CoinbaseTemplate(prefix: Self.coinbasePrefix + [0xaa, 0xbb], extranonceSize: 4, suffix: Self.coinbaseSuffix, merklePath: [U256(7)])
        #expect(work.merkleRoot == .coinbase(template))
        #expect(work.time == 1_700_000_000 && work.previousBlockHash == U256(42) && work.versionRollingMask == MiningWork.bip320VersionMask)
        view.observe(.setTarget(SetTarget(channelID: 5, maximumTarget: U256(99))))
        #expect(view.channels[5]?.target == U256(99))
        view.observe(.newExtendedMiningJob(NewExtendedMiningJob(
            channelID: 5, jobID: 2, minNtime: nil, version: 0x2000_0000, versionRollingAllowed: false, merklePath: [],
            coinbaseTxPrefix: Self.coinbasePrefix, coinbaseTxSuffix: Self.coinbaseSuffix)))
        view.observe(.setNewPrevHash(SetNewPrevHash(channelID: 5, jobID: 2, prevHash: U256(43), minNtime: 1_700_000_100, nbits: 0x1d00_ffff)))
        let now = try #require(view.channels[5])
        #expect(now.activeJobID == 2 && now.jobs.keys.sorted() == [2] && now.tipChanges == 2)
        #expect(now.staleWork[1]?.previousBlockHash == U256(42))
        #expect(now.activeWork?.versionRollingMask == 0)

        // Standard channels in group 9 get the group's extended job with their prefix as the whole extranonce.
        var grouped = MiningView()
        grouped.observe(.openStandardMiningChannelSuccess(OpenStandardMiningChannelSuccess(
            requestID: 1, channelID: 3, target: .max, extranoncePrefix: [1, 2, 3, 4], groupChannelID: 9)))
        grouped.observe(.newExtendedMiningJob(NewExtendedMiningJob(
            channelID: 9, jobID: 4, minNtime: nil, version: 0x2000_0000, versionRollingAllowed: true, merklePath: [],
            coinbaseTxPrefix: Self.coinbasePrefix, coinbaseTxSuffix: Self.coinbaseSuffix)))
        grouped.observe(.setNewPrevHash(SetNewPrevHash(channelID: 9, jobID: 4, prevHash: U256(1), minNtime: 5, nbits: 0x1d00_ffff)))
        let root = CoinbaseTemplate(prefix: Self.coinbasePrefix, extranonceSize: 4, suffix: Self.coinbaseSuffix, merklePath: []).merkleRoot(extranonce: [1, 2, 3, 4])
        #expect(grouped.channels[3]?.activeWork?.merkleRoot == .fixed(root))
    }

    @Test("share search: a nonce meeting the target, and one missing it and the network target")
    func search() throws {
        let work = try #require(Self.extendedView().channels[5]?.activeWork)
        let target = work.target
        let extranonce: [UInt8] = [0, 0, 0, 1]
        let root = try #require(work.merkleRoot.root(extranonce: extranonce))
        let hit = try #require(ShareSearch.nonce(work, target: target, time: work.time, version: work.version, extranonce: extranonce, budget: 100_000))
        #expect(ShareHash.header(version: work.version, previousBlockHash: work.previousBlockHash, merkleRoot: root, time: work.time, bits: work.bits, nonce: hit) <= target)
        let miss = try #require(ShareSearch.nonce(work, target: target, meets: false, time: work.time, version: work.version, extranonce: extranonce, budget: 100))
        #expect(ShareHash.header(version: work.version, previousBlockHash: work.previousBlockHash, merkleRoot: root, time: work.time, bits: work.bits, nonce: miss) > target)
        #expect(ShareSearch.nonce(work, target: .zero, time: work.time, version: work.version, extranonce: extranonce, budget: 1000) == nil)
        #expect(ShareSearch.nonce(work, target: target, time: work.time, version: work.version, extranonce: [1], budget: 1000) == nil)
    }

    @Test("refusals: the code for the condition passes, another known code fails, an unknown one warns, echoes are checked")
    func refusals() {
        func grade(_ answer: Awaited<ShareAnswer>, accepted: Bool = false) -> ProbeVerdict {
            gradeRefusal(answer, sequence: 4, channelID: 2, codes: ["difficulty-too-low"], condition: "a hash above the target", within: 5, acceptedIsWarning: accepted)
        }
        func error(_ code: Sv2String, sequence: UInt32 = 4, channel: UInt32 = 2) -> Awaited<ShareAnswer> {
            .got(.refused(SubmitSharesError(channelID: channel, sequenceNumber: sequence, errorCode: code)))
        }
        #expect(grade(error("difficulty-too-low")).word == "PASS")
        #expect(grade(error("stale-share")) == .fail(expected: "SubmitShares.Error difficulty-too-low for a hash above the target", got: "SubmitShares.Error stale-share"))
        #expect(grade(error("low-diff")).word == "WARN")
        #expect(grade(error("difficulty-too-low", sequence: 0)) == .fail(expected: "sequence_number 4 echoed (5.3.14)", got: "sequence_number 0 (difficulty-too-low)"))
        #expect(grade(error("difficulty-too-low", channel: 7)).isFailure)
        let success = Awaited<ShareAnswer>.got(.accepted(SubmitSharesSuccess(channelID: 2, lastSequenceNumber: 4, newSubmitsAcceptedCount: 1, newSharesSum: 1)))
        #expect(grade(success).isFailure)
        #expect(grade(success, accepted: true).word == "WARN")
        #expect(grade(.timeout) == .fail(expected: "SubmitShares.Error difficulty-too-low for a hash above the target", got: "nothing within 5 s"))
        #expect(grade(.closed("bye")).detail.contains("the connection closed (bye)"))
    }

    @Test("the runner over a scripted server: answers graded, and everything skipped after a failed handshake")
    func runner() async throws {
        let refusing = ScriptedDialer { message in
            guard case let .setupConnection(setup) = message else { return [] }
            return setup.minVersion <= 2 && setup.maxVersion >= 2
                ? [.setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: 0))]
                : [.setupConnectionError(SetupConnectionError(flags: 0, errorCode: "version-mismatch"))]
        }
        let context = ProbeContext(dialer: refusing, answerTimeout: 0.5, silence: 0.2, now: { 1_700_000_000 })
        let checks = try ProbeCatalogue.checks(for: .mining, only: ["setup-connection", "setup-version-range", "setup-version-mismatch"])
        let report = await ProbeCatalogue.run(checks, protocol: .mining, context: context, subject: "scripted")
        #expect(report.results.map(\.verdict.word) == ["PASS", "PASS", "WARN"])
        #expect(report.results[2].verdict.detail.contains("version-mismatch (conventional: protocol-version-mismatch"))

        let unreachable = ProbeContext(dialer: ScriptedDialer(failure: "Noise: certificate is not signed by the configured authority public key") { _ in [] }, now: { 0 })
        let failed = await ProbeCatalogue.run(try ProbeCatalogue.checks(for: .mining, only: ["noise-handshake", "setup-connection"]), protocol: .mining, context: unreachable, subject: "x")
        #expect(failed.results.map(\.verdict.word) == ["FAIL", "SKIP"])
        #expect(failed.results[0].verdict.detail.contains("not signed by the configured authority"))
    }

    @Test("client grading: a conforming client passes; repeated sequence numbers, version bits, ntime, late stale shares and ignoring Reconnect fail")
    func grading() throws {
        let clock = ManualClock()
        let reports = NIOLockedValueBox([ProbeReport]())
        var grader = ClientGrader(clock: clock.clock, settings: .init(reconnectAfter: 10)) { report in reports.withLockedValue { $0.append(report) } }
        var setup = SetupConnection()
        setup.minVersion = 2
        setup.maxVersion = 2
        setup.vendor = "acme"
        setup.hardwareVersion = "s9"
        grader.received(Sv2TaggedMessage(.setupConnection(setup)))
        grader.acted([.send(.setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: 0)))])
        grader.received(Sv2TaggedMessage(.openStandardMiningChannel(OpenStandardMiningChannel(requestID: 1, userIdentity: "u", nominalHashRate: 100, maxTarget: .max))))
        grader.acted([
            .send(.openStandardMiningChannelSuccess(OpenStandardMiningChannelSuccess(requestID: 1, channelID: 1, target: .max, extranoncePrefix: [1], groupChannelID: 0))),
            .send(.newMiningJob(NewMiningJob(channelID: 1, jobID: 1, minNtime: nil, version: 0x2000_0000, merkleRoot: .zero))),
            .send(.setNewPrevHash(SetNewPrevHash(channelID: 1, jobID: 1, prevHash: .zero, minNtime: 1000, nbits: 0))),
        ])
        func share(_ sequence: UInt32, job: UInt32 = 1, ntime: UInt32 = 1000, version: UInt32 = 0x2000_2000) -> Sv2TaggedMessage {
            Sv2TaggedMessage(.submitSharesStandard(SubmitSharesStandard(channelID: 1, sequenceNumber: sequence, jobID: job, nonce: 0, ntime: ntime, version: version)))
        }
        grader.received(share(1))
        grader.acted([.send(.submitSharesSuccess(SubmitSharesSuccess(channelID: 1, lastSequenceNumber: 1, newSubmitsAcceptedCount: 1, newSharesSum: 1)))])
        let clean = grader.grade(peer: "p", now: clock.now)
        #expect(!clean.results.contains { $0.verdict.isFailure || $0.verdict.word == "WARN" }, "\(clean.lines)")

        grader.received(share(1))  // repeated
        grader.received(share(2, version: 0x2000_0001))  // a bit outside the mask
        grader.received(share(3, ntime: 5000))  // far past min_ntime
        grader.acted([
            .send(.newMiningJob(NewMiningJob(channelID: 1, jobID: 2, minNtime: nil, version: 0x2000_0000, merkleRoot: .zero))),
            .send(.setNewPrevHash(SetNewPrevHash(channelID: 1, jobID: 2, prevHash: U256(1), minNtime: 1001, nbits: 0))),
        ])
        clock.advance(seconds: 2)
        grader.received(share(4, job: 1, ntime: 1001))  // a job of the earlier tip, 2 s later
        #expect(grader.tick().isEmpty)
        clock.advance(seconds: 9)
        let reconnect = grader.tick()
        #expect(reconnect == [.send(.reconnect(Reconnect(newHost: "", newPort: 0)))])
        grader.acted(reconnect)
        clock.advance(seconds: 1)
        grader.received(share(5, job: 2, ntime: 1001))  // still here
        grader.received(Sv2TaggedMessage(.updateChannel(UpdateChannel(channelID: 8, nominalHashRate: 1, maximumTarget: .max))))
        grader.acted([.send(.updateChannelError(UpdateChannelError(channelID: 8, errorCode: "invalid-channel-id")))])
        #expect(grader.grade(peer: "p", now: clock.now).results.first { $0.name == "honours-reconnect" }?.verdict.word == "WARN")
        clock.advance(seconds: 10)
        let close = grader.tick()
        #expect(close == [.close("the client did not follow Reconnect within 10 s")])
        grader.acted(close)
        grader.finished(peer: "127.0.0.1:1")
        let report = try #require(reports.withLockedValue { $0.first })
        let failed = report.results.filter(\.verdict.isFailure).map(\.name)
        #expect(failed == ["share-sequence", "share-version-bits", "share-ntime", "honours-prevhash", "update-channel", "honours-reconnect"], "\(report.lines)")
        #expect(report.subject == "client 127.0.0.1:1 (acme )")
    }
}

/// A clock the test moves.
final class ManualClock: Sendable {
    private let time = NIOLockedValueBox(Timestamp(seconds: 1000))

    /// The current time.
    var now: Timestamp { time.withLockedValue { $0 } }
    /// A clock reading this one.
    var clock: Sv2Clock { Sv2Clock { self.now } }

    /// Moves the time on.
    func advance(seconds: Double) {
        time.withLockedValue { $0 = Timestamp(nanoseconds: $0.nanoseconds + Int64(seconds * 1e9)) }
    }
}

/// Connections to a scripted server: each message sent gets the answers `script` gives; with `failure`, opening
/// fails with that description.
struct ScriptedDialer: ProbeDialer {
    var failure: String?
    var script: @Sendable (Sv2Message) -> [Sv2Message]

    init(failure: String? = nil, script: @escaping @Sendable (Sv2Message) -> [Sv2Message]) {
        self.failure = failure
        self.script = script
    }

    var isPlaintext: Bool { false }
    var endpoint: (host: String, port: Int) { ("scripted", 1) }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func open() async throws -> (peer: any ProbePeer, handshake: ProbeHandshake) {
        if let failure { throw Failure(description: failure) }
        return (ScriptedPeer(script: script), ProbeHandshake(validFrom: 0, notValidAfter: 1, authorityChecked: true))
    }

    func sendRaw(_ bytes: [UInt8], closedWithin seconds: Double) async throws -> (closed: Bool, received: Int) {
        (true, 0)
    }
}

/// A peer that answers from a script; after the script answers nothing the probe's wait times out.
final class ScriptedPeer: ProbePeer {
    private let script: @Sendable (Sv2Message) -> [Sv2Message]
    private let inbox = ProbeInbox()

    init(script: @escaping @Sendable (Sv2Message) -> [Sv2Message]) {
        self.script = script
    }

    func send(_ message: Sv2Message, tlvs: [Sv2TLV]) async throws {
        for answer in script(message) {
            inbox.push(.message(Sv2DecodedFrame(header: answer.header(payloadLength: 0), message: answer, tlvs: [])))
        }
    }

    func send(frame: Sv2Frame) async throws {}

    func next(within seconds: Double) async -> ProbeEvent {
        await inbox.next(within: seconds)
    }

    func close() async {
        inbox.push(.closed(nil))
    }
}
