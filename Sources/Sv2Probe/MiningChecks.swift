import Foundation
import Sv2Binary
import Sv2Channels
import Sv2Messages

/// A server's answer to a share.
enum ShareAnswer {
    /// Acknowledged (the batch covering it).
    case accepted(SubmitSharesSuccess)
    /// Refused.
    case refused(SubmitSharesError)
}

/// The error codes pools use for refused shares (spec 3.5 leaves the list to implementations): a refusal with one
/// of these for another condition is a FAIL, an unknown code a WARN.
let conventionalShareCodes: Set<String> = [
    "invalid-channel-id", "stale-share", "invalid-job-id", "difficulty-too-low", "duplicate-share", "bad-extranonce-size",
    "version-rolling-not-allowed", "invalid-timestamp",
]

extension ProbeConversation {
    /// Opens a standard channel declaring `rate` H/s (a low rate gives the easiest target the server allows);
    /// an error ends the check as FAIL.
    func openStandard(rate: Float = 1000, maxTarget: U256 = .max) async throws -> MiningView.Channel {
        guard !MiningSetupSuccessFlags(rawValue: serverFlags).contains(.requiresExtendedChannels) else {
            throw ProbeStop(verdict: .skip("the server requires extended channels (REQUIRES_EXTENDED_CHANNELS, 5.3.1)"))
        }
        let id = requestID()
        try await send(.openStandardMiningChannel(OpenStandardMiningChannel(requestID: id, userIdentity: Sv2String(context.user), nominalHashRate: rate, maxTarget: maxTarget)))
        return try await opened(id, "OpenStandardMiningChannel.Success")
    }

    /// Opens an extended channel asking for `minExtranonceSize` bytes.
    func openExtended(rate: Float = 1000, minExtranonceSize: UInt16 = 4) async throws -> MiningView.Channel {
        let id = requestID()
        try await send(.openExtendedMiningChannel(OpenExtendedMiningChannel(
            requestID: id, userIdentity: Sv2String(context.user), nominalHashRate: rate, maxTarget: .max, minExtranonceSize: minExtranonceSize)))
        return try await opened(id, "OpenExtendedMiningChannel.Success")
    }

    private func opened(_ requestID: UInt32, _ what: String) async throws -> MiningView.Channel {
        let answer = try await expect(what) { message -> Reply<UInt32, OpenMiningChannelError>? in
            switch message {
            case let .openStandardMiningChannelSuccess(success): return .good(success.channelID)
            case let .openExtendedMiningChannelSuccess(success): return .good(success.channelID)
            case let .openMiningChannelError(error): return .bad(error)
            default: return nil
            }
        }
        switch answer {
        case let .bad(error):
            throw ProbeStop(verdict: .fail(expected: what, got: "OpenMiningChannel.Error \(error.errorCode)"))
        case let .good(channelID):
            guard let channel = view.channels[channelID] else { throw ProbeStop(verdict: .fail(expected: what, got: "no channel")) }
            return channel
        }
    }

    /// Waits until the channel has a job on a known tip, and returns the channel with its current work.
    func work(on channelID: UInt32) async throws -> (channel: MiningView.Channel, work: MiningWork) {
        if let channel = view.channels[channelID], let work = channel.activeWork { return (channel, work) }
        let ready = try await expect("a job and SetNewPrevHash for channel \(channelID)") { _ -> MiningWork? in
            self.view.channels[channelID]?.activeWork
        }
        guard let channel = view.channels[channelID] else { throw ProbeStop(verdict: .fail(expected: "channel \(channelID) open", got: "closed")) }
        return (channel, ready)
    }

