/// Splits a TCP byte stream into Stratum V1 lines, without I/O: bytes in with ``append(_:)``, lines out with
/// ``nextLine()``.
///
/// A line ends at `"\n"`; a `"\r"` before it is dropped (CRLF firmware) and empty lines are skipped. No line may be
/// longer than ``maximumLineLength`` bytes (its `"\r"` included): the bytes of a line past that limit are never
/// stored, and ``nextLine()`` throws ``Sv1Error/lineTooLong(limit:)`` once the complete lines before it are out.
/// After throwing the framer stays failed (every later call throws) and holds nothing: close the connection.
public struct Sv1LineFramer: Sendable {
    /// The longest line accepted, in bytes before the newline.
    public let maximumLineLength: Int
    private var buffer: [UInt8] = []
    /// Where the first line not yet returned starts.
    private var lineStart = 0
    /// `buffer[lineStart..<searchFrom]` has no newline.
    private var searchFrom = 0
    /// Bytes after the last newline in `buffer`.
    private var partialLength = 0
    /// A line over the limit was seen; nothing after it is kept.
    private var overflowed = false

    /// An empty framer; lines of up to `maximumLineLength` bytes (16 KiB by default, far above any real message).
    public init(maximumLineLength: Int = 16_384) {
        self.maximumLineLength = max(maximumLineLength, 0)
    }

    /// Bytes held: complete lines not yet taken plus the start of the next line.
    public var bufferedByteCount: Int { buffer.count - lineStart }

    /// Adds bytes read from the stream, in any chunking. Bytes that would make the unfinished line longer than the
    /// limit are dropped and the framer fails.
    public mutating func append<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if bytes.withContiguousStorageIfAvailable({ append(UnsafeRawBufferPointer($0)) }) == nil {
            Array(bytes).withUnsafeBytes { append($0) }
        }
    }

    /// ``append(_:)`` from memory (a socket's buffer): no generic path.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !overflowed else { return }
        if let lastNewline = bytes.lastIndex(of: Self.newline) {
            let tail = bytes.count - lastNewline - 1
            if tail > maximumLineLength {
                buffer.append(contentsOf: bytes[...lastNewline])
                overflowed = true
                partialLength = 0
            } else {
                buffer.append(contentsOf: bytes)
                partialLength = tail
            }
        } else if bytes.count > maximumLineLength - partialLength {
            overflowed = true
        } else {
            buffer.append(contentsOf: bytes)
            partialLength += bytes.count
        }
    }

    /// The next complete line without its `"\n"` and trailing `"\r"`, or nil until more bytes arrive. Throws
    /// ``Sv1Error/lineTooLong(limit:)`` when the next line is over the limit.
    public mutating func nextLine() throws(Sv1Error) -> [UInt8]? {
        while true {
            guard let newline = buffer[searchFrom...].firstIndex(of: Self.newline) else {
                if overflowed { throw fail() }
                buffer.removeSubrange(..<lineStart)
                lineStart = 0
                searchFrom = buffer.count
                return nil
            }
            var end = newline
            if end > lineStart, buffer[end - 1] == Self.carriageReturn { end -= 1 }
            let start = lineStart
            lineStart = newline + 1
            searchFrom = lineStart
            guard newline - start <= maximumLineLength else { throw fail() }
            if end > start { return Array(buffer[start..<end]) }
        }
    }

    private mutating func fail() -> Sv1Error {
        overflowed = true
        buffer = []
        lineStart = 0
        searchFrom = 0
        partialLength = 0
        return .lineTooLong(limit: maximumLineLength)
    }

    private static let newline = UInt8(ascii: "\n")
    private static let carriageReturn = UInt8(ascii: "\r")
}
