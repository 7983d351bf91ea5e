import Bitcoin
import Sv2Binary
import Sv2Crypto
import Sv2Messages
import Sv2Sessions

/// The error codes of DeclareMiningJob.Error (spec 6.4.6 leaves them to implementations; the token codes are the
/// pool's, ``MiningJobToken/Refusal/code``).
public enum JobDeclarationErrorCode {
    /// The coinbase does not parse, its extranonce is over 32 bytes, or it does not pay the pool's payout output.
    public static let invalidCoinbase: Sv2String = "invalid-coinbase"
    /// The wtxid list names a transaction twice.
    public static let invalidWtxidList: Sv2String = "invalid-wtxid-list"
    /// A transaction of ProvideMissingTransactions.Success does not parse, or is not the one its wtxid names.
    public static let invalidTransaction: Sv2String = "invalid-transaction"
    /// The job is not built on the node's tip (its BIP34 height or previous block).
    public static let staleChainTip: Sv2String = "stale-chain-tip"
    /// The node refused the block the job makes (error_details carries its reason).
    public static let invalidJob: Sv2String = "invalid-job"
    /// The declarator could not ask its node.
    public static let nodeUnavailable: Sv2String = "node-unavailable"
    /// Too many declarations of this connection were being checked at once: the oldest gives way to a new one.
    public static let tooManyPending: Sv2String = "too-many-pending-declarations"
}

/// The job declarator server's side of one Job Declaration connection (spec 6) as a ``ConnectionSession``.
///
/// SetupConnection for protocol 1 comes first (DECLARE_TX_DATA is accepted; DeclareMiningJob is served with or
/// without it). AllocateMiningJobToken gets a ``MiningJobToken`` of kind allocation and the pool's payout output.
/// DeclareMiningJob is checked in steps, each an effect the glue answers with ``answer(_:for:now:)``: the
/// token and coinbase here, then the wtxids against the node's mempool (``Effect/lookUp(_:wtxids:)``),
/// ProvideMissingTransactions for the unknown ones (positions 0-indexed without the coinbase, spec 6.4.7) and
/// their wtxids checked, then the block the job makes against the node's tip (``Effect/check(_:job:)``).
/// DeclareMiningJob.Success carries a declared-job token that commits to that tip, the merkle path and the outputs,
/// which the pool checks on SetCustomMiningJob. PushSolution is assembled with the most recent declared job on its
/// previous block and nBits whose target it meets (the spec's "most recently sent", then older ones) and submitted,
/// one per tip. AllocateMiningJobToken is rate-limited (``Configuration/tokenBurst``).
public struct JobDeclaratorSession: ConnectionSession {
    /// A declaration being checked: the client's request_id and the session's own count of declarations, so that
    /// the node's late answer for a superseded declaration is not taken for a later one reusing its request_id.
    public struct Declaration: Hashable, Sendable {
        /// The client's request_id.
        public var requestID: UInt32
        /// The session's count.
        public var serial: UInt64
    }

    /// What the declarator's glue does beyond sending and logging.
    public enum Effect: Sendable, Hashable {
        /// Look these wtxids up in the node's mempool; answer with ``NodeAnswer/transactions(_:)``.
        case lookUp(Declaration, wtxids: [U256])
        /// Check the block this job makes on the node's tip (every rule but the proof of work); answer with
        /// ``NodeAnswer/proposal(tip:bits:rejection:)``.
        case check(Declaration, job: DeclaredJob)
        /// Submit this block to the node.
        case submit(Block)
    }

    /// The node's answer to an effect.
    public enum NodeAnswer: Sendable, Hashable {
        /// The mempool's transaction for each wtxid looked up, nil where it has none.
        case transactions([Transaction?])
        /// The tip the job was checked on with the nBits of its next block, and the node's reason when it refused the
        /// block (nil: valid).
        case proposal(tip: U256, bits: UInt32, rejection: String?)
        /// The node could not be asked.
        case unavailable(String)
    }

    /// Settings shared by every connection.
    public struct Configuration: Sendable {
        /// The key tokens are made with, shared with the pool.
        public var tokenKey: [UInt8]
        /// The pool's payout output script (the first output of AllocateMiningJobToken.Success).
        public var payoutScript: [UInt8]
        /// Seconds a token stays valid (default 600; the pool takes them up to a day).
        public var tokenLifetime: UInt32
        /// Declarations checked at once on a connection (default 4); a further one supersedes the oldest.
        public var maximumPending: Int
        /// Tokens a connection may ask for in a burst (default 32), and per second after it (default 4): spec 6.4.2
        /// has AllocateMiningJobToken "rate limited to a rather slow rate". Every declaration takes a token, so this
        /// limits declarations too.
        public var tokenBurst: Double
        /// See ``tokenBurst``.
        public var tokensPerSecond: Double