    /// A share on `channel` for `work` (job `jobID` unless overridden) with a fresh sequence number: its header
    /// meets the channel's target (`meets`) or misses it, with `version` flipped by `versionFlip`, `time`, and the
    /// extranonce given (zeros of the channel's size by default). A search that runs out ends the check as SKIP.
    func share(
        on channel: MiningView.Channel, work: MiningWork, meets: Bool = true, jobID: UInt32? = nil, channelID: UInt32? = nil,
        time: UInt32? = nil, versionFlip: UInt32 = 0, extranonce: [UInt8]? = nil
    ) throws -> (message: Sv2Message, sequence: UInt32) {
        let time = time ?? work.time
        let version = work.version ^ versionFlip
        let extranonce = extranonce ?? [UInt8](repeating: 0, count: channel.extranonceSize)
        var nonce: UInt32 = 0
        if work.merkleRoot.root(extranonce: extranonce) != nil {
            guard let found = ShareSearch.nonce(
                work, target: channel.target, meets: meets, time: time, version: version, extranonce: extranonce, start: nonceCursor, budget: context.hashBudget)
            else {
                throw ProbeStop(verdict: .skip("no header meeting the channel's target (difficulty \(difficulty(channel.target))) in \(context.hashBudget) nonces"))
            }
            nonce = found
            nonceCursor = found &+ 1
        }
        let sequence = nextSequence()
        let job = jobID ?? UInt32(truncatingIfNeeded: work.id)
        let target = channelID ?? channel.id
        if channel.isExtended {
            return (.submitSharesExtended(SubmitSharesExtended(
                channelID: target, sequenceNumber: sequence, jobID: job, nonce: nonce, ntime: time, version: version, extranonce: extranonce)), sequence)
        }
        return (.submitSharesStandard(SubmitSharesStandard(channelID: target, sequenceNumber: sequence, jobID: job, nonce: nonce, ntime: time, version: version)), sequence)
    }

    /// The answer to the share numbered `sequence`: a SubmitShares.Error (whatever sequence number it carries: the
    /// check compares it) or a SubmitShares.Success covering it. A refusal of the share numbered `earlier`, sent
    /// before and possibly still unanswered, is passed over.
    func answer(to sequence: UInt32, within seconds: Double? = nil, passingOverRefusalOf earlier: UInt32? = nil) async -> Awaited<ShareAnswer> {
        await wait(within: seconds) { message in
            switch message {
            case let .submitSharesError(error) where error.sequenceNumber == earlier: return nil
            case let .submitSharesError(error): return .refused(error)
            case let .submitSharesSuccess(success) where success.lastSequenceNumber >= sequence: return .accepted(success)
            default: return nil
            }
        }
    }
}

/// Grades the answer to a share the server must refuse for `condition`: a SubmitShares.Error echoing `channelID` and
/// `sequence` with one of `codes` passes; another conventional code fails; an unknown code warns (3.5). With
/// `acceptedIsWarning`, an acknowledged share is a WARN (the spec does not oblige the server to refuse it).
func gradeRefusal(
    _ answer: Awaited<ShareAnswer>, sequence: UInt32, channelID: UInt32, codes: Set<String>, condition: String, within seconds: Double,
    acceptedIsWarning: Bool = false
) -> ProbeVerdict {
    let expected = "SubmitShares.Error \(codes.sorted().joined(separator: " or ")) for \(condition)"
    switch answer {
    case let .got(.accepted(success)):
        let text = "SubmitShares.Success up to sequence \(success.lastSequenceNumber)"
        return acceptedIsWarning ? .warn("\(condition): accepted (\(text)); the spec does not oblige the server to refuse it") : .fail(expected: expected, got: text)
    case let .got(.refused(error)):
        let code = error.errorCode.description
        guard error.sequenceNumber == sequence else {
            return .fail(expected: "sequence_number \(sequence) echoed (5.3.14)", got: "sequence_number \(error.sequenceNumber) (\(code))")
        }
        guard error.channelID == channelID else {
            return .fail(expected: "channel_id \(channelID) echoed (5.3.14)", got: "channel_id \(error.channelID) (\(code))")
        }
        if codes.contains(code) { return .pass("SubmitShares.Error \(code), sequence_number \(sequence) echoed") }
        if conventionalShareCodes.contains(code) { return .fail(expected: expected, got: "SubmitShares.Error \(code)") }
        return unconventional("SubmitShares.Error for \(condition)", code: code, conventional: codes)
    case .closed, .timeout:
        if acceptedIsWarning, case .timeout = answer {
            return .warn("\(condition): no SubmitShares.Error within \(seconds.formatted) s (neither refused nor acknowledged)")
        }
        return .fail(expected: expected, got: answer.describe(within: seconds))
    }
}

/// Checks of the mining protocol (5): channels, jobs, shares and their errors, UpdateChannel and CloseChannel.
enum MiningChecks {
    static let mining: Set<Sv2SubProtocol> = [.mining]

    static let all: [ProbeCheck] = channels + shares + updates

