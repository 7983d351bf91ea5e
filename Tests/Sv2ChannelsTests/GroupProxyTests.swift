import Bitcoin
import Sv2Binary
import Sv2Messages
import Sv2Sessions
import Testing
@testable import Sv2Channels

/// A proxy with devices named by strings, its outputs sorted into what the pool and each device were sent.
private struct Harness {
    var proxy = GroupProxy<String>()
    var upstream = [Sv2Message]()
    var devices = [String: [Sv2Message]]()

    mutating func record(_ outputs: [GroupProxy<String>.Output]) {
        for output in outputs {
            switch output {
            case let .upstream(message): upstream.append(message)
            case let .device(device, message): devices[device, default: []].append(message)
            case .log, .upstreamFrame, .deviceFrame: break
            }
        }
    }

    mutating func device(_ device: String, _ message: Sv2Message) { record(proxy.fromDevice(device, message)) }
    mutating func pool(_ message: Sv2Message) { record(proxy.fromUpstream(message)) }

    mutating func takeUpstream() -> [Sv2Message] {
        defer { upstream.removeAll() }
        return upstream
    }

    mutating func take(_ device: String) -> [Sv2Message] {
        defer { devices[device] = nil }
        return devices[device] ?? []
    }

    /// `device` opens a standard channel as `user`; the pool opens it as `upstreamID` in group 1 with `prefix`.
    mutating func openStandard(_ device: String, user: Sv2String, upstreamID: UInt32, prefix: [UInt8], requestID: UInt32 = 5) {
        self.device(device, .openStandardMiningChannel(OpenStandardMiningChannel(requestID: requestID, userIdentity: user, nominalHashRate: 1e12, maxTarget: .max)))
        guard case let .openStandardMiningChannel(request)? = takeUpstream().last else { return }
        pool(.openStandardMiningChannelSuccess(OpenStandardMiningChannelSuccess(
            requestID: request.requestID, channelID: upstreamID, target: U256(1 << 60), extranoncePrefix: prefix, groupChannelID: 1)))
    }
}

private let coinbasePrefix: [UInt8] = [0x02, 0, 0, 0, 0x01] + [UInt8](repeating: 0, count: 32) + [0xff, 0xff, 0xff, 0xff, 0x24, 0x01, 0x65]
private let coinbaseSuffix: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0x01] + [UInt8](repeating: 0, count: 8) + [0x01, 0x51, 0, 0, 0, 0]
private let path = [U256(w0: 7, w1: 0, w2: 0, w3: 1), U256(w0: 9, w1: 9, w2: 0, w3: 0)]

private func groupJob(_ id: UInt32, channelID: UInt32 = 1, future: Bool = false) -> NewExtendedMiningJob {
    NewExtendedMiningJob(
        channelID: channelID, jobID: id, minNtime: future ? nil : 1_700_000_000, version: 0x2000_0000, versionRollingAllowed: true,
        merklePath: path, coinbaseTxPrefix: coinbasePrefix, coinbaseTxSuffix: coinbaseSuffix)
}

private func prefix(_ byte: UInt8) -> [UInt8] { [UInt8](repeating: byte, count: 32) }

