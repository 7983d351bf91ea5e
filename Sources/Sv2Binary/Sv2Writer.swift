/// Writes spec 3.1 values into a borrowed output buffer, checking every bound; never traps.
///
/// Size the buffer with ``Sv2SizeCounter`` first; a value over its type's bound, or a buffer that is too small,
/// is a thrown ``Sv2CodecError`` naming the field.
@frozen
public struct Sv2Writer {
    /// Where the bytes go.
    public let buffer: UnsafeMutableRawBufferPointer
    /// Offset of the next byte to write (after writing: the number of bytes written).
    public var offset: Int

    /// Allocates an array of `size` bytes and fills it through `body`; the array holds what `body` wrote.
    public static func makeArray(
        size: Int, _ body: (inout Sv2Writer) throws(Sv2CodecError) -> Void
    ) throws(Sv2CodecError) -> [UInt8] {
        var failure: Sv2CodecError?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var writer = Sv2Writer(UnsafeMutableRawBufferPointer(buffer))
            do throws(Sv2CodecError) {
                try body(&writer)
            } catch {
                failure = error
            }
            initialized = failure == nil ? writer.offset : 0
        }
        if let failure { throw failure }
        return bytes
    }

    /// Starts writing at the beginning of `buffer`.
    @inlinable
    public init(_ buffer: UnsafeMutableRawBufferPointer) {
        self.buffer = buffer
        self.offset = 0
    }

    @inlinable
    func room(_ count: Int, _ field: StaticString) throws(Sv2CodecError) {
        guard count <= buffer.count - offset else {
            throw Sv2CodecError(field: "\(field)", offset: offset, problem: .invalidValue("output buffer too small"))
        }
    }

    /// Writes a little-endian fixed-width integer.
    @inlinable
    public mutating func integer<T: FixedWidthInteger>(_ field: StaticString, _ value: T) throws(Sv2CodecError) {
        try room(MemoryLayout<T>.size, field)
        buffer.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
    }

    /// Writes a U24; values over 2^24 - 1 are rejected.
    @inlinable
    public mutating func u24(_ field: StaticString, _ value: UInt32) throws(Sv2CodecError) {
        guard value <= 0xff_ffff else {
            throw Sv2CodecError(field: "\(field)", offset: offset, problem: .invalidValue("U24 value \(value) exceeds 16777215"))
        }
        try room(3, field)
        buffer[offset] = UInt8(truncatingIfNeeded: value)
        buffer[offset + 1] = UInt8(truncatingIfNeeded: value >> 8)
        buffer[offset + 2] = UInt8(truncatingIfNeeded: value >> 16)
        offset += 3
    }

    /// Writes a BOOL as 0 or 1.
    @inlinable
    public mutating func bool(_ field: StaticString, _ value: Bool) throws(Sv2CodecError) {
        try integer(field, UInt8(value ? 1 : 0))
    }

    /// Writes an F32.
    @inlinable
    public mutating func f32(_ field: StaticString, _ value: Float) throws(Sv2CodecError) {
        try integer(field, value.bitPattern)
    }

    /// Writes a U256.
    @inlinable
    public mutating func u256(_ field: StaticString, _ value: U256) throws(Sv2CodecError) {
        try room(32, field)
        buffer.storeBytes(of: value.w0.littleEndian, toByteOffset: offset, as: UInt64.self)
        buffer.storeBytes(of: value.w1.littleEndian, toByteOffset: offset + 8, as: UInt64.self)
        buffer.storeBytes(of: value.w2.littleEndian, toByteOffset: offset + 16, as: UInt64.self)
        buffer.storeBytes(of: value.w3.littleEndian, toByteOffset: offset + 24, as: UInt64.self)
        offset += 32
    }

    /// Writes bytes with no prefix (BYTES, PUBKEY, SIGNATURE).
    @inlinable
    public mutating func fixedBytes(_ field: StaticString, _ bytes: [UInt8]) throws(Sv2CodecError) {
        try room(bytes.count, field)
        if !bytes.isEmpty {
            bytes.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<offset + source.count]).copyMemory(from: source)
            }
        }
        offset += bytes.count
    }

    @inlinable
    mutating func lengthPrefix(_ field: StaticString, _ length: Int, prefixSize: Int, maximum: Int, typeName: @autoclosure () -> String) throws(Sv2CodecError) {
        guard length <= maximum else {
            throw Sv2CodecError(
                field: "\(field)", offset: offset, problem: .lengthExceeds(type: typeName(), length: length, maximum: maximum))
        }
        switch prefixSize {
        case 1: try integer(field, UInt8(length))
        case 2: try integer(field, UInt16(length))
        default: try u24(field, UInt32(length))
        }
    }

    /// Writes a B0_32, B0_255, B0_64K or B0_16M.
    @inlinable
    public mutating func prefixedBytes(_ field: StaticString, _ type: Sv2BytesType, _ bytes: [UInt8]) throws(Sv2CodecError) {
        try lengthPrefix(field, bytes.count, prefixSize: type.prefixSize, maximum: type.maximumLength, typeName: type.description)
        try fixedBytes(field, bytes)
    }

    /// Writes a STR0_255.
    @inlinable
    public mutating func str0_255(_ field: StaticString, _ value: Sv2String) throws(Sv2CodecError) {
        try lengthPrefix(field, value.bytes.count, prefixSize: 1, maximum: 255, typeName: "STR0_255")
        try fixedBytes(field, value.bytes)
    }

    /// Writes an OPTION[U32].
    @inlinable
    public mutating func optionalU32(_ field: StaticString, _ value: UInt32?) throws(Sv2CodecError) {
        if let value {
            try integer(field, UInt8(1))
            try integer(field, value)
        } else {
            try integer(field, UInt8(0))
        }
    }

    /// Writes the count prefix of a sequence.
    @inlinable
    public mutating func sequenceCount(_ field: StaticString, _ type: Sv2SeqType, _ count: Int) throws(Sv2CodecError) {
        try lengthPrefix(field, count, prefixSize: type.prefixSize, maximum: type.maximumCount, typeName: type.description)
    }

    /// Writes a sequence of fixed-width integers.
    @inlinable
    public mutating func integerSequence<T: FixedWidthInteger>(_ field: StaticString, _ type: Sv2SeqType, _ values: [T]) throws(Sv2CodecError) {
        try sequenceCount(field, type, values.count)
        for value in values { try integer(field, value) }
    }

    /// Writes a sequence of U256.
    @inlinable
    public mutating func u256Sequence(_ field: StaticString, _ type: Sv2SeqType, _ values: [U256]) throws(Sv2CodecError) {
        try sequenceCount(field, type, values.count)
        for value in values { try u256(field, value) }
    }

    /// Writes a sequence of length-prefixed byte arrays.
    @inlinable
    public mutating func bytesSequence(_ field: StaticString, _ type: Sv2SeqType, of element: Sv2BytesType, _ values: [[UInt8]]) throws(Sv2CodecError) {
        try sequenceCount(field, type, values.count)
        for value in values { try prefixedBytes(field, element, value) }
    }
}
