import Sv2Binary
import Sv2Formats

/// A reason `sv2 encode` could not build a message from what was typed.
public struct Sv2InputError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The sentence for the user, naming the message and the field.
    public var description: String

    /// Wraps a sentence.
    public init(_ description: String) {
        self.description = description
    }
}

/// Builds messages from field values given as text (`name=value`) or as JSON.
///
/// Every field of the message must be given exactly once; an unknown field or a value out of its type's range is
/// an error that names the field and its type.
public enum Sv2MessageInput {
    /// Builds the message called `name` from `name=value` words. Values: integers in decimal or `0x` hex, BOOL
    /// as true/false/1/0, U256 and byte arrays as hex (wire order), F32 as a decimal (or its `0x` bit pattern),
    /// OPTION as a number or `none`, sequences as comma-separated elements (empty for none).
    public static func message(named name: String, assignments: [String]) throws -> Sv2Message {
        var pairs = [(String, JSONValue)]()
        for assignment in assignments {
            guard let equals = assignment.firstIndex(of: "=") else {
                throw Sv2InputError("'\(assignment)' is not of the form field=value")
            }
            pairs.append((String(assignment[..<equals]), .string(String(assignment[assignment.index(after: equals)...]))))
        }
        return try message(type: try Sv2MessageRegistry.lookup(name), values: pairs, fromText: true)
    }

    /// Builds a message and its TLVs from one JSON object of the form `sv2 decode --json` prints.
    public static func message(json: JSONValue) throws -> (message: Sv2Message, tlvs: [Sv2TLV]) {
        guard case var .object(pairs) = json else { throw Sv2InputError("expected a JSON object with a \"message\" key") }
        guard let nameIndex = pairs.firstIndex(where: { $0.0 == "message" }), case let .string(name) = pairs[nameIndex].1 else {
            throw Sv2InputError("the JSON object has no \"message\" string naming the message")
        }
        pairs.remove(at: nameIndex)
        var tlvs = [Sv2TLV]()
        if let tlvIndex = pairs.firstIndex(where: { $0.0 == "tlv" }) {
            guard case let .array(items) = pairs[tlvIndex].1 else { throw Sv2InputError("\"tlv\" must be an array") }
            tlvs = try items.map(tlv(from:))
            pairs.remove(at: tlvIndex)
        }
        return (try message(type: try Sv2MessageRegistry.lookup(name), values: pairs, fromText: false), tlvs)
    }

    /// Parses `EXT:FIELD:HEX` (numbers in decimal or 0x hex), the `--tlv` option of `sv2 encode`.
    public static func tlv(text: String) throws -> Sv2TLV {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else { throw Sv2InputError("TLV '\(text)' is not EXTENSION_TYPE:FIELD_TYPE:HEX") }
        return try tlv(from: .object([
            ("extension_type", .string(parts[0])), ("field_type", .string(parts[1])), ("value", .string(parts[2])),
        ]))
    }

    private static func tlv(from json: JSONValue) throws -> Sv2TLV {
        guard case let .object(pairs) = json else { throw Sv2InputError("each \"tlv\" entry must be an object") }
        func value(_ key: String) -> JSONValue? { pairs.first { $0.0 == key }?.1 }
        guard let extensionType = value("extension_type").flatMap({ unsigned($0, bits: 16) }),
              let fieldType = value("field_type").flatMap({ unsigned($0, bits: 8) })
        else { throw Sv2InputError("a TLV needs extension_type (U16) and field_type (U8)") }
        let bytes: [UInt8]
        if case let .string(worker)? = value("user_identity") {
            bytes = Array(worker.utf8)
            guard bytes.count <= 32 else { throw Sv2InputError("TLV user_identity is \(bytes.count) bytes, over 32") }
        } else if case let .string(hex)? = value("value"), let decoded = Hex.decode(hex) {
            bytes = decoded
        } else {
            throw Sv2InputError("a TLV needs \"value\" in hex (or \"user_identity\")")
        }
        guard bytes.count <= Int(UInt16.max) else { throw Sv2InputError("TLV value is \(bytes.count) bytes, over 65535") }
        return Sv2TLV(extensionType: UInt16(extensionType), fieldType: UInt8(fieldType), value: bytes)
    }

    private static func message(type: any Sv2MessagePayload.Type, values: [(String, JSONValue)], fromText: Bool) throws -> Sv2Message {
        var assigner = Assigner(values: values, fromText: fromText)
        var payload = type.init()
        try? payload.visitFields(&assigner)
        let fields = Sv2FieldCollector.fields(of: payload)
        let names = fields.map(\.name)
        if let failure = assigner.failure { throw Sv2InputError("\(type.name): \(failure)") }
        if let unknown = values.first(where: { !names.contains($0.0) }) {
            throw Sv2InputError("\(type.name) has no field '\(unknown.0)'; its fields: \(names.joined(separator: ", "))")
        }
        if let duplicate = names.first(where: { name in values.filter { $0.0 == name }.count > 1 }) {
            throw Sv2InputError("\(type.name): field \(duplicate) is given twice")
        }
        let missing = fields.filter { field in !values.contains { $0.0 == field.name } }
        if !missing.isEmpty {
            let list = missing.map { "\($0.name) (\($0.value.typeName))" }.joined(separator: ", ")
            throw Sv2InputError("\(type.name): missing field\(missing.count == 1 ? "" : "s") \(list)")
        }
        return payload.message
    }

