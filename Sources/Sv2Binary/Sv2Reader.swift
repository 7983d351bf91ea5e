/// Reads spec 3.1 values from a borrowed byte buffer, advancing an offset; never traps on bad input.
///
/// Every read names the field it is for, so an error says which field failed, where, and why. Use it inside
/// `withUnsafeBytes`; the reader must not outlive the buffer.
@frozen
public struct Sv2Reader {
    /// The bytes being read.
    public let bytes: UnsafeRawBufferPointer
    /// Offset of the next byte to read.
    public var offset: Int

    /// Starts reading `bytes` at offset 0.
    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.offset = 0
    }

    /// Bytes not yet read.
    @inlinable
    public var remaining: Int { bytes.count - offset }

    /// Checks that `count` more bytes are available.
    @inlinable @inline(__always)
    func need(_ count: Int, _ field: StaticString) throws(Sv2CodecError) {
        guard count <= bytes.count &- offset else { throw truncation(count, field) }
    }

    /// The error for a read of `count` bytes past the end (kept out of line so reads stay small).
    @usableFromInline @inline(never)
    func truncation(_ count: Int, _ field: StaticString) -> Sv2CodecError {
        Sv2CodecError(field: "\(field)", offset: offset, problem: .truncated(needed: count, available: bytes.count - offset))
    }

    /// Reads a little-endian fixed-width integer.
    @inlinable @inline(__always)
    public mutating func integer<T: FixedWidthInteger>(_ field: StaticString, as type: T.Type = T.self) throws(Sv2CodecError) -> T {
        try need(MemoryLayout<T>.size, field)
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += MemoryLayout<T>.size
        return value
    }

    /// Reads a U24.
    @inlinable
    public mutating func u24(_ field: StaticString) throws(Sv2CodecError) -> UInt32 {
        try need(3, field)
        let value = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
        offset += 3
        return value
    }

    /// Reads a BOOL: only the least significant bit counts (spec 3.1).
    @inlinable
    public mutating func bool(_ field: StaticString) throws(Sv2CodecError) -> Bool {
        try integer(field, as: UInt8.self) & 1 == 1
    }

    /// Reads an F32 (IEEE 754, little-endian).
    @inlinable
    public mutating func f32(_ field: StaticString) throws(Sv2CodecError) -> Float {
        Float(bitPattern: try integer(field, as: UInt32.self))
    }

    /// Reads a U256.
    @inlinable
    public mutating func u256(_ field: StaticString) throws(Sv2CodecError) -> U256 {
        try need(32, field)
        let base = offset
        offset += 32
        return U256(
            w0: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: base, as: UInt64.self)),
            w1: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: base + 8, as: UInt64.self)),
            w2: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: base + 16, as: UInt64.self)),
            w3: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: base + 24, as: UInt64.self)))
    }

    /// Reads exactly `count` bytes (BYTES, PUBKEY, SIGNATURE, or the body of a prefixed array).
    @inlinable
    public mutating func fixedBytes(_ field: StaticString, count: Int) throws(Sv2CodecError) -> [UInt8] {
        try need(count, field)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
        offset += count
        return [UInt8](slice)
    }

    /// Reads a length prefix of `prefixSize` bytes and checks it against `maximum`.
    @inlinable
    mutating func lengthPrefix(_ field: StaticString, prefixSize: Int, maximum: Int, typeName: @autoclosure () -> String) throws(Sv2CodecError) -> Int {
        let start = offset
        let length: Int
        switch prefixSize {
        case 1: length = Int(try integer(field, as: UInt8.self))
        case 2: length = Int(try integer(field, as: UInt16.self))
        default: length = Int(try u24(field))
        }
        guard length <= maximum else {
            throw Sv2CodecError(
                field: "\(field)", offset: start, problem: .lengthExceeds(type: typeName(), length: length, maximum: maximum))
        }
        return length
    }

    /// Reads a B0_32, B0_255, B0_64K or B0_16M.
    @inlinable
    public mutating func prefixedBytes(_ field: StaticString, _ type: Sv2BytesType) throws(Sv2CodecError) -> [UInt8] {
        let length = try lengthPrefix(field, prefixSize: type.prefixSize, maximum: type.maximumLength, typeName: type.description)
        return try fixedBytes(field, count: length)
    }

    /// Reads a STR0_255.
    @inlinable
    public mutating func str0_255(_ field: StaticString) throws(Sv2CodecError) -> Sv2String {
        let length = try lengthPrefix(field, prefixSize: 1, maximum: 255, typeName: "STR0_255")
        return Sv2String(bytes: try fixedBytes(field, count: length))
    }

    /// Reads an OPTION[U32].
    @inlinable
    public mutating func optionalU32(_ field: StaticString) throws(Sv2CodecError) -> UInt32? {
        let start = offset
        switch try integer(field, as: UInt8.self) {
        case 0: return nil
        case 1: return try integer(field, as: UInt32.self)
        case let count:
            throw Sv2CodecError(field: "\(field)", offset: start, problem: .invalidOptionCount(count))
        }
    }

    /// Reads a sequence count and checks that the elements can fit in what is left (`minimumElementSize` each).
    @inlinable
    public mutating func sequenceCount(_ field: StaticString, _ type: Sv2SeqType, minimumElementSize: Int) throws(Sv2CodecError) -> Int {
        let count = try lengthPrefix(field, prefixSize: type.prefixSize, maximum: type.maximumCount, typeName: type.description)
        try need(count * minimumElementSize, field)
        return count
    }

    /// Reads a SEQ0_255 or SEQ0_64K of fixed-width integers.
    @inlinable
    public mutating func integerSequence<T: FixedWidthInteger>(_ field: StaticString, _ type: Sv2SeqType, of element: T.Type = T.self) throws(Sv2CodecError) -> [T] {
        let count = try sequenceCount(field, type, minimumElementSize: MemoryLayout<T>.size)
        var values = [T]()
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try integer(field, as: T.self)) }
        return values
    }

    /// Reads a SEQ0_255 or SEQ0_64K of U256.
    @inlinable
    public mutating func u256Sequence(_ field: StaticString, _ type: Sv2SeqType) throws(Sv2CodecError) -> [U256] {
        let count = try sequenceCount(field, type, minimumElementSize: 32)
        var values = [U256]()
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try u256(field)) }
        return values
    }

    /// Reads a SEQ0_255 or SEQ0_64K of length-prefixed byte arrays.
    @inlinable
    public mutating func bytesSequence(_ field: StaticString, _ type: Sv2SeqType, of element: Sv2BytesType) throws(Sv2CodecError) -> [[UInt8]] {
        let count = try sequenceCount(field, type, minimumElementSize: element.prefixSize)
        var values = [[UInt8]]()
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try prefixedBytes(field, element)) }
        return values
    }
}
