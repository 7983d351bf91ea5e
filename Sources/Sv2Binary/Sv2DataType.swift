/// The length-prefixed byte array types of spec 3.1.
public enum Sv2BytesType: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// B0_32: u8 length, at most 32 bytes.
    case b0_32
    /// B0_255: u8 length, at most 255 bytes.
    case b0_255
    /// B0_64K: U16 length, at most 65535 bytes.
    case b0_64K
    /// B0_16M: U24 length, at most 2^24 - 1 bytes.
    case b0_16M

    /// Size of the length prefix in bytes.
    @inlinable
    public var prefixSize: Int {
        switch self {
        case .b0_32, .b0_255: return 1
        case .b0_64K: return 2
        case .b0_16M: return 3
        }
    }

    /// Largest allowed length.
    @inlinable
    public var maximumLength: Int {
        switch self {
        case .b0_32: return 32
        case .b0_255: return 255
        case .b0_64K: return 65535
        case .b0_16M: return 0xff_ffff
        }
    }

    /// The spec's name, e.g. `B0_64K`.
    public var description: String {
        switch self {
        case .b0_32: return "B0_32"
        case .b0_255: return "B0_255"
        case .b0_64K: return "B0_64K"
        case .b0_16M: return "B0_16M"
        }
    }
}

/// The sequence types of spec 3.1.
public enum Sv2SeqType: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// SEQ0_255: u8 count.
    case seq0_255
    /// SEQ0_64K: U16 count.
    case seq0_64K

    /// Size of the count prefix in bytes.
    @inlinable
    public var prefixSize: Int { self == .seq0_255 ? 1 : 2 }

    /// Largest allowed element count.
    @inlinable
    public var maximumCount: Int { self == .seq0_255 ? 255 : 65535 }

    /// The spec's name, e.g. `SEQ0_255`.
    public var description: String { self == .seq0_255 ? "SEQ0_255" : "SEQ0_64K" }
}