        /// Settings with the defaults.
        public init(
            tokenKey: [UInt8], payoutScript: [UInt8], tokenLifetime: UInt32 = 600, maximumPending: Int = 4, tokenBurst: Double = 32,
            tokensPerSecond: Double = 4
        ) {
            self.tokenKey = tokenKey
            self.payoutScript = payoutScript
            self.tokenLifetime = tokenLifetime
            self.maximumPending = maximumPending
            self.tokenBurst = tokenBurst
            self.tokensPerSecond = tokensPerSecond
        }
    }

    /// The session's actions.
    public typealias Action = SessionAction<Sv2Message, Effect>

    private enum State: Sendable {
        case awaitingSetup
        case setUp
        case closed
    }

    /// A declaration being checked.
    private struct Pending: Sendable {
        var job: DeclaredJob
        var wtxids: [U256]
        var found: [Transaction?] = []
        /// Positions asked for with ProvideMissingTransactions, while waiting for them.
        var missing: [Int]?
        /// Declarations of the connection counted from 0: the lowest pending one is the oldest.
        var order: UInt64
    }

    /// Declared jobs kept for PushSolution.
    private static let jobsKept = 8
    /// The most output bytes a coinbase may carry: what the pool allows in SetCustomMiningJob.
    private static let maximumOutputsSize = PoolSession.maximumCustomOutputsSize

    private let configuration: Configuration
    private var random: any Sv2RandomSource & Sendable
    private var state = State.awaitingSetup
    private var pending = [UInt32: Pending]()
    private var nextOrder: UInt64 = 0
    private var declared = [(tip: U256, bits: UInt32, job: DeclaredJob)]()
    /// The tokens declared with.
    private var usedTokens = UsedMiningJobTokens()
    /// Tokens the connection may still ask for now, and when that was counted.
    private var tokenCredit: Double
    private var creditCounted: Timestamp?
    /// The previous block of the last block pushed to the node: one per tip.
    private var lastPushParent: U256?

    /// A session waiting for SetupConnection; token nonces are drawn from `random`.
    public init(configuration: Configuration, random: any Sv2RandomSource & Sendable) {
        self.configuration = configuration
        self.random = random
        tokenCredit = configuration.tokenBurst
    }

    /// True once SetupConnection succeeded and until the session closes.
    public var isSetUp: Bool {
        if case .setUp = state { return true }
        return false
    }

    /// The pool's outputs as AllocateMiningJobToken.Success carries them: a CompactSize count, then the payout
    /// output with 0 satoshis (spec 6.4.3).
    public var poolOutputs: [UInt8] {
        TransactionOutput.encodeCountedList([TransactionOutput(value: 0, scriptPubKey: configuration.payoutScript)])
    }

    /// Handles one message from the client.
    public mutating func receive(_ message: Sv2Message, now: Timestamp) -> [Action] {
        switch state {
        case .closed:
            return []
        case .awaitingSetup:
            let (accepted, actions): (_, [Action]) = SetupNegotiation.serve(
                firstMessage: message, protocol: .jobDeclaration, supported: JobDeclarationSetupFlags.declareTransactionData.rawValue)
            state = accepted == nil ? .closed : .setUp
            return actions
        case .setUp:
            switch message {
            case let .allocateMiningJobToken(request):
                if let counted = creditCounted {
                    tokenCredit = min(configuration.tokenBurst, tokenCredit + max(0, now.seconds - counted.seconds) * configuration.tokensPerSecond)
                }
                creditCounted = now
                guard tokenCredit >= 1 else {
                    return [.warning("AllocateMiningJobToken over the rate limit: ignored", ["per second": "\(configuration.tokensPerSecond)"])]
                }
                tokenCredit -= 1
                let token = makeToken(.allocation, commitment: MiningJobToken.userCommitment(request.userIdentifier), now: now)
                return [.send(.allocateMiningJobTokenSuccess(AllocateMiningJobTokenSuccess(
                    requestID: request.requestID, miningJobToken: token, coinbaseTxOutputs: poolOutputs)))]
            case let .declareMiningJob(declaration):
                return declare(declaration, now: now)
            case let .provideMissingTransactionsSuccess(provided):
                return receiveMissing(provided)
            case let .pushSolution(solution):
                return push(solution)
            case .setupConnection:
                return [.warning("a second SetupConnection: ignored")]
            default:
                return [.warning("\(message.name) is not a Job Declaration client message: ignored")]
            }
        }
    }

