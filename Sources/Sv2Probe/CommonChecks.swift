import Sv2Binary
import Sv2Channels
import Sv2Messages

/// Every subprotocol.
let anyProtocol: Set<Sv2SubProtocol> = Set(Sv2SubProtocol.allCases)

/// Checks of the connection itself: the Noise handshake and certificate, and frames a server must survive.
enum TransportChecks {
    /// The name of the handshake check, which runs first: when it fails, the other checks are skipped.
    static let handshake = "noise-handshake"

    static let all: [ProbeCheck] = [
        ProbeCheck(handshake, "4.5", anyProtocol) { opener in
            guard !opener.context.dialer.isPlaintext else { return .skip("plaintext endpoint (--plaintext)") }
            let (_, handshake) = try await opener.connect()
            guard handshake.authorityChecked else {
                return .warn("handshake completed, but the URL has no authority key: the certificate's signature was not checked (4.7)")
            }
            return .pass("Noise NX completed; certificate signed by the URL's authority key")
        },
        ProbeCheck("certificate-validity", "4.5.3", anyProtocol) { opener in
            guard !opener.context.dialer.isPlaintext else { return .skip("plaintext endpoint (--plaintext)") }
            let (_, handshake) = try await opener.connect()
            guard let from = handshake.validFrom, let until = handshake.notValidAfter else {
                return .fail(expected: "a certificate", got: "none")
            }
            // SRI allows 10 s of clock difference each way, as the handshake does.
            let now = opener.context.now()
            guard from <= now &+ 10, now <= until &+ 10 else {
                return .fail(expected: "a certificate valid now (\(now), 10 s of skew allowed)", got: "valid from \(from) to \(until)")
            }
            return .pass("valid from \(from) to \(until) (\(until - from) s), now \(now)")
        },
        ProbeCheck("garbage-before-handshake", "4.5.1, 4.6", anyProtocol) { opener in
            let garbage = [UInt8](repeating: 0xa5, count: 64) + [UInt8](repeating: 0x5a, count: 200)
            let outcome = try await opener.context.dialer.sendRaw(garbage, closedWithin: opener.context.answerTimeout * 2)
            try await stillServes(opener)
            guard outcome.closed else {
                return .warn("the connection was still open \((opener.context.answerTimeout * 2).formatted) s after 264 bytes of garbage; the server goes on serving others")
            }
            return .pass("connection closed after 264 bytes of garbage (\(outcome.received) bytes came back); the server goes on serving others")
        },
        ProbeCheck("truncated-message", "3.2", anyProtocol) { opener in
            let conversation = try await opener.conversation(setUp: false)
            // SetupConnection cut after its protocol and min_version.
            try await conversation.send(frame: Sv2Frame(extensionType: 0, isChannelMessage: false, messageType: SetupConnection.messageType, payload: [opener.protocol.rawValue, 2, 0]))
            let answer = await conversation.wait(within: opener.context.silence, SetupChecks.setupSuccess)
            if case .got = answer { return .fail(expected: "a truncated SetupConnection refused", got: "SetupConnection.Success") }
            try await stillServes(opener)
            return .pass("a 3-byte SetupConnection was not accepted (\(answer.describe(within: opener.context.silence))); the server goes on serving others")
        },
        ProbeCheck("oversized-frame", "3.2", anyProtocol) { opener in
            let conversation = try await opener.conversation(setUp: false)
            // Within U24 (3.2), but far beyond what any message needs: a server may refuse it by size or by content.
            let payload = [UInt8](repeating: 0xff, count: 2 << 20)
            try? await conversation.peer.send(frame: Sv2Frame(extensionType: 0, isChannelMessage: false, messageType: SetupConnection.messageType, payload: payload))
            let answer = await conversation.wait(within: opener.context.silence, SetupChecks.setupSuccess)
            if case .got = answer { return .fail(expected: "a 2 MiB SetupConnection of 0xff bytes refused", got: "SetupConnection.Success") }
            try await stillServes(opener)
            return .pass("a 2 MiB frame was not accepted (\(answer.describe(within: opener.context.silence))); the server goes on serving others")
        },
    ]

    /// Ends the check as FAIL unless a new connection still completes SetupConnection.
    static func stillServes(_ opener: ProbeConversation.Opener) async throws {
        do {
            _ = try await opener.conversation()
        } catch let stop as ProbeStop {
            throw ProbeStop(verdict: .fail(expected: "the server to go on serving new connections", got: stop.verdict.detail))
        }
    }
}

/// A WARN for an answer with an error code other than the conventional one: spec 3.5 leaves codes to implementations.
func unconventional(_ what: String, code: String, conventional: Set<String>) -> ProbeVerdict {
    .warn("\(what) with code \(code) (conventional: \(conventional.sorted().joined(separator: " or ")); 3.5 leaves codes to implementations)")
}

