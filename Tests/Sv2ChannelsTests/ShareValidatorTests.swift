import Bitcoin
import Sv1
import Sv2Binary
import Sv2Formats
import Sv2Messages
import Sv2Sessions
import Testing
@testable import Sv2Channels

@Suite("the one share validator, on its own and through the pool, the miner and the translator")
struct ShareValidatorTests {
    private static let rules = ShareValidator.Rules(
        version: 0x2000_0000, versionRollingMask: 0x1fff_e000, previousBlockHash: U256(w0: 9, w1: 8, w2: 7, w3: 6), bits: 0x1d00_ffff,
        earliestTime: 1_700_000_000, latestTime: 1_700_007_200)

    @Test("version bits and time are checked against the rules; the hash is the header's SHA256d")
    func rulesAndHash() throws {
        let root = U256(w0: 1, w1: 2, w2: 3, w3: 4)
        let check = { (version: UInt32, time: UInt32) in
            ShareValidator.validate(Self.rules, merkleRoot: root, version: version, time: time, nonce: 7, target: .max)
        }
        #expect(throws: ShareValidator.Violation.versionBits) { try check(0x2000_0001, 1_700_000_000).get() }
        #expect(throws: ShareValidator.Violation.timeTooEarly) { try check(0x2000_0000, 1_699_999_999).get() }
        #expect(throws: ShareValidator.Violation.timeTooLate) { try check(0x2000_0000, 1_700_007_201).get() }
        let valid = try check(0x3fff_e000, 1_700_007_200).get()
        let header = BlockHeader(
            version: 0x3fff_e000, previousBlockHash: Self.rules.previousBlockHash, merkleRoot: root, time: 1_700_007_200, bits: 0x1d00_ffff,
            nonce: 7)
        #expect(valid.hash == header.hash)
        #expect(valid.meetsTarget && !valid.isBlock && valid.isSubmittable)
        // A block is worth submitting even above the share target; neither is not.
        let easyNetwork = ShareValidator.Rules(
            version: 0x2000_0000, versionRollingMask: 0, previousBlockHash: .zero, bits: 0x207f_ffff, networkTarget: .max, earliestTime: 0)
        let block = try ShareValidator.validate(easyNetwork, merkleRoot: root, version: 0x2000_0000, time: 1, nonce: 1, target: .zero).get()
        #expect(block.isBlock && !block.meetsTarget && block.isSubmittable)
        let neither = try ShareValidator.validate(Self.rules, merkleRoot: root, version: 0x2000_0000, time: 1_700_000_000, nonce: 1, target: .zero).get()
        #expect(!neither.isSubmittable)
    }

    /// A pool with one extended channel, the miner that opened it (its work), and a translator whose aggregated
    /// upstream channel that is (its job for Sv1 miners, and one Sv1 miner's session).
    private struct Chain {
        var pool: PoolSession
        var channel: OpenExtendedMiningChannelSuccess
        var work: MiningWork
        var job: TranslatorJob
        var translator: Sv1ServerSession
        let now: Timestamp = 1_700_000_100

