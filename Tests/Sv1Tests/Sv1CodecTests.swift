import Sv1
import Sv2Formats
import Testing

/// Decodes `text` as one line.
func decode(_ text: String) throws(Sv1Error) -> Sv1Message {
    try Sv1Codec.decode(Array(text.utf8))
}

/// The JSON value of `text` (`.null` when it does not parse, so a typo fails the comparison).
func json(_ text: String) -> JSONValue {
    (try? JSONValue.parseAll(text))?.first ?? .null
}

@Suite("Sv1 codec")
struct Sv1CodecTests {
    @Test("subscribe as cgminer, bmminer and WhatsMiner firmware send it: user agent and session id")
    func subscribe() throws {
        #expect(try decode(#"{"id": 1, "method": "mining.subscribe", "params": ["cgminer/4.11.1"]}"#)
            == .request(id: .number("1"), method: Sv1Method.subscribe, params: [.string("cgminer/4.11.1")]))
        #expect(try decode(#"{"id":1,"method":"mining.subscribe","params":["bmminer/2.0.0","0100a1b2"]}"#)
            == .request(id: .number("1"), method: Sv1Method.subscribe, params: [.string("bmminer/2.0.0"), .string("0100a1b2")]))
        #expect(try decode(#"{"id":0,"method":"mining.subscribe","params":["btminer/3.1.0",null,"stratum.example.com","3333"]}"#)
            == .request(id: .number("0"), method: Sv1Method.subscribe, params: [
                .string("btminer/3.1.0"), .null, .string("stratum.example.com"), .string("3333"),
            ]))
    }

    @Test("authorize, extranonce.subscribe with no params, suggest_difficulty")
    func authorizeAndFriends() throws {
        #expect(try decode(#"{"params": ["slush.miner1", "password"], "id": 2, "method": "mining.authorize"}"#)
            == .request(id: .number("2"), method: Sv1Method.authorize, params: [.string("slush.miner1"), .string("password")]))
        #expect(try decode(#"{"id": 3, "method": "mining.extranonce.subscribe", "params": []}"#)
            == .request(id: .number("3"), method: Sv1Method.extranonceSubscribe, params: []))
        #expect(try decode(#"{"id":4,"method":"mining.extranonce.subscribe"}"#)
            == .request(id: .number("4"), method: Sv1Method.extranonceSubscribe, params: []))
        #expect(try decode(#"{"id":5,"method":"mining.suggest_difficulty","params":[2048]}"#)
            == .request(id: .number("5"), method: Sv1Method.suggestDifficulty, params: [.number("2048")]))
        #expect(try decode(#"{"id":6,"method":"mining.suggest_difficulty","params":[0.5]}"#)
            == .request(id: .number("6"), method: Sv1Method.suggestDifficulty, params: [.number("0.5")]))
    }

    @Test("configure (BIP310) with version-rolling and minimum-difficulty and its options object")
    func configure() throws {
        let line = #"{"method":"mining.configure","id":1,"params":[["version-rolling","minimum-difficulty"],"#
            + #"{"version-rolling.mask":"1fffe000","version-rolling.min-bit-count":2,"minimum-difficulty.value":2048}]}"#
        guard case let .request(id, method, params) = try decode(line) else { Issue.record("not a request"); return }
        #expect(id == .number("1") && method == Sv1Method.configure && params.count == 2)
        #expect(params.first?.arrayValue == [.string("version-rolling"), .string("minimum-difficulty")])
        #expect(params.last?["version-rolling.mask"]?.stringValue == "1fffe000")
        #expect(params.last?["version-rolling.min-bit-count"]?.int64Value == 2)
        #expect(params.last?["minimum-difficulty.value"]?.int64Value == 2048)
    }

    @Test("submit with 5 params (slush's documentation) and with version bits (6 params)")
    func submit() throws {
        #expect(try decode(#"{"params": ["slush.miner1", "bf", "00000001", "504e86ed", "b2957c02"], "id": 4, "method": "mining.submit"}"#)
            == .request(id: .number("4"), method: Sv1Method.submit, params: [
                .string("slush.miner1"), .string("bf"), .string("00000001"), .string("504e86ed"), .string("b2957c02"),
            ]))
        guard case let .request(_, _, params) = try decode(
            #"{"id":118,"method":"mining.submit","params":["user.worker","6a2f","0000000000000a01","649c3a21","1b2c3d4e","04a6e000"]}"#)
        else { Issue.record("not a request"); return }
        #expect(params.count == 6 && params.last == .string("04a6e000"))
    }

    @Test("ids: numbers keep their literal, strings, null and absent ids make notifications")
    func ids() throws {
        #expect(try decode(#"{"id":"abc-1","method":"mining.subscribe","params":[]}"#)
            == .request(id: .string("abc-1"), method: Sv1Method.subscribe, params: []))
        #expect(try decode(#"{"id":18446744073709551616,"method":"mining.authorize","params":["u","x"]}"#)
            == .request(id: .number("18446744073709551616"), method: Sv1Method.authorize, params: [.string("u"), .string("x")]))
        #expect(try decode(#"{"id":null,"method":"mining.set_difficulty","params":[8192]}"#)
            == .notification(method: Sv1Method.setDifficulty, params: [.number("8192")]))
        #expect(try decode(#"{"method":"mining.set_version_mask","params":["00003000"]}"#)
            == .notification(method: Sv1Method.setVersionMask, params: [.string("00003000")]))
        #expect(try decode(#"{"params":["00003000"], "id":null, "method": "mining.set_version_mask"}"#)
            == .notification(method: Sv1Method.setVersionMask, params: [.string("00003000")]))
    }

    @Test("responses: result and error present, absent or null; a null method is no method")
    func responses() throws {
        let subscribed = #"{"id":1,"result":[[["mining.notify","ae6812eb4cd7735a302a8a9dd95cf71f"]],"08000002",4],"error":null}"#
        #expect(try decode(subscribed) == .response(
            id: .number("1"), result: json(#"[[["mining.notify","ae6812eb4cd7735a302a8a9dd95cf71f"]],"08000002",4]"#),
            error: .null))
        #expect(try decode(#"{"id":2,"result":true}"#) == .response(id: .number("2"), result: .bool(true), error: .null))
        #expect(try decode(#"{"id":"7","error":[23,"Low difficulty share",null]}"#)
            == .response(id: .string("7"), result: .null, error: json(#"[23,"Low difficulty share",null]"#)))
        #expect(try decode(#"{"id":9,"method":null,"result":false,"error":null}"#)
            == .response(id: .number("9"), result: .bool(false), error: .null))
    }

    @Test("tolerance: params as an object, jsonrpc and extra fields ignored, surrounding blanks")
    func tolerance() throws {
        #expect(try decode(#"{"jsonrpc":"2.0","id":3,"method":"mining.authorize","params":{"user":"u","pass":"x"}}"#)
            == .request(id: .number("3"), method: Sv1Method.authorize, params: [json(#"{"user":"u","pass":"x"}"#)]))
        #expect(try decode(#"  {"id":4,"method":"mining.subscribe","params":null,"worker":"w","ts":1700000000}  "#)
            == .request(id: .number("4"), method: Sv1Method.subscribe, params: []))
    }

    @Test("malformed lines: the right error for each")
    func malformed() {
        #expect(throws: Sv1Error.notAnObject) { try decode(#"[1,"mining.subscribe",[]]"#) }
        #expect(throws: Sv1Error.notAnObject) { try decode(#""mining.subscribe""#) }
        #expect(throws: Sv1Error.notAnObject) { try decode("42") }
        #expect(throws: Sv1Error.badField("id")) { try decode(#"{"id":[1],"method":"mining.subscribe"}"#) }
        #expect(throws: Sv1Error.badField("id")) { try decode(#"{"id":true,"result":true}"#) }
        #expect(throws: Sv1Error.badField("method")) { try decode(#"{"id":1,"method":7,"params":[]}"#) }
        #expect(throws: Sv1Error.badField("params")) { try decode(#"{"id":1,"method":"mining.submit","params":"x"}"#) }
        for text in [#"{"id":1,"method":"mining.subscribe","params":[}"#, #"{"id":1"#, "", "   ", #"{"id":1}{"id":2}"#, "nul"] {
            do {
                let message = try decode(text)
                Issue.record("'\(text)' decoded as \(message)")
            } catch {
                guard case .malformedJSON = error else { Issue.record("'\(text)': \(error)"); continue }
            }
        }
        #expect(throws: Sv1Error.malformedJSON("not UTF-8")) { try Sv1Codec.decode([0x7b, 0xff, 0x7d]) }
    }

    @Test("encode: compact, newline-terminated, ids echoed as received, responses always with id, result and error")
    func encode() {
        #expect(String(decoding: Sv1Codec.encode(.response(id: .number("18446744073709551616"), result: .bool(true), error: .null)), as: UTF8.self)
            == #"{"id":18446744073709551616,"result":true,"error":null}"# + "\n")
        #expect(String(decoding: Sv1Codec.encode(.response(id: .string("a\"b"), result: .null, error: json(#"[21,"Job not found",null]"#))), as: UTF8.self)
            == #"{"id":"a\"b","result":null,"error":[21,"Job not found",null]}"# + "\n")
        #expect(String(decoding: Sv1Codec.encode(.notification(method: Sv1Method.setDifficulty, params: [.number("1024")])), as: UTF8.self)
            == #"{"id":null,"method":"mining.set_difficulty","params":[1024]}"# + "\n")
        #expect(String(decoding: Sv1Codec.encode(.request(id: .number("3"), method: Sv1Method.authorize, params: [.string("u"), .string("x")])), as: UTF8.self)
            == #"{"id":3,"method":"mining.authorize","params":["u","x"]}"# + "\n")
    }

    @Test("round trips: decode(encode(m)) == m and re-encoding a decoded firmware line is stable")
    func roundTrips() throws {
        let messages: [Sv1Message] = [
            .request(id: .number("1"), method: Sv1Method.subscribe, params: [.string("sv2-cpu-miner/0.1")]),
            .request(id: .string("x-9"), method: Sv1Method.configure, params: [
                .array([.string("version-rolling")]),
                .object([("version-rolling.mask", .string("1fffe000")), ("version-rolling.min-bit-count", .number("2"))]),
            ]),
            .notification(method: Sv1Method.notify, params: [.string("bf"), .array([]), .bool(false)]),
            .response(id: .number("2"), result: .bool(true), error: .null),
            .response(id: .null, result: .null, error: .array([.number("20"), .string("Other/Unknown"), .null])),
        ]
        for message in messages {
            var line = Sv1Codec.encode(message)
            #expect(line.last == UInt8(ascii: "\n"))
            line.removeLast()
            #expect(try Sv1Codec.decode(line) == message)
        }
        let firmware = #"{"params": ["slush.miner1", "bf", "00000001", "504e86ed", "b2957c02"], "id": 4, "method": "mining.submit"}"#
        let once = Sv1Codec.encode(try decode(firmware))
        #expect(Sv1Codec.encode(try Sv1Codec.decode(Array(once.dropLast()))) == once)
    }

    @Test("errors describe themselves in a sentence")
    func descriptions() {
        #expect(Sv1Error.lineTooLong(limit: 16_384).description == "A Stratum V1 line is longer than 16384 bytes without a newline.")
        #expect(Sv1Error.badField("params").description.contains("\"params\""))
        #expect(Sv1Error.notAnObject.description.hasSuffix("."))
    }
}
