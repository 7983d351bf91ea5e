import Sv2Binary
import Sv2Formats

extension Sv2FieldValue {
    /// The value as `sv2 decode --json` prints it: integers as numbers, U256 and byte arrays as hex in wire order,
    /// STR0_255 as a string (`{"hex": …}` when it is not UTF-8), F32 as a number (its bit pattern `"0x…"` when not
    /// finite), OPTION as a number or null, sequences as arrays.
    public var json: JSONValue {
        switch self {
        case let .bool(value): return .bool(value)
        case let .unsigned(value, _): return .number(String(value))
        case let .u256(value): return .string(value.hex)
        case let .f32(value):
            return value.isFinite ? .number(value.description) : .string("0x" + String(value.bitPattern, radix: 16))
        case let .string(value):
            if let text = value.string { return .string(text) }
            return .object([("hex", .string(Hex.encode(value.bytes)))])
        case let .bytes(value, _): return .string(Hex.encode(value))
        case let .optionalU32(value): return value.map { .number(String($0)) } ?? .null
        case let .unsignedSequence(values, _, _): return .array(values.map { .number(String($0)) })
        case let .u256Sequence(values, _): return .array(values.map { .string($0.hex) })
        case let .bytesSequence(values, _, _): return .array(values.map { .string(Hex.encode($0)) })
        }
    }

    /// The value as `sv2 decode` prints it for people: like ``json`` but hex unquoted, large integers also in hex,
    /// and sequences as `[a, b]`.
    public var text: String {
        switch self {
        case let .string(value):
            if let text = value.string { return JSONValue.string(text).text }
            return "hex:" + Hex.encode(value.bytes)
        case let .unsignedSequence(values, _, _): return "[" + values.map { String($0) }.joined(separator: ", ") + "]"
        case let .u256Sequence(values, _): return "[" + values.map(\.hex).joined(separator: ", ") + "]"
        case let .bytesSequence(values, _, _): return "[" + values.map { Hex.encode($0) }.joined(separator: ", ") + "]"
        case let .u256(value): return value.hex
        case let .bytes(value, _): return value.isEmpty ? "(empty)" : Hex.encode(value)
        case let .unsigned(value, _) where value >= 0x10000: return "\(value) (0x\(String(value, radix: 16)))"
        default: return json.text
        }
    }
}

extension Sv2TLV {
    /// Extension 0x0002 (worker-specific hashrate tracking), field 0x01: user_identity, at most 32 bytes.
    public static let userIdentityType: (extensionType: UInt16, fieldType: UInt8) = (0x0002, 0x01)

    /// The user_identity TLV of extension 0x0002 for `worker`; nil when it is over 32 bytes.
    public static func userIdentity(_ worker: String) -> Sv2TLV? {
        let bytes = Array(worker.utf8)
        guard bytes.count <= 32 else { return nil }
        return Sv2TLV(extensionType: userIdentityType.extensionType, fieldType: userIdentityType.fieldType, value: bytes)
    }

    /// Extension 0x0002's user_identity field naming `worker`, made to fit its 32 bytes: a longer name is cut to what
    /// follows its first dot (`bc1q….rig1` keeps `rig1`: the pool credits the channel's account anyway), then to 32
    /// bytes at a character boundary.
    public static func userIdentity(truncating worker: String) -> Sv2TLV {
        var name = Substring(worker)
        if name.utf8.count > 32, let dot = name.firstIndex(of: ".") { name = name[name.index(after: dot)...] }
        while name.utf8.count > 32 { name = name.dropLast() }
        return Sv2TLV(extensionType: userIdentityType.extensionType, fieldType: userIdentityType.fieldType, value: Array(name.utf8))
    }

    /// The worker name when this is extension 0x0002's user_identity TLV holding valid UTF-8 of at most 32 bytes.
    public var userIdentity: String? {
        guard extensionType == Self.userIdentityType.extensionType, fieldType == Self.userIdentityType.fieldType,
              value.count <= 32
        else { return nil }
        return String(validating: value, as: UTF8.self)
    }

    /// `{"extension_type":2,"field_type":1,"user_identity":"Worker_001"}` for the known field, otherwise with
    /// `"value"` in hex.
    public var json: JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("extension_type", .number(String(extensionType))), ("field_type", .number(String(fieldType))),
        ]
        if let worker = userIdentity {
            pairs.append(("user_identity", .string(worker)))
        } else {
            pairs.append(("value", .string(Hex.encode(value))))
        }
        return .object(pairs)
    }

    /// `tlv 0x0002/0x01 user_identity: "Worker_001"` or `tlv 0x0005/0x02: 0a0b`.
    public var text: String {
        let type = "tlv 0x" + String(format4: extensionType) + "/0x" + hex2(fieldType)
        if let worker = userIdentity { return type + " user_identity: " + JSONValue.string(worker).text }
        return type + ": " + Hex.encode(value)
    }
}

extension String {
    /// Four lower-case hex digits.
    init(format4 value: UInt16) {
        let text = String(value, radix: 16)
        self = String(repeating: "0", count: 4 - text.count) + text
    }
}

extension Sv2Message {
    /// The fields as (spec name, value), in wire order.
    public var fields: [(name: String, value: Sv2FieldValue)] {
        Sv2FieldCollector.fields(of: payload)
    }

    /// One JSON object: `{"message": name, <field>: <value>, …, "tlv": [...]}` (`tlv` only when there are TLVs).
    /// `sv2 encode --json` reads exactly this form back.
    public func json(tlvs: [Sv2TLV] = []) -> JSONValue {
        var pairs: [(String, JSONValue)] = [("message", .string(name))]
        for field in fields { pairs.append((field.name, field.value.json)) }
        if !tlvs.isEmpty { pairs.append(("tlv", .array(tlvs.map(\.json)))) }
        return .object(pairs)
    }

    /// The lines `sv2 decode` prints for people: one per field, `name: value`, then one per TLV.
    public func textLines(tlvs: [Sv2TLV] = []) -> [String] {
        fields.map { "\($0.name): \($0.value.text)" } + tlvs.map(\.text)
    }
}
