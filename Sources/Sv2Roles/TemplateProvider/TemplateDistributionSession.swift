import Sv2Messages

/// The server side of one Template Distribution connection (spec 7) as a state machine: messages in, actions out.
///
/// SetupConnection must come first and ask for protocol 2, version 2; then the client sends
/// CoinbaseOutputConstraints (again whenever its needs change), after which it gets templates; it may ask for a
/// template's transactions and submit solutions.
public struct TemplateDistributionSession: Sendable {
    /// The Template Distribution protocol number in SetupConnection.
    public static let protocolNumber: UInt8 = 2
    /// The only protocol version.
    public static let version: UInt16 = 2

    /// What the I/O glue must do.
    public enum Action: Sendable, Hashable {
        /// Send this message to the client.
        case send(Sv2Message)
        /// The client's coinbase needs: (re)start sending it templates with room for them.
        case useConstraints(maximumAdditionalSize: UInt32, maximumAdditionalSigops: UInt16)
        /// Answer RequestTransactionData for this template.
        case requestTransactionData(templateID: UInt64)
        /// Assemble and submit the block of this solution.
        case submitSolution(SubmitSolution)
        /// Log this and otherwise ignore the message.
        case ignore(String)
        /// Close the connection for this reason (after sending what came before).
        case close(String)
    }

    private enum State: Sendable {
        case awaitingSetup
        case setUp
        case closed
    }

    private var state = State.awaitingSetup

    /// A session waiting for SetupConnection.
    public init() {}

    /// True once SetupConnection succeeded and until the session closes.
    public var isSetUp: Bool {
        if case .setUp = state { return true }
        return false
    }

    /// Handles one message from the client.
    public mutating func receive(_ message: Sv2Message) -> [Action] {
        switch state {
        case .closed:
            return []
        case .awaitingSetup:
            guard case let .setupConnection(setup) = message else {
                state = .closed
                return [.close("the first message must be SetupConnection, got \(message.name)")]
            }
            guard setup.protocol == Self.protocolNumber else {
                state = .closed
                return [
                    .send(.setupConnectionError(SetupConnectionError(flags: 0, errorCode: "unsupported-protocol"))),
                    .close("SetupConnection for protocol \(setup.protocol); this server speaks Template Distribution (2)"),
                ]
            }
            guard setup.minVersion <= Self.version, Self.version <= setup.maxVersion else {
                state = .closed
                return [
                    .send(.setupConnectionError(SetupConnectionError(flags: 0, errorCode: "protocol-version-mismatch"))),
                    .close("SetupConnection versions \(setup.minVersion)...\(setup.maxVersion) exclude 2"),
                ]
            }
            state = .setUp
            return [.send(.setupConnectionSuccess(SetupConnectionSuccess(usedVersion: Self.version, flags: 0)))]
        case .setUp:
            switch message {
            case let .coinbaseOutputConstraints(constraints):
                return [.useConstraints(
                    maximumAdditionalSize: constraints.coinbaseOutputMaxAdditionalSize,
                    maximumAdditionalSigops: constraints.coinbaseOutputMaxAdditionalSigops)]
            case let .requestTransactionData(request):
                return [.requestTransactionData(templateID: request.templateID)]
            case let .submitSolution(solution):
                return [.submitSolution(solution)]
            case .setupConnection:
                return [.ignore("a second SetupConnection")]
            default:
                return [.ignore("\(message.name) is not a Template Distribution client message")]
            }
        }
    }
}
