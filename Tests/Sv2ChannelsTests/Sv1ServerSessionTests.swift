import Bitcoin
import Sv1
import Sv2Binary
import Sv2Formats
import Testing
@testable import Sv2Channels

/// Builds a session and collects what it sends.
private struct Downstream {
    var session: Sv1ServerSession
    var sent = [Sv1Message]()
    var submitted = [FoundShare]()
    var hashRates = [Double]()

    init(difficulty: Double = 1e-12, pow2: Bool = false) throws {
        let configuration = try #require(Sv1ServerConfiguration(
            extranonce2Size: 4, sharesPerMinute: 6, initialDifficulty: difficulty, minimumDifficulty: 1e-12, maximumDifficulty: 1e12,
            powerOfTwoDifficulty: pow2))
        session = Sv1ServerSession(configuration: configuration, extranonce1: [0, 0, 0, 7], now: 1000)
    }

    mutating func run(_ actions: [Sv1ServerSession.Action]) {
        for action in actions {
            switch action {
            case let .send(message): sent.append(message)
            case let .effect(.notify(job)): sent.append(.notification(method: Sv1Method.notify, params: job.notify.params))
            case let .effect(.submit(share, _)): submitted.append(share)
            case let .effect(.hashRate(rate)): hashRates.append(rate)
            case .log, .close: break
            }
        }
    }

    mutating func request(_ id: Int, _ method: String, _ params: [JSONValue]) {
        run(session.receive(.request(id: .number(String(id)), method: method, params: params), now: 1000))
    }

    mutating func take() -> [Sv1Message] {
        defer { sent.removeAll() }
        return sent
    }

    /// The error code of the response to `id`, or nil when it succeeded.
    func errorCode(_ id: Int) -> Int? {
        for case let .response(.number(text), _, error) in sent where text == String(id) {
            if case let .array(parts) = error, case let .number(code)? = parts.first { return Int(code) }
            return nil
        }
        return -1
    }
}

/// Upstream work with 26 bytes of extranonce to share out, like `sv2 pool` gives an extended channel.
private func work(
    id: UInt64 = 1, target: U256 = .max, prevHash: U256 = U256(w0: 5, w1: 6, w2: 7, w3: 8), bits: UInt32 = 0x1d00_ffff
) -> MiningWork {
    MiningWork(
        id: id, version: 0x2000_0000, versionRollingMask: MiningWork.bip320VersionMask, previousBlockHash: prevHash,
        merkleRoot: .coinbase(CoinbaseTemplate(prefix: [2, 0, 0, 0, 1] + [UInt8](repeating: 0xaa, count: 40), extranonceSize: 26,
                                               suffix: [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0], merklePath: [U256(w0: 1, w1: 2, w2: 3, w3: 4)])),
        time: 1_700_000_000, bits: bits, target: target)
}

@Suite("translator: Sv1 server session and the Sv1 view of upstream work")
struct Sv1ServerSessionTests {
    @Test("job layout: coinbase1 ends with zero padding, and the Sv1 header equals the upstream work's header")
    func jobLayout() throws {
        let job = try #require(TranslatorJob(work: work(), jobID: "1f", cleanJobs: true, extranonce1Size: 4, extranonce2Size: 4))
        #expect(job.padding == 18)
        #expect(job.notify.coinbase1.suffix(18) == ArraySlice(repeating: 0, count: 18))
        let extranonce1: [UInt8] = [0, 0, 0, 7]
        let extranonce2: [UInt8] = [9, 8, 7, 6]
        // What an Sv1 miner hashes: coinb1 || ex1 || ex2 || coinb2 folded over the branch.
        let coinbase = job.notify.coinbase1 + extranonce1 + extranonce2 + job.notify.coinbase2
        let root = Merkle.root(coinbase: coinbase, path: job.notify.merkleBranch)
        let share = FoundShare(workID: 1, nonce: 42, time: 1_700_000_005, version: 0x2000_0000,
                               extranonce: [UInt8](repeating: 0, count: 18) + extranonce1 + extranonce2)
        #expect(job.work.header(for: share)?.merkleRoot == root)
        #expect(TranslatorJob(work: work(), jobID: "x", cleanJobs: true, extranonce1Size: 20, extranonce2Size: 8) == nil)
    }

