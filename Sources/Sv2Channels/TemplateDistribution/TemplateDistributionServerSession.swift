import Sv2Messages
import Sv2Sessions

/// The server side of one Template Distribution connection (spec 7) as a ``ConnectionSession``.
///
/// SetupConnection must come first and ask for protocol 2, version 2; then the client sends
/// CoinbaseOutputConstraints (again whenever its needs change), after which it gets templates; it may ask for a
/// template's transactions and submit solutions.
public struct TemplateDistributionServerSession: ConnectionSession {
    /// What the template provider's glue does beyond sending and logging.
    public enum Effect: Sendable, Hashable {
        /// The client's coinbase needs: (re)start sending it templates with room for them, the current one first.
        case useConstraints(maximumAdditionalSize: UInt32, maximumAdditionalSigops: UInt16)
        /// Answer RequestTransactionData for this template.
        case requestTransactionData(templateID: UInt64)
        /// Assemble and submit the block of this solution.
        case submitSolution(SubmitSolution)
    }

    /// The session's actions.
    public typealias Action = SessionAction<Sv2Message, Effect>

    private enum State: Sendable {
        case awaitingSetup
        case setUp
        case closed
    }

    private var state = State.awaitingSetup
    /// True once the client stated its coinbase needs: it receives every template from then on.
    public private(set) var receivesTemplates = false

    /// A session waiting for SetupConnection.
    public init() {}

    /// True once SetupConnection succeeded and until the session closes.
    public var isSetUp: Bool {
        if case .setUp = state { return true }
        return false
    }

    /// Handles one message from the client.
    public mutating func receive(_ message: Sv2Message, now: Timestamp) -> [Action] {
        switch state {
        case .closed:
            return []
        case .awaitingSetup:
            let (accepted, actions): (_, [Action]) = SetupNegotiation.serve(firstMessage: message, protocol: .templateDistribution, supported: 0)
            state = accepted == nil ? .closed : .setUp
            return actions
        case .setUp:
            switch message {
            case let .coinbaseOutputConstraints(constraints):
                receivesTemplates = true
                return [.effect(.useConstraints(
                    maximumAdditionalSize: constraints.coinbaseOutputMaxAdditionalSize,
                    maximumAdditionalSigops: constraints.coinbaseOutputMaxAdditionalSigops))]
            case let .requestTransactionData(request):
                return [.effect(.requestTransactionData(templateID: request.templateID))]
            case let .submitSolution(solution):
                return [.effect(.submitSolution(solution))]
            case .setupConnection:
                return [.warning("a second SetupConnection: ignored")]
            default:
                return [.warning("\(message.name) is not a Template Distribution client message: ignored")]
            }
        }
    }
}