    static let channels: [ProbeCheck] = [
        ProbeCheck("open-standard-channel", "5.3.3, 5.3.15", mining) { opener in
            try await firstJob(try await opener.conversation(), extended: false)
        },
        ProbeCheck("open-extended-channel", "5.3.5, 5.3.16", mining) { opener in
            try await firstJob(try await opener.conversation(), extended: true)
        },
        ProbeCheck("group-channel", "5.2.3, 5.3.22", mining) { opener in
            let conversation = try await opener.conversation()
            let first = try await conversation.openStandard()
            let second = try await conversation.openStandard()
            guard first.groupID == second.groupID else {
                return .warn("two standard channels of one connection in groups \(first.groupID) and \(second.groupID)")
            }
            guard first.extranoncePrefix.count == second.extranoncePrefix.count else {
                return .fail(expected: "the same full extranonce size in one group (5.2.3)", got: "prefixes of \(first.extranoncePrefix.count) and \(second.extranoncePrefix.count) bytes")
            }
            _ = try await conversation.work(on: first.id)
            _ = try await conversation.work(on: second.id)
            return .pass("standard channels \(first.id) and \(second.id) in group \(first.groupID), both with work")
        },
        ProbeCheck("max-target-too-hard", "5.3.6", mining) { opener in
            let conversation = try await opener.conversation()
            let id = conversation.requestID()
            try await conversation.send(.openStandardMiningChannel(OpenStandardMiningChannel(requestID: id, userIdentity: Sv2String(opener.context.user), nominalHashRate: 1000, maxTarget: .zero)))
            return try await openRefusal(conversation, requestID: id, code: "max-target-out-of-range", what: "max_target 0")
        },
        ProbeCheck("min-extranonce-size-too-large", "5.3.6", mining) { opener in
            let conversation = try await opener.conversation()
            let id = conversation.requestID()
            try await conversation.send(.openExtendedMiningChannel(OpenExtendedMiningChannel(
                requestID: id, userIdentity: Sv2String(opener.context.user), nominalHashRate: 1000, maxTarget: .max, minExtranonceSize: 33)))
            return try await openRefusal(conversation, requestID: id, code: "min-extranonce-size-too-large", what: "min_extranonce_size 33")
        },
        ProbeCheck("unique-channel-ids", "5.3.3, 5.3.5", mining) { opener in
            let conversation = try await opener.conversation()
            let ids = [try await conversation.openStandard().id, try await conversation.openExtended().id, try await conversation.openStandard().id]
            guard Set(ids).count == ids.count else { return .fail(expected: "distinct channel ids on one connection", got: "\(ids)") }
            return .pass("channel ids \(ids)")
        },
        ProbeCheck("distinct-extranonce-prefixes", "5.1.2.1, 5.3.5", mining) { opener in
            // Extended channels roll what follows their prefix; standard channels' prefixes matter only within a
            // group's extended jobs (5.3.3), so they are left out.
            var prefixes: [[UInt8]] = []
            for _ in 0..<2 {
                let conversation = try await opener.conversation()
                prefixes.append(try await conversation.openExtended().extranoncePrefix)
                prefixes.append(try await conversation.openExtended().extranoncePrefix)
            }
            for (i, a) in prefixes.enumerated() {
                for b in prefixes[(i + 1)...] where a.starts(with: b) || b.starts(with: a) {
                    return .fail(expected: "extranonce prefixes that leave every channel its own search space", got: "\(a.hex) and \(b.hex)")
                }
            }
            return .pass("4 extended channels on 2 connections, no prefix overlapping another: \(prefixes.map(\.shortHex).joined(separator: ", "))")
        },
    ]

