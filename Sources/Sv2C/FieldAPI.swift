import CSv2
import Sv2Binary
import Sv2Messages

// The field accessors of sv2.h: getters read the collected values, setters go through FieldWriter.

private let uintFields = "BOOL and U8 to U64 fields"
private let bytesFields = "STR0_255 and B0_32 to B0_16M fields"
private let sequenceFields = "SEQ0_255 and SEQ0_64K fields"

/// Runs a setter: applies the operation `make` builds to `field`, refusing values that do not fit.
private func change(
    _ message: OpaquePointer?, _ field: UnsafePointer<CChar>?, _ accessor: String, _ make: () throws(CFailure) -> FieldWriter.Operation
) -> sv2_error {
    cCall { () throws(CFailure) in
        let box = try CMessage.from(message)
        try box.change(try box.field(field).index, try make(), accessor: accessor)
    }
}

/// Runs a getter: `body` gets the message, the field's index and its current value.
private func read(
    _ message: OpaquePointer?, _ field: UnsafePointer<CChar>?, _ body: (CMessage, Int, Sv2FieldValue) throws(CFailure) -> Void
) -> sv2_error {
    cCall { () throws(CFailure) in
        let box = try CMessage.from(message)
        let (index, current) = try box.field(field)
        try body(box, index, current)
    }
}

/// Reads a BOOL or unsigned field.
@_cdecl("sv2_message_get_uint")
public func sv2_message_get_uint(_ message: OpaquePointer?, _ field: UnsafePointer<CChar>?, _ value: UnsafeMutablePointer<UInt64>?) -> sv2_error {
    read(message, field) { box, index, current throws(CFailure) in
        let value = try required(value, "value")
        switch current {
        case let .bool(flag): value.pointee = flag ? 1 : 0
        case let .unsigned(number, _): value.pointee = number
        default: throw box.wrongType(index, accessor: "sv2_message_get_uint", reads: uintFields)
        }
    }
}

/// Sets a BOOL or unsigned field.
@_cdecl("sv2_message_set_uint")
public func sv2_message_set_uint(_ message: OpaquePointer?, _ field: UnsafePointer<CChar>?, _ value: UInt64) -> sv2_error {
    change(message, field, "sv2_message_set_uint") { () throws(CFailure) in .set(.uint(value)) }
}

/// Reads an F32 field.
@_cdecl("sv2_message_get_f32")
public func sv2_message_get_f32(_ message: OpaquePointer?, _ field: UnsafePointer<CChar>?, _ value: UnsafeMutablePointer<Float>?) -> sv2_error {
    read(message, field) { box, index, current throws(CFailure) in
        guard case let .f32(number) = current else { throw box.wrongType(index, accessor: "sv2_message_get_f32", reads: "F32 fields") }
        try required(value, "value").pointee = number
    }
}

/// Sets an F32 field.
@_cdecl("sv2_message_set_f32")
public func sv2_message_set_f32(_ message: OpaquePointer?, _ field: UnsafePointer<CChar>?, _ value: Float) -> sv2_error {
    change(message, field, "sv2_message_set_f32") { () throws(CFailure) in .set(.f32(value)) }
}

/// Reads a U256 field.
@_cdecl("sv2_message_get_u256")
public func sv2_message_get_u256(_ message: OpaquePointer?, _ field: UnsafePointer<CChar>?, _ value: UnsafeMutablePointer<UInt8>?) -> sv2_error {
    read(message, field) { box, index, current throws(CFailure) in
        guard case let .u256(number) = current else { throw box.wrongType(index, accessor: "sv2_message_get_u256", reads: "U256 fields") }
        try copy(number.littleEndianBytes, to: value, "value")
    }
}

/// 32 bytes at `value` as a U256.
private func u256(_ value: UnsafePointer<UInt8>?) throws(CFailure) -> U256 {
    guard let number = U256(littleEndianBytes: UnsafeBufferPointer(start: try required(value, "value"), count: 32)) else {
        throw CFailure(SV2_ERR_INVALID_ARGUMENT, "a U256 is 32 bytes")
    }
    return number
}

