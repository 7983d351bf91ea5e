import Bitcoin
import Sv2Binary
import Sv2Crypto
import Sv2Messages
import Sv2Sessions
import Testing

@testable import Sv2Channels

/// The job declarator server's session: tokens, declarations checked step by step, missing transactions and
/// PushSolution, with the node's answers played by the test.
@Suite("job declarator session: tokens, declarations, missing transactions, solutions")
struct JobDeclaratorSessionTests {
    /// Counts up from 1, so tokens differ and are reproducible.
    struct CountingRandom: Sv2RandomSource, Sendable {
        var next: UInt8 = 0
        mutating func bytes(_ count: Int) -> [UInt8] {
            next &+= 1
            return [UInt8](repeating: next, count: count)
        }
    }

    static let key = [UInt8](repeating: 7, count: 32)
    static let payout: [UInt8] = [0x00, 0x14] + [UInt8](repeating: 0xaa, count: 20)
    static let now: Timestamp = 1_000_000
    static let tip = U256(w0: 0x1111_1111_1111_1111, w1: 1, w2: 2, w3: 3)

    /// A segwit coinbase paying `value` to `script` at height 200, split around 8 bytes of extranonce.
    static func coinbase(script: [UInt8] = payout, value: UInt64 = 5_000_000_000) -> (prefix: [UInt8], suffix: [UInt8]) {
        let scriptSig = BIP34.heightPush(200) + [UInt8](repeating: 0, count: 8)
        let transaction = Transaction(
            version: 2,
            inputs: [TransactionInput(previousOutput: .null, scriptSig: scriptSig, witness: [[UInt8](repeating: 0, count: 32)])],
            outputs: [TransactionOutput(value: value, scriptPubKey: script)], lockTime: 0)
        let bytes = transaction.serialized()
        // version, marker, flag, input count, outpoint, scriptSig length, height push | extranonce | the rest
        let split = 4 + 2 + 1 + 36 + 1 + BIP34.heightPush(200).count
        return (Array(bytes[..<split]), Array(bytes[(split + 8)...]))
    }

    static func transaction(_ tag: UInt8) -> Transaction {
        Transaction(
            version: 2,
            inputs: [TransactionInput(previousOutput: OutPoint(txid: U256(UInt64(tag)), vout: 0), scriptSig: [], witness: [[0x51]])],
            outputs: [TransactionOutput(value: 1000, scriptPubKey: [0x51])], lockTime: 0)
    }

    static func session() -> JobDeclaratorSession {
        var session = JobDeclaratorSession(configuration: .init(tokenKey: key, payoutScript: payout), random: CountingRandom())
        let setup = SetupNegotiation.request(.jobDeclaration, flags: 1, endpointHost: "127.0.0.1", endpointPort: 34264, firmware: "test")
        _ = session.receive(.setupConnection(setup), now: now)
        return session
    }

    static func allocate(_ session: inout JobDeclaratorSession) throws -> AllocateMiningJobTokenSuccess {
        let actions = session.receive(.allocateMiningJobToken(AllocateMiningJobToken(userIdentifier: "alice", requestID: 1)), now: now)
        guard case let .send(.allocateMiningJobTokenSuccess(success)) = actions.first else { throw TestFailure("no AllocateMiningJobToken.Success: \(actions)") }
        return success
    }

    static func declaration(token: [UInt8], coinbase: (prefix: [UInt8], suffix: [UInt8]) = coinbase(), wtxids: [U256], id: UInt32 = 5) -> Sv2Message {
        .declareMiningJob(DeclareMiningJob(
            requestID: id, miningJobToken: token, version: 0x2000_0000, coinbaseTxPrefix: coinbase.prefix, coinbaseTxSuffix: coinbase.suffix,
            wtxidList: wtxids, excessData: []))
    }

    /// The declaration an effect of `actions` asks the node about.
    static func ticket(_ actions: [JobDeclaratorSession.Action]) throws -> JobDeclaratorSession.Declaration {
        for case let .effect(effect) in actions {
            switch effect {
            case let .lookUp(declaration, _), let .check(declaration, _): return declaration
            case .submit: continue
            }
        }
        throw TestFailure("no question for the node: \(actions)")
    }

