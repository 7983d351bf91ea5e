import Bitcoin
import Sv2Binary
import Sv2Messages

/// Checks of a job declarator (6): tokens, a declaration with a forged token, and a declaration naming a
/// transaction the server cannot know (ProvideMissingTransactions, then a wrong transaction for it).
enum JobDeclarationChecks {
    static let jobDeclaration: Set<Sv2SubProtocol> = [.jobDeclaration]

    static let all: [ProbeCheck] = [
        ProbeCheck("jd-allocate-token", "6.4.2, 6.4.3", jobDeclaration) { opener in
            let conversation = try await opener.conversation()
            let success = try await allocate(conversation, user: opener.context.user, requestID: 41)
            guard success.requestID == 41 else { return .fail(expected: "request_id 41 echoed", got: "request_id \(success.requestID)") }
            guard !success.miningJobToken.isEmpty else { return .fail(expected: "a mining_job_token", got: "an empty one") }
            guard outputs(success.coinbaseTxOutputs) != nil else {
                return .fail(expected: "coinbase_tx_outputs: a CompactSize count, then outputs, the pool payout output first (6.4.3)",
                             got: "\(success.coinbaseTxOutputs.count) bytes that do not parse so")
            }
            return .pass("token of \(success.miningJobToken.count) bytes, \(success.coinbaseTxOutputs.count) bytes of coinbase outputs")
        },
        ProbeCheck("jd-declare-forged-token", "6.4.4, 6.4.6", jobDeclaration) { opener in
            let conversation = try await opener.conversation(flags: JobDeclarationSetupFlags.declareTransactionData.rawValue)
            let success = try await allocate(conversation, user: opener.context.user, requestID: 42)
            var forged = success.miningJobToken
            guard !forged.isEmpty else { return .skip("the server gives empty tokens") }
            forged[forged.count - 1] ^= 1
            try await conversation.send(.declareMiningJob(try declaration(requestID: 43, token: forged, outputs: success.coinbaseTxOutputs, wtxids: [])))
            switch try await answer(conversation, requestID: 43) {
            case .declared:
                return .fail(expected: "DeclareMiningJob.Error for a token with a flipped bit", got: "DeclareMiningJob.Success")
            case .missing:
                return .fail(expected: "DeclareMiningJob.Error for a token with a flipped bit", got: "ProvideMissingTransactions for a declaration without transactions")
            case let .refused(code) where code != "invalid-mining-job-token":
                return unconventional("DeclareMiningJob.Error", code: code, conventional: ["invalid-mining-job-token"])
            case .refused:
                return .pass("DeclareMiningJob.Error invalid-mining-job-token, request_id echoed")
            }
        },
        ProbeCheck("jd-provide-missing-transactions", "6.4.7, 6.4.8", jobDeclaration) { opener in
            let conversation = try await opener.conversation(flags: JobDeclarationSetupFlags.declareTransactionData.rawValue)
            let success = try await allocate(conversation, user: opener.context.user, requestID: 44)
            // A wtxid no mempool has: the server must ask for it (or refuse the job).
            let unknown = U256(w0: 0x5356_3270_726f_6265, w1: 1, w2: 2, w3: 3)
            try await conversation.send(.declareMiningJob(try declaration(requestID: 45, token: success.miningJobToken, outputs: success.coinbaseTxOutputs, wtxids: [unknown])))
            switch try await answer(conversation, requestID: 45) {
            case .declared:
                return .fail(expected: "ProvideMissingTransactions for a wtxid no mempool has", got: "DeclareMiningJob.Success")
            case let .refused(code):
                return .warn("DeclareMiningJob.Error \(code) without asking for the unknown transaction (6.4.7: the server requests the ones it lacks)")
            case let .missing(positions) where positions != [0]:
                return .fail(expected: "unknown_tx_position_list [0] (the only declared transaction, the coinbase not counted)", got: "\(positions)")
            case .missing:
                break
            }
            // A transaction that is not the one the wtxid names must be refused.
            let wrong = Transaction(
                version: 2, inputs: [TransactionInput(previousOutput: OutPoint(txid: unknown, vout: 0), scriptSig: [], witness: [[0x51]])],
                outputs: [TransactionOutput(value: 1, scriptPubKey: [0x51])], lockTime: 0)
            try await conversation.send(.provideMissingTransactionsSuccess(ProvideMissingTransactionsSuccess(requestID: 45, transactionList: [wrong.serialized()])))
            switch try await answer(conversation, requestID: 45) {
            case .declared:
                return .fail(expected: "DeclareMiningJob.Error for a transaction whose wtxid is not the declared one", got: "DeclareMiningJob.Success")
            case .missing:
                return .fail(expected: "DeclareMiningJob.Error for a transaction whose wtxid is not the declared one", got: "ProvideMissingTransactions again")
            case let .refused(code):
                return .pass("ProvideMissingTransactions [0], then DeclareMiningJob.Error \(code) for the wrong transaction")
            }
        },
    ]