    static let shares: [ProbeCheck] = [
        refusal("share-invalid-channel", "5.3.14", codes: ["invalid-channel-id"], condition: "an unknown channel") { conversation, channel, work in
            try conversation.share(on: channel, work: work, channelID: channel.id &+ 0x0100_0000)
        },
        refusal("share-invalid-job", "5.3.14", codes: ["invalid-job-id"], condition: "an unknown job") { conversation, channel, work in
            try conversation.share(on: channel, work: work, jobID: UInt32(truncatingIfNeeded: work.id) &+ 0x0100_0000)
        },
        refusal("share-low-difficulty", "5.3.14, 5.3.21", codes: ["difficulty-too-low"], condition: "a hash above the target") { conversation, channel, work in
            try conversation.share(on: channel, work: work, meets: false)
        },
        refusal("share-bad-extranonce-size", "5.3.12", codes: ["bad-extranonce-size"], condition: "an extranonce of the wrong size", extended: true) { conversation, channel, work in
            try conversation.share(on: channel, work: work, extranonce: [UInt8](repeating: 0, count: channel.extranonceSize + 1))
        },
        refusal("share-version-bits", "5.3.16", codes: ["version-rolling-not-allowed"], condition: "version bits outside the BIP320 mask", extended: true, acceptedIsWarning: true) { conversation, channel, work in
            try conversation.share(on: channel, work: work, versionFlip: 0x0000_0002)
        },
        refusal("share-timestamp-early", "5.3.11", codes: ["invalid-timestamp"], condition: "ntime before SetNewPrevHash's min_ntime", acceptedIsWarning: true) { conversation, channel, work in
            try conversation.share(on: channel, work: work, time: channel.minNtime &- 1)
        },
        refusal("share-timestamp-future", "5.3.11", codes: ["invalid-timestamp"], condition: "ntime 3 hours ahead", acceptedIsWarning: true) { conversation, channel, work in
            try conversation.share(on: channel, work: work, time: max(work.time, conversation.context.now()) &+ 3 * 3600)
        },
        ProbeCheck("share-duplicate", "5.3.14", mining) { opener in
            let conversation = try await opener.conversation()
            let (channel, work) = try await conversation.work(on: try await conversation.openExtended().id)
            let (share, first) = try conversation.share(on: channel, work: work)
            var copy = share
            if case var .submitSharesExtended(extended) = share { extended.sequenceNumber = conversation.nextSequence(); copy = .submitSharesExtended(extended) }
            try await conversation.send(share)
            try await conversation.send(copy)
            let answer = await conversation.answer(to: first + 1)
            if case let .got(.refused(error)) = answer {
                // The first copy may be a block (an easy network target): the copy then lands on a new tip.
                if ["stale-share", "invalid-job-id"].contains(error.errorCode.description) {
                    return .skip("the share's job went stale before its copy was judged (\(error.errorCode))")
                }
                if error.sequenceNumber == first {
                    return .fail(expected: "the first copy accepted", got: "SubmitShares.Error \(error.errorCode) for it")
                }
            }
            return gradeRefusal(
                answer, sequence: first + 1, channelID: channel.id, codes: ["duplicate-share"], condition: "the same share again",
                within: opener.context.answerTimeout, acceptedIsWarning: true)
        },
        ProbeCheck("share-stale", "5.3.14, 5.3.17", mining) { opener in
            let conversation = try await opener.conversation()
            let (channel, work) = try await conversation.work(on: try await conversation.openExtended().id)
            // A share found on a chain with an easy network target is a block, after which the job goes stale. The tip
            // may also change by another block just before it arrives: it is then refused as stale itself.
            let (block, blockSequence) = try conversation.share(on: channel, work: work)
            try await conversation.send(block)
            let tips = channel.tipChanges
            let changed = await conversation.wait { _ in (conversation.view.channels[channel.id]?.tipChanges ?? 0) > tips ? true : nil }
            guard case .got = changed, let now = conversation.view.channels[channel.id], let stale = now.staleWork[UInt32(truncatingIfNeeded: work.id)] else {
                return .skip("no new chain tip within \(opener.context.answerTimeout.formatted) s: a stale share cannot be made from outside")
            }
            var old = now
            old.target = channel.target
            let (share, sequence) = try conversation.share(on: old, work: stale)
            try await conversation.send(share)
            let answer = await conversation.answer(to: sequence, passingOverRefusalOf: blockSequence)
            return gradeRefusal(answer, sequence: sequence, channelID: channel.id, codes: ["stale-share", "invalid-job-id"], condition: "a job of the previous tip", within: opener.context.answerTimeout)
        },
        ProbeCheck("share-accounting", "5.3.13", mining) { opener in
            let conversation = try await opener.conversation()
            let opened = try await conversation.openExtended()
            var submitted: [UInt32] = []
            for _ in 0..<3 {
                let (channel, work) = try await conversation.work(on: opened.id)
                let (share, sequence) = try conversation.share(on: channel, work: work)
                try await conversation.send(share)
                submitted.append(sequence)
                _ = await conversation.drain(for: 0.2)
            }
            return await accounting(conversation, channelID: opened.id, submitted: submitted)
        },
    ]