    static func errorCode(_ actions: [JobDeclaratorSession.Action]) -> Sv2String? {
        for case let .send(.declareMiningJobError(error)) in actions { return error.errorCode }
        return nil
    }

    struct TestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    @Test("the coinbase's extranonce size comes from its scriptSig length, marker or not")
    func extranonceSize() throws {
        let (prefix, _) = Self.coinbase()
        #expect(try Coinbase.extranonceSize(prefix: prefix) == 8)
        let stripped = Array(prefix[..<4]) + Array(prefix[6...])
        #expect(try Coinbase.extranonceSize(prefix: stripped) == 8)
        #expect(throws: BitcoinError.self) { try Coinbase.extranonceSize(prefix: Array(prefix.prefix(20))) }
    }

    @Test("AllocateMiningJobToken: an allocation token for the user and the pool's payout output with 0 sat")
    func allocation() throws {
        var session = Self.session()
        let success = try Self.allocate(&session)
        let token = try MiningJobToken.decode(success.miningJobToken, key: Self.key, now: Self.now.unixSeconds).get()
        #expect(token.kind == .allocation && token.commitment == MiningJobToken.userCommitment("alice"))
        #expect(token.expiry == Self.now.unixSeconds + 600)
        #expect(success.coinbaseTxOutputs == [1] + TransactionOutput(value: 0, scriptPubKey: Self.payout).serialized)
    }