    /// The node's answer to the effect of `declaration` (nothing when it was superseded or refused meanwhile).
    public mutating func answer(_ answer: NodeAnswer, for ticket: Declaration, now: Timestamp) -> [Action] {
        let requestID = ticket.requestID
        guard var declaration = pending[requestID], declaration.order == ticket.serial else { return [] }
        switch answer {
        case let .unavailable(reason):
            return refuse(requestID, JobDeclarationErrorCode.nodeUnavailable, "the node could not be asked: \(reason)")
        case let .transactions(found):
            guard found.count == declaration.wtxids.count else {
                return refuse(requestID, JobDeclarationErrorCode.nodeUnavailable, "the node answered for \(found.count) of \(declaration.wtxids.count) transactions")
            }
            declaration.found = found
            let missing = found.indices.filter { found[$0] == nil }
            guard missing.isEmpty else {
                declaration.missing = missing
                pending[requestID] = declaration
                return [
                    .send(.provideMissingTransactions(ProvideMissingTransactions(requestID: requestID, unknownTxPositionList: missing.map { UInt16($0) }))),
                    .debug("DeclareMiningJob \(requestID): \(missing.count) of \(found.count) transactions unknown, asked for them"),
                ]
            }
            pending[requestID] = declaration
            return check(requestID)
        case let .proposal(tip, bits, rejection):
            pending[requestID] = nil
            if let rejection {
                return refuseDeclared(
                    requestID, Self.isStale(rejection) ? JobDeclarationErrorCode.staleChainTip : JobDeclarationErrorCode.invalidJob,
                    "the node refuses the job's block: \(rejection)")
            }
            let job = declaration.job
            let commitment = MiningJobToken.declaredJobCommitment(previousBlockHash: tip, merklePath: job.merklePath, outputs: job.outputsField)
            declared.append((tip, bits, job))
            if declared.count > Self.jobsKept { declared.removeFirst() }
            return [
                .send(.declareMiningJobSuccess(DeclareMiningJobSuccess(requestID: requestID, newMiningJobToken: makeToken(.declaredJob, commitment: commitment, now: now)))),
                .info("DeclareMiningJob \(requestID) accepted", ["transactions": "\(job.transactions.count)", "tip": tip.displayHex]),
            ]
        }
    }

    /// Whether a node's reason for refusing a job's block says the job is not on the node's tip (its BIP34 height or
    /// previous block): the job is stale, or the node has not reached its tip yet.
    public static func isStale(_ rejection: String) -> Bool {
        ["bad-cb-height", "prev-blk-not-found", "inconclusive", "inconclusive-not-best-prevblk"].contains(rejection)
    }

    // MARK: - Declarations

    private mutating func makeToken(_ kind: MiningJobToken.Kind, commitment: [UInt8], now: Timestamp) -> [UInt8] {
        let expiry = UInt32(clamping: UInt64(now.unixSeconds) + UInt64(configuration.tokenLifetime))
        return MiningJobToken(kind: kind, expiry: expiry, nonce: random.bytes(8), commitment: commitment).encoded(key: configuration.tokenKey)
    }

    private mutating func declare(_ declaration: DeclareMiningJob, now: Timestamp) -> [Action] {
        let id = declaration.requestID
        guard pending[id] == nil else {
            return [.warning("DeclareMiningJob \(id) while one with that request_id is being checked: ignored")]
        }
        // The newest declaration matters most (a client declares each new tip's job): the oldest one makes room.
        var superseded = [Action]()
        if pending.count >= configuration.maximumPending, let oldest = pending.min(by: { $0.value.order < $1.value.order })?.key {
            superseded = refuse(oldest, JobDeclarationErrorCode.tooManyPending, "\(configuration.maximumPending) declarations were being checked: superseded by \(id)")
        }
        return superseded + check(declaration, now: now)
    }