        init(hashrate: Float) throws {
            var board = PoolJobBoard(rewardScript: [0x51], poolTag: "test", extranonceLength: 32)
            _ = try board.apply(NewTemplate(
                templateID: 1, futureTemplate: true, version: 0x2000_0000, coinbaseTxVersion: 2, coinbasePrefix: [0x01, 0x65],
                coinbaseTxInputSequence: 0xffff_ffff, coinbaseTxValueRemaining: 5_000_000_000, coinbaseTxOutputsCount: 0,
                coinbaseTxOutputs: [], coinbaseTxLocktime: 0, merklePath: [U256(w0: 5, w1: 5, w2: 5, w3: 5)]))
            // A network target no test hash meets: every accepted share is a share, not a block.
            _ = try board.apply(TemplateSetNewPrevHash(
                templateID: 1, prevHash: U256(w0: 3, w1: 1, w2: 4, w3: 1), headerTimestamp: 1_700_000_000, nBits: 0x1d00_ffff, target: U256(1)))
            pool = try PoolSession(
                configuration: try #require(PoolSessionConfiguration(sharesPerMinute: 6)), connectionPrefix: [0, 1], work: board.work)
            var miner = MinerClientSession(configuration: MinerSessionConfiguration(
                userIdentity: "farm", channelKind: .extended, channelCount: 1, requiresStandardJobs: false, nominalHashRate: hashrate,
                minimumExtranonceSize: 8, endpointHost: "pool", endpointPort: 3333))
            // The miner's messages go to the pool and the pool's to the miner, until the miner has work.
            var toPool = miner.start(now: now).compactMap(Self.message)
            var work: MiningWork?
            var opened: OpenExtendedMiningChannelSuccess?
            while !toPool.isEmpty {
                var toMiner = [Sv2Message]()
                for message in toPool { toMiner += pool.receive(message, now: now).compactMap(Self.message) }
                toPool = []
                for message in toMiner {
                    if case let .openExtendedMiningChannelSuccess(success) = message { opened = success }
                    for action in miner.receive(message, now: now) {
                        if case let .send(reply) = action { toPool.append(reply.message) }
                        if case let .effect(.setWork(_, new?)) = action { work = new }
                    }
                }
            }
            self.work = try #require(work)
            channel = try #require(opened)
            job = try #require(TranslatorJob(work: self.work, jobID: "1", cleanJobs: true, extranonce1Size: 4, extranonce2Size: 4))
            let downstream = try #require(Sv1ServerConfiguration(initialDifficulty: 1e-12, minimumDifficulty: 1e-12))
            translator = Sv1ServerSession(configuration: downstream, extranonce1: [0, 0, 0, 7], now: now)
            for request in [(Sv1Method.subscribe, [JSONValue]()), (Sv1Method.authorize, [.string("farm.a"), .string("x")])] {
                _ = translator.receive(.request(id: .number("1"), method: request.0, params: request.1), now: now)
            }
            _ = translator.newJob(job, now: now)
        }

        static func message(_ action: SessionAction<some Sv2WireMessage, some Any>) -> Sv2Message? {
            if case let .send(message) = action { return message.message }
            return nil
        }

        /// An Sv1 miner's share through the translator, the miner's check of what it forwards, and the pool: the
        /// translator's answer, the miner's assessment, the pool's answer.
        mutating func submit(nonce: UInt32, time: UInt32) -> (translator: Sv1Message?, forwarded: FoundShare?, miner: ShareAssessment?, pool: Sv2Message?) {
            let extranonce2: [UInt8] = [0, 0, 0, 9]
            var translatorAnswer: Sv1Message?
            var forwarded: FoundShare?
            let params: [JSONValue] = [
                .string("farm.a"), .string("1"), .string(Hex.encode(extranonce2)), .string(Sv1Job.hex(time)), .string(Sv1Job.hex(nonce)),
            ]
            for action in translator.receive(.request(id: .number("9"), method: Sv1Method.submit, params: params), now: now) {
                if case let .send(answer) = action { translatorAnswer = answer }
                if case let .effect(.submit(share, _)) = action { forwarded = share }
            }
            // The same header as the pool sees it: the translator's layout of the channel's extranonce.
            let share = forwarded ?? FoundShare(
                workID: work.id, nonce: nonce, time: time, version: work.version,
                extranonce: [UInt8](repeating: 0, count: job.padding) + [0, 0, 0, 7] + extranonce2)
            let assessment = work.assess(share, target: work.target)
            var poolAnswer: Sv2Message?
            for action in pool.receive(.submitSharesExtended(SubmitSharesExtended(
                channelID: channel.channelID, sequenceNumber: nonce, jobID: 1, nonce: nonce, ntime: time, version: share.version,
                extranonce: share.extranonce)), now: now) + pool.readComplete(now: now) {
                if case let .send(answer) = action { poolAnswer = answer }
            }
            return (translatorAnswer, forwarded, assessment, poolAnswer)
        }
    }

    @Test("one header, three callers: a share the translator forwards, the miner would submit and the pool accepts")
    func agreeOnValidShares() throws {
        var chain = try Chain(hashrate: 1e-3)
        let result = chain.submit(nonce: 1, time: 1_700_000_050)
        #expect(result.translator == .response(id: .number("9"), result: .bool(true), error: .null))
        let assessment = try #require(result.miner)
        #expect(assessment.meetsTarget && !assessment.isBlock)
        #expect(result.forwarded != nil)
        guard case let .submitSharesSuccess(success)? = result.pool else { Issue.record("pool: \(String(describing: result.pool))"); return }
        #expect(success.newSubmitsAcceptedCount == 1)
    }

    @Test("one header, three callers: an ntime before the tip's is refused by all three")
    func agreeOnEarlyTime() throws {
        var chain = try Chain(hashrate: 1e-3)
        let result = chain.submit(nonce: 2, time: 1_699_999_999)
        #expect(result.forwarded == nil && result.miner == nil)
        guard case let .response(_, _, error)? = result.translator, case let .array(parts) = error else {
            Issue.record("translator: \(String(describing: result.translator))")
            return
        }
        #expect(parts.first == .number("20"))
        guard case let .submitSharesError(refusal)? = result.pool else { Issue.record("pool: \(String(describing: result.pool))"); return }
        #expect(refusal.errorCode == "invalid-timestamp")
    }

    @Test("one header, three callers: a hash above the channel's target is kept by the translator, not submitted by the miner, refused by the pool")
    func agreeOnTarget() throws {
        // A channel target about 1 in 2^32 (nominal 10 TH/s at 6 shares a minute): no small nonce meets it.
        var chain = try Chain(hashrate: 1e13)
        let result = chain.submit(nonce: 3, time: 1_700_000_050)
        #expect(result.translator == .response(id: .number("9"), result: .bool(true), error: .null), "the Sv1 miner's own difficulty is met")
        #expect(result.forwarded == nil)
        let assessment = try #require(result.miner)
        #expect(!assessment.isSubmittable)
        guard case let .submitSharesError(refusal)? = result.pool else { Issue.record("pool: \(String(describing: result.pool))"); return }
        #expect(refusal.errorCode == "difficulty-too-low")
    }
}
