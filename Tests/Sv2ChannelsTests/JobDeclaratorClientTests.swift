import Bitcoin
import Sv2Binary
import Sv2Messages
import Sv2Sessions
import Testing

@testable import Sv2Channels

/// The job declarator client's state machine: solo until the pool and the declarator are there, then custom jobs
/// declared and set, shares held and submitted, blocks sent, refusals and fallback.
@Suite("job declarator client: own templates as custom jobs, solo fallback")
struct JobDeclaratorClientTests {
    static let solo: [UInt8] = [0x00, 0x14] + [UInt8](repeating: 0x55, count: 20)
    static let pool: [UInt8] = [0x00, 0x20] + [UInt8](repeating: 0xaa, count: 32)
    static let tipHash = U256(w0: 7, w1: 7, w2: 7, w3: 7)
    static let transaction = Transaction(
        version: 2, inputs: [TransactionInput(previousOutput: OutPoint(txid: U256(9), vout: 0), scriptSig: [], witness: [[0x51]])],
        outputs: [TransactionOutput(value: 1000, scriptPubKey: [0x51])], lockTime: 0)
    static let channel = CustomJobUpstreamSession.Channel(id: 3, target: U256(w0: 0, w1: 0, w2: 0, w3: 1 << 60), extranoncePrefix: [1, 2, 3, 4], extranonceSize: 20)

    static func template(_ id: UInt64, future: Bool) -> NewTemplate {
        let commitment = TransactionOutput(value: 0, scriptPubKey: WitnessCommitment.outputScript(nonCoinbaseWtxids: [transaction.wtxid]))
        return NewTemplate(
            templateID: id, futureTemplate: future, version: 0x2000_0000, coinbaseTxVersion: 2, coinbasePrefix: BIP34.heightPush(300),
            coinbaseTxInputSequence: .max, coinbaseTxValueRemaining: 2_500_000_000, coinbaseTxOutputsCount: 1, coinbaseTxOutputs: commitment.serialized,
            coinbaseTxLocktime: 0, merklePath: Merkle.coinbasePath(transactionIDs: [transaction.txid]))
    }

    static func client(_ mode: JobDeclaratorClient.Mode = .fullTemplate) -> JobDeclaratorClient {
        var client = JobDeclaratorClient(configuration: .init(mode: mode, soloScript: solo, extranonceSize: 16))
        _ = client.templateProvider(.template(template(1, future: true)))
        _ = client.templateProvider(.prevHash(TemplateSetNewPrevHash(templateID: 1, prevHash: tipHash, headerTimestamp: 1000, nBits: 0x207f_ffff, target: .max)))
        return client
    }

    /// Pool channel, declarator and its first token: the client is pooled.
    static func pooled(_ client: inout JobDeclaratorClient) -> [JobDeclaratorClient.Command] {
        _ = client.poolChannel(channel)
        _ = client.declarator(ready: true)
        return client.token([0xee, 1], outputs: [1] + TransactionOutput(value: 0, scriptPubKey: pool).serialized)
    }

    static func paid(_ job: PoolJob?, to script: [UInt8]) -> UInt64 {
        guard let job, let transaction = try? Transaction(bytes: job.coinbase.coinbase(extranonce: [UInt8](repeating: 0, count: job.coinbase.extranonceSize))) else { return 0 }
        return transaction.outputs.filter { $0.scriptPubKey == script }.reduce(0) { $0 + $1.value }
    }

    @Test("solo at first: the job pays the miner's own script")
    func soloFirst() {
        let client = Self.client()
        #expect(!client.isPooled)
        #expect(Self.paid(client.work.latest, to: Self.solo) == 2_500_000_000)
        #expect(client.work.upstreamTarget == nil)
    }