    /// The server's answer to a declaration.
    enum Answer {
        case declared
        case refused(String)
        case missing([UInt16])
    }

    static func allocate(_ conversation: ProbeConversation, user: String, requestID: UInt32) async throws -> AllocateMiningJobTokenSuccess {
        try await conversation.send(.allocateMiningJobToken(AllocateMiningJobToken(userIdentifier: Sv2String(user), requestID: requestID)))
        return try await conversation.expect("AllocateMiningJobToken.Success") { message -> AllocateMiningJobTokenSuccess? in
            if case let .allocateMiningJobTokenSuccess(success) = message { return success }
            return nil
        }
    }

    /// DeclareMiningJob.Success, .Error or ProvideMissingTransactions for `requestID`; a wrong request_id ends the check.
    static func answer(_ conversation: ProbeConversation, requestID: UInt32) async throws -> Answer {
        let (echoed, answer) = try await conversation.expect("an answer to DeclareMiningJob") { message -> (UInt32, Answer)? in
            switch message {
            case let .declareMiningJobSuccess(success): return (success.requestID, .declared)
            case let .declareMiningJobError(error): return (error.requestID, .refused(error.errorCode.description))
            case let .provideMissingTransactions(request): return (request.requestID, .missing(request.unknownTxPositionList))
            default: return nil
            }
        }
        guard echoed == requestID else {
            throw ProbeStop(verdict: .fail(expected: "request_id \(requestID) echoed", got: "request_id \(echoed)"))
        }
        return answer
    }

    /// The outputs of AllocateMiningJobToken.Success (a CompactSize count, then outputs), nil when they do not parse.
    static func outputs(_ bytes: [UInt8]) -> [TransactionOutput]? {
        guard let outputs = try? TransactionOutput.decodeCountedList(bytes), !outputs.isEmpty else { return nil }
        return outputs
    }

    /// A declaration of a segwit coinbase (height 1, 8 bytes of extranonce) paying 50 BTC to the pool payout output.
    static func declaration(requestID: UInt32, token: [UInt8], outputs bytes: [UInt8], wtxids: [U256]) throws -> DeclareMiningJob {
        guard var outputs = outputs(bytes) else {
            throw ProbeStop(verdict: .fail(expected: "coinbase_tx_outputs that parse (6.4.3)", got: "\(bytes.count) bytes that do not"))
        }
        outputs[0].value = 5_000_000_000
        var prefix: [UInt8] = [2, 0, 0, 0, 0x00, 0x01, 1] + [UInt8](repeating: 0, count: 32) + [0xff, 0xff, 0xff, 0xff]
        prefix += [1 + 8] + BIP34.heightPush(1)
        var suffix: [UInt8] = [0xff, 0xff, 0xff, 0xff] + TransactionOutput.encodeCountedList(outputs)
        suffix += [0x01, 0x20] + [UInt8](repeating: 0, count: 32) + [0, 0, 0, 0]
        return DeclareMiningJob(
            requestID: requestID, miningJobToken: token, version: 0x2000_0000, coinbaseTxPrefix: prefix, coinbaseTxSuffix: suffix,
            wtxidList: wtxids, excessData: [])
    }
}
