import Sv2Binary
import Sv2Messages
import Sv2Sessions

/// The job declarator client's connection to the pool's declarator (spec 6) as a ``ConnectionSession``:
/// SetupConnection for Job Declaration (DECLARE_TX_DATA in full-template mode), tokens asked for and handed over,
/// declarations sent with their transactions kept for ProvideMissingTransactions, answers handed over, solutions
/// pushed.
public struct JobDeclaratorClientSession: ConnectionSession {
    /// What the declarator said, for the job declarator client.
    public enum Effect: Sendable, Hashable {
        /// SetupConnection was accepted: tokens may be asked for.
        case ready
        /// AllocateMiningJobToken.Success: a token and the pool's outputs (CompactSize-prefixed).
        case token([UInt8], outputs: [UInt8])
        /// DeclareMiningJob.Success for `requestID`, with the token for SetCustomMiningJob.
        case declared(requestID: UInt32, token: [UInt8])
        /// DeclareMiningJob.Error for `requestID`.
        case refused(requestID: UInt32, code: String)
    }

    /// The session's actions.
    public typealias Action = SessionAction<Sv2Message, Effect>

    /// Declarations whose transactions are kept for ProvideMissingTransactions.
    static let declarationsKept = 8
    /// Bytes of transactions one ProvideMissingTransactions.Success carries at most (a frame holds 2^24 - 1).
    static let maximumAnswerSize = (1 << 24) - 1024

    private let setup: SetupConnection
    private let user: Sv2String
    private var ready = false
    private var nextRequest: UInt32 = 1
    private var transactions = [(requestID: UInt32, list: [[UInt8]])]()

    /// A session that sets up with `setup` and asks for tokens as `user`.
    public init(setup: SetupConnection, user: String) {
        self.setup = setup
        self.user = Sv2String(user)
    }

    /// True once the declarator accepted SetupConnection.
    public var isSetUp: Bool { ready }

    /// SetupConnection.
    public mutating func start(now: Timestamp) -> [Action] {
        [.send(.setupConnection(setup))]
    }

    /// AllocateMiningJobToken.
    public mutating func allocate() -> [Action] {
        guard ready else { return [] }
        defer { nextRequest &+= 1 }
        return [.send(.allocateMiningJobToken(AllocateMiningJobToken(userIdentifier: user, requestID: nextRequest)))]
    }

    /// Sends `declaration`, keeping `transactions` (its transactions in wtxid-list order) for ProvideMissingTransactions.
    public mutating func declare(_ declaration: DeclareMiningJob, transactions list: [[UInt8]]) -> [Action] {
        guard ready else { return [] }
        transactions.append((declaration.requestID, list))
        if transactions.count > Self.declarationsKept { transactions.removeFirst() }
        return [.send(.declareMiningJob(declaration))]
    }

    /// PushSolution.
    public mutating func push(_ solution: PushSolution) -> [Action] {
        ready ? [.send(.pushSolution(solution))] : []
    }

    /// A message from the declarator.
    public mutating func receive(_ message: Sv2Message, now: Timestamp) -> [Action] {
        guard ready else {
            switch message {
            case .setupConnectionSuccess:
                ready = true
                return [.info("job declarator connected"), .effect(.ready)]
            case let .setupConnectionError(error):
                return [.close("the job declarator refused SetupConnection: \(error.errorCode)")]
            default:
                return [.warning("\(message.name) before SetupConnection.Success: ignored")]
            }
        }
        switch message {
        case let .allocateMiningJobTokenSuccess(success):
            return [.effect(.token(success.miningJobToken, outputs: success.coinbaseTxOutputs))]
        case let .declareMiningJobSuccess(success):
            return [.effect(.declared(requestID: success.requestID, token: success.newMiningJobToken))]
        case let .declareMiningJobError(error):
            return [.effect(.refused(requestID: error.requestID, code: error.errorCode.description))]
        case let .provideMissingTransactions(request):
            // Positions count the declared transactions without the coinbase (spec 6.4.7).
            let positions = request.unknownTxPositionList
            guard let list = transactions.last(where: { $0.requestID == request.requestID })?.list,
                  positions.allSatisfy({ Int($0) < list.count }), Set(positions).count == positions.count
            else {
                return [.warning("ProvideMissingTransactions for an unknown declaration, position or a position twice: ignored", ["request": "\(request.requestID)"])]
            }
            // One frame carries the answer.
            guard positions.reduce(0, { $0 + list[Int($1)].count + 3 }) < Self.maximumAnswerSize else {
                return [.warning("ProvideMissingTransactions asks for more than one frame holds: ignored", ["request": "\(request.requestID)"])]
            }
            return [
                .send(.provideMissingTransactionsSuccess(ProvideMissingTransactionsSuccess(
                    requestID: request.requestID, transactionList: request.unknownTxPositionList.map { list[Int($0)] }))),
                .info("the declarator asked for \(request.unknownTxPositionList.count) transactions", ["request": "\(request.requestID)"]),
            ]
        default:
            return [.warning("\(message.name) is not a Job Declaration server message: ignored")]
        }
    }
}
