/// A failure to decode or encode a value of spec 3.1: which field, at which byte offset, and what was wrong.
///
/// Offsets count from the start of the buffer being read (for a message, its payload) unless a caller rebases them
/// with ``shifted(by:)``; `sv2 decode` reports them relative to the frame's first header byte.
public struct Sv2CodecError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was wrong with the bytes or the value.
    public enum Problem: Hashable, Sendable {
        /// The input ended: `needed` bytes were required at the offset and only `available` remained.
        case truncated(needed: Int, available: Int)
        /// A length or count prefix (or a value being encoded) is over its type's bound.
        case lengthExceeds(type: String, length: Int, maximum: Int)
        /// An OPTION prefix other than 0 or 1.
        case invalidOptionCount(UInt8)
        /// Bytes were left after the last field and they are not valid TLV fields.
        case trailingBytes(Int)
        /// A value that the field does not accept (for example a U24 over 2^24-1).
        case invalidValue(String)
    }

    /// The spec's name of the field (snake_case), or a description of the structure being read.
    public var field: String
    /// Byte offset where the problem was found.
    public var offset: Int
    /// What was wrong.
    public var problem: Problem

    /// Creates an error for `field` at `offset`.
    public init(field: String, offset: Int, problem: Problem) {
        self.field = field
        self.offset = offset
        self.problem = problem
    }

    /// The same error with its offset moved by `delta` bytes (to report offsets relative to an enclosing buffer).
    public func shifted(by delta: Int) -> Sv2CodecError {
        Sv2CodecError(field: field, offset: offset + delta, problem: problem)
    }

    /// The problem alone, e.g. `B0_32 length 40 exceeds 32`.
    public var problemDescription: String {
        switch problem {
        case let .truncated(needed, available):
            return "truncated: needs \(needed) byte\(needed == 1 ? "" : "s"), \(available) left"
        case let .lengthExceeds(type, length, maximum):
            return "\(type) length \(length) exceeds \(maximum)"
        case let .invalidOptionCount(count):
            return "OPTION count \(count) is neither 0 nor 1"
        case let .trailingBytes(count):
            return count == 1 ? "1 trailing byte that is not a TLV field" : "\(count) trailing bytes that are not TLV fields"
        case let .invalidValue(text):
            return text
        }
    }

    /// `byte 34: extranonce: B0_32 length 40 exceeds 32`.
    public var description: String {
        "byte \(offset): \(field): \(problemDescription)"
    }
}