    @Test("a declaration with an unknown transaction: ProvideMissingTransactions, checked wtxids, then a token committing to the job")
    func declarationWithMissingTransaction() throws {
        var session = Self.session()
        let token = try Self.allocate(&session).miningJobToken
        let (known, unknown) = (Self.transaction(1), Self.transaction(2))
        var actions = session.receive(Self.declaration(token: token, wtxids: [known.wtxid, unknown.wtxid]), now: Self.now)
        let first = try Self.ticket(actions)
        #expect(actions == [.effect(.lookUp(first, wtxids: [known.wtxid, unknown.wtxid]))] && first.requestID == 5)
        actions = session.answer(.transactions([known, nil]), for: first, now: Self.now)
        #expect(actions.first == .send(.provideMissingTransactions(ProvideMissingTransactions(requestID: 5, unknownTxPositionList: [1]))))
        // The wrong transaction for the wtxid is refused; the session stays.
        actions = session.receive(.provideMissingTransactionsSuccess(ProvideMissingTransactionsSuccess(requestID: 5, transactionList: [Self.transaction(3).serialized()])), now: Self.now)
        #expect(Self.errorCode(actions) == JobDeclarationErrorCode.invalidTransaction)

        let second = try Self.allocate(&session).miningJobToken
        let sixth = try Self.ticket(session.receive(Self.declaration(token: second, wtxids: [known.wtxid, unknown.wtxid], id: 6), now: Self.now))
        _ = session.answer(.transactions([known, nil]), for: sixth, now: Self.now)
        actions = session.receive(.provideMissingTransactionsSuccess(ProvideMissingTransactionsSuccess(requestID: 6, transactionList: [unknown.serialized()])), now: Self.now)
        guard case let .effect(.check(checked, job)) = actions.first, checked == sixth else { throw TestFailure("no check: \(actions)") }
        #expect(job.transactions == [known, unknown] && job.extranonceSize == 8)
        actions = session.answer(.proposal(tip: Self.tip, bits: 0x207f_ffff, rejection: nil), for: sixth, now: Self.now)
        guard case let .send(.declareMiningJobSuccess(success)) = actions.first else { throw TestFailure("no Success: \(actions)") }
        let declared = try MiningJobToken.decode(success.newMiningJobToken, key: Self.key, now: Self.now.unixSeconds).get()
        #expect(declared.kind == .declaredJob)
        #expect(declared.commitment == MiningJobToken.declaredJobCommitment(
            previousBlockHash: Self.tip, merklePath: Merkle.coinbasePath(transactionIDs: [known.txid, unknown.txid]),
            outputs: [1] + TransactionOutput(value: 5_000_000_000, scriptPubKey: Self.payout).serialized))
    }

    @Test("refusals: forged, reused and declared-job tokens, a coinbase not paying the pool, duplicate wtxids, a stale or invalid block")
    func refusals() throws {
        var session = Self.session()
        let forged = MiningJobToken(kind: .allocation, expiry: Self.now.unixSeconds + 60, nonce: [UInt8](repeating: 9, count: 8), commitment: MiningJobToken.userCommitment("alice"))
            .encoded(key: [UInt8](repeating: 8, count: 32))
        #expect(Self.errorCode(session.receive(Self.declaration(token: forged, wtxids: []), now: Self.now)) == "invalid-mining-job-token")
        let expired = try Self.allocate(&session).miningJobToken
        #expect(Self.errorCode(session.receive(Self.declaration(token: expired, wtxids: []), now: Self.now + .seconds(601))) == "stale-mining-job-token")
        let token = try Self.allocate(&session).miningJobToken
        #expect(Self.errorCode(session.receive(Self.declaration(token: token, coinbase: Self.coinbase(script: [0x51]), wtxids: []), now: Self.now))
            == JobDeclarationErrorCode.invalidCoinbase)
        let wtxid = Self.transaction(1).wtxid
        #expect(Self.errorCode(session.receive(Self.declaration(token: token, wtxids: [wtxid, wtxid]), now: Self.now)) == JobDeclarationErrorCode.invalidWtxidList)
        // Accepted up to the node's check, which refuses it as stale; the token is spent.
        let checked = try Self.ticket(session.receive(Self.declaration(token: token, wtxids: []), now: Self.now))
        #expect(Self.errorCode(session.answer(.proposal(tip: Self.tip, bits: 0x207f_ffff, rejection: "bad-cb-height"), for: checked, now: Self.now)) == JobDeclarationErrorCode.staleChainTip)
        #expect(Self.errorCode(session.receive(Self.declaration(token: token, wtxids: []), now: Self.now)) == "invalid-mining-job-token")
        let another = try Self.allocate(&session).miningJobToken
        let again = try Self.ticket(session.receive(Self.declaration(token: another, wtxids: []), now: Self.now))
        // The earlier declaration's answer, arriving late, is not taken for this one with the same request_id.
        #expect(session.answer(.proposal(tip: Self.tip, bits: 0x207f_ffff, rejection: nil), for: checked, now: Self.now).isEmpty)
        let refused = session.answer(.proposal(tip: Self.tip, bits: 0x207f_ffff, rejection: "bad-txns-inputs-missingorspent"), for: again, now: Self.now)
        #expect(Self.errorCode(refused) == JobDeclarationErrorCode.invalidJob)
        guard case let .send(.declareMiningJobError(error)) = refused.first else { throw TestFailure("no error") }
        #expect(String(decoding: error.errorDetails, as: UTF8.self).contains("bad-txns-inputs-missingorspent"))
        #expect(session.isSetUp)
    }

    @Test("PushSolution is assembled with the declared job whose target it meets and submitted; others are not")
    func pushSolution() throws {
        var session = Self.session()
        let token = try Self.allocate(&session).miningJobToken
        let transaction = Self.transaction(1)
        let declared = try Self.ticket(session.receive(Self.declaration(token: token, wtxids: [transaction.wtxid]), now: Self.now))
        _ = session.answer(.transactions([transaction]), for: declared, now: Self.now)
        _ = session.answer(.proposal(tip: Self.tip, bits: 0x207f_ffff, rejection: nil), for: declared, now: Self.now)
        let job = try DeclaredJob(coinbasePrefix: Self.coinbase().prefix, coinbaseSuffix: Self.coinbase().suffix, version: 0x2000_0000, transactions: [transaction])
        let extranonce: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        let bits: UInt32 = 0x207f_ffff
        var nonce: UInt32 = 0
        let target = try CompactTarget(bits: bits).target()
        while try job.block(previousBlockHash: Self.tip, version: 0x2000_0000, time: 1_000_000, bits: bits, nonce: nonce, extranonce: extranonce).hash > target { nonce += 1 }
        let solution = PushSolution(extranonce: extranonce, prevHash: Self.tip, nonce: nonce, ntime: 1_000_000, nbits: bits, version: 0x2000_0000)
        let actions = session.receive(.pushSolution(solution), now: Self.now)
        guard case let .effect(.submit(block)) = actions.first else { throw TestFailure("not submitted: \(actions)") }
        #expect(block.transactions.count == 2 && block.transactions[0].inputs[0].scriptSig.suffix(8) == extranonce[...])
        #expect(block.header.merkleRoot == block.computedMerkleRoot)
        var other = solution
        other.prevHash = .zero
        #expect(session.receive(.pushSolution(other), now: Self.now).allSatisfy { if case .effect = $0 { false } else { true } })
        // One block per tip: the same solution again is not submitted twice.
        #expect(session.receive(.pushSolution(solution), now: Self.now).allSatisfy { if case .effect = $0 { false } else { true } })
    }

    @Test("a PushSolution under other nBits than the job was checked with is not submitted")
    func pushSolutionBits() throws {
        var session = Self.session()
        let token = try Self.allocate(&session).miningJobToken
        let declared = try Self.ticket(session.receive(Self.declaration(token: token, wtxids: []), now: Self.now))
        _ = session.answer(.proposal(tip: Self.tip, bits: 0x1d00_ffff, rejection: nil), for: declared, now: Self.now)
        // Under the easy regtest bits nearly every nonce "meets the target": the job's own bits are what count.
        let solution = PushSolution(extranonce: [UInt8](repeating: 0, count: 8), prevHash: Self.tip, nonce: 0, ntime: 1_000_000, nbits: 0x207f_ffff, version: 0x2000_0000)
        #expect(session.receive(.pushSolution(solution), now: Self.now).allSatisfy { if case .effect = $0 { false } else { true } })
    }

    @Test("a declaration beyond the pending limit supersedes the oldest one being checked")
    func superseding() throws {
        var session = JobDeclaratorSession(configuration: .init(tokenKey: Self.key, payoutScript: Self.payout, maximumPending: 2), random: CountingRandom())
        _ = session.receive(.setupConnection(SetupNegotiation.request(.jobDeclaration, endpointHost: "h", endpointPort: 1, firmware: "t")), now: Self.now)
        let wtxid = Self.transaction(1).wtxid
        let oldest = try Self.ticket(session.receive(Self.declaration(token: try Self.allocate(&session).miningJobToken, wtxids: [wtxid], id: 1), now: Self.now))
        _ = session.receive(Self.declaration(token: try Self.allocate(&session).miningJobToken, wtxids: [wtxid], id: 2), now: Self.now)
        let third = session.receive(Self.declaration(token: try Self.allocate(&session).miningJobToken, wtxids: [wtxid], id: 3), now: Self.now)
        #expect(third.contains { if case let .send(.declareMiningJobError(error)) = $0 { error.requestID == 1 && error.errorCode == JobDeclarationErrorCode.tooManyPending } else { false } })
        #expect(try Self.ticket(third).requestID == 3)
        // The superseded declaration's late answer changes nothing.
        #expect(session.answer(.transactions([nil]), for: oldest, now: Self.now).isEmpty)
    }

    @Test("AllocateMiningJobToken is rate-limited: a burst, then a few a second")
    func allocationRate() {
        var session = JobDeclaratorSession(
            configuration: .init(tokenKey: Self.key, payoutScript: Self.payout, tokenBurst: 3, tokensPerSecond: 1), random: CountingRandom())
        _ = session.receive(.setupConnection(SetupNegotiation.request(.jobDeclaration, endpointHost: "h", endpointPort: 1, firmware: "t")), now: Self.now)
        func answered(at now: Timestamp) -> Bool {
            session.receive(.allocateMiningJobToken(AllocateMiningJobToken(userIdentifier: "alice", requestID: 1)), now: now)
                .contains { if case .send(.allocateMiningJobTokenSuccess) = $0 { true } else { false } }
        }
        #expect(answered(at: Self.now) && answered(at: Self.now) && answered(at: Self.now))
        #expect(!answered(at: Self.now))
        #expect(answered(at: Self.now + .seconds(1)))
        #expect(!answered(at: Self.now + .seconds(1)))
    }

    @Test("a scriptSig length beyond 100 bytes is refused, however large")
    func hugeScriptSigLength() {
        let prefix: [UInt8] = [2, 0, 0, 0, 1] + [UInt8](repeating: 0, count: 32) + [0xff, 0xff, 0xff, 0xff] + [0xff] + [UInt8](repeating: 0xff, count: 8)
        #expect(throws: BitcoinError.self) { try Coinbase.extranonceSize(prefix: prefix) }
    }
}