/// Checks of SetupConnection (3.6), unknown extensions (3.4) and extension negotiation (extension 0x0001).
enum SetupChecks {
    static let all: [ProbeCheck] = [
        ProbeCheck("setup-connection", "3.6.2", anyProtocol) { opener in
            let conversation = try await opener.conversation(setUp: false)
            let success = try await conversation.setUp()
            guard success.usedVersion == 2 else { return .fail(expected: "used_version 2", got: "used_version \(success.usedVersion)") }
            return .pass("SetupConnection.Success, used_version 2, flags 0x\(String(success.flags, radix: 16))")
        },
        ProbeCheck("setup-unsupported-protocol", "3.6.3", anyProtocol) { opener in
            try await setupRefusal(opener, code: "unsupported-protocol") { $0.setupConnection(protocol: 7) }
        },
        ProbeCheck("setup-version-range", "3.6.2", anyProtocol) { opener in
            let conversation = try await opener.conversation(setUp: false)
            try await conversation.send(.setupConnection(conversation.setupConnection(minVersion: 2, maxVersion: 9)))
            let answer = try await conversation.expect("SetupConnection.Success", setupAnswer)
            switch answer {
            case let .good(success) where success.usedVersion == 2:
                return .pass("versions 2…9 offered, 2 used")
            case let .good(success):
                return .fail(expected: "used_version 2 (the only version both support)", got: "used_version \(success.usedVersion)")
            case let .bad(error):
                return .fail(expected: "SetupConnection.Success for versions 2…9", got: "SetupConnection.Error \(error.errorCode)")
            }
        },
        ProbeCheck("setup-version-mismatch", "3.6.3", anyProtocol) { opener in
            try await setupRefusal(opener, code: "protocol-version-mismatch") { $0.setupConnection(minVersion: 3, maxVersion: 4) }
        },
        ProbeCheck("setup-all-flags", "3.6.3", anyProtocol) { opener in
            let defined = SetupNegotiation.definedFlags(opener.protocol)
            guard defined != 0 else { return .skip("the spec defines no SetupConnection flags for \(opener.protocol)") }
            let conversation = try await opener.conversation(setUp: false)
            try await conversation.send(.setupConnection(conversation.setupConnection(flags: defined)))
            switch try await conversation.expect("SetupConnection.Success or .Error", setupAnswer) {
            case let .good(success):
                return .pass("every defined flag (0x\(String(defined, radix: 16))) accepted; server flags 0x\(String(success.flags, radix: 16))")
            case let .bad(error) where error.flags != 0 && error.flags & ~defined == 0:
                return .pass("SetupConnection.Error \(error.errorCode) names the unsupported flags 0x\(String(error.flags, radix: 16))")
            case let .bad(error):
                return .fail(expected: "SetupConnection.Error naming the unsupported flags among 0x\(String(defined, radix: 16))", got: "flags 0x\(String(error.flags, radix: 16)) (\(error.errorCode))")
            }
        },
        ProbeCheck("message-before-setup", "3.6.1", anyProtocol) { opener in
            let conversation = try await opener.conversation(setUp: false)
            try await conversation.send(firstRequest(opener.protocol, user: opener.context.user))
            let answer = await conversation.wait(within: opener.context.silence) { message in acceptance(message) }
            // The MUST of 3.6.1 is the client's: a server that serves anyway is lenient, not wrong.
            if case let .got(name) = answer {
                return .warn("\(name) before SetupConnection (which MUST be a client's first message)")
            }
            return .pass("\(firstRequest(opener.protocol, user: opener.context.user).name) before SetupConnection not served (\(answer.describe(within: opener.context.silence)))")
        },
        ProbeCheck("unknown-extension-ignored", "3.4.1", anyProtocol) { opener in
            let conversation = try await opener.conversation()
            try await conversation.send(frame: Sv2Frame(extensionType: 0x4242, isChannelMessage: false, messageType: 0x00, payload: [1, 2, 3, 4]))
            try await conversation.send(frame: Sv2Frame(extensionType: 0x4242, isChannelMessage: true, messageType: 0x01, payload: [0xff, 0xff, 0xff, 0x7f, 9]))
            try await answered(conversation, after: "two frames of unknown extension_type 0x4242")
            return .pass("frames of extension_type 0x4242 ignored; the connection goes on")
        },
        ProbeCheck("request-extensions", "ext 0x0001", anyProtocol) { opener in
            let conversation = try await opener.conversation()
            try await conversation.send(.requestExtensions(RequestExtensions(requestID: 7, requestedExtensions: [0x0002])))
            let answer = await conversation.wait(within: opener.context.silence) { message -> String? in
                switch message {
                case let .requestExtensionsSuccess(success):
                    return success.requestID == 7 ? "RequestExtensions.Success \(success.supportedExtensions)" : "request_id \(success.requestID)"
                case let .requestExtensionsError(error):
                    return error.requestID == 7 ? "RequestExtensions.Error (unsupported \(error.unsupportedExtensions))" : "request_id \(error.requestID)"
                default: return nil
                }
            }
            switch answer {
            case let .got(text) where text.hasPrefix("request_id"):
                return .fail(expected: "request_id 7 echoed", got: text)
            case let .got(text):
                try await answered(conversation, after: "RequestExtensions")
                return .pass("answered with \(text)")
            case .timeout:
                try await answered(conversation, after: "RequestExtensions")
                return .pass("ignored (a server without extension 0x0001 discards it, 3.4.1); the connection goes on")
            case let .closed(reason):
                return .fail(expected: "RequestExtensions answered or ignored", got: "the connection closed" + (reason.map { " (\($0))" } ?? ""))
            }
        },
    ]