    @Test("full-template: pooled job with the pool's outputs and channel prefix, declared with its transactions, set with the declared token, held shares submitted")
    func fullTemplate() throws {
        var client = Self.client()
        let commands = Self.pooled(&client)
        #expect(client.isPooled)
        let job = try #require(client.work.latest)
        #expect(Self.paid(job, to: Self.pool) == 2_500_000_000 && Self.paid(job, to: Self.solo) == 0)
        #expect(job.isFuture && client.work.tip?.jobID == job.id && client.work.upstreamTarget == Self.channel.target)
        // scriptSig: height, the pool channel's prefix, 4 bytes of padding (20 - 16), then the devices' 16 bytes.
        #expect(job.coinbase.prefix.suffix(4 + 4) == [1, 2, 3, 4, 0, 0, 0, 0][...])
        #expect(commands.contains { if case .requestTransactions(1) = $0 { true } else { false } })

        // A share before the pool acknowledged the job is held.
        let share = ForwardedShare(jobID: job.id, nonce: 5, ntime: 1001, version: 0x2000_0000, extranonce: [UInt8](repeating: 9, count: 16), user: "alice")
        #expect(client.forward(share).isEmpty)

        let declared = client.templateProvider(.transactionData(templateID: 1, transactions: [Self.transaction.serialized()]))
        guard case let .declare(declaration, transactions)? = declared.first(where: { if case .declare = $0 { true } else { false } }) else {
            throw JobDeclarationTestFailure("not declared: \(declared)")
        }
        #expect(transactions == [Self.transaction.serialized()] && declaration.wtxidList == [Self.transaction.wtxid] && declaration.miningJobToken == [0xee, 1])
        let parsed = try DeclaredJob(coinbasePrefix: declaration.coinbaseTxPrefix, coinbaseSuffix: declaration.coinbaseTxSuffix, version: declaration.version)
        #expect(parsed.extranonceSize == 4 + 20 && parsed.paid(to: Self.pool) == 2_500_000_000)
        #expect(parsed.coinbase.hasWitness, "the declared coinbase keeps its BIP141 fields")

        let set = client.declared(requestID: declaration.requestID, token: [0xdd])
        guard case let .setCustomJob(custom)? = set.first else { throw JobDeclarationTestFailure("not set: \(set)") }
        #expect(custom.miningJobToken == [0xdd] && custom.prevHash == Self.tipHash && custom.coinbasePrefix == BIP34.heightPush(300))
        #expect(custom.merklePath == Merkle.coinbasePath(transactionIDs: [Self.transaction.txid]))
        #expect(custom.coinbaseTxOutputs == parsed.outputsField, "the outputs the declarator saw are the ones the pool gets")

        let acknowledged = client.customJobSet(requestID: custom.requestID, jobID: 0x8000_0001)
        let submitted = acknowledged.compactMap { command -> [UInt8]? in
            if case let .submitShare(0x8000_0001, 5, 1001, _, extranonce) = command { return extranonce }
            return nil
        }
        #expect(submitted == [[0, 0, 0, 0] + [UInt8](repeating: 9, count: 16)])
    }

    @Test("coinbase-only: the allocation token goes straight to SetCustomMiningJob, no declaration")
    func coinbaseOnly() {
        var client = Self.client(.coinbaseOnly)
        let commands = Self.pooled(&client)
        #expect(!commands.contains { if case .declare = $0 { true } else { false } })
        #expect(!commands.contains { if case .requestTransactions = $0 { true } else { false } })
        #expect(commands.contains { if case let .setCustomJob(job) = $0 { job.miningJobToken == [0xee, 1] } else { false } })
        #expect(commands.contains { if case .allocateToken = $0 { true } else { false } }, "a token in hand for the next job")
    }

