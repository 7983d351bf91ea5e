import Sv2TestSupport
import Testing
import Sv2Binary
import Sv2Formats
@testable import Sv2Messages

/// SplitMix64: a fixed-seed generator so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// How long the variable-length field under test is made.
enum LengthMode: CaseIterable {
    case random, zero, maximum, overMaximum
}

/// Fills every field with generated values; the variable-length field number `target` gets `mode`'s length.
struct Filler: Sv2FieldVisitor {
    var random: SplitMix64
    var target = -1
    var mode = LengthMode.random
    private(set) var variableFields = 0

    init(seed: UInt64) {
        random = SplitMix64(state: seed)
    }

    private mutating func length(maximum: Int) -> Int {
        defer { variableFields += 1 }
        guard variableFields == target else { return Int.random(in: 0...min(maximum, 40), using: &random) }
        switch mode {
        case .random: return Int.random(in: 0...min(maximum, 40), using: &random)
        case .zero: return 0
        case .maximum: return maximum
        case .overMaximum: return maximum + 1
        }
    }

    private mutating func byteArray(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    mutating func visit(_ field: StaticString, _ value: inout Bool) { value = Bool.random(using: &random) }
    mutating func visit(_ field: StaticString, _ value: inout UInt8) { value = .random(in: 0...UInt8.max, using: &random) }
    mutating func visit(_ field: StaticString, _ value: inout UInt16) { value = .random(in: 0...UInt16.max, using: &random) }
    mutating func visit(_ field: StaticString, _ value: inout UInt32) { value = .random(in: 0...UInt32.max, using: &random) }
    mutating func visit(_ field: StaticString, _ value: inout UInt64) { value = random.next() }
    mutating func visit(_ field: StaticString, _ value: inout U256) {
        value = U256(w0: random.next(), w1: random.next(), w2: random.next(), w3: random.next())
    }
    mutating func visit(_ field: StaticString, _ value: inout Float) { value = Float(bitPattern: .random(in: 0...UInt32.max, using: &random)) }
    mutating func visit(_ field: StaticString, _ value: inout Sv2String) { value = Sv2String(bytes: byteArray(length(maximum: 255))) }
    mutating func visit(_ field: StaticString, _ value: inout [UInt8], _ type: Sv2BytesType) { value = byteArray(length(maximum: type.maximumLength)) }
    mutating func visit(_ field: StaticString, _ value: inout UInt32?) { value = Bool.random(using: &random) ? .random(in: 0...UInt32.max, using: &random) : nil }
    mutating func visit(_ field: StaticString, _ value: inout [UInt16], _ type: Sv2SeqType) {
        value = (0..<length(maximum: type.maximumCount)).map { _ in .random(in: 0...UInt16.max, using: &random) }
    }
    mutating func visit(_ field: StaticString, _ value: inout [UInt32], _ type: Sv2SeqType) {
        value = (0..<length(maximum: type.maximumCount)).map { _ in .random(in: 0...UInt32.max, using: &random) }
    }
    mutating func visit(_ field: StaticString, _ value: inout [U256], _ type: Sv2SeqType) {
        value = (0..<length(maximum: type.maximumCount)).map { _ in U256(w0: random.next(), w1: 0, w2: random.next(), w3: 0) }
    }
    mutating func visit(_ field: StaticString, _ value: inout [[UInt8]], _ type: Sv2SeqType, of element: Sv2BytesType) {
        // The sequence's count takes the mode; elements are short, except the first, which tests the element bound.
        let count = length(maximum: type.maximumCount)
        let first = length(maximum: element.maximumLength)
        value = (0..<count).map { index in
            byteArray(index == 0 ? first : Int.random(in: 0...3, using: &random))
        }
    }
}

/// Builds a message of `type` filled by `filler`.
func generated(_ type: any Sv2MessagePayload.Type, _ filler: inout Filler) -> Sv2Message {
    var payload = type.init()
    try? payload.visitFields(&filler)
    return payload.message
}

@Suite("every message round-trips")
struct RoundTripTests {
    static let types = Sv2Message.allPayloadTypes.map { TypeBox(type: $0) }

    @Test("generated values, 50 per message (fixed seed)", arguments: types)
    func roundTrip(box: TypeBox) throws {
        for seed in 0..<50 {
            var filler = Filler(seed: UInt64(seed) &* 7919 &+ UInt64(box.type.messageType))
            let message = generated(box.type, &filler)
            let frame = try message.encodedFrame()
            let decoded = try Sv2DecodedFrame.decodeAll(frame)
            #expect(decoded.count == 1)
            #expect(decoded.first?.message.name == message.name)
            #expect(try decoded.first?.message.encodedFrame() == frame)
            // NaN payloads compare unequal; compare re-encoded bytes above and the values where they are equal.
            if !frame.isEmpty, message.fields.allSatisfy({ if case let .f32(v) = $0.value { return !v.isNaN } else { return true } }) {
                #expect(decoded.first?.message == message)
            }
            // The JSON form builds the same frame back.
            let json = try #require(decoded.first).message.json()
            let rebuilt = try Sv2MessageInput.message(json: try #require(JSONValue.parseAll(json.text).first))
            #expect(try rebuilt.message.encodedFrame() == frame, "\(json.text)")
            // Every strict prefix of the frame fails with an error, never a crash.
            for cut in stride(from: 1, to: frame.count, by: max(1, frame.count / 40)) {
                #expect(throws: Sv2DecodedFrame.Failure.self) { try Sv2DecodedFrame.decodeAll(Array(frame[..<cut])) }
            }
        }
    }

    @Test("each variable-length field at length 0 and max round-trips; max+1 is refused", arguments: types)
    func boundaries(box: TypeBox) throws {
        var probe = Filler(seed: 1)
        _ = generated(box.type, &probe)
        for target in 0..<probe.variableFields {
            for mode in [LengthMode.zero, .maximum, .overMaximum] {
                var filler = Filler(seed: 99)
                filler.target = target
                filler.mode = mode
                let message = generated(box.type, &filler)
                if mode == .overMaximum {
                    let error = #expect(throws: Sv2CodecError.self, "\(box.type.name) field #\(target)") { try message.encodedFrame() }
                    if case .lengthExceeds? = error?.problem {} else { Issue.record("\(String(describing: error))") }
                    continue
                }
                let frame: [UInt8]
                do {
                    frame = try message.encodedFrame()
                } catch {
                    // A maximum-size field can push the whole payload past the U24 frame limit; that is refused too.
                    guard case .lengthExceeds("U24", _, _) = error.problem else { throw error }
                    continue
                }
                #expect(try Sv2DecodedFrame.decodeAll(frame).first?.message.encodedFrame() == frame)
            }
        }
    }
}

/// Wraps a message type for parameterised tests.
struct TypeBox: CustomTestStringConvertible, Sendable {
    let type: any Sv2MessagePayload.Type
    var testDescription: String { type.name }
}