@Suite("proxy, group mode: device channels opened upstream, jobs derived from the group's")
struct GroupProxyTests {
    @Test("each device's standard channel opens upstream with its own identity; the device gets its own channel id")
    func opening() {
        var harness = Harness()
        harness.device("a", .openStandardMiningChannel(OpenStandardMiningChannel(requestID: 9, userIdentity: "alice", nominalHashRate: 5e12, maxTarget: .max)))
        #expect(harness.takeUpstream().isEmpty, "no pool yet: the channel waits")
        harness.record(harness.proxy.upstreamUp())
        let requests = harness.takeUpstream()
        guard case let .openStandardMiningChannel(request)? = requests.first, requests.count == 1 else {
            Issue.record("expected one OpenStandardMiningChannel upstream, got \(requests)")
            return
        }
        #expect(request.userIdentity == "alice" && request.nominalHashRate == 5e12 && request.maxTarget == .max)
        harness.pool(.openStandardMiningChannelSuccess(OpenStandardMiningChannelSuccess(
            requestID: request.requestID, channelID: 40, target: U256(99), extranoncePrefix: prefix(1), groupChannelID: 1)))
        #expect(harness.take("a") == [.openStandardMiningChannelSuccess(OpenStandardMiningChannelSuccess(
            requestID: 9, channelID: 1, target: U256(99), extranoncePrefix: prefix(1), groupChannelID: 0))])

        harness.pool(.openMiningChannelError(OpenMiningChannelError(requestID: 1234, errorCode: "x")))
        #expect(harness.devices.isEmpty, "an error for a request nobody made reaches no device")
    }

    @Test("one group job becomes one NewMiningJob per member, each with the merkle root of its own extranonce prefix")
    func groupJobs() throws {
        var harness = Harness()
        harness.record(harness.proxy.upstreamUp())
        for (index, device) in ["a", "b", "c"].enumerated() {
            harness.openStandard(device, user: Sv2String(device), upstreamID: UInt32(10 + index), prefix: prefix(UInt8(index + 1)))
            _ = harness.take(device)
        }
        harness.pool(.newExtendedMiningJob(groupJob(3, future: true)))
        harness.pool(.setNewPrevHash(SetNewPrevHash(channelID: 1, jobID: 3, prevHash: U256(5), minNtime: 1_700_000_000, nbits: 0x207f_ffff)))
        #expect(harness.takeUpstream().isEmpty)
        var roots = Set<U256>()
        for (index, device) in ["a", "b", "c"].enumerated() {
            let messages = harness.take(device)
            let root = Merkle.root(coinbase: coinbasePrefix + prefix(UInt8(index + 1)) + coinbaseSuffix, path: path)
            #expect(messages == [
                .newMiningJob(NewMiningJob(channelID: 1, jobID: 3, minNtime: nil, version: 0x2000_0000, merkleRoot: root)),
                .setNewPrevHash(SetNewPrevHash(channelID: 1, jobID: 3, prevHash: U256(5), minNtime: 1_700_000_000, nbits: 0x207f_ffff)),
            ])
            roots.insert(root)
        }
        #expect(roots.count == 3)
    }

    @Test("shares go upstream on the device's upstream channel with their sequence numbers; answers come back")
    func shares() {
        var harness = Harness()
        harness.record(harness.proxy.upstreamUp())
        harness.openStandard("a", user: "alice", upstreamID: 10, prefix: prefix(1))
        harness.openStandard("b", user: "bob", upstreamID: 11, prefix: prefix(2))
        _ = (harness.take("a"), harness.take("b"))
        harness.device("b", .submitSharesStandard(SubmitSharesStandard(channelID: 1, sequenceNumber: 7, jobID: 3, nonce: 1, ntime: 2, version: 3)))
        #expect(harness.takeUpstream() == [.submitSharesStandard(SubmitSharesStandard(channelID: 11, sequenceNumber: 7, jobID: 3, nonce: 1, ntime: 2, version: 3))])
        harness.pool(.submitSharesSuccess(SubmitSharesSuccess(channelID: 11, lastSequenceNumber: 7, newSubmitsAcceptedCount: 1, newSharesSum: 5)))
        harness.pool(.submitSharesError(SubmitSharesError(channelID: 10, sequenceNumber: 2, errorCode: "stale-share")))
        harness.pool(.setTarget(SetTarget(channelID: 11, maximumTarget: U256(77))))
        #expect(harness.take("b") == [
            .submitSharesSuccess(SubmitSharesSuccess(channelID: 1, lastSequenceNumber: 7, newSubmitsAcceptedCount: 1, newSharesSum: 5)),
            .setTarget(SetTarget(channelID: 1, maximumTarget: U256(77))),
        ])
        #expect(harness.take("a") == [.submitSharesError(SubmitSharesError(channelID: 1, sequenceNumber: 2, errorCode: "stale-share"))])

        harness.device("a", .submitSharesStandard(SubmitSharesStandard(channelID: 9, sequenceNumber: 8, jobID: 3, nonce: 1, ntime: 2, version: 3)))
        #expect(harness.take("a") == [.submitSharesError(SubmitSharesError(channelID: 9, sequenceNumber: 8, errorCode: "invalid-channel-id"))])
        #expect(harness.takeUpstream().isEmpty)
    }

    @Test("extended channels: opened upstream with their extranonce size, jobs and prevhashes relayed under the device's id")
    func extended() {
        var harness = Harness()
        harness.record(harness.proxy.upstreamUp())
        harness.device("x", .openExtendedMiningChannel(OpenExtendedMiningChannel(
            requestID: 2, userIdentity: "xavier", nominalHashRate: 1, maxTarget: .max, minExtranonceSize: 8)))
        guard case let .openExtendedMiningChannel(request)? = harness.takeUpstream().first else {
            Issue.record("no OpenExtendedMiningChannel upstream")
            return
        }
        #expect(request.minExtranonceSize == 8 && request.userIdentity == "xavier")
        harness.pool(.openExtendedMiningChannelSuccess(OpenExtendedMiningChannelSuccess(
            requestID: request.requestID, channelID: 21, target: U256(3), extranonceSize: 20, extranoncePrefix: [1, 2, 3, 4], groupChannelID: 0)))
        harness.pool(.newExtendedMiningJob(groupJob(8, channelID: 21)))
        #expect(harness.take("x") == [
            .openExtendedMiningChannelSuccess(OpenExtendedMiningChannelSuccess(
                requestID: 2, channelID: 1, target: U256(3), extranonceSize: 20, extranoncePrefix: [1, 2, 3, 4], groupChannelID: 0)),
            .newExtendedMiningJob(groupJob(8, channelID: 1)),
        ])
    }

    @Test("failover: channels wait without a pool, open again on the next one, and the devices learn the new target and prefix")
    func failover() {
        var harness = Harness()
        harness.record(harness.proxy.upstreamUp())
        harness.openStandard("a", user: "alice", upstreamID: 10, prefix: prefix(1))
        harness.device("x", .openExtendedMiningChannel(OpenExtendedMiningChannel(
            requestID: 2, userIdentity: "xavier", nominalHashRate: 1, maxTarget: .max, minExtranonceSize: 8)))
        if case let .openExtendedMiningChannel(request)? = harness.takeUpstream().first {
            harness.pool(.openExtendedMiningChannelSuccess(OpenExtendedMiningChannelSuccess(
                requestID: request.requestID, channelID: 11, target: U256(3), extranonceSize: 20, extranoncePrefix: [1], groupChannelID: 0)))
        }
        _ = (harness.take("a"), harness.take("x"))

        harness.record(harness.proxy.upstreamDown())
        harness.device("a", .submitSharesStandard(SubmitSharesStandard(channelID: 1, sequenceNumber: 3, jobID: 1, nonce: 1, ntime: 1, version: 1)))
        #expect(harness.take("a") == [.submitSharesError(SubmitSharesError(channelID: 1, sequenceNumber: 3, errorCode: "upstream-unavailable"))])
        harness.pool(.newExtendedMiningJob(groupJob(4)))
        #expect(harness.devices.isEmpty, "nothing of the old pool reaches the devices")

        harness.record(harness.proxy.upstreamUp())
        let requests = harness.takeUpstream()
        #expect(requests.count == 2)
        for request in requests {
            switch request {
            case let .openStandardMiningChannel(open):
                #expect(open.userIdentity == "alice")
                harness.pool(.openStandardMiningChannelSuccess(OpenStandardMiningChannelSuccess(
                    requestID: open.requestID, channelID: 70, target: U256(1 << 61), extranoncePrefix: prefix(9), groupChannelID: 2)))
            case let .openExtendedMiningChannel(open):
                harness.pool(.openExtendedMiningChannelSuccess(OpenExtendedMiningChannelSuccess(
                    requestID: open.requestID, channelID: 71, target: U256(3), extranonceSize: 20, extranoncePrefix: [2], groupChannelID: 0)))
            default:
                Issue.record("unexpected \(request)")
            }
        }
        #expect(harness.take("a") == [.setTarget(SetTarget(channelID: 1, maximumTarget: U256(1 << 61)))])
        #expect(harness.take("x") == [.setExtranoncePrefix(SetExtranoncePrefix(channelID: 1, extranoncePrefix: [2]))])
        harness.pool(.newExtendedMiningJob(groupJob(1, channelID: 2)))
        let root = Merkle.root(coinbase: coinbasePrefix + prefix(9) + coinbaseSuffix, path: path)
        #expect(harness.take("a") == [.newMiningJob(NewMiningJob(channelID: 1, jobID: 1, minNtime: 1_700_000_000, version: 0x2000_0000, merkleRoot: root))])
        harness.device("a", .submitSharesStandard(SubmitSharesStandard(channelID: 1, sequenceNumber: 4, jobID: 1, nonce: 1, ntime: 1, version: 1)))
        #expect(harness.takeUpstream() == [.submitSharesStandard(SubmitSharesStandard(channelID: 70, sequenceNumber: 4, jobID: 1, nonce: 1, ntime: 1, version: 1))])
    }

    @Test("a device that leaves closes its channels upstream; an answer for a request of a device gone closes that channel")
    func leaving() {
        var harness = Harness()
        harness.record(harness.proxy.upstreamUp())
        harness.openStandard("a", user: "alice", upstreamID: 10, prefix: prefix(1))
        _ = harness.take("a")
        harness.device("b", .openStandardMiningChannel(OpenStandardMiningChannel(requestID: 1, userIdentity: "bob", nominalHashRate: 1, maxTarget: .max)))
        guard case let .openStandardMiningChannel(pending)? = harness.takeUpstream().first else {
            Issue.record("no request for bob")
            return
        }
        harness.record(harness.proxy.deviceGone("a"))
        harness.record(harness.proxy.deviceGone("b"))
        #expect(harness.takeUpstream() == [.closeChannel(CloseChannel(channelID: 10, reasonCode: "device-disconnected"))])
        harness.pool(.openStandardMiningChannelSuccess(OpenStandardMiningChannelSuccess(
            requestID: pending.requestID, channelID: 11, target: .max, extranoncePrefix: prefix(2), groupChannelID: 1)))
        #expect(harness.takeUpstream() == [.closeChannel(CloseChannel(channelID: 11, reasonCode: "device-disconnected"))])
        #expect(harness.proxy.channelCount == 0)
        harness.pool(.newExtendedMiningJob(groupJob(2)))
        #expect(harness.devices.isEmpty)
    }

    @Test("the pool's refusal and closing reach the device; custom jobs are refused")
    func refusals() {
        var harness = Harness()
        harness.record(harness.proxy.upstreamUp())
        harness.device("a", .openStandardMiningChannel(OpenStandardMiningChannel(requestID: 6, userIdentity: "alice", nominalHashRate: 1, maxTarget: .max)))
        guard case let .openStandardMiningChannel(request)? = harness.takeUpstream().first else { return }
        harness.pool(.openMiningChannelError(OpenMiningChannelError(requestID: request.requestID, errorCode: "unknown-user")))
        #expect(harness.take("a") == [.openMiningChannelError(OpenMiningChannelError(requestID: 6, errorCode: "unknown-user"))])
        harness.openStandard("a", user: "alice", upstreamID: 12, prefix: prefix(1))
        _ = harness.take("a")
        harness.pool(.closeChannel(CloseChannel(channelID: 1, reasonCode: "maintenance")))
        #expect(harness.take("a") == [.closeChannel(CloseChannel(channelID: 2, reasonCode: "maintenance"))], "the group closed: its members close")
        var custom = SetCustomMiningJob()
        custom.channelID = 2
        custom.requestID = 3
        harness.device("a", .setCustomMiningJob(custom))
        #expect(harness.take("a") == [.setCustomMiningJobError(SetCustomMiningJobError(channelID: 2, requestID: 3, errorCode: "custom-jobs-unsupported"))])
    }

    @Test("a device's session: SetupConnection first and for mining; then its mining messages go to the proxy")
    func deviceSession() {
        let setup = SetupNegotiation.request(.mining, flags: MiningSetupFlags.requiresStandardJobs.rawValue, endpointHost: "proxy", endpointPort: 1, firmware: "t")
        var session = ProxyDeviceSession()
        let answer = session.receive(.setupConnection(setup), now: 0)
        #expect(answer.first == .send(.setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: 0))))
        #expect(session.isSetUp && session.setupFlags == .requiresStandardJobs)
        let share = Sv2Message.submitSharesStandard(SubmitSharesStandard(channelID: 1, sequenceNumber: 1, jobID: 1, nonce: 1, ntime: 1, version: 1))
        guard case let .effect(.mining(message))? = session.receive(share, now: 0).first else {
            Issue.record("the share did not reach the proxy")
            return
        }
        #expect(message == share)
        #expect(session.receive(.newMiningJob(NewMiningJob()), now: 0).allSatisfy { if case .effect = $0 { return false } else { return true } })

        var fixed = ProxyDeviceSession(successFlags: MiningSetupSuccessFlags.requiresFixedVersion.rawValue)
        #expect(fixed.receive(.setupConnection(setup), now: 0).first == .send(.setupConnectionSuccess(SetupConnectionSuccess(
            usedVersion: 2, flags: MiningSetupSuccessFlags.requiresFixedVersion.rawValue))), "the upstream's flags hold behind the proxy")

        var early = ProxyDeviceSession()
        #expect(early.receive(share, now: 0).contains { if case .close = $0 { return true } else { return false } })
        var wrong = ProxyDeviceSession()
        let refused = wrong.receive(.setupConnection(SetupNegotiation.request(.templateDistribution, endpointHost: "", endpointPort: 0, firmware: "t")), now: 0)
        #expect(refused.contains { if case .send(.setupConnectionError) = $0 { return true } else { return false } })
    }

    @Test("the upstream session: SetupConnection, ready on success, every later message to the proxy, Reconnect followed")
    func upstreamSession() {
        var session = ProxyUpstreamSession(setup: SetupNegotiation.request(.mining, endpointHost: "pool.example", endpointPort: 3333, firmware: "t"))
        guard case .send(.setupConnection)? = session.start(now: 0).first else {
            Issue.record("no SetupConnection")
            return
        }
        #expect(session.receive(.setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: 0)), now: 0).contains {
            if case .effect(.ready(flags: 0)) = $0 { return true } else { return false }
        })
        #expect(session.isSetUp)
        guard case let .effect(.reconnect(host, port))? = session.receive(.reconnect(Reconnect(newHost: "", newPort: 4444)), now: 0).first else {
            Issue.record("Reconnect not followed")
            return
        }
        #expect(host == "pool.example" && port == 4444)
        var refused = ProxyUpstreamSession(setup: SetupNegotiation.request(.mining, endpointHost: "p", endpointPort: 1, firmware: "t"))
        #expect(refused.receive(.setupConnectionError(SetupConnectionError(flags: 0, errorCode: "nope")), now: 0).contains {
            if case .close = $0 { return true } else { return false }
        })
    }

    @Test("channel messages of an unknown extension are forwarded with the channel id mapped; after a failover the device hears ChannelEndpointChanged")
    func unknownExtensions() {
        var harness = Harness()
        harness.record(harness.proxy.upstreamUp())
        harness.openStandard("a", user: "alice", upstreamID: 0x0102_0304, prefix: prefix(1))
        _ = harness.take("a")
        var outputs = harness.proxy.unknownFromDevice("a", Sv2Frame(extensionType: 0x4242, isChannelMessage: true, messageType: 7, payload: [1, 0, 0, 0, 0xaa]))
        guard case let .upstreamFrame(up)? = outputs.first, outputs.count == 1 else {
            Issue.record("not forwarded upstream: \(outputs)")
            return
        }
        #expect(up.payload == [4, 3, 2, 1, 0xaa] && up.header.extensionType == 0x4242 && up.header.isChannelMessage && up.header.messageType == 7)
        outputs = harness.proxy.unknownFromUpstream(Sv2Frame(extensionType: 0x4242, isChannelMessage: true, messageType: 8, payload: [4, 3, 2, 1, 0xbb]))
        guard case let .deviceFrame(device, down)? = outputs.first else {
            Issue.record("not forwarded to the device: \(outputs)")
            return
        }
        #expect(device == "a" && down.payload == [1, 0, 0, 0, 0xbb])
        #expect(harness.proxy.unknownFromDevice("a", Sv2Frame(extensionType: 0x4242, isChannelMessage: false, messageType: 7, payload: [1, 0, 0, 0])).isEmpty,
                "a message for the proxy itself is dropped")
        #expect(harness.proxy.unknownFromDevice("a", Sv2Frame(extensionType: 0x4242, isChannelMessage: true, messageType: 7, payload: [9, 0])).isEmpty,
                "too short for a channel id")

        harness.record(harness.proxy.upstreamDown())
        harness.record(harness.proxy.upstreamUp())
        guard case let .openStandardMiningChannel(request)? = harness.takeUpstream().last else { return }
        harness.pool(.openStandardMiningChannelSuccess(OpenStandardMiningChannelSuccess(
            requestID: request.requestID, channelID: 9, target: U256(1 << 60), extranoncePrefix: prefix(1), groupChannelID: 1)))
        #expect(harness.take("a") == [.channelEndpointChanged(ChannelEndpointChanged(channelID: 1))])
    }

    @Test("a device may have only so many channels: more are refused, and closing one makes room")
    func channelLimit() {
        var harness = Harness()
        harness.proxy = GroupProxy(maximumChannelsPerDevice: 2)
        harness.record(harness.proxy.upstreamUp())
        harness.openStandard("a", user: "alice", upstreamID: 10, prefix: prefix(1), requestID: 1)
        harness.openStandard("a", user: "alice", upstreamID: 11, prefix: prefix(2), requestID: 2)
        _ = harness.take("a")
        harness.device("a", .openStandardMiningChannel(OpenStandardMiningChannel(requestID: 3, userIdentity: "alice", nominalHashRate: 1, maxTarget: .max)))
        #expect(harness.take("a") == [.openMiningChannelError(OpenMiningChannelError(requestID: 3, errorCode: "too-many-channels"))])
        #expect(harness.takeUpstream().isEmpty)
        harness.device("a", .closeChannel(CloseChannel(channelID: 1, reasonCode: "")))
        _ = harness.takeUpstream()
        harness.openStandard("a", user: "alice", upstreamID: 12, prefix: prefix(3), requestID: 4)
        #expect(harness.take("a").first == .openStandardMiningChannelSuccess(OpenStandardMiningChannelSuccess(
            requestID: 4, channelID: 3, target: U256(1 << 60), extranoncePrefix: prefix(3), groupChannelID: 0)))
    }
}
