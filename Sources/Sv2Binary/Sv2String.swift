/// STR0_255 of spec 3.1: up to 255 bytes that are usually, but not necessarily, ASCII or UTF-8.
///
/// The bytes are kept exactly as received (SRI does not check UTF-8 either), so decoding and re-encoding any frame
/// gives back the same bytes.
public struct Sv2String: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The raw bytes.
    public var bytes: [UInt8]

    /// Wraps raw bytes.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The UTF-8 bytes of `string`.
    public init(_ string: String) {
        self.bytes = Array(string.utf8)
    }

    /// The UTF-8 bytes of a literal.
    public init(stringLiteral value: String) {
        self.init(value)
    }

    /// The bytes read as UTF-8, nil when they are not valid UTF-8.
    public var string: String? {
        String(validating: bytes, as: UTF8.self)
    }

    /// True when every byte is printable ASCII (0x20 to 0x7e), as spec 3.5 asks of error and reason codes.
    public var isPrintableASCII: Bool {
        bytes.allSatisfy { (0x20...0x7e).contains($0) }
    }

    /// The text, with invalid UTF-8 replaced by U+FFFD.
    public var description: String {
        String(decoding: bytes, as: UTF8.self)
    }
}