    @Test("the notify line is encoded once per job: newJob hands back the job itself, a starting miner gets it cleaned")
    func encodedOnce() throws {
        let job = try #require(TranslatorJob(work: work(), jobID: "2a", cleanJobs: false, extranonce1Size: 4, extranonce2Size: 4))
        #expect(job.notifyLine == Sv1Codec.encode(.notification(method: Sv1Method.notify, params: job.notify.params)))
        #expect(job.notifyLine.last == UInt8(ascii: "\n"))
        let cleaned = job.cleaned
        #expect(cleaned.notify.cleanJobs && cleaned.work == job.work && cleaned.padding == job.padding)
        #expect(cleaned.notifyLine == Sv1Codec.encode(.notification(method: Sv1Method.notify, params: cleaned.notify.params)))
        #expect(cleaned.cleaned == cleaned)
        var miner = try Downstream()
        miner.request(1, Sv1Method.subscribe, [])
        miner.request(2, Sv1Method.authorize, [.string("w"), .string("x")])
        #expect(miner.session.newJob(job, now: 1000) == [.effect(.notify(job))])
        let next = try #require(TranslatorJob(work: work(id: 2), jobID: "2b", cleanJobs: false, extranonce1Size: 4, extranonce2Size: 4))
        var late = try Downstream()
        _ = late.session.newJob(next, now: 1000)
        late.request(1, Sv1Method.subscribe, [])
        #expect(late.session.receive(.request(id: .number("2"), method: Sv1Method.authorize, params: [.string("w")]), now: 1000).contains(.effect(.notify(next.cleaned))))
    }

    @Test("the miner's hash rate goes upstream when it starts mining and whenever its difficulty changes (spec 5.3.9)")
    func hashRateEffects() throws {
        var miner = try Downstream(difficulty: 1)
        #expect(miner.session.hashRate == 0)
        miner.request(1, Sv1Method.subscribe, [])
        #expect(miner.hashRates.isEmpty)
        miner.request(2, Sv1Method.authorize, [.string("w")])
        // Difficulty 1 at 6 shares a minute: 2^32 hashes per share every 10 s.
        let rate = try #require(miner.hashRates.last)
        #expect(miner.hashRates.count == 1 && abs(rate / (4_294_967_296.0 / 10) - 1) < 0.01)
        #expect(miner.session.hashRate == rate)
        miner.request(3, Sv1Method.suggestDifficulty, [.number("1000")])
        #expect(miner.hashRates.count == 2 && abs(miner.hashRates[1] / rate / 1000 - 1) < 0.01)
        // The same difficulty again: no change, nothing sent.
        miner.request(4, Sv1Method.suggestDifficulty, [.number("1000")])
        #expect(miner.hashRates.count == 2)
    }

    @Test("configure, subscribe, authorize: mask intersected with BIP320, extranonce1 and size, then difficulty and a clean job")
    func handshake() throws {
        var miner = try Downstream()
        miner.run(miner.session.newJob(try #require(TranslatorJob(work: work(), jobID: "1", cleanJobs: false, extranonce1Size: 4, extranonce2Size: 4)), now: 1000))
        miner.request(1, Sv1Method.configure, [.array([.string("version-rolling"), .string("minimum-difficulty"), .string("subscribe-extranonce")]),
                                               .object([("version-rolling.mask", .string("ffffffff"))])])
        guard case let .response(_, .object(result), _)? = miner.take().first else { Issue.record("no configure result"); return }
        #expect(result.contains { $0.0 == "version-rolling.mask" && $0.1 == .string("1fffe000") })
        #expect(result.contains { $0.0 == "subscribe-extranonce" && $0.1 == .bool(false) })
        miner.request(2, Sv1Method.subscribe, [.string("cgminer/4.11")])
        guard case let .response(_, .array(subscribe), _)? = miner.take().first else { Issue.record("no subscribe result"); return }
        #expect(subscribe.count == 3 && subscribe[1] == .string("00000007") && subscribe[2] == .number("4"))
        miner.request(3, Sv1Method.authorize, [.string("worker.1"), .string("x")])
        let messages = miner.take()
        #expect(messages.count == 3)
        guard messages.count == 3, case let .notification(method, params) = messages[2] else { return }
        #expect(method == Sv1Method.notify && Sv1Job(params: params)?.cleanJobs == true)
        #expect(miner.session.userName == "worker.1")
    }

    @Test("submit: accepted and forwarded, duplicate, stale job, low difficulty, malformed, not subscribed, unknown method")
    func submits() throws {
        var miner = try Downstream()
        miner.request(1, Sv1Method.submit, [.string("w"), .string("1"), .string("00000000"), .string("6553f100"), .string("00000001")])
        #expect(miner.errorCode(1) == 25)
        miner.request(2, Sv1Method.configure, [.array([.string("version-rolling")]), .object([("version-rolling.mask", .string("00ffe000"))])])
        miner.request(3, Sv1Method.subscribe, [])
        miner.request(4, Sv1Method.authorize, [.string("w"), .string("x")])
        miner.run(miner.session.newJob(try #require(TranslatorJob(work: work(), jobID: "a", cleanJobs: true, extranonce1Size: 4, extranonce2Size: 4)), now: 1000))
        func share(_ id: Int, job: String = "a", nonce: String = "00000001", bits: String? = nil, extranonce2: String = "01020304") {
            var params: [JSONValue] = [.string("w"), .string(job), .string(extranonce2), .string("6553f100"), .string(nonce)]
            if let bits { params.append(.string(bits)) }
            miner.request(id, Sv1Method.submit, params)
        }
        share(5, bits: "1fffe000")
        #expect(miner.errorCode(5) == nil)
        #expect(miner.submitted.count == 1)
        // Only the negotiated mask (BIP320 ∩ 0x00ffe000) rolls.
        let rolled = miner.submitted.first?.version ?? 0
        #expect(rolled == UInt32(0x20ff_e000))
        #expect(miner.submitted.first?.extranonce == [UInt8](repeating: 0, count: 18) + [0, 0, 0, 7, 1, 2, 3, 4])
        share(6, bits: "1fffe000")
        #expect(miner.errorCode(6) == 22)
        share(7, job: "zz")
        #expect(miner.errorCode(7) == 21)
        share(8, extranonce2: "0102")
        #expect(miner.errorCode(8) == 20)
        miner.request(9, "mining.get_transactions", [])
        #expect(miner.errorCode(9) == 20)
        // A clean job makes job "a" unknown.
        miner.run(miner.session.newJob(try #require(TranslatorJob(
            work: work(id: 2, prevHash: U256(9)), jobID: "b", cleanJobs: true, extranonce1Size: 4, extranonce2Size: 4)), now: 1000))
        share(10, nonce: "00000002")
        #expect(miner.errorCode(10) == 21)
        // A difficulty no hash meets (from the next job on): low difficulty, nothing forwarded.
        miner.request(11, Sv1Method.suggestDifficulty, [.number("1e12")])
        miner.run(miner.session.newJob(try #require(TranslatorJob(
            work: work(id: 3, prevHash: U256(9)), jobID: "c", cleanJobs: false, extranonce1Size: 4, extranonce2Size: 4)), now: 1000))
        share(12, job: "c", nonce: "00000003")
        #expect(miner.errorCode(12) == 23)
        #expect(miner.submitted.count == 1)
        #expect(miner.session.accepted == 1)
    }