/// Sets a U256 field.
@_cdecl("sv2_message_set_u256")
public func sv2_message_set_u256(_ message: OpaquePointer?, _ field: UnsafePointer<CChar>?, _ value: UnsafePointer<UInt8>?) -> sv2_error {
    change(message, field, "sv2_message_set_u256") { () throws(CFailure) in .set(.u256(try u256(value))) }
}

/// Hands `content` to C through the message's lent copies.
private func lendBytes(
    _ box: CMessage, _ content: [UInt8], field: Int, element: Int,
    _ data: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, _ len: UnsafeMutablePointer<Int>?
) throws(CFailure) {
    let data = try required(data, "data")
    let len = try required(len, "len")
    data.pointee = try box.lend(content, field: field, element: element)
    len.pointee = content.count
}

/// Reads a STR0_255 or byte array field.
@_cdecl("sv2_message_get_bytes")
public func sv2_message_get_bytes(
    _ message: OpaquePointer?, _ field: UnsafePointer<CChar>?, _ data: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
    _ len: UnsafeMutablePointer<Int>?
) -> sv2_error {
    read(message, field) { box, index, current throws(CFailure) in
        let content: [UInt8]
        switch current {
        case let .string(text): content = text.bytes
        case let .bytes(array, _): content = array
        default: throw box.wrongType(index, accessor: "sv2_message_get_bytes", reads: bytesFields)
        }
        try lendBytes(box, content, field: index, element: -1, data, len)
    }
}

/// Sets a STR0_255 or byte array field.
@_cdecl("sv2_message_set_bytes")
public func sv2_message_set_bytes(_ message: OpaquePointer?, _ field: UnsafePointer<CChar>?, _ data: UnsafePointer<UInt8>?, _ len: Int) -> sv2_error {
    change(message, field, "sv2_message_set_bytes") { () throws(CFailure) in .set(.bytes(try bytes(data, len, "data"))) }
}

/// Reads an OPTION[U32] field.
@_cdecl("sv2_message_get_option_u32")
public func sv2_message_get_option_u32(
    _ message: OpaquePointer?, _ field: UnsafePointer<CChar>?, _ present: UnsafeMutablePointer<Int32>?, _ value: UnsafeMutablePointer<UInt32>?
) -> sv2_error {
    read(message, field) { box, index, current throws(CFailure) in
        guard case let .optionalU32(option) = current else {
            throw box.wrongType(index, accessor: "sv2_message_get_option_u32", reads: "OPTION[U32] fields")
        }
        let present = try required(present, "present")
        let value = try required(value, "value")
        present.pointee = option == nil ? 0 : 1
        value.pointee = option ?? 0
    }
}

/// Sets an OPTION[U32] field.
@_cdecl("sv2_message_set_option_u32")
public func sv2_message_set_option_u32(_ message: OpaquePointer?, _ field: UnsafePointer<CChar>?, _ present: Int32, _ value: UInt32) -> sv2_error {
    change(message, field, "sv2_message_set_option_u32") { () throws(CFailure) in .set(.option(present != 0 ? value : nil)) }
}

/// The element count of a sequence.
private func count(of value: Sv2FieldValue) -> Int? {
    switch value {
    case let .unsignedSequence(items, _, _): return items.count
    case let .u256Sequence(items, _): return items.count
    case let .bytesSequence(items, _, _): return items.count
    default: return nil
    }
}

/// Reads a sequence's element count.
@_cdecl("sv2_message_get_count")
public func sv2_message_get_count(_ message: OpaquePointer?, _ field: UnsafePointer<CChar>?, _ value: UnsafeMutablePointer<Int>?) -> sv2_error {
    read(message, field) { box, index, current throws(CFailure) in
        guard let items = count(of: current) else { throw box.wrongType(index, accessor: "sv2_message_get_count", reads: sequenceFields) }
        try required(value, "count").pointee = items
    }
}

