import CSv2
import Sv2Binary
import Sv2Messages
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One field of a message type as the C API describes it: names as C strings that live for the process (immutable,
/// so shared freely between threads).
struct CFieldInfo: @unchecked Sendable {
    /// The spec's snake_case name.
    let name: String
    /// `name` as a C string.
    let cName: UnsafePointer<CChar>
    /// The spec type, e.g. `SEQ0_255[U256]`, as a C string.
    let cTypeName: UnsafePointer<CChar>
    /// The spec type as text.
    let typeName: String
    /// The accessor family.
    let kind: sv2_field_kind
}

/// A message type as the C API describes it.
struct CMessageInfo: @unchecked Sendable {
    /// The payload type.
    let type: any Sv2MessagePayload.Type
    /// Its spec name as a C string.
    let cName: UnsafePointer<CChar>
    /// Its fields in wire order.
    let fields: [CFieldInfo]

    /// The index of the field called `name`, if any.
    func index(of name: UnsafePointer<CChar>) -> Int? {
        fields.firstIndex { strcmp($0.cName, name) == 0 }
    }
}

/// The accessor family of a field value.
private func kind(of value: Sv2FieldValue) -> sv2_field_kind {
    switch value {
    case .bool: return SV2_FIELD_BOOL
    case .unsigned: return SV2_FIELD_UINT
    case .f32: return SV2_FIELD_F32
    case .u256: return SV2_FIELD_U256
    case .string: return SV2_FIELD_STR
    case .bytes: return SV2_FIELD_BYTES
    case .optionalU32: return SV2_FIELD_OPTION_U32
    case .unsignedSequence: return SV2_FIELD_SEQ_UINT
    case .u256Sequence: return SV2_FIELD_SEQ_U256
    case .bytesSequence: return SV2_FIELD_SEQ_BYTES
    }
}

/// Every message type of ``Sv2Message/allPayloadTypes``, described once for the life of the process.
let messageCatalog: [ObjectIdentifier: CMessageInfo] = {
    var catalog = [ObjectIdentifier: CMessageInfo]()
    for type in Sv2Message.allPayloadTypes {
        let fields = Sv2FieldCollector.fields(of: type.init()).map { field in
            CFieldInfo(
                name: field.name, cName: immortalCString(field.name), cTypeName: immortalCString(field.value.typeName),
                typeName: field.value.typeName, kind: kind(of: field.value))
        }
        catalog[ObjectIdentifier(type)] = CMessageInfo(type: type, cName: immortalCString(type.name), fields: fields)
    }
    return catalog
}()

/// The storage behind an `sv2_message *`: the payload, its fields as last collected, and the copies of byte fields
/// lent to C (valid until the message changes or is freed).
final class CMessage {
    /// The message.
    private(set) var payload: any Sv2MessagePayload
    /// Its type's description.
    let info: CMessageInfo
    /// The field values, in wire order.
    private(set) var values: [Sv2FieldValue]
    /// Which bytes a lent copy holds: a field, and an element of it (-1 for the field itself).
    private struct Lent: Hashable {
        var field: Int
        var element: Int
    }

    /// Byte copies handed out.
    private var lent: [Lent: UnsafeMutableRawPointer] = [:]

    init(payload: any Sv2MessagePayload) throws(CFailure) {
        guard let info = messageCatalog[ObjectIdentifier(type(of: payload))] else {
            throw CFailure(SV2_ERR_UNKNOWN_MESSAGE, "\(type(of: payload).name) is not in the catalogue")
        }
        self.payload = payload
        self.info = info
        self.values = Sv2FieldCollector.fields(of: payload).map(\.value)
    }

    deinit {
        releaseLent()
    }

    private func releaseLent() {
        for pointer in lent.values { free(pointer) }
        lent.removeAll()
    }

    /// The handle C holds (one retain, released by `sv2_message_free`).
    var handle: OpaquePointer { OpaquePointer(Unmanaged.passRetained(self).toOpaque()) }

    /// The message behind a handle.
    static func from(_ handle: OpaquePointer?) throws(CFailure) -> CMessage {
        Unmanaged<CMessage>.fromOpaque(UnsafeRawPointer(try required(handle, "message"))).takeUnretainedValue()
    }

    /// The index and value of the field called `name`.
    func field(_ name: UnsafePointer<CChar>?) throws(CFailure) -> (index: Int, value: Sv2FieldValue) {
        let name = try required(name, "field")
        guard let index = info.index(of: name) else {
            let names = info.fields.map(\.name).joined(separator: ", ")
            throw CFailure(SV2_ERR_NO_SUCH_FIELD, "\(info.type.name) has no field '\(String(cString: name))'; its fields: \(names)")
        }
        return (index, values[index])
    }

    /// The failure for an accessor used on a field of another type.
    func wrongType(_ index: Int, accessor: String, reads: String) -> CFailure {
        let field = info.fields[index]
        return CFailure(SV2_ERR_NO_SUCH_FIELD, "\(info.type.name).\(field.name) is \(field.typeName); \(accessor) is for \(reads)")
    }

    /// A copy of `bytes` owned by the message, stable until the next change.
    func lend(_ bytes: [UInt8], field: Int, element: Int) throws(CFailure) -> UnsafePointer<UInt8> {
        let key = Lent(field: field, element: element)
        if let pointer = lent[key] { return UnsafePointer(pointer.assumingMemoryBound(to: UInt8.self)) }
        guard let pointer = malloc(max(1, bytes.count)) else { throw CFailure(SV2_ERR_NO_MEMORY, "cannot allocate \(bytes.count) bytes") }
        pointer.copyMemory(from: bytes, byteCount: bytes.count)
        lent[key] = pointer
        return UnsafePointer(pointer.assumingMemoryBound(to: UInt8.self))
    }

    /// Applies `operation` to field `index`.
    func change(_ index: Int, _ operation: FieldWriter.Operation, accessor: String) throws(CFailure) {
        var writer = FieldWriter(target: index, operation: operation)
        try? payload.visitFields(&writer)
        if let failure = writer.failure {
            switch failure {
            case .wrongType(let reads): throw wrongType(index, accessor: accessor, reads: reads)
            case .outOfRange(let why):
                throw CFailure(SV2_ERR_OUT_OF_RANGE, "\(info.type.name).\(info.fields[index].name) (\(info.fields[index].typeName)): \(why)")
            }
        }
        releaseLent()
        values = Sv2FieldCollector.fields(of: payload).map(\.value)
    }
}

/// Changes one field of a message, found by its position in wire order, with the type checks of the C setters.
struct FieldWriter: Sv2FieldVisitor {
    /// A value given by C.
    enum Input {
        case uint(UInt64)
        case f32(Float)
        case u256(U256)
        case bytes([UInt8])
        case option(UInt32?)
    }

    /// What to do to the field.
    enum Operation {
        /// Replace a scalar, byte array or option.
        case set(Input)
        /// Add an element at the end of a sequence.
        case append(Input)
        /// Empty a sequence.
        case clear
    }

    /// Why the change was refused.
    enum Failure: Error {
        /// The accessor is for other types (named).
        case wrongType(String)
        /// The value does not fit.
        case outOfRange(String)
    }

    let target: Int
    let operation: Operation
    private var index = 0
    private(set) var failure: Failure?

    init(target: Int, operation: Operation) {
        self.target = target
        self.operation = operation
    }

    /// True (and moves on) when the visited field is the one to change.
    private mutating func isTarget() -> Bool {
        defer { index += 1 }
        return index == target
    }

    private mutating func scalar<T: FixedWidthInteger>(_ value: inout T) {
        guard isTarget() else { return }
        guard case let .set(.uint(given)) = operation else { return failure = .wrongType(scalarTypes) }
        guard let converted = T(exactly: given) else { return failure = .outOfRange("\(given) is over \(T.max)") }
        value = converted
    }

    private mutating func sequence<T>(_ value: inout [T], _ type: Sv2SeqType, _ element: (Input) -> Result<T, Failure>?) {
        guard isTarget() else { return }
        switch operation {
        case .clear: value.removeAll()
        case .set: failure = .wrongType("scalars, byte arrays and options (sequences take append and clear)")
        case let .append(input):
            guard let converted = element(input) else { return failure = .wrongType("sequences of another element type") }
            switch converted {
            case let .failure(reason): failure = reason
            case let .success(item):
                guard value.count < type.maximumCount else {
                    return failure = .outOfRange("\(type) holds at most \(type.maximumCount) elements")
                }
                value.append(item)
            }
        }
    }

    private static func integerElement<T: FixedWidthInteger>(_ input: Input) -> Result<T, Failure>? {
        guard case let .uint(given) = input else { return nil }
        guard let converted = T(exactly: given) else { return .failure(.outOfRange("element \(given) is over \(T.max)")) }
        return .success(converted)
    }

    private let scalarTypes = "BOOL and U8 to U64 (sv2_message_set_uint), F32, U256, byte arrays or OPTION[U32] by their own setters"

    mutating func visit(_ field: StaticString, _ value: inout Bool) {
        guard isTarget() else { return }
        guard case let .set(.uint(given)) = operation else { return failure = .wrongType(scalarTypes) }
        guard given <= 1 else { return failure = .outOfRange("a BOOL is 0 or 1, not \(given)") }
        value = given == 1
    }

    mutating func visit(_ field: StaticString, _ value: inout UInt8) { scalar(&value) }
    mutating func visit(_ field: StaticString, _ value: inout UInt16) { scalar(&value) }
    mutating func visit(_ field: StaticString, _ value: inout UInt32) { scalar(&value) }
    mutating func visit(_ field: StaticString, _ value: inout UInt64) { scalar(&value) }

    mutating func visit(_ field: StaticString, _ value: inout U256) {
        guard isTarget() else { return }
        guard case let .set(.u256(given)) = operation else { return failure = .wrongType(scalarTypes) }
        value = given
    }

    mutating func visit(_ field: StaticString, _ value: inout Float) {
        guard isTarget() else { return }
        guard case let .set(.f32(given)) = operation else { return failure = .wrongType(scalarTypes) }
        value = given
    }

    mutating func visit(_ field: StaticString, _ value: inout Sv2String) {
        var bytes = value.bytes
        visit(field, &bytes, .b0_255)
        value = Sv2String(bytes: bytes)
    }

    mutating func visit(_ field: StaticString, _ value: inout [UInt8], _ type: Sv2BytesType) {
        guard isTarget() else { return }
        guard case let .set(.bytes(given)) = operation else { return failure = .wrongType(scalarTypes) }
        guard given.count <= type.maximumLength else {
            return failure = .outOfRange("\(given.count) bytes is over the maximum of \(type.maximumLength)")
        }
        value = given
    }

    mutating func visit(_ field: StaticString, _ value: inout UInt32?) {
        guard isTarget() else { return }
        guard case let .set(.option(given)) = operation else { return failure = .wrongType(scalarTypes) }
        value = given
    }

    mutating func visit(_ field: StaticString, _ value: inout [UInt16], _ type: Sv2SeqType) {
        sequence(&value, type, Self.integerElement)
    }

    mutating func visit(_ field: StaticString, _ value: inout [UInt32], _ type: Sv2SeqType) {
        sequence(&value, type, Self.integerElement)
    }

    mutating func visit(_ field: StaticString, _ value: inout [U256], _ type: Sv2SeqType) {
        sequence(&value, type) { input in
            guard case let .u256(given) = input else { return nil }
            return .success(given)
        }
    }

    mutating func visit(_ field: StaticString, _ value: inout [[UInt8]], _ type: Sv2SeqType, of element: Sv2BytesType) {
        sequence(&value, type) { input in
            guard case let .bytes(given) = input else { return nil }
            guard given.count <= element.maximumLength else {
                return .failure(.outOfRange("an element of \(given.count) bytes is over the \(element) maximum of \(element.maximumLength)"))
            }
            return .success(given)
        }
    }
}
