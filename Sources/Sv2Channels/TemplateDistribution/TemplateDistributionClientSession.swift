import Sv2Messages
import Sv2Sessions

/// The client side of one Template Distribution connection (spec 7) as a ``ConnectionSession``, for a pool or a
/// job declaration client: sets the connection up, states its coinbase needs (CoinbaseOutputConstraints), passes
/// NewTemplate and SetNewPrevHash on as effects, and sends the solutions it is given.
public struct TemplateDistributionClientSession: ConnectionSession {
    /// What the provider sent.
    public enum Effect: Sendable, Hashable {
        /// A new template (future or for the current tip).
        case template(NewTemplate)
        /// A new tip, activating a future template.
        case prevHash(TemplateSetNewPrevHash)
        /// The transactions of a template, as RequestTransactionData asked (nil: the provider has no longer got it).
        case transactionData(templateID: UInt64, transactions: [[UInt8]]?)
    }

    /// The session's actions.
    public typealias Action = SessionAction<Sv2Message, Effect>

    private enum State: Sendable {
        case idle
        case awaitingSetup
        case setUp
        case closed
    }

    private let setup: SetupConnection
    private let constraints: CoinbaseOutputConstraints
    private var state = State.idle

    /// A session that asks, with `setup`, for templates with room for `constraints`.
    public init(setup: SetupConnection, constraints: CoinbaseOutputConstraints) {
        self.setup = setup
        self.constraints = constraints
    }

    /// True once the provider accepted the connection.
    public var isSetUp: Bool {
        if case .setUp = state { return true }
        return false
    }

    /// SetupConnection for Template Distribution.
    public mutating func start(now: Timestamp) -> [Action] {
        guard case .idle = state else { return [] }
        state = .awaitingSetup
        return [.send(.setupConnection(setup))]
    }

    /// Handles one message from the provider.
    public mutating func receive(_ message: Sv2Message, now: Timestamp) -> [Action] {
        switch (state, message) {
        case (.awaitingSetup, .setupConnectionSuccess):
            state = .setUp
            return [.info("template provider connected"), .send(.coinbaseOutputConstraints(constraints))]
        case let (.awaitingSetup, .setupConnectionError(error)):
            state = .closed
            return [.close("the template provider refused the connection: \(error.errorCode)")]
        case let (.setUp, .newTemplate(template)):
            return [.effect(.template(template))]
        case let (.setUp, .templateSetNewPrevHash(prevHash)):
            return [.effect(.prevHash(prevHash))]
        case let (.setUp, .requestTransactionDataSuccess(data)):
            return [.effect(.transactionData(templateID: data.templateID, transactions: data.transactionList))]
        case let (.setUp, .requestTransactionDataError(error)):
            return [.effect(.transactionData(templateID: error.templateID, transactions: nil)),
                    .warning("RequestTransactionData refused: \(error.errorCode)", ["template": "\(error.templateID)"])]
        case (.closed, _):
            return []
        default:
            return [.warning("the template provider sent \(message.name): ignored")]
        }
    }

    /// Asks for the transactions of template `id` (RequestTransactionData), once set up.
    public mutating func requestTransactionData(templateID id: UInt64) -> [Action] {
        guard isSetUp else { return [] }
        return [.send(.requestTransactionData(RequestTransactionData(templateID: id)))]
    }

    /// Sends `solution` to the provider (nothing before the connection is set up).
    public mutating func submit(_ solution: SubmitSolution) -> [Action] {
        guard isSetUp else { return [.log(SessionLog(.error, "a solution could not be sent: the template provider connection is not set up"))] }
        return [.send(.submitSolution(solution))]
    }
}
