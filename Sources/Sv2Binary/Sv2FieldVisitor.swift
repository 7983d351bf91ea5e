/// Walks the fields of a message in wire order, one call per field (the spec's snake_case name and its value).
///
/// A message lists its fields once, in ``Sv2Fields/visitFields(_:)``; decoding (``Sv2Reader``), encoding
/// (``Sv2Writer``), sizing (``Sv2SizeCounter``), rendering and building from text are all visitors over that list.
public protocol Sv2FieldVisitor {
    /// BOOL.
    mutating func visit(_ field: StaticString, _ value: inout Bool) throws(Sv2CodecError)
    /// U8.
    mutating func visit(_ field: StaticString, _ value: inout UInt8) throws(Sv2CodecError)
    /// U16.
    mutating func visit(_ field: StaticString, _ value: inout UInt16) throws(Sv2CodecError)
    /// U32.
    mutating func visit(_ field: StaticString, _ value: inout UInt32) throws(Sv2CodecError)
    /// U64.
    mutating func visit(_ field: StaticString, _ value: inout UInt64) throws(Sv2CodecError)
    /// U256.
    mutating func visit(_ field: StaticString, _ value: inout U256) throws(Sv2CodecError)
    /// F32.
    mutating func visit(_ field: StaticString, _ value: inout Float) throws(Sv2CodecError)
    /// STR0_255.
    mutating func visit(_ field: StaticString, _ value: inout Sv2String) throws(Sv2CodecError)
    /// B0_32, B0_255, B0_64K or B0_16M.
    mutating func visit(_ field: StaticString, _ value: inout [UInt8], _ type: Sv2BytesType) throws(Sv2CodecError)
    /// OPTION[U32].
    mutating func visit(_ field: StaticString, _ value: inout UInt32?) throws(Sv2CodecError)
    /// SEQ0_255[U16] or SEQ0_64K[U16].
    mutating func visit(_ field: StaticString, _ value: inout [UInt16], _ type: Sv2SeqType) throws(Sv2CodecError)
    /// SEQ0_255[U32] or SEQ0_64K[U32].
    mutating func visit(_ field: StaticString, _ value: inout [UInt32], _ type: Sv2SeqType) throws(Sv2CodecError)
    /// SEQ0_255[U256] or SEQ0_64K[U256].
    mutating func visit(_ field: StaticString, _ value: inout [U256], _ type: Sv2SeqType) throws(Sv2CodecError)
    /// SEQ0_255 or SEQ0_64K of byte arrays.
    mutating func visit(_ field: StaticString, _ value: inout [[UInt8]], _ type: Sv2SeqType, of element: Sv2BytesType) throws(Sv2CodecError)
}

/// A value made of spec 3.1 fields, encoded as the fields one after another.
public protocol Sv2Fields {
    /// A value with every field zero or empty, to be filled by a visitor.
    init()
    /// Calls `visitor` once per field, in wire order.
    mutating func visitFields<Visitor: Sv2FieldVisitor>(_ visitor: inout Visitor) throws(Sv2CodecError)
}

extension Sv2Fields {
    /// Decodes the fields from `reader`, leaving it after the last one.
    @inlinable
    public init(from reader: inout Sv2Reader) throws(Sv2CodecError) {
        self.init()
        try visitFields(&reader)
    }

    /// Decodes the fields from `bytes`; bytes left over are not an error here (the caller decides about TLVs).
    @inlinable
    public init(decoding bytes: UnsafeRawBufferPointer) throws(Sv2CodecError) {
        var reader = Sv2Reader(bytes)
        try self.init(from: &reader)
    }

    /// The encoded size in bytes.
    @inlinable
    public var encodedSize: Int {
        var counter = Sv2SizeCounter()
        var copy = self
        try? copy.visitFields(&counter)
        return counter.size
    }

    /// Encodes the fields through `writer`.
    @inlinable
    public func encode(to writer: inout Sv2Writer) throws(Sv2CodecError) {
        var copy = self
        try copy.visitFields(&writer)
    }

    /// The encoded fields as a new array.
    public func encoded() throws(Sv2CodecError) -> [UInt8] {
        try Sv2Writer.makeArray(size: encodedSize) { writer throws(Sv2CodecError) in try encode(to: &writer) }
    }
}