    @Test("a block goes to the template provider and, declared, to the declarator with the full extranonce; a second one on the tip does not")
    func blocks() throws {
        var client = Self.client()
        _ = Self.pooled(&client)
        let declared = client.templateProvider(.transactionData(templateID: 1, transactions: [Self.transaction.serialized()]))
        guard case let .declare(declaration, _)? = declared.first(where: { if case .declare = $0 { true } else { false } }) else { throw JobDeclarationTestFailure("not declared") }
        _ = client.declared(requestID: declaration.requestID, token: [0xdd])
        let job = try #require(client.work.latest)
        let devices = [UInt8](repeating: 7, count: 16)
        let block = FoundBlock(
            templateID: 1, version: 0x2000_0000, ntime: 1001, nonce: 42, coinbase: job.blockCoinbase(extranonce: devices), hash: U256(1), user: "alice",
            previousBlockHash: Self.tipHash)
        let commands = client.found(block)
        #expect(commands.contains { if case let .submitSolution(solution) = $0 { solution.headerNonce == 42 } else { false } })
        #expect(commands.contains { command in
            guard case let .pushSolution(push) = command else { return false }
            return push.extranonce == [1, 2, 3, 4, 0, 0, 0, 0] + devices && push.prevHash == Self.tipHash && push.nbits == 0x207f_ffff
        })
        #expect(!client.found(block).contains { if case .submitSolution = $0 { true } else { false } })
    }

    @Test("refusals: stale declarations are tolerated twice on a tip, a third or another code drops the declarator; a prev_hash refusal is retried")
    func refusals() throws {
        var client = Self.client()
        _ = Self.pooled(&client)
        var requests = [UInt32]()
        func declare(_ templateID: UInt64) -> [JobDeclaratorClient.Command] {
            _ = client.templateProvider(.template(Self.template(templateID, future: false)))
            _ = client.token([UInt8(templateID)], outputs: [])
            return client.templateProvider(.transactionData(templateID: templateID, transactions: [Self.transaction.serialized()]))
        }
        for command in declare(1) + declare(2) + declare(3) { if case let .declare(declaration, _) = command { requests.append(declaration.requestID) } }
        try #require(requests.count >= 3)
        #expect(!client.declarationRefused(requestID: requests[0], code: "stale-chain-tip").contains { if case .dropDeclarator = $0 { true } else { false } })
        #expect(!client.declarationRefused(requestID: requests[1], code: "stale-chain-tip").contains { if case .dropDeclarator = $0 { true } else { false } })
        #expect(client.declarationRefused(requestID: requests[2], code: "stale-chain-tip").contains { if case .dropDeclarator = $0 { true } else { false } })

        var other = Self.client(.coinbaseOnly)
        let set = Self.pooled(&other)
        guard case let .setCustomJob(custom)? = set.first(where: { if case .setCustomJob = $0 { true } else { false } }) else { throw JobDeclarationTestFailure("not set") }
        #expect(other.customJobRefused(requestID: custom.requestID, code: "invalid-prev-hash").contains { if case .retry = $0 { true } else { false } })
        guard case let .setCustomJob(again)? = other.retryRefused().first else { throw JobDeclarationTestFailure("not set again") }
        #expect(again.miningJobToken == custom.miningJobToken && again.requestID != custom.requestID)
        #expect(!other.customJobRefused(requestID: again.requestID, code: "invalid-coinbase").contains { if case .retry = $0 { true } else { false } })
    }

    @Test("an expired token is no fallback; three custom jobs refused in a row drop the pool; unasked tokens are capped")
    func tokensAndPoolRefusals() throws {
        var client = Self.client()
        _ = Self.pooled(&client)
        let declared = client.templateProvider(.transactionData(templateID: 1, transactions: [Self.transaction.serialized()]))
        guard case let .declare(declaration, _)? = declared.first(where: { if case .declare = $0 { true } else { false } }) else { throw JobDeclarationTestFailure("not declared") }
        #expect(!client.declarationRefused(requestID: declaration.requestID, code: "stale-mining-job-token").contains { if case .dropDeclarator = $0 { true } else { false } })

        var other = Self.client(.coinbaseOnly)
        _ = Self.pooled(&other)
        var dropped = false
        for templateID in UInt64(2)...4 {
            _ = other.token([UInt8(templateID)], outputs: [])
            let commands = other.templateProvider(.template(Self.template(templateID, future: false)))
            for case let .setCustomJob(custom) in commands {
                dropped = other.customJobRefused(requestID: custom.requestID, code: "invalid-coinbase").contains { if case .dropPool = $0 { true } else { false } }
            }
        }
        #expect(dropped)
        for index in 0..<100 { _ = other.token([UInt8(index)], outputs: []) }
        let set = other.templateProvider(.template(Self.template(9, future: false))).filter { if case .setCustomJob = $0 { true } else { false } }
        #expect(set.count == 1)
    }

    @Test("a new extranonce prefix on the pool channel makes new jobs with it")
    func newPrefix() throws {
        var client = Self.client()
        _ = Self.pooled(&client)
        var moved = Self.channel
        moved.extranoncePrefix = [9, 9, 9, 9]
        let commands = client.poolChannel(moved)
        #expect(commands.contains { if case let .publish(_, changes) = $0 { changes.contains { if case .tip = $0 { true } else { false } } } else { false } })
        let job = try #require(client.work.latest)
        #expect(job.coinbase.prefix.suffix(8) == [9, 9, 9, 9, 0, 0, 0, 0][...])
    }

    @Test("the pool connection ends: the current template is mined solo again")
    func fallback() {
        var client = Self.client()
        _ = Self.pooled(&client)
        let commands = client.poolChannel(nil)
        #expect(!client.isPooled)
        #expect(commands.contains { if case let .publish(_, changes) = $0 { changes.contains { if case .tip = $0 { true } else { false } } } else { false } })
        #expect(Self.paid(client.work.latest, to: Self.solo) == 2_500_000_000)
        #expect(client.work.upstreamTarget == nil)
    }
}

