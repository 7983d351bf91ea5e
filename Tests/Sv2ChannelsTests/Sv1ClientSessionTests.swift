import Bitcoin
import Sv1
import Sv2Binary
@testable import Sv2Channels
import Sv2Formats
import Testing

/// The miner's sans-IO Stratum V1 session: scripted exchanges with a pool, lines in and out as on the wire.
@Suite("Sv1 client session")
struct Sv1ClientSessionTests {
    typealias Action = Sv1ClientSession.Action

    static let configuration = Sv1ClientConfiguration(
        user: "worker.1", userAgent: "sv2-cpu-miner/0.1.0", endpointHost: "pool.example", endpointPort: 3333)
    static let slushNotify = Sv1JobTests.slushNotify
    /// slush's job with another id and clean_jobs true.
    static let cleanNotify = slushNotify.replacingOccurrences(of: #"["bf","#, with: #"["c0","#)
        .replacingOccurrences(of: "false]", with: "true]")
    static let configured = #"{"id":1,"result":{"version-rolling":true,"version-rolling.mask":"1fffe000"},"error":null}"#
    static let subscribed = #"{"id":2,"result":[[["mining.set_difficulty","1"],["mining.notify","1"]],"08000002",4],"error":null}"#
    static let authorized = #"{"id":3,"result":true,"error":null}"#
    /// 2^-24: one hash in 256 meets it.
    static let easyDifficulty = "0.000000059604644775390625"

    /// Feeds `lines` to `session`, returning every action.
    static func feed(_ session: inout Sv1ClientSession, _ lines: String...) -> [Action] {
        var actions = [Action]()
        for line in lines {
            guard let message = try? Sv1Codec.decode(Array(line.utf8)) else {
                Issue.record("undecodable test line \(line)")
                continue
            }
            actions += session.receive(message, now: 0)
        }
        return actions
    }

    static func lines(_ actions: [Action]) -> [String] {
        actions.compactMap { if case let .send(message) = $0 { String(decoding: Sv1Codec.encode(message), as: UTF8.self) } else { nil } }
    }

    static func works(_ actions: [Action]) -> [MiningWork?] {
        actions.compactMap { if case let .effect(.setWork(lane, work)) = $0, lane == 0 { work } else { nil } }
    }

    static func events(_ actions: [Action]) -> [Sv1SessionEvent] {
        actions.compactMap { if case let .effect(.event(event)) = $0 { event } else { nil } }
    }

    /// A session past configure, subscribe and authorize (configure answered with `configureAnswer`).
    static func running(configureAnswer: String = configured) -> Sv1ClientSession {
        var session = Sv1ClientSession(configuration: configuration)
        _ = session.start(now: 0)
        _ = feed(&session, configureAnswer, subscribed, authorized)
        return session
    }

    /// The share of `work` with `extranonce`, `time` and `rolledBits` whose header meets `target` (or, with `meets`
    /// false, misses it), the first such nonce from 0.
    static func share(_ work: MiningWork, extranonce: [UInt8], time: UInt32, rolledBits: UInt32 = 0, target: U256, meets: Bool = true) -> FoundShare {
        var share = FoundShare(workID: work.id, nonce: 0, time: time, version: work.version | rolledBits, extranonce: extranonce)
        guard var header = work.header(for: share) else { return share }
        while (header.hash <= target) != meets { header.nonce += 1 }
        share.nonce = header.nonce
        return share
    }

    @Test("configure, subscribe and authorize go out at once, as firmware sends them")
    func start() {
        var session = Sv1ClientSession(configuration: Self.configuration)
        #expect(Self.lines(session.start(now: 0)) == [
            #"{"id":1,"method":"mining.configure","params":[["version-rolling"],{"version-rolling.mask":"1fffe000","version-rolling.min-bit-count":2}]}"# + "\n",
            #"{"id":2,"method":"mining.subscribe","params":["sv2-cpu-miner/0.1.0"]}"# + "\n",
            #"{"id":3,"method":"mining.authorize","params":["worker.1","x"]}"# + "\n",
        ])
        #expect(session.start(now: 0).isEmpty)
        var plain = Sv1ClientSession(configuration: Sv1ClientConfiguration(
            user: "u", userAgent: "a/1", versionRollingMask: 0, endpointHost: "h", endpointPort: 1))
        #expect(Self.lines(plain.start(now: 0)).first?.contains(Sv1Method.subscribe) == true)
    }

    @Test("scripted exchange: the notify becomes work with coinb1 + extranonce1 as prefix; a share becomes the exact mining.submit")
    func exchange() throws {
        var session = Sv1ClientSession(configuration: Self.configuration)
        _ = session.start(now: 0)
        #expect(Self.events(Self.feed(&session, Self.configured)) == [.versionRolling(mask: 0x1fff_e000)])
        #expect(Self.events(Self.feed(&session, Self.subscribed)) == [.subscribed(extranonce1: [8, 0, 0, 2], extranonce2Size: 4)])
        #expect(Self.events(Self.feed(&session, Self.authorized)) == [.authorized(user: "worker.1")])
        let difficulty = Self.feed(&session, #"{"id":null,"method":"mining.set_difficulty","params":["# + Self.easyDifficulty + "]}")
        #expect(Self.events(difficulty) == [.difficultyChanged(0x1p-24)] && Self.works(difficulty).isEmpty)

        let notified = Self.feed(&session, Self.slushNotify)
        let (params, _) = try Sv1JobTests.params(Self.slushNotify)
        let job = try #require(Sv1Job(params: params))
        let target = MiningTarget.target(difficulty: 0x1p-24)
        let expected = MiningWork(
            id: 1, version: 2, versionRollingMask: 0x1fff_e000, previousBlockHash: job.prevHash,
            merkleRoot: .coinbase(CoinbaseTemplate(
                prefix: job.coinbase1 + [8, 0, 0, 2], extranonceSize: 4, suffix: job.coinbase2, merklePath: [])),
            time: 0x504e_86b9, bits: 0x1c2a_c4af, target: target)
        #expect(Self.works(notified) == [expected])
        #expect(Self.events(notified) == [.newPrevHash(job.prevHash, nbits: 0x1c2a_c4af)])

        // The share of slush's documented submit (extranonce2 00000001, ntime 504e86ed) with two rolled bits.
        let share = Self.share(expected, extranonce: [0, 0, 0, 1], time: 0x504e_86ed, rolledBits: 0x0000_6000, target: target)
        let submitted = session.submit(share, lane: 0)
        #expect(Self.lines(submitted) == [
            #"{"id":4,"method":"mining.submit","params":["worker.1","bf","00000001","504e86ed","# + "\"\(Sv1Job.hex(share.nonce))\","
                + #""00006000"]}"# + "\n",
        ])
        // The pool's reading of the submit (BIP310) is the header the engine hashed.
        let header = Sv1JobTests.sv1Header(
            params, extranonce1: "08000002", extranonce2: "00000001", ntime: "504e86ed", nonce: Sv1Job.hex(share.nonce),
            version: Sv1Job.hex((2 & ~0x1fff_e000) | (0x6000 & 0x1fff_e000)))
        #expect(header == expected.header(for: share)?.serialized)

        #expect(Self.events(Self.feed(&session, #"{"id":4,"result":true,"error":null}"#)) == [.shareAccepted(requestID: 4)])
        let second = Self.share(expected, extranonce: [0, 0, 0, 2], time: 0x504e_86b9, target: target)
        #expect(Self.lines(session.submit(second, lane: 0)).first?.contains(#""id":5,"#) == true)
        #expect(Self.events(Self.feed(&session, #"{"id":"5","result":null,"error":[23,"Low difficulty share",null]}"#))
            == [.shareRejected(requestID: 5, reason: "23 Low difficulty share")])
        #expect(Self.events(Self.feed(&session, #"{"id":5,"result":true,"error":null}"#)).count == 1)
        #expect(session.statistics.accepted == 1 && session.statistics.rejected == 1 && session.statistics.submitted == 2)
    }

    @Test("no version rolling when configure is refused: the work's mask is 0 and submits have 5 params")
    func configureRefused() throws {
        var session = Self.running(configureAnswer: #"{"id":1,"result":null,"error":[20,"Method 'mining.configure' not found",null]}"#)
        #expect(session.versionMask == 0)
        _ = Self.feed(&session, #"{"id":null,"method":"mining.set_difficulty","params":["# + Self.easyDifficulty + "]}")
        let work = try #require(Self.works(Self.feed(&session, Self.slushNotify)).first ?? nil)
        #expect(work.versionRollingMask == 0)
        let share = Self.share(work, extranonce: [0, 0, 0, 9], time: work.time, target: work.target)
        let line = try #require(Self.lines(session.submit(share, lane: 0)).first)
        #expect(line.hasSuffix(#""\#(Sv1Job.hex(share.nonce))"]}"# + "\n"))
        // A mask granted smaller than asked is intersected with ours.
        var partial = Self.running(configureAnswer: #"{"id":1,"result":{"version-rolling":true,"version-rolling.mask":"ffffffff"},"error":null}"#)
        #expect(partial.versionMask == 0x1fff_e000)
        partial = Self.running(configureAnswer: #"{"id":1,"result":{"version-rolling":false},"error":null}"#)
        #expect(partial.versionMask == 0)
    }

    @Test("difficulty: harder applies to the current work at once, easier only from the next job")
    func difficulty() throws {
        var session = Self.running()
        let first = try #require(Self.works(Self.feed(&session, Self.slushNotify)).first ?? nil)
        #expect(first.target == MiningTarget.difficultyOne)
        let harder = Self.works(Self.feed(&session, #"{"id":null,"method":"mining.set_difficulty","params":[8]}"#))
        #expect(harder.count == 1 && harder.first??.target == MiningTarget.target(difficulty: 8))
        #expect(harder.first??.hasSameSearchSpace(as: first) == true)
        #expect(Self.works(Self.feed(&session, #"{"id":null,"method":"mining.set_difficulty","params":[0.5]}"#)).isEmpty)
        let next = try #require(Self.works(Self.feed(&session, Self.cleanNotify)).first ?? nil)
        #expect(next.target == MiningTarget.target(difficulty: 0.5))
        #expect(Self.events(Self.feed(&session, #"{"id":null,"method":"mining.set_difficulty","params":[0]}"#)).count == 1)
        #expect(Self.works(Self.feed(&session, #"{"id":null,"method":"mining.set_difficulty","params":["16"]}"#)).count == 1)
    }

    @Test("clean_jobs voids the shares of older jobs; without it they are still submitted; a share above the target is not")
    func cleanJobs() throws {
        var session = Self.running()
        _ = Self.feed(&session, #"{"id":null,"method":"mining.set_difficulty","params":["# + Self.easyDifficulty + "]}")
        let first = try #require(Self.works(Self.feed(&session, Self.slushNotify)).first ?? nil)
        let unclean = Self.slushNotify.replacingOccurrences(of: #"["bf","#, with: #"["b0","#)
        let second = try #require(Self.works(Self.feed(&session, unclean)).first ?? nil)
        #expect(second.id == first.id + 1)
        let old = Self.share(first, extranonce: [1, 2, 3, 4], time: first.time, target: first.target)
        #expect(Self.lines(session.submit(old, lane: 0)).first?.contains(#""bf","01020304""#) == true)
        let miss = Self.share(second, extranonce: [1, 2, 3, 4], time: second.time, target: second.target, meets: false)
        #expect(session.submit(miss, lane: 0).isEmpty)
        _ = Self.feed(&session, Self.cleanNotify)
        #expect(session.submit(old, lane: 0).isEmpty)
        #expect(session.statistics.discarded == 2 && session.statistics.submitted == 1)
        #expect(session.submit(old, lane: 1).isEmpty)
    }

    @Test("set_extranonce applies from the next job; set_version_mask at once, and shares outside the new mask are dropped")
    func extranonceAndMask() throws {
        var session = Self.running()
        _ = Self.feed(&session, #"{"id":null,"method":"mining.set_difficulty","params":["# + Self.easyDifficulty + "]}")
        let first = try #require(Self.works(Self.feed(&session, Self.slushNotify)).first ?? nil)
        #expect(Self.feed(&session, #"{"id":null,"method":"mining.set_extranonce","params":["aabbccdd01",6]}"#).isEmpty)
        let moved = try #require(Self.works(Self.feed(&session, Self.cleanNotify)).first ?? nil)
        guard case let .coinbase(template) = moved.merkleRoot else { Issue.record("no coinbase"); return }
        #expect(template.prefix.suffix(5) == [0xaa, 0xbb, 0xcc, 0xdd, 0x01] && template.extranonceSize == 6)
        #expect(first.merkleRoot.extranonceSize == 4)

        let rolled = Self.share(moved, extranonce: [0, 0, 0, 0, 0, 1], time: moved.time, rolledBits: 0x1000_0000, target: moved.target)
        let masked = Self.feed(&session, #"{"id":null,"method":"mining.set_version_mask","params":["00ffe000"]}"#)
        #expect(Self.events(masked).first == .versionRolling(mask: 0x00ff_e000))
        let remasked = try #require(Self.works(masked).first ?? nil)
        #expect(remasked.versionRollingMask == 0x00ff_e000 && remasked.merkleRoot == moved.merkleRoot && remasked.id == moved.id + 1)
        #expect(session.submit(rolled, lane: 0).isEmpty)
        let inside = Self.share(remasked, extranonce: [0, 0, 0, 0, 0, 2], time: remasked.time, rolledBits: 0x0001_0000, target: remasked.target)
        #expect(Self.lines(session.submit(inside, lane: 0)).first?.hasSuffix(#""00010000"]}"# + "\n") == true)
    }

    @Test("a notify before the subscribe answer is mined once extranonce1 is known")
    func notifyBeforeSubscribe() {
        var session = Sv1ClientSession(configuration: Self.configuration)
        _ = session.start(now: 0)
        #expect(Self.works(Self.feed(&session, Self.slushNotify)).isEmpty)
        let works = Self.works(Self.feed(&session, Self.subscribed))
        #expect(works.count == 1 && works.first??.merkleRoot.extranonceSize == 4)
    }

    @Test("refusals stop the miner; a broken subscribe answer closes; unknown answers and malformed notifies are ignored")
    func refusals() {
        var session = Sv1ClientSession(configuration: Self.configuration)
        _ = session.start(now: 0)
        #expect(Self.feed(&session, #"{"id":2,"result":null,"error":[25,"Not subscribed",null]}"#)
            == [.fail("the pool refused mining.subscribe: 25 Not subscribed")])
        session = Sv1ClientSession(configuration: Self.configuration)
        _ = session.start(now: 0)
        _ = Self.feed(&session, Self.subscribed)
        #expect(Self.feed(&session, #"{"id":3,"result":false,"error":null}"#) == [.fail("the pool refused user 'worker.1': false")])
        #expect(Self.feed(&session, Self.slushNotify).isEmpty)
        session = Sv1ClientSession(configuration: Self.configuration)
        _ = session.start(now: 0)
        guard case .close? = Self.feed(&session, #"{"id":2,"result":[[],"zz",4],"error":null}"#).first else {
            Issue.record("a subscribe answer without extranonce1 must close")
            return
        }
        session = Self.running()
        #expect(Self.events(Self.feed(&session, #"{"id":99,"result":true,"error":null}"#)).count == 1)
        #expect(Self.events(Self.feed(&session, #"{"id":null,"method":"mining.notify","params":["x"]}"#))
            == [.ignored("a malformed mining.notify")])
    }

    @Test("client.reconnect, client.get_version, client.show_message and unknown requests")
    func clientMethods() {
        var session = Self.running()
        #expect(Self.lines(Self.feed(&session, #"{"id":7,"method":"client.get_version","params":[]}"#))
            == [#"{"id":7,"result":"sv2-cpu-miner/0.1.0","error":null}"# + "\n"])
        #expect(Self.lines(Self.feed(&session, #"{"id":"q","method":"mining.ping","params":[]}"#))
            == [#"{"id":"q","result":null,"error":[20,"Method not supported",null]}"# + "\n"])
        #expect(Self.events(Self.feed(&session, #"{"id":null,"method":"client.show_message","params":["maintenance\u0007 at 10:00"]}"#))
            == [.poolMessage("maintenance? at 10:00")])
        #expect(Self.feed(&session, #"{"id":null,"method":"client.reconnect","params":["",3334,0]}"#)
            == [.reconnect(host: "pool.example", port: 3334)])
        #expect(Self.feed(&session, Self.slushNotify).isEmpty)
        session = Self.running()
        #expect(Self.feed(&session, #"{"id":null,"method":"client.reconnect","params":["backup.example","3335"]}"#)
            == [.reconnect(host: "backup.example", port: 3335)])
        session = Self.running()
        #expect(Self.feed(&session, #"{"id":null,"method":"client.reconnect","params":[]}"#)
            == [.reconnect(host: "pool.example", port: 3333)])
    }

    @Test("statistics and work ids carry over to the next connection's session; close says nothing")
    func carryOver() throws {
        var session = Self.running()
        _ = Self.feed(&session, Self.slushNotify)
        #expect(session.close().isEmpty)
        #expect(session.receive(.notification(method: Sv1Method.setDifficulty, params: [.number("2")]), now: 0).isEmpty)
        let next = Sv1ClientSession(configuration: Self.configuration, statistics: session.statistics, firstWorkID: session.nextWorkID)
        #expect(next.nextWorkID == 2)
    }

    @Test("a suggested difficulty goes out before mining.authorize, as a plain decimal; clean_jobs is reported")
    func suggestedDifficultyAndCleanJobs() {
        var configuration = Self.configuration
        configuration.suggestedDifficulty = 0.0000125
        var session = Sv1ClientSession(configuration: configuration)
        let methods = Self.lines(session.start(now: 0)).compactMap { line -> String? in
            guard case let .request(_, method, params)? = try? Sv1Codec.decode(Array(line.utf8)) else { return nil }
            return method == Sv1Method.suggestDifficulty ? "\(method) \(params.first?.text ?? "")" : method
        }
        #expect(methods == [Sv1Method.configure, Sv1Method.subscribe, "mining.suggest_difficulty 0.0000125", Sv1Method.authorize])
        #expect(Sv1ClientSession.decimal(3e-13) == "0")
        #expect(Sv1ClientSession.decimal(2048.7) == "2048")

        var running = Self.running()
        #expect(!Self.events(Self.feed(&running, Self.slushNotify)).contains(.jobsCleaned))
        #expect(Self.events(Self.feed(&running, Self.cleanNotify)).contains(.jobsCleaned))
    }
}
