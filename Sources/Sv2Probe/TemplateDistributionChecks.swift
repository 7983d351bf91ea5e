import Sv2Binary
import Sv2Messages

/// Checks of a template provider (7): templates and tips after CoinbaseOutputConstraints, transaction data, and
/// solutions.
enum TemplateDistributionChecks {
    static let templateDistribution: Set<Sv2SubProtocol> = [.templateDistribution]

    static let all: [ProbeCheck] = [
        ProbeCheck("td-template-and-tip", "7.1, 7.2, 7.3", templateDistribution) { opener in
            let conversation = try await opener.conversation()
            let (future, tip) = try await current(conversation)
            return .pass("future NewTemplate \(future) then SetNewPrevHash for it (template \(tip))")
        },
        ProbeCheck("td-request-transaction-data", "7.4, 7.5", templateDistribution) { opener in
            let conversation = try await opener.conversation()
            let (_, template) = try await current(conversation)
            let asked = conversation.view.log.count
            try await conversation.send(.requestTransactionData(RequestTransactionData(templateID: template)))
            let answer = try await conversation.expect("RequestTransactionData.Success") { message -> Reply<RequestTransactionDataSuccess, RequestTransactionDataError>? in
                switch message {
                case let .requestTransactionDataSuccess(success): return .good(success)
                case let .requestTransactionDataError(error): return .bad(error)
                default: return nil
                }
            }
            switch answer {
            case let .bad(error):
                // A block found meanwhile makes the template stale: the answer is then right.
                if conversation.view.log[asked...].contains(where: { if case .templateSetNewPrevHash = $0 { return true } else { return false } }) {
                    return .warn("RequestTransactionData.Error \(error.errorCode) after a new tip arrived: the template went stale")
                }
                return .fail(expected: "RequestTransactionData.Success for the current template \(template)", got: "RequestTransactionData.Error \(error.errorCode)")
            case let .good(success) where success.templateID != template:
                return .fail(expected: "template_id \(template) echoed", got: "template_id \(success.templateID)")
            case let .good(success):
                return .pass("\(success.transactionList.count) transactions and \(success.excessData.count) bytes of excess data for template \(template)")
            }
        },
        ProbeCheck("td-request-transaction-data-unknown", "7.6", templateDistribution) { opener in
            let conversation = try await opener.conversation()
            let (_, template) = try await current(conversation)
            let unknown = template &+ 1_000_000
            try await conversation.send(.requestTransactionData(RequestTransactionData(templateID: unknown)))
            let answer = try await conversation.expect("RequestTransactionData.Error for an unknown template") { message -> Reply<RequestTransactionDataError, String>? in
                switch message {
                case .requestTransactionDataSuccess: return .bad(message.name)
                case let .requestTransactionDataError(error): return .good(error)
                default: return nil
                }
            }
            switch answer {
            case let .bad(name):
                return .fail(expected: "RequestTransactionData.Error for template \(unknown)", got: name)
            case let .good(error) where error.templateID != unknown:
                return .fail(expected: "template_id \(unknown) echoed", got: "template_id \(error.templateID)")
            case let .good(error) where error.errorCode.description != "template-id-not-found":
                return unconventional("RequestTransactionData.Error", code: error.errorCode.description, conventional: ["template-id-not-found"])
            case .good:
                return .pass("RequestTransactionData.Error template-id-not-found, template_id echoed")
            }
        },
        ProbeCheck("td-submit-solution-invalid", "7.7", templateDistribution) { opener in
            let conversation = try await opener.conversation()
            let (_, template) = try await current(conversation)
            try await conversation.send(.submitSolution(SubmitSolution(templateID: template, version: 0x2000_0000, headerTimestamp: 0, headerNonce: 0, coinbaseTx: [1, 2, 3])))
            try await conversation.send(.requestTransactionData(RequestTransactionData(templateID: template)))
            let answered = await conversation.wait { message -> Bool? in
                switch message {
                case .requestTransactionDataSuccess, .requestTransactionDataError: return true
                default: return nil
                }
            }
            if case .closed = answered {
                return .warn("the connection closed after an invalid SubmitSolution (7.7 does not say what a server does with one)")
            }
            guard case .got = answered else {
                return .fail(expected: "RequestTransactionData answered after an invalid SubmitSolution", got: answered.describe(within: opener.context.answerTimeout))
            }
            return .pass("an invalid SubmitSolution did not end the connection")
        },
    ]

    /// Sends CoinbaseOutputConstraints and expects the server's answer (7.1: at once): a future NewTemplate, then
    /// SetNewPrevHash naming a template received (7.3). Returns the first template's id and the current one's.
    static func current(_ conversation: ProbeConversation) async throws -> (future: UInt64, current: UInt64) {
        try await conversation.send(SetupChecks.firstRequest(.templateDistribution, user: conversation.context.user))
        var templates: Set<UInt64> = []
        let first = try await conversation.expect("NewTemplate") { message -> NewTemplate? in
            if case let .newTemplate(template) = message { return template }
            return nil
        }
        templates.insert(first.templateID)
        guard first.futureTemplate else {
            throw ProbeStop(verdict: .fail(expected: "a future NewTemplate before SetNewPrevHash (7.3)", got: "template \(first.templateID) with future_template unset"))
        }
        let tip = try await conversation.expect("SetNewPrevHash") { message -> UInt64? in
            switch message {
            case let .newTemplate(template):
                templates.insert(template.templateID)
                return nil
            case let .templateSetNewPrevHash(tip): return tip.templateID
            default: return nil
            }
        }
        guard templates.contains(tip) else {
            throw ProbeStop(verdict: .fail(expected: "SetNewPrevHash for a template sent before it (7.3)", got: "template_id \(tip)"))
        }
        return (first.templateID, tip)
    }
}