/// A test's unexpected outcome.
struct JobDeclarationTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The job declarator client's two links: to the pool (custom jobs on one extended channel) and to the declarator.
@Suite("job declarator client links: the pool's channel and the declarator")
struct JobDeclarationLinkTests {
    static let setup = SetupNegotiation.request(.mining, endpointHost: "127.0.0.1", endpointPort: 3333, firmware: "test")

    @Test("the pool link sets up with REQUIRES_WORK_SELECTION, opens one extended channel and reports it, its target and custom job answers")
    func poolLink() {
        var session = CustomJobUpstreamSession(setup: Self.setup, user: "farm", nominalHashRate: 1e12, extranonceSize: 16)
        guard case let .send(.setupConnection(setup))? = session.start(now: 0).first else { Issue.record("no SetupConnection"); return }
        #expect(setup.flags & MiningSetupFlags.requiresWorkSelection.rawValue != 0)
        let open = session.receive(.setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: 0)), now: 0)
        guard case let .send(.openExtendedMiningChannel(request))? = open.first else { Issue.record("no channel request"); return }
        #expect(request.minExtranonceSize == 16 && request.userIdentity == "farm")
        let success = OpenExtendedMiningChannelSuccess(requestID: 1, channelID: 4, target: .max, extranonceSize: 20, extranoncePrefix: [1, 2], groupChannelID: 0)
        let channel = CustomJobUpstreamSession.Channel(id: 4, target: .max, extranoncePrefix: [1, 2], extranonceSize: 20)
        #expect(session.receive(.openExtendedMiningChannelSuccess(success), now: 0).contains(.effect(.channel(channel))))
        var harder = channel
        harder.target = U256(5)
        #expect(session.receive(.setTarget(SetTarget(channelID: 4, maximumTarget: U256(5))), now: 0) == [.effect(.channel(harder))])
        #expect(session.receive(.setCustomMiningJobSuccess(SetCustomMiningJobSuccess(channelID: 4, requestID: 9, jobID: 0x8000_0002)), now: 0)
            == [.effect(.jobSet(requestID: 9, jobID: 0x8000_0002))])
        let first = session.submit(jobID: 0x8000_0002, nonce: 1, ntime: 2, version: 3, extranonce: [0])
        let second = session.submit(jobID: 0x8000_0002, nonce: 1, ntime: 2, version: 3, extranonce: [0])
        guard case let .send(.submitSharesExtended(a))? = first.first, case let .send(.submitSharesExtended(b))? = second.first else {
            Issue.record("no shares"); return
        }
        #expect(a.channelID == 4 && b.sequenceNumber == a.sequenceNumber + 1)
        // The pool's own jobs are not the client's.
        #expect(session.receive(.newExtendedMiningJob(NewExtendedMiningJob()), now: 0).isEmpty)
        // A new prefix keeps the full extranonce's size.
        var moved = harder
        moved.extranoncePrefix = [7, 7, 7]
        moved.extranonceSize = 19
        #expect(session.receive(.setExtranoncePrefix(SetExtranoncePrefix(channelID: 4, extranoncePrefix: [7, 7, 7])), now: 0) == [.effect(.channel(moved))])
    }

    @Test("a pool channel with fewer extranonce bytes than the devices need closes the link")
    func smallChannel() {
        var session = CustomJobUpstreamSession(setup: Self.setup, user: "farm", nominalHashRate: 1e12, extranonceSize: 16)
        _ = session.start(now: 0)
        _ = session.receive(.setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: 0)), now: 0)
        let success = OpenExtendedMiningChannelSuccess(requestID: 1, channelID: 4, target: .max, extranonceSize: 8, extranoncePrefix: [1], groupChannelID: 0)
        #expect(session.receive(.openExtendedMiningChannelSuccess(success), now: 0).contains { if case .close = $0 { true } else { false } })
    }

    @Test("the declarator link answers ProvideMissingTransactions from the declaration's transactions, and nothing for unknown ones")
    func declaratorLink() {
        let setup = SetupNegotiation.request(.jobDeclaration, flags: 1, endpointHost: "127.0.0.1", endpointPort: 34264, firmware: "test")
        var session = JobDeclaratorClientSession(setup: setup, user: "farm")
        #expect(session.allocate().isEmpty, "nothing before SetupConnection.Success")
        #expect(session.receive(.setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: 0)), now: 0).contains(.effect(.ready)))
        guard case let .send(.allocateMiningJobToken(request))? = session.allocate().first else { Issue.record("no request"); return }
        #expect(request.userIdentifier == "farm")
        _ = session.declare(DeclareMiningJob(requestID: 7, miningJobToken: [], version: 0, coinbaseTxPrefix: [], coinbaseTxSuffix: [], wtxidList: [], excessData: []),
                            transactions: [[1], [2], [3]])
        #expect(session.receive(.provideMissingTransactions(ProvideMissingTransactions(requestID: 7, unknownTxPositionList: [2, 0])), now: 0).first
            == .send(.provideMissingTransactionsSuccess(ProvideMissingTransactionsSuccess(requestID: 7, transactionList: [[3], [1]]))))
        #expect(session.receive(.provideMissingTransactions(ProvideMissingTransactions(requestID: 7, unknownTxPositionList: [3])), now: 0)
            .allSatisfy { if case .send = $0 { false } else { true } })
        #expect(session.receive(.provideMissingTransactions(ProvideMissingTransactions(requestID: 7, unknownTxPositionList: [1, 1])), now: 0)
            .allSatisfy { if case .send = $0 { false } else { true } }, "a position asked twice is not answered")
        #expect(session.receive(.declareMiningJobError(DeclareMiningJobError(requestID: 7, errorCode: "stale-chain-tip", errorDetails: [])), now: 0)
            == [.effect(.refused(requestID: 7, code: "stale-chain-tip"))])
    }
}