    static let updates: [ProbeCheck] = [
        ProbeCheck("update-channel", "5.3.7, 5.3.21", mining) { opener in
            let conversation = try await opener.conversation()
            let (channel, _) = try await conversation.work(on: try await conversation.openStandard().id)
            let harder = MiningTarget.target(difficulty: MiningTarget.difficulty(target: channel.target) * 4)
            try await conversation.send(.updateChannel(UpdateChannel(channelID: channel.id, nominalHashRate: 2000, maximumTarget: harder)))
            let awaited = await conversation.wait { message -> String? in
                switch message {
                case let .setTarget(target) where target.channelID == channel.id || target.channelID == channel.groupID:
                    return target.maximumTarget <= harder ? "ok" : nil
                case let .updateChannelError(error): return "UpdateChannel.Error \(error.errorCode)"
                default: return nil
                }
            }
            switch awaited {
            case .got("ok"): break
            case let .got(refusal): return .fail(expected: "UpdateChannel accepted", got: refusal)
            case .timeout:
                return .warn("no SetTarget within \(opener.context.answerTimeout.formatted) s for a harder maximum_target (it MUST come, but may wait for a new job, 5.3.7)")
            case .closed:
                return .fail(expected: "SetTarget at or below the requested maximum_target", got: awaited.describe(within: opener.context.answerTimeout))
            }
            return .pass("a harder maximum_target was reflected by SetTarget (difficulty \(difficulty(harder)) or more)")
        },
        ProbeCheck("update-channel-unknown", "5.3.8", mining) { opener in
            let conversation = try await opener.conversation()
            try await conversation.send(.updateChannel(UpdateChannel(channelID: 0x7fff_fff0, nominalHashRate: 1000, maximumTarget: .max)))
            let error = try await conversation.expect("UpdateChannel.Error for an unknown channel") { message -> UpdateChannelError? in
                if case let .updateChannelError(error) = message { return error }
                return nil
            }
            guard error.channelID == 0x7fff_fff0 else { return .fail(expected: "channel_id 2147483632 echoed", got: "channel_id \(error.channelID)") }
            if error.errorCode.description != "invalid-channel-id" {
                return unconventional("UpdateChannel.Error", code: error.errorCode.description, conventional: ["invalid-channel-id"])
            }
            return .pass("UpdateChannel.Error invalid-channel-id, channel_id echoed")
        },
        ProbeCheck("close-channel", "5.3.9", mining) { opener in
            let conversation = try await opener.conversation()
            let (channel, work) = try await conversation.work(on: try await conversation.openStandard().id)
            try await conversation.send(.closeChannel(CloseChannel(channelID: channel.id, reasonCode: "probe")))
            let closedAt = conversation.view.log.count
            let (share, sequence) = try conversation.share(on: channel, work: work)
            try await conversation.send(share)
            let answer = await conversation.answer(to: sequence)
            // 5.3.9: the server MUST stop sending messages for the channel (its answer to a share is not one).
            if let message = conversation.view.log[closedAt...].first(where: { $0.addresses(channel.id) }) {
                return .fail(expected: "no message for channel \(channel.id) after CloseChannel", got: message.name)
            }
            if case .timeout = answer { return .pass("a share on the closed channel was ignored, and nothing came for it") }
            return gradeRefusal(answer, sequence: sequence, channelID: channel.id, codes: ["invalid-channel-id"], condition: "a share on a closed channel", within: opener.context.answerTimeout)
        },
        ProbeCheck("close-channel-unknown", "5.3.9", mining) { opener in
            let conversation = try await opener.conversation()
            try await conversation.send(.closeChannel(CloseChannel(channelID: 0x7fff_fff0, reasonCode: "probe")))
            try await SetupChecks.answered(conversation, after: "CloseChannel for an unknown channel")
            return .pass("CloseChannel for an unknown channel did not end the connection")
        },
    ]