    @Test("regtest: the difficulty eases to the network's before the job; while the upstream is away shares get 'Pool unreachable'")
    func networkCapAndOutage() throws {
        var miner = try Downstream(difficulty: 1)
        miner.request(1, Sv1Method.subscribe, [])
        miner.request(2, Sv1Method.authorize, [.string("w"), .string("x")])
        _ = miner.take()
        let regtest = work(target: U256(1), bits: 0x207f_ffff)
        miner.run(miner.session.newJob(try #require(TranslatorJob(work: regtest, jobID: "a", cleanJobs: true, extranonce1Size: 4, extranonce2Size: 4)), now: 1000))
        let sent = miner.take()
        guard case let .notification(Sv1Method.setDifficulty, params)? = sent.first, case .notification(Sv1Method.notify, _)? = sent.last else {
            Issue.record("expected set_difficulty then notify, got \(sent)")
            return
        }
        let eased = try #require(params.first.flatMap { if case let .number(text) = $0 { return Double(text) } else { return nil } })
        #expect(abs(eased / MiningTarget.difficulty(target: regtest.networkTarget) - 1) < 1e-9, "set_difficulty \(eased)")
        func submitAll(from first: Int) -> [Int?] {
            (first..<(first + 16)).map { nonce in
                miner.request(nonce, Sv1Method.submit, [.string("w"), .string("a"), .string("00000000"), .string("6553f100"),
                                                        .string(String(format: "%08x", nonce))])
                return miner.errorCode(nonce)
            }
        }
        // Half of all regtest hashes are blocks: forwarded although far above the upstream target of 1.
        let online = submitAll(from: 10)
        #expect(online.contains { $0 == nil } && online.allSatisfy { $0 == nil || $0 == 23 })
        #expect(miner.submitted.count == online.filter { $0 == nil }.count)
        _ = miner.session.upstream(available: false)
        let away = submitAll(from: 100)
        #expect(away.contains(20) && away.allSatisfy { $0 == 20 || $0 == 23 }, "\(away)")
        _ = miner.session.upstream(available: true)
        #expect(submitAll(from: 200).contains { $0 == nil })
    }

    @Test("shares below the upstream target are acknowledged but not forwarded")
    func localOnly() throws {
        var miner = try Downstream()
        miner.request(1, Sv1Method.subscribe, [])
        miner.request(2, Sv1Method.authorize, [.string("w"), .string("x")])
        miner.run(miner.session.newJob(try #require(TranslatorJob(work: work(target: U256(1)), jobID: "a", cleanJobs: true, extranonce1Size: 4, extranonce2Size: 4)), now: 1000))
        miner.request(3, Sv1Method.submit, [.string("w"), .string("a"), .string("00000000"), .string("6553f100"), .string("00000001")])
        #expect(miner.errorCode(3) == nil)
        #expect(miner.submitted.isEmpty)
    }

    @Test("suggest_difficulty is clamped and rounded to a power of two when configured")
    func difficulty() throws {
        var miner = try Downstream(difficulty: 1, pow2: true)
        miner.request(1, Sv1Method.subscribe, [])
        miner.request(2, Sv1Method.authorize, [.string("w"), .string("x")])
        _ = miner.take()
        miner.request(3, Sv1Method.suggestDifficulty, [.number("1000")])
        #expect(miner.take().contains(.notification(method: Sv1Method.setDifficulty, params: [.number("512")])))
        miner.request(4, Sv1Method.suggestDifficulty, [.number("1e20")])
        #expect(miner.take().contains { if case let .notification(_, params) = $0 { return params.first == .number(String(Int64(1) << 39)) } else { return false } })
    }

    @Test("upstream work that forbids version rolling: mining.set_version_mask 00000000, and rolled bits are ignored")
    func versionMaskFollowsUpstream() throws {
        var miner = try Downstream()
        miner.request(1, Sv1Method.configure, [.array([.string("version-rolling")]), .object([("version-rolling.mask", .string("1fffe000"))])])
        miner.request(2, Sv1Method.subscribe, [])
        miner.request(3, Sv1Method.authorize, [.string("w"), .string("x")])
        var fixed = work()
        fixed.versionRollingMask = 0
        _ = miner.take()
        miner.run(miner.session.newJob(try #require(TranslatorJob(work: fixed, jobID: "f", cleanJobs: true, extranonce1Size: 4, extranonce2Size: 4)), now: 1000))
        #expect(miner.take().first == .notification(method: Sv1Method.setVersionMask, params: [.string("00000000")]))
        miner.request(4, Sv1Method.submit, [.string("w"), .string("f"), .string("00000000"), .string("6553f100"), .string("00000001"), .string("1fffe000")])
        #expect(miner.errorCode(4) == nil)
        #expect(miner.submitted.first?.version == 0x2000_0000)
        _ = miner.take()
        // The next job allows rolling again: the negotiated mask is announced back.
        miner.run(miner.session.newJob(try #require(TranslatorJob(work: work(id: 2), jobID: "g", cleanJobs: false, extranonce1Size: 4, extranonce2Size: 4)), now: 1000))
        #expect(miner.take().first == .notification(method: Sv1Method.setVersionMask, params: [.string("1fffe000")]))
    }

    @Test("BIP310 minimum-difficulty: the miner's floor holds against suggest_difficulty and vardiff")
    func minimumDifficulty() throws {
        var miner = try Downstream(difficulty: 1)
        miner.request(1, Sv1Method.configure, [.array([.string("minimum-difficulty")]), .object([("minimum-difficulty.value", .number("64"))])])
        miner.request(2, Sv1Method.subscribe, [])
        miner.request(3, Sv1Method.authorize, [.string("w"), .string("x")])
        #expect(miner.take().contains(.notification(method: Sv1Method.setDifficulty, params: [.number("64")])))
        miner.request(4, Sv1Method.suggestDifficulty, [.number("2")])
        #expect(!miner.take().contains { if case .notification(Sv1Method.setDifficulty, _) = $0 { return true } else { return false } })
    }

    @Test("a keepalive job re-issues the same work with a later ntime and the same coinbase")
    func keepaliveTime() throws {
        let first = try #require(TranslatorJob(work: work(), jobID: "1", cleanJobs: true, extranonce1Size: 4, extranonce2Size: 4))
        let refreshed = try #require(TranslatorJob(
            work: work(), jobID: "2", cleanJobs: false, extranonce1Size: 4, extranonce2Size: 4, time: 1_700_000_060))
        #expect(refreshed.notify.nTime == 1_700_000_060 && first.notify.nTime == 1_700_000_000)
        #expect(refreshed.notify.coinbase1 == first.notify.coinbase1 && refreshed.notify.coinbase2 == first.notify.coinbase2)
        #expect(!refreshed.notify.cleanJobs)
        // An earlier time never goes below the work's own.
        let earlier = try #require(TranslatorJob(work: work(), jobID: "3", cleanJobs: false, extranonce1Size: 4, extranonce2Size: 4, time: 5))
        #expect(earlier.notify.nTime == 1_700_000_000)
    }
}