    private mutating func check(_ declaration: DeclareMiningJob, now: Timestamp) -> [Action] {
        let id = declaration.requestID
        let token = MiningJobToken.decode(declaration.miningJobToken, key: configuration.tokenKey, now: now.unixSeconds)
            .flatMap { token -> Result<MiningJobToken, MiningJobToken.Refusal> in
                guard token.kind == .allocation else { return .failure(.mismatch) }
                return usedTokens.contains(token) ? .failure(.reused) : .success(token)
            }
        let accepted: MiningJobToken
        switch token {
        case let .failure(refusal): return refuse(id, refusal.code, refusal.description)
        case let .success(valid): accepted = valid
        }
        let job: DeclaredJob
        do {
            job = try DeclaredJob(coinbasePrefix: declaration.coinbaseTxPrefix, coinbaseSuffix: declaration.coinbaseTxSuffix, version: declaration.version)
        } catch {
            return refuse(id, JobDeclarationErrorCode.invalidCoinbase, "the coinbase does not parse: \(error)")
        }
        guard job.paid(to: configuration.payoutScript) > 0 else {
            return refuse(id, JobDeclarationErrorCode.invalidCoinbase, "the coinbase pays nothing to the pool's payout output")
        }
        guard job.outputsField.count <= Self.maximumOutputsSize else {
            return refuse(id, JobDeclarationErrorCode.invalidCoinbase, "the coinbase outputs take more than \(Self.maximumOutputsSize) bytes")
        }
        guard Set(declaration.wtxidList).count == declaration.wtxidList.count else {
            return refuse(id, JobDeclarationErrorCode.invalidWtxidList, "the wtxid list names a transaction twice")
        }
        usedTokens.insert(accepted, now: now.unixSeconds)
        pending[id] = Pending(job: job, wtxids: declaration.wtxidList, order: nextOrder)
        nextOrder &+= 1
        guard !declaration.wtxidList.isEmpty else { return check(id) }
        return [.effect(.lookUp(Declaration(requestID: id, serial: nextOrder - 1), wtxids: declaration.wtxidList))]
    }

    private mutating func receiveMissing(_ provided: ProvideMissingTransactionsSuccess) -> [Action] {
        let id = provided.requestID
        guard var declaration = pending[id], let missing = declaration.missing else {
            return [.warning("ProvideMissingTransactions.Success \(id) answers no request: ignored")]
        }
        guard provided.transactionList.count == missing.count else {
            return refuse(id, JobDeclarationErrorCode.invalidTransaction, "\(provided.transactionList.count) transactions for \(missing.count) positions")
        }
        for (position, bytes) in zip(missing, provided.transactionList) {
            guard let transaction = try? Transaction(bytes: bytes) else {
                return refuse(id, JobDeclarationErrorCode.invalidTransaction, "the transaction for position \(position) does not parse")
            }
            guard transaction.wtxid == declaration.wtxids[position] else {
                return refuse(id, JobDeclarationErrorCode.invalidTransaction, "the transaction for position \(position) is not the one its wtxid names")
            }
            declaration.found[position] = transaction
        }
        declaration.missing = nil
        pending[id] = declaration
        return check(id)
    }

    /// Every transaction is known: the block the job makes goes to the node.
    private mutating func check(_ id: UInt32) -> [Action] {
        guard var declaration = pending[id] else { return [] }
        declaration.job.transactions = declaration.found.compactMap { $0 }
        pending[id] = declaration
        return [.effect(.check(Declaration(requestID: id, serial: declaration.order), job: declaration.job))]
    }

    private mutating func refuse(_ id: UInt32, _ code: Sv2String, _ reason: String) -> [Action] {
        pending[id] = nil
        return refuseDeclared(id, code, reason)
    }

    private func refuseDeclared(_ id: UInt32, _ code: Sv2String, _ reason: String) -> [Action] {
        [.send(.declareMiningJobError(DeclareMiningJobError(requestID: id, errorCode: code, errorDetails: Array(reason.utf8.prefix(65535))))),
         .warning("DeclareMiningJob \(id) refused: \(reason)", ["code": code.description])]
    }

    // MARK: - Solutions

    private mutating func push(_ solution: PushSolution) -> [Action] {
        guard lastPushParent != solution.prevHash else {
            return [.debug("another PushSolution on \(solution.prevHash.displayHex): not submitted (one block per tip)")]
        }
        var candidate: Block?
        for (tip, bits, job) in declared.reversed() where tip == solution.prevHash && bits == solution.nbits {
            guard let block = try? job.block(
                previousBlockHash: tip, version: solution.version, time: solution.ntime, bits: bits, nonce: solution.nonce,
                extranonce: solution.extranonce),
                let target = try? CompactTarget(bits: bits).target(), block.hash <= target
            else { continue }
            candidate = block
            break
        }
        guard let candidate else {
            return [.warning("PushSolution meets no declared job on its previous block and nBits: not submitted", ["prev_hash": solution.prevHash.displayHex])]
        }
        lastPushParent = solution.prevHash
        return [.effect(.submit(candidate)), .info("PushSolution: block \(candidate.hash.displayHex) to the node")]
    }
}