    /// SetupConnection.Success or .Error.
    static func setupAnswer(_ message: Sv2Message) -> Reply<SetupConnectionSuccess, SetupConnectionError>? {
        switch message {
        case let .setupConnectionSuccess(success): return .good(success)
        case let .setupConnectionError(error): return .bad(error)
        default: return nil
        }
    }

    /// SetupConnection.Success alone.
    static func setupSuccess(_ message: Sv2Message) -> SetupConnectionSuccess? {
        if case let .setupConnectionSuccess(success) = message { return success }
        return nil
    }

    /// Sends the SetupConnection `make` builds, which the server must refuse, expecting SetupConnection.Error (`code`
    /// is the conventional code; another one is a WARN, spec 3.5) and then the connection closed (3.6.3: the error
    /// comes "prior to closing").
    static func setupRefusal(
        _ opener: ProbeConversation.Opener, code: String, _ make: (ProbeConversation) -> SetupConnection
    ) async throws -> ProbeVerdict {
        let conversation = try await opener.conversation(setUp: false)
        try await conversation.send(.setupConnection(make(conversation)))
        switch try await conversation.expect("SetupConnection.Error", setupAnswer) {
        case .good:
            return .fail(expected: "SetupConnection.Error", got: "SetupConnection.Success")
        case let .bad(error):
            let closed = !(await conversation.drain(for: opener.context.answerTimeout))
            let codeText = error.errorCode.description
            if codeText != code { return unconventional("SetupConnection.Error", code: codeText, conventional: [code]) }
            if !closed { return .warn("SetupConnection.Error \(codeText), but the connection stayed open (3.6.3: sent prior to closing)") }
            return .pass("SetupConnection.Error \(codeText), then the connection closed")
        }
    }

    /// The request that opens service on a connection of `protocol`.
    static func firstRequest(_ protocol: Sv2SubProtocol, user: String) -> Sv2Message {
        switch `protocol` {
        case .mining:
            return .openStandardMiningChannel(OpenStandardMiningChannel(requestID: 1, userIdentity: Sv2String(user), nominalHashRate: 1000, maxTarget: .max))
        case .templateDistribution:
            return .coinbaseOutputConstraints(CoinbaseOutputConstraints(coinbaseOutputMaxAdditionalSize: 100, coinbaseOutputMaxAdditionalSigops: 4))
        case .jobDeclaration:
            return .allocateMiningJobToken(AllocateMiningJobToken(userIdentifier: Sv2String(user), requestID: 1))
        }
    }

    /// The name of a message that serves a first request (nil for any other message).
    static func acceptance(_ message: Sv2Message) -> String? {
        switch message {
        case .openStandardMiningChannelSuccess, .newTemplate, .allocateMiningJobTokenSuccess, .newMiningJob, .newExtendedMiningJob:
            return message.name
        default:
            return nil
        }
    }

    /// Ends the check as FAIL unless the first request of the protocol is answered (any answer) on `conversation`.
    static func answered(_ conversation: ProbeConversation, after what: String) async throws {
        try await conversation.send(firstRequest(conversation.protocol, user: conversation.context.user))
        let awaited = await conversation.wait { message -> String? in
            switch message {
            case .openStandardMiningChannelSuccess, .openMiningChannelError, .newTemplate, .allocateMiningJobTokenSuccess: return message.name
            default: return nil
            }
        }
        guard case .got = awaited else {
            throw ProbeStop(verdict: .fail(
                expected: "the connection to go on after \(what)", got: awaited.describe(within: conversation.context.answerTimeout)))
        }
    }
}
