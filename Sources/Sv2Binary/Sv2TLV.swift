/// A TLV field appended to a message payload by a negotiated extension (spec 3.4.3).
///
/// Type = extension_type U16 || field_type U8, then a U16 length and the value. Like every Sv2 integer the U16s are
/// little-endian on the wire, as SRI encodes them (the spec's example prints them big-endian).
public struct Sv2TLV: Hashable, Sendable {
    /// The extension that defines the field.
    public var extensionType: UInt16
    /// The field within the extension.
    public var fieldType: UInt8
    /// The value, at most 65535 bytes.
    public var value: [UInt8]

    /// Creates a TLV field.
    public init(extensionType: UInt16, fieldType: UInt8, value: [UInt8]) {
        self.extensionType = extensionType
        self.fieldType = fieldType
        self.value = value
    }

    /// Bytes on the wire: 5 + value length.
    public var encodedSize: Int { 5 + value.count }

    /// Reads one TLV field.
    public init(from reader: inout Sv2Reader) throws(Sv2CodecError) {
        extensionType = try reader.integer("tlv.extension_type")
        fieldType = try reader.integer("tlv.field_type")
        let length = Int(try reader.integer("tlv.length", as: UInt16.self))
        value = try reader.fixedBytes("tlv.value", count: length)
    }

    /// Writes the field.
    public func encode(to writer: inout Sv2Writer) throws(Sv2CodecError) {
        guard value.count <= Int(UInt16.max) else {
            throw Sv2CodecError(
                field: "tlv.value", offset: writer.offset,
                problem: .lengthExceeds(type: "TLV value", length: value.count, maximum: Int(UInt16.max)))
        }
        try writer.integer("tlv.extension_type", extensionType)
        try writer.integer("tlv.field_type", fieldType)
        try writer.integer("tlv.length", UInt16(value.count))
        try writer.fixedBytes("tlv.value", value)
    }

    /// Reads TLV fields until the reader is exhausted.
    public static func readAll(from reader: inout Sv2Reader) throws(Sv2CodecError) -> [Sv2TLV] {
        var fields = [Sv2TLV]()
        while reader.remaining > 0 { fields.append(try Sv2TLV(from: &reader)) }
        return fields
    }
}