    /// Parses an unsigned integer of `bits` bits from a JSON number or a string (decimal or 0x hex).
    static func unsigned(_ value: JSONValue, bits: Int) -> UInt64? {
        let text: String
        switch value {
        case let .number(literal): text = literal
        case let .string(string): text = string.trimmingSpaces
        default: return nil
        }
        let parsed: UInt64?
        if text.hasPrefix("0x") || text.hasPrefix("0X") {
            parsed = text.count > 2 && !text.dropFirst(2).hasPrefix("+") ? UInt64(text.dropFirst(2), radix: 16) : nil
        } else {
            parsed = text.hasPrefix("+") ? nil : UInt64(text, radix: 10)
        }
        guard let parsed, bits == 64 || parsed < (1 << UInt64(bits)) else { return nil }
        return parsed
    }

    /// A value converted for a field, or why it could not be.
    private enum Conversion<Value> {
        case value(Value)
        case failure(String)
    }

    /// Assigns each visited field from the given values, remembering the first failure.
    private struct Assigner: Sv2FieldVisitor {
        let values: [(String, JSONValue)]
        let fromText: Bool
        var failure: String?

        init(values: [(String, JSONValue)], fromText: Bool) {
            self.values = values
            self.fromText = fromText
        }

        /// Up to 48 characters of what was given, for error messages.
        static func shown(_ value: JSONValue) -> String {
            let text = value.text
            return text.count <= 48 ? text : String(text.prefix(40)) + "… (\(text.count) characters)"
        }

        static func expectation(_ typeName: String) -> String {
            switch typeName {
            case "BOOL": return "true or false"
            case "U256": return "64 hex digits"
            case "F32": return "a decimal number within the range of F32"
            case "OPTION[U32]": return "a U32 or none"
            case "STR0_255": return "at most 255 bytes of text"
            case "U64": return "an integer from 0 to \(UInt64.max)"
            case _ where typeName.hasPrefix("U"):
                let bits = UInt64(typeName.dropFirst()) ?? 8
                return "an integer from 0 to \((UInt64(1) << bits) - 1)"
            case _ where typeName.hasPrefix("B0_"):
                let maximum = Sv2BytesType.allCases.first { $0.description == typeName }?.maximumLength ?? 0
                return "hex of at most \(maximum) bytes"
            default: return typeName
            }
        }

        mutating func assign<T>(_ field: StaticString, _ typeName: String, _ target: inout T, _ convert: (JSONValue) -> Conversion<T>) {
            guard failure == nil, let given = values.first(where: { $0.0 == "\(field)" })?.1 else { return }
            switch convert(given) {
            case let .value(converted): target = converted
            case let .failure(reason): failure = "field \(field) (\(typeName)): \(reason)"
            }
        }

        /// Adapts a converter that returns nil on failure.
        static func scalar<T>(_ typeName: String, _ convert: @escaping (JSONValue) -> T?) -> (JSONValue) -> Conversion<T> {
            { given in
                if let value = convert(given) { return .value(value) }
                return .failure("cannot use \(shown(given)); expected \(expectation(typeName))")
            }
        }

        static func integer<T: FixedWidthInteger & UnsignedInteger>(_ value: JSONValue) -> T? {
            Sv2MessageInput.unsigned(value, bits: T.bitWidth).map { T($0) }
        }

        static func bytes(_ value: JSONValue, _ type: Sv2BytesType) -> [UInt8]? {
            guard case let .string(text) = value, let bytes = Hex.decode(text.trimmingSpaces), bytes.count <= type.maximumLength
            else { return nil }
            return bytes
        }

        static func u256(_ value: JSONValue) -> U256? {
            guard case let .string(text) = value else { return nil }
            return U256(hex: text.trimmingSpaces)
        }

        static func float(_ value: JSONValue) -> Float? {
            let parsed: Float?
            switch value {
            case let .number(literal): parsed = Float(literal)
            case let .string(text) where text.hasPrefix("0x"):
                return UInt32(text.dropFirst(2), radix: 16).map(Float.init(bitPattern:))
            case let .string(text): parsed = Float(text.trimmingSpaces)
            default: return nil
            }
            // A finite decimal that overflows F32 is refused rather than silently made infinite.
            guard let parsed, parsed.isFinite || value.text.lowercased().contains("inf") || value.text.lowercased().contains("nan") else { return nil }
            return parsed
        }

