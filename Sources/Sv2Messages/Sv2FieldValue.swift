import Sv2Binary

/// A field's value with its spec type, for printing and for reading typed-in values.
public enum Sv2FieldValue: Hashable, Sendable {
    /// BOOL.
    case bool(Bool)
    /// U8, U16, U32 or U64 (`bits` says which).
    case unsigned(UInt64, bits: Int)
    /// U256.
    case u256(U256)
    /// F32.
    case f32(Float)
    /// STR0_255.
    case string(Sv2String)
    /// B0_32, B0_255, B0_64K or B0_16M.
    case bytes([UInt8], Sv2BytesType)
    /// OPTION[U32].
    case optionalU32(UInt32?)
    /// SEQ of U16 or U32 (`bits` says which).
    case unsignedSequence([UInt64], bits: Int, Sv2SeqType)
    /// SEQ of U256.
    case u256Sequence([U256], Sv2SeqType)
    /// SEQ of byte arrays.
    case bytesSequence([[UInt8]], Sv2SeqType, Sv2BytesType)

    /// The spec's type name, e.g. `SEQ0_255[U256]`.
    public var typeName: String {
        switch self {
        case .bool: return "BOOL"
        case let .unsigned(_, bits): return "U\(bits)"
        case .u256: return "U256"
        case .f32: return "F32"
        case .string: return "STR0_255"
        case let .bytes(_, type): return type.description
        case .optionalU32: return "OPTION[U32]"
        case let .unsignedSequence(_, bits, type): return "\(type)[U\(bits)]"
        case let .u256Sequence(_, type): return "\(type)[U256]"
        case let .bytesSequence(_, type, element): return "\(type)[\(element)]"
        }
    }
}

/// Collects every field of a message as (spec name, value), in wire order.
public struct Sv2FieldCollector: Sv2FieldVisitor {
    /// The fields visited so far.
    public private(set) var fields: [(name: String, value: Sv2FieldValue)] = []

    /// An empty collector.
    public init() {}

    /// The fields of `payload`.
    public static func fields(of payload: some Sv2Fields) -> [(name: String, value: Sv2FieldValue)] {
        var collector = Sv2FieldCollector()
        var copy = payload
        try? copy.visitFields(&collector)
        return collector.fields
    }

    private mutating func add(_ field: StaticString, _ value: Sv2FieldValue) {
        fields.append(("\(field)", value))
    }

    public mutating func visit(_ field: StaticString, _ value: inout Bool) { add(field, .bool(value)) }
    public mutating func visit(_ field: StaticString, _ value: inout UInt8) { add(field, .unsigned(UInt64(value), bits: 8)) }
    public mutating func visit(_ field: StaticString, _ value: inout UInt16) { add(field, .unsigned(UInt64(value), bits: 16)) }
    public mutating func visit(_ field: StaticString, _ value: inout UInt32) { add(field, .unsigned(UInt64(value), bits: 32)) }
    public mutating func visit(_ field: StaticString, _ value: inout UInt64) { add(field, .unsigned(value, bits: 64)) }
    public mutating func visit(_ field: StaticString, _ value: inout U256) { add(field, .u256(value)) }
    public mutating func visit(_ field: StaticString, _ value: inout Float) { add(field, .f32(value)) }
    public mutating func visit(_ field: StaticString, _ value: inout Sv2String) { add(field, .string(value)) }
    public mutating func visit(_ field: StaticString, _ value: inout [UInt8], _ type: Sv2BytesType) { add(field, .bytes(value, type)) }
    public mutating func visit(_ field: StaticString, _ value: inout UInt32?) { add(field, .optionalU32(value)) }
    public mutating func visit(_ field: StaticString, _ value: inout [UInt16], _ type: Sv2SeqType) {
        add(field, .unsignedSequence(value.map(UInt64.init), bits: 16, type))
    }
    public mutating func visit(_ field: StaticString, _ value: inout [UInt32], _ type: Sv2SeqType) {
        add(field, .unsignedSequence(value.map(UInt64.init), bits: 32, type))
    }
    public mutating func visit(_ field: StaticString, _ value: inout [U256], _ type: Sv2SeqType) { add(field, .u256Sequence(value, type)) }
    public mutating func visit(_ field: StaticString, _ value: inout [[UInt8]], _ type: Sv2SeqType, of element: Sv2BytesType) {
        add(field, .bytesSequence(value, type, element))
    }
}