    /// A check that opens a channel (standard, or extended), takes its work, sends the share `make` builds and
    /// grades the refusal.
    static func refusal(
        _ name: String, _ section: String, codes: Set<String>, condition: String, extended: Bool = false, acceptedIsWarning: Bool = false,
        make: @escaping @Sendable (ProbeConversation, MiningView.Channel, MiningWork) throws -> (message: Sv2Message, sequence: UInt32)
    ) -> ProbeCheck {
        ProbeCheck(name, section, mining) { opener in
            let conversation = try await opener.conversation()
            let opened = extended ? try await conversation.openExtended() : try await conversation.openStandard()
            let (channel, work) = try await conversation.work(on: opened.id)
            let (share, sequence) = try make(conversation, channel, work)
            try await conversation.send(share)
            let answer = await conversation.answer(to: sequence)
            let echoed: UInt32
            switch share {
            case let .submitSharesStandard(standard): echoed = standard.channelID
            case let .submitSharesExtended(extended): echoed = extended.channelID
            default: echoed = channel.id
            }
            return gradeRefusal(
                answer, sequence: sequence, channelID: echoed, codes: codes, condition: condition, within: opener.context.answerTimeout,
                acceptedIsWarning: acceptedIsWarning)
        }
    }

    /// Opens a channel and checks what follows: the request id echoed, the first job a future job (5.3.15, 5.3.16),
    /// then SetNewPrevHash for a job the channel has.
    static func firstJob(_ conversation: ProbeConversation, extended: Bool) async throws -> ProbeVerdict {
        let channel = extended ? try await conversation.openExtended(minExtranonceSize: 4) : try await conversation.openStandard()
        if extended, channel.extranonceSize < 4 {
            return .fail(expected: "extranonce_size of at least min_extranonce_size 4 (5.3.5)", got: "\(channel.extranonceSize)")
        }
        // Every channel is in a group (5.2.3), whose id may be 0: jobs may come for either.
        let addressed: Set<UInt32> = [channel.id, channel.groupID]
        let job = try await conversation.expect("a job for channel \(channel.id)") { message -> (id: UInt32, future: Bool)? in
            switch message {
            case let .newMiningJob(job) where addressed.contains(job.channelID): return (job.jobID, job.minNtime == nil)
            case let .newExtendedMiningJob(job) where addressed.contains(job.channelID): return (job.jobID, job.minNtime == nil)
            default: return nil
            }
        }
        guard job.future else { return .fail(expected: "a future job (min_ntime unset) first after the channel opened", got: "job \(job.id) with min_ntime set") }
        let tip = try await conversation.expect("SetNewPrevHash for channel \(channel.id)") { message -> UInt32? in
            if case let .setNewPrevHash(tip) = message, addressed.contains(tip.channelID) { return tip.jobID }
            return nil
        }
        guard conversation.view.channels[channel.id]?.jobs[tip] != nil else {
            return .fail(expected: "SetNewPrevHash for a job the channel received", got: "job_id \(tip)")
        }
        let wide = extended && channel.extranoncePrefix.count + channel.extranonceSize > 32
            ? " (prefix and extranonce over 32 bytes: miners may not expect that)" : ""
        let verdict = "channel \(channel.id) in group \(channel.groupID), difficulty \(difficulty(channel.target)), future job \(job.id) then SetNewPrevHash"
        return wide.isEmpty ? .pass(verdict) : .warn(verdict + wide)
    }

    /// Expects OpenMiningChannel.Error echoing `requestID`.
    static func openRefusal(_ conversation: ProbeConversation, requestID: UInt32, code: String, what: String) async throws -> ProbeVerdict {
        let answer = try await conversation.expect("OpenMiningChannel.Error for \(what)") { message -> Reply<OpenMiningChannelError, String>? in
            switch message {
            case let .openMiningChannelError(error): return .good(error)
            case .openStandardMiningChannelSuccess, .openExtendedMiningChannelSuccess: return .bad(message.name)
            default: return nil
            }
        }
        switch answer {
        case let .bad(name):
            return .fail(expected: "OpenMiningChannel.Error for \(what)", got: name)
        case let .good(error):
            guard error.requestID == requestID else { return .fail(expected: "request_id \(requestID) echoed", got: "request_id \(error.requestID)") }
            guard error.errorCode.description == code else { return unconventional("OpenMiningChannel.Error", code: error.errorCode.description, conventional: [code]) }
            return .pass("OpenMiningChannel.Error \(code), request_id echoed")
        }
    }