        /// Converts a sequence element by element, naming the element that fails and the count limit.
        func sequence<T>(_ value: JSONValue, _ type: Sv2SeqType, element elementType: String, _ element: (JSONValue) -> T?) -> Conversion<[T]> {
            let items: [JSONValue]
            switch value {
            case let .array(array): items = array
            case let .string(text) where fromText:
                items = text.isEmpty ? [] : text.split(separator: ",", omittingEmptySubsequences: false).map { .string(String($0)) }
            default: return .failure("cannot use \(Self.shown(value)); expected \(fromText ? "comma-separated values" : "an array")")
            }
            guard items.count <= type.maximumCount else {
                return .failure("\(items.count) elements exceed the \(type) maximum of \(type.maximumCount)")
            }
            var result = [T]()
            result.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                guard let converted = element(item) else {
                    return .failure("element \(index) is \(Self.shown(item)); expected \(Self.expectation(elementType))")
                }
                result.append(converted)
            }
            return .value(result)
        }

        mutating func visit(_ field: StaticString, _ value: inout Bool) {
            assign(field, "BOOL", &value, Self.scalar("BOOL") { given in
                switch given {
                case let .bool(flag): return flag
                case let .string(text) where ["true", "1"].contains(text.lowercased()): return true
                case let .string(text) where ["false", "0"].contains(text.lowercased()): return false
                case .number("1"): return true
                case .number("0"): return false
                default: return nil
                }
            })
        }
        mutating func visit(_ field: StaticString, _ value: inout UInt8) { assign(field, "U8", &value, Self.scalar("U8", Self.integer)) }
        mutating func visit(_ field: StaticString, _ value: inout UInt16) { assign(field, "U16", &value, Self.scalar("U16", Self.integer)) }
        mutating func visit(_ field: StaticString, _ value: inout UInt32) { assign(field, "U32", &value, Self.scalar("U32", Self.integer)) }
        mutating func visit(_ field: StaticString, _ value: inout UInt64) { assign(field, "U64", &value, Self.scalar("U64", Self.integer)) }
        mutating func visit(_ field: StaticString, _ value: inout U256) { assign(field, "U256", &value, Self.scalar("U256", Self.u256)) }
        mutating func visit(_ field: StaticString, _ value: inout Float) { assign(field, "F32", &value, Self.scalar("F32", Self.float)) }
        mutating func visit(_ field: StaticString, _ value: inout Sv2String) {
            let fromText = fromText
            assign(field, "STR0_255", &value, Self.scalar("STR0_255") { given in
                let string: Sv2String
                switch given {
                case let .string(text): string = Sv2String(text)
                case let .object(pairs) where !fromText && pairs.count == 1 && pairs[0].0 == "hex":
                    guard case let .string(hex) = pairs[0].1, let bytes = Hex.decode(hex) else { return nil }
                    string = Sv2String(bytes: bytes)
                default: return nil
                }
                return string.bytes.count <= 255 ? string : nil
            })
        }
        mutating func visit(_ field: StaticString, _ value: inout [UInt8], _ type: Sv2BytesType) {
            assign(field, type.description, &value, Self.scalar(type.description) { Self.bytes($0, type) })
        }
        mutating func visit(_ field: StaticString, _ value: inout UInt32?) {
            assign(field, "OPTION[U32]", &value, Self.scalar("OPTION[U32]") { given -> UInt32?? in
                switch given {
                case .null: return .some(nil)
                case let .string(text) where ["", "none", "null"].contains(text.lowercased()): return .some(nil)
                default: return Self.integer(given).map { .some($0) }
                }
            })
        }
        mutating func visit(_ field: StaticString, _ value: inout [UInt16], _ type: Sv2SeqType) {
            let converted = sequence(values.first { $0.0 == "\(field)" }?.1 ?? .null, type, element: "U16") { (item: JSONValue) -> UInt16? in Self.integer(item) }
            assign(field, "\(type)[U16]", &value) { _ in converted }
        }
        mutating func visit(_ field: StaticString, _ value: inout [UInt32], _ type: Sv2SeqType) {
            let converted = sequence(values.first { $0.0 == "\(field)" }?.1 ?? .null, type, element: "U32") { (item: JSONValue) -> UInt32? in Self.integer(item) }
            assign(field, "\(type)[U32]", &value) { _ in converted }
        }
        mutating func visit(_ field: StaticString, _ value: inout [U256], _ type: Sv2SeqType) {
            let converted = sequence(values.first { $0.0 == "\(field)" }?.1 ?? .null, type, element: "U256", Self.u256)
            assign(field, "\(type)[U256]", &value) { _ in converted }
        }
        mutating func visit(_ field: StaticString, _ value: inout [[UInt8]], _ type: Sv2SeqType, of element: Sv2BytesType) {
            let converted = sequence(values.first { $0.0 == "\(field)" }?.1 ?? .null, type, element: element.description) { Self.bytes($0, element) }
            assign(field, "\(type)[\(element)]", &value) { _ in converted }
        }
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