/// Counts the encoded size of fields without writing them.
@frozen
public struct Sv2SizeCounter: Sv2FieldVisitor {
    /// Bytes counted so far.
    public var size = 0

    /// A counter at zero.
    @inlinable
    public init() {}

    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout Bool) { size += 1 }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout UInt8) { size += 1 }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout UInt16) { size += 2 }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout UInt32) { size += 4 }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout UInt64) { size += 8 }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout U256) { size += 32 }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout Float) { size += 4 }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout Sv2String) { size += 1 + value.bytes.count }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout [UInt8], _ type: Sv2BytesType) {
        size += type.prefixSize + value.count
    }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout UInt32?) { size += value == nil ? 1 : 5 }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout [UInt16], _ type: Sv2SeqType) {
        size += type.prefixSize + 2 * value.count
    }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout [UInt32], _ type: Sv2SeqType) {
        size += type.prefixSize + 4 * value.count
    }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout [U256], _ type: Sv2SeqType) {
        size += type.prefixSize + 32 * value.count
    }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout [[UInt8]], _ type: Sv2SeqType, of element: Sv2BytesType) {
        size += type.prefixSize
        for item in value { size += element.prefixSize + item.count }
    }
}

extension Sv2Reader: Sv2FieldVisitor {
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout Bool) throws(Sv2CodecError) { value = try bool(field) }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout UInt8) throws(Sv2CodecError) { value = try integer(field) }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout UInt16) throws(Sv2CodecError) { value = try integer(field) }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout UInt32) throws(Sv2CodecError) { value = try integer(field) }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout UInt64) throws(Sv2CodecError) { value = try integer(field) }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout U256) throws(Sv2CodecError) { value = try u256(field) }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout Float) throws(Sv2CodecError) { value = try f32(field) }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout Sv2String) throws(Sv2CodecError) { value = try str0_255(field) }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout [UInt8], _ type: Sv2BytesType) throws(Sv2CodecError) {
        value = try prefixedBytes(field, type)
    }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout UInt32?) throws(Sv2CodecError) { value = try optionalU32(field) }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout [UInt16], _ type: Sv2SeqType) throws(Sv2CodecError) {
        value = try integerSequence(field, type)
    }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout [UInt32], _ type: Sv2SeqType) throws(Sv2CodecError) {
        value = try integerSequence(field, type)
    }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout [U256], _ type: Sv2SeqType) throws(Sv2CodecError) {
        value = try u256Sequence(field, type)
    }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout [[UInt8]], _ type: Sv2SeqType, of element: Sv2BytesType) throws(Sv2CodecError) {
        value = try bytesSequence(field, type, of: element)
    }
}

extension Sv2Writer: Sv2FieldVisitor {
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout Bool) throws(Sv2CodecError) { try bool(field, value) }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout UInt8) throws(Sv2CodecError) { try integer(field, value) }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout UInt16) throws(Sv2CodecError) { try integer(field, value) }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout UInt32) throws(Sv2CodecError) { try integer(field, value) }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout UInt64) throws(Sv2CodecError) { try integer(field, value) }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout U256) throws(Sv2CodecError) { try u256(field, value) }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout Float) throws(Sv2CodecError) { try f32(field, value) }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout Sv2String) throws(Sv2CodecError) { try str0_255(field, value) }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout [UInt8], _ type: Sv2BytesType) throws(Sv2CodecError) {
        try prefixedBytes(field, type, value)
    }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout UInt32?) throws(Sv2CodecError) { try optionalU32(field, value) }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout [UInt16], _ type: Sv2SeqType) throws(Sv2CodecError) {
        try integerSequence(field, type, value)
    }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout [UInt32], _ type: Sv2SeqType) throws(Sv2CodecError) {
        try integerSequence(field, type, value)
    }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout [U256], _ type: Sv2SeqType) throws(Sv2CodecError) {
        try u256Sequence(field, type, value)
    }
    @inlinable @inline(__always) public mutating func visit(_ field: StaticString, _ value: inout [[UInt8]], _ type: Sv2SeqType, of element: Sv2BytesType) throws(Sv2CodecError) {
        try bytesSequence(field, type, of: element, value)
    }
}