    /// Collects SubmitShares.Success and .Error for `submitted` valid shares and checks the counts (5.3.13):
    /// answers that arrived while the shares were being searched count too (the view keeps every message). A server
    /// may acknowledge in batches, so only the shares up to the last acknowledged sequence number are counted.
    static func accounting(_ conversation: ProbeConversation, channelID: UInt32, submitted: [UInt32]) async -> ProbeVerdict {
        var answers = ShareAcknowledgements(conversation.view.log, channelID: channelID)
        let deadline = Deadline(seconds: conversation.context.answerTimeout)
        while Int(answers.accepted) + answers.refused.count < submitted.count, let left = deadline.remaining {
            guard case .got = await conversation.answer(to: 0, within: left) else { break }
            answers = ShareAcknowledgements(conversation.view.log, channelID: channelID)
        }
        let staleCodes: Set<String> = ["stale-share", "invalid-job-id"]
        if let refusal = answers.refused.first(where: { !staleCodes.contains($0.errorCode.description) }) {
            return .fail(expected: "\(submitted.count) valid shares accepted", got: "SubmitShares.Error \(refusal.errorCode) for sequence \(refusal.sequenceNumber)")
        }
        let covered = submitted.filter { $0 <= answers.lastSequence }
        let coveredRefusals = answers.refused.filter { $0.sequenceNumber <= answers.lastSequence }.count
        guard answers.accepted > 0 else {
            return .warn("no SubmitShares.Success within \(conversation.context.answerTimeout.formatted) s for \(submitted.count) shares (acknowledgements may be batched, 5.3.13)")
        }
        guard Int(answers.accepted) == covered.count - coveredRefusals else {
            return .fail(
                expected: "new_submits_accepted_count adding up to \(covered.count - coveredRefusals) for sequence numbers up to \(answers.lastSequence)",
                got: "\(answers.accepted)")
        }
        let stale = answers.refused.count
        let text = "\(answers.accepted) accepted (new_shares_sum \(answers.sum))\(stale > 0 ? ", \(stale) stale after a block" : ""), last_sequence_number \(answers.lastSequence)"
        guard covered.count == submitted.count else { return .warn(text + "; the rest not yet acknowledged (batches, 5.3.13)") }
        return .pass(text)
    }
}

/// The SubmitShares answers one channel got.
struct ShareAcknowledgements {
    /// new_submits_accepted_count summed.
    var accepted: UInt32 = 0
    /// new_shares_sum summed.
    var sum: UInt64 = 0
    /// The highest last_sequence_number.
    var lastSequence: UInt32 = 0
    /// The refusals.
    var refused: [SubmitSharesError] = []

    /// The answers for `channelID` among `messages`.
    init(_ messages: [Sv2Message], channelID: UInt32) {
        for message in messages {
            switch message {
            case let .submitSharesSuccess(success) where success.channelID == channelID:
                accepted &+= success.newSubmitsAcceptedCount
                sum &+= success.newSharesSum
                lastSequence = max(lastSequence, success.lastSequenceNumber)
            case let .submitSharesError(error) where error.channelID == channelID:
                refused.append(error)
            default:
                break
            }
        }
    }
}

extension Sv2Message {
    /// True for a job, tip, target or prefix the server sends for channel `id`.
    func addresses(_ id: UInt32) -> Bool {
        switch self {
        case let .newMiningJob(job): return job.channelID == id
        case let .newExtendedMiningJob(job): return job.channelID == id
        case let .setNewPrevHash(tip): return tip.channelID == id
        case let .setTarget(target): return target.channelID == id
        case let .setExtranoncePrefix(prefix): return prefix.channelID == id
        default: return false
        }
    }
}

extension [UInt8] {
    /// Lowercase hex.
    var hex: String { Hex.encode(self) }

    /// Lowercase hex of at most the first 8 bytes, with an ellipsis and the length when cut.
    var shortHex: String { count <= 8 ? hex : Hex.encode(Array(prefix(8))) + "…(\(count) bytes)" }
}

/// A target's difficulty for a report line: three significant digits.
func difficulty(_ target: U256) -> String {
    let value = MiningTarget.difficulty(target: target)
    return value >= 1000 || value < 0.001 ? String(format: "%.3g", value) : String(format: "%.4g", value)
}
