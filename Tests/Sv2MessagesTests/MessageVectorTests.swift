import Sv2TestSupport
import Testing
import Sv2Binary
@testable import Sv2Messages

/// Decodes one whole frame.
private func decodeFrame(_ frame: [UInt8]) throws -> Sv2DecodedFrame {
    let frames = try Sv2DecodedFrame.decodeAll(frame)
    try #require(frames.count == 1)
    return frames[0]
}

@Suite("messages against the SRI vectors")
struct MessageVectorTests {
    @Test("NewMiningJob frame (SRI parsers-sv2)")
    func newMiningJob() throws {
        let frameHex = "008015310000010203040506070801090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30"
        let job = NewMiningJob(
            channelID: 0x0403_0201, jobID: 0x0807_0605, minNtime: 0x0c0b_0a09, version: 0x100f_0e0d,
            merkleRoot: U256(littleEndianBytes: Array(17...48))!)
        #expect(try job.encodedFrame() == hex(frameHex))
        let decoded = try decodeFrame(hex(frameHex))
        #expect(decoded.message == .newMiningJob(job) && decoded.tlvs.isEmpty)
        #expect(decoded.header.isChannelMessage)
    }

    @Test("PushSolution frame (SRI parsers-sv2)")
    func pushSolution() throws {
        let frameHex = "000060350000040102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223244433221188776655ccbbaa9900ffeedd"
        let solution = PushSolution(
            extranonce: [1, 2, 3, 4], prevHash: U256(littleEndianBytes: Array(5...36))!, nonce: 0x1122_3344,
            ntime: 0x5566_7788, nbits: 0x99aa_bbcc, version: 0xddee_ff00)
        #expect(try solution.encodedFrame() == hex(frameHex))
        #expect(try decodeFrame(hex(frameHex)).message == .pushSolution(solution))
    }

    @Test("SetupConnection, SetupConnection.Success and RequestExtensions frames")
    func computedFrames() throws {
        let setup = SetupConnection(
            protocol: 0, minVersion: 1, maxVersion: 4, flags: 0, endpointHost: "0.0.0.0", endpointPort: 0,
            vendor: "vendor", hardwareVersion: "hw_version", firmware: "firmware", deviceID: "device_id")
        let setupHex = "00000038000000010004000000000007302e302e302e3000000676656e646f720a68775f76657273696f6e086669726d77617265096465766963655f6964"
        #expect(try setup.encodedFrame() == hex(setupHex))
        #expect(try decodeFrame(hex(setupHex)).message == .setupConnection(setup))
        let success = SetupConnectionSuccess(usedVersion: 2, flags: 0)
        #expect(try success.encodedFrame() == hex("000001060000020000000000"))
        let request = RequestExtensions(requestID: 0, requestedExtensions: [2])
        #expect(try request.encodedFrame() == hex("010000060000000001000200"))
        #expect(try decodeFrame(hex("010000060000000001000200")).message == .requestExtensions(request))
    }

    @Test("SubmitSharesExtended with the worker identity TLV of extension 0x0002")
    func workerIdentity() throws {
        let share = SubmitSharesExtended(channelID: 1, sequenceNumber: 2, jobID: 3, nonce: 4, ntime: 5, version: 6, extranonce: [9, 9])
        let tlv = try #require(Sv2TLV.userIdentity("Worker_001"))
        let frame = try share.message.encodedFrame(tlvs: [tlv])
        #expect(frame.suffix(15) == hex("0200010a00576f726b65725f303031"))
        let decoded = try decodeFrame(frame)
        #expect(decoded.message == .submitSharesExtended(share) && decoded.tlvs == [tlv])
        #expect(decoded.tlvs.first?.userIdentity == "Worker_001")
        #expect(Sv2TLV.userIdentity(String(repeating: "w", count: 33)) == nil)
    }

    @Test("message ids and channel_msg bits match SRI and the spec table")
    func messageTypes() throws {
        let rows = try loadJSON("message_types.json")["rows"] as? [[String: Any]] ?? []
        #expect(rows.count == Sv2Message.allPayloadTypes.count)
        for row in rows {
            let ext = UInt16((row["extension_type"] as? String ?? "").dropFirst(2), radix: 16)
            let type = UInt8((row["msg_type"] as? String ?? "").dropFirst(2), radix: 16)
            let payload = try #require(Sv2MessageRegistry.lookup(extensionType: ext ?? 0xffff, messageType: type ?? 0xff), "\(row)")
            #expect(payload.isChannelMessage == (row["channel_msg"] as? Bool), "\(payload.name)")
            if let specName = row["spec_name"] as? String {
                #expect(payload.name == specName || payload.name.hasSuffix("." + specName), "\(payload.name) vs \(specName)")
            }
        }
    }

    @Test("a wrong channel_msg bit decodes (as SRI does) and is reported")
    func channelBit() throws {
        var frame = try SubmitSharesStandard().encodedFrame()
        frame[1] = 0
        let decoded = try decodeFrame(frame)
        #expect(!decoded.message.hasExpectedChannelBit(decoded.header))
    }

    @Test("decode errors name the frame and the byte within it")
    func frameErrors() throws {
        let good = try SetupConnectionSuccess(usedVersion: 2, flags: 0).encodedFrame()
        var badShare = try SubmitSharesExtended(channelID: 0, sequenceNumber: 0, jobID: 0, nonce: 0, ntime: 0, version: 0, extranonce: [1]).encodedFrame()
        badShare[6 + 24] = 40
        let error = #expect(throws: Sv2DecodedFrame.Failure.self) { try Sv2DecodedFrame.decodeAll(good + badShare) }
        #expect(error?.description == "frame 2, byte 30: extranonce: B0_32 length 40 exceeds 32")
        let unknown = #expect(throws: Sv2DecodedFrame.Failure.self) { try Sv2DecodedFrame.decodeAll(hex("00001e000000")) }
        #expect(unknown?.description.hasPrefix("frame 1, byte 2: msg_type: unknown message type 0x1e") == true)
        let short = #expect(throws: Sv2DecodedFrame.Failure.self) { try Sv2DecodedFrame.decodeAll(good + [0, 0]) }
        #expect(short?.description == "frame 2, byte 0: header: truncated: needs 6 bytes, 2 left")
        let trailing = #expect(throws: Sv2DecodedFrame.Failure.self) { try Sv2DecodedFrame.decodeAll(hex("000001080000020000000000ffff")) }
        #expect(trailing?.description == "frame 1, byte 12: tlv: 2 trailing bytes that are not TLV fields")
    }
}
