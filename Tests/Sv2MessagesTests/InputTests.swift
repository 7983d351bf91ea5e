import Sv2TestSupport
import Testing
import Sv2Binary
import Sv2Formats
@testable import Sv2Messages

@Suite("building messages from field=value and JSON")
struct InputTests {
    private func message(_ name: String, _ words: [String]) throws -> Sv2Message {
        try Sv2MessageInput.message(named: name, assignments: words)
    }

    private func failure(_ name: String, _ words: [String]) -> String {
        do {
            _ = try message(name, words)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test("the README's SetupConnection example")
    func setupConnection() throws {
        let built = try message("SetupConnection", [
            "protocol=0", "min_version=2", "max_version=2", "flags=0", "endpoint_host=pool.example", "endpoint_port=3333",
            "vendor=x", "hardware_version=y", "firmware=z", "device_id=d",
        ])
        guard case let .setupConnection(setup) = built else { throw Sv2InputError("wrong message") }
        #expect(setup.endpointHost == "pool.example" && setup.endpointPort == 3333 && setup.maxVersion == 2)
    }

    @Test("every type's text syntax")
    func syntax() throws {
        let job = try message("NewExtendedMiningJob", [
            "channel_id=0x10", "job_id=7", "min_ntime=none", "version=0x20000000", "version_rolling_allowed=true",
            "merkle_path=" + String(repeating: "11", count: 32) + "," + String(repeating: "22", count: 32),
            "coinbase_tx_prefix=0xabcd", "coinbase_tx_suffix=",
        ])
        guard case let .newExtendedMiningJob(value) = job else { throw Sv2InputError("wrong message") }
        #expect(value.channelID == 16 && value.minNtime == nil && value.versionRollingAllowed && value.merklePath.count == 2)
        #expect(value.coinbaseTxPrefix == [0xab, 0xcd] && value.coinbaseTxSuffix.isEmpty)
        let open = try message("OpenStandardMiningChannel", [
            "request_id=1", "user_identity=alice.worker", "nominal_hash_rate=1.5e12", "max_target=" + String(repeating: "ff", count: 32),
        ])
        guard case let .openStandardMiningChannel(channel) = open else { throw Sv2InputError("wrong message") }
        #expect(channel.nominalHashRate == 1.5e12 && channel.maxTarget == .max)
        #expect(try message("SetGroupChannel", ["group_channel_id=1", "channel_ids="]) == .setGroupChannel(SetGroupChannel(groupChannelID: 1, channelIDs: [])))
    }

    @Test("clear errors: missing, unknown, duplicate, out of range, unknown or ambiguous message")
    func errors() {
        #expect(failure("SetupConnection.Success", ["used_version=2"]) == "SetupConnection.Success: missing field flags (U32)")
        #expect(failure("SetupConnection.Success", ["used_version=2", "flags=0", "colour=red"]).hasPrefix(
            "SetupConnection.Success has no field 'colour'; its fields: used_version, flags"))
        #expect(failure("SetupConnection.Success", ["used_version=2", "flags=0", "flags=1"]) == "SetupConnection.Success: field flags is given twice")
        #expect(failure("SetupConnection", ["protocol=300"]).hasPrefix("SetupConnection: field protocol (U8): cannot use \"300\"; expected an integer from 0 to 255"))
        #expect(failure("SetExtranoncePrefix", ["channel_id=1", "extranonce_prefix=" + String(repeating: "00", count: 33)]).contains("extranonce_prefix (B0_32)"))
        #expect(failure("NoSuchMessage", []).hasPrefix("unknown message 'NoSuchMessage'"))
        #expect(failure("SetNewPrevHash", []) == "'SetNewPrevHash' is ambiguous: say Mining.SetNewPrevHash or TemplateDistribution.SetNewPrevHash")
        #expect(failure("SetupConnection.Success", ["flags"]) == "'flags' is not of the form field=value")
    }

    @Test("names are found in several spellings")
    func names() throws {
        #expect(try Sv2MessageRegistry.lookup("setupconnection.success") == SetupConnectionSuccess.self)
        #expect(try Sv2MessageRegistry.lookup("SetupConnectionSuccess") == SetupConnectionSuccess.self)
        #expect(try Sv2MessageRegistry.lookup("Mining.SetNewPrevHash") == SetNewPrevHash.self)
        #expect(try Sv2MessageRegistry.lookup("TemplateSetNewPrevHash") == TemplateSetNewPrevHash.self)
    }

    @Test("JSON: strings that are not UTF-8, non-finite F32 and TLVs survive the round trip")
    func json() throws {
        let message = Sv2Message.openStandardMiningChannel(OpenStandardMiningChannel(
            requestID: 1, userIdentity: Sv2String(bytes: [0xff, 0x00, 0x41]), nominalHashRate: .infinity, maxTarget: .zero))
        let tlvs = [Sv2TLV(extensionType: 9, fieldType: 3, value: [1, 2]), Sv2TLV.userIdentity("w1")!]
        let text = message.json(tlvs: tlvs).text
        #expect(text.contains("\"user_identity\":{\"hex\":\"ff0041\"}") && text.contains("\"nominal_hash_rate\":\"0x7f800000\""))
        let parsed = try Sv2MessageInput.message(json: try #require(JSONValue.parseAll(text).first))
        #expect(parsed.message == message && parsed.tlvs == tlvs)
        #expect(throws: JSONValue.SyntaxError.self) { try JSONValue.parseAll("{\"message\": ") }
        #expect(try JSONValue.parseAll("{\"a\":[1,-2.5e3,\"\\u00e9\\n\"]} {}").count == 2)
    }
}