/// Checks an element index against a sequence's count.
private func element<T>(_ items: [T], _ index: Int, _ box: CMessage, _ field: Int) throws(CFailure) -> T {
    guard items.indices.contains(index) else {
        throw CFailure(SV2_ERR_OUT_OF_RANGE, "\(box.info.type.name).\(box.info.fields[field].name) has \(items.count) elements; index \(index) is past the end")
    }
    return items[index]
}

/// Reads an element of a sequence of U16 or U32.
@_cdecl("sv2_message_get_uint_at")
public func sv2_message_get_uint_at(
    _ message: OpaquePointer?, _ field: UnsafePointer<CChar>?, _ at: Int, _ value: UnsafeMutablePointer<UInt64>?
) -> sv2_error {
    read(message, field) { box, index, current throws(CFailure) in
        guard case let .unsignedSequence(items, _, _) = current else {
            throw box.wrongType(index, accessor: "sv2_message_get_uint_at", reads: "sequences of U16 or U32")
        }
        try required(value, "value").pointee = try element(items, at, box, index)
    }
}

/// Reads an element of a sequence of U256.
@_cdecl("sv2_message_get_u256_at")
public func sv2_message_get_u256_at(
    _ message: OpaquePointer?, _ field: UnsafePointer<CChar>?, _ at: Int, _ value: UnsafeMutablePointer<UInt8>?
) -> sv2_error {
    read(message, field) { box, index, current throws(CFailure) in
        guard case let .u256Sequence(items, _) = current else {
            throw box.wrongType(index, accessor: "sv2_message_get_u256_at", reads: "sequences of U256")
        }
        try copy(try element(items, at, box, index).littleEndianBytes, to: value, "value")
    }
}

/// Reads an element of a sequence of byte arrays.
@_cdecl("sv2_message_get_bytes_at")
public func sv2_message_get_bytes_at(
    _ message: OpaquePointer?, _ field: UnsafePointer<CChar>?, _ at: Int, _ data: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
    _ len: UnsafeMutablePointer<Int>?
) -> sv2_error {
    read(message, field) { box, index, current throws(CFailure) in
        guard case let .bytesSequence(items, _, _) = current else {
            throw box.wrongType(index, accessor: "sv2_message_get_bytes_at", reads: "sequences of byte arrays")
        }
        try lendBytes(box, try element(items, at, box, index), field: index, element: at, data, len)
    }
}

/// Appends to a sequence of U16 or U32.
@_cdecl("sv2_message_append_uint")
public func sv2_message_append_uint(_ message: OpaquePointer?, _ field: UnsafePointer<CChar>?, _ value: UInt64) -> sv2_error {
    change(message, field, "sv2_message_append_uint") { () throws(CFailure) in .append(.uint(value)) }
}

/// Appends to a sequence of U256.
@_cdecl("sv2_message_append_u256")
public func sv2_message_append_u256(_ message: OpaquePointer?, _ field: UnsafePointer<CChar>?, _ value: UnsafePointer<UInt8>?) -> sv2_error {
    change(message, field, "sv2_message_append_u256") { () throws(CFailure) in .append(.u256(try u256(value))) }
}

/// Appends to a sequence of byte arrays.
@_cdecl("sv2_message_append_bytes")
public func sv2_message_append_bytes(_ message: OpaquePointer?, _ field: UnsafePointer<CChar>?, _ data: UnsafePointer<UInt8>?, _ len: Int) -> sv2_error {
    change(message, field, "sv2_message_append_bytes") { () throws(CFailure) in .append(.bytes(try bytes(data, len, "data"))) }
}

/// Empties a sequence.
@_cdecl("sv2_message_clear")
public func sv2_message_clear(_ message: OpaquePointer?, _ field: UnsafePointer<CChar>?) -> sv2_error {
    change(message, field, "sv2_message_clear") { () throws(CFailure) in .clear }
}
