/// A sans-IO stream decoder for plaintext frames (spec 3.2): feed it bytes as they arrive, take complete frames out.
///
/// The payload length of each header is checked against ``maximumPayloadLength`` as soon as the header is
/// complete, before any payload byte is buffered for it, so an oversized frame costs no allocation.
public struct Sv2FrameDecoder: Sendable {
    /// What ``next()`` found.
    public enum Output: Hashable, Sendable {
        /// A complete frame.
        case frame(Sv2Frame)
        /// No complete frame yet: at least this many more bytes are needed.
        case needMoreBytes(Int)
    }

    /// A frame whose header declares a payload over the configured maximum.
    public struct OversizedFrame: Error, Hashable, Sendable, CustomStringConvertible {
        /// The header that was refused.
        public var header: Sv2FrameHeader
        /// The configured maximum.
        public var maximum: Int
        /// `frame payload of N bytes exceeds the maximum of M`.
        public var description: String {
            "frame payload of \(header.payloadLength) bytes (msg_type 0x\(String(header.messageType, radix: 16))) exceeds the maximum of \(maximum)"
        }
    }

    /// Largest payload accepted, at most 2^24 - 1.
    public let maximumPayloadLength: Int
    private var buffer: [UInt8] = []
    private var readIndex = 0

    /// Creates a decoder accepting payloads up to `maximumPayloadLength` bytes (default: the U24 maximum).
    public init(maximumPayloadLength: Int = Sv2FrameHeader.maximumPayloadLength) {
        self.maximumPayloadLength = min(max(0, maximumPayloadLength), Sv2FrameHeader.maximumPayloadLength)
    }

    /// Bytes received and not yet returned in a frame.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Appends received bytes.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Appends received bytes from memory (a plain copy, without the generic path).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Drops consumed bytes once they make up half the buffer, before more are appended.
    private mutating func compact() {
        if readIndex > 0 && readIndex >= buffer.count / 2 {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
    }

    /// Returns the next complete frame, or how many more bytes are needed.
    ///
    /// Throws ``OversizedFrame`` when a header declares too large a payload; the stream cannot be resynchronised
    /// after that, so the connection should be closed.
    public mutating func next() throws(OversizedFrame) -> Output {
        let available = buffer.count - readIndex
        guard available >= Sv2FrameHeader.size else { return .needMoreBytes(Sv2FrameHeader.size - available) }
        let header = buffer.withUnsafeBytes { bytes in
            Sv2FrameHeader(UnsafeRawBufferPointer(rebasing: bytes[readIndex..<readIndex + Sv2FrameHeader.size]))
        }
        guard let header else { return .needMoreBytes(Sv2FrameHeader.size - available) }
        guard header.payloadLength <= maximumPayloadLength else {
            throw OversizedFrame(header: header, maximum: maximumPayloadLength)
        }
        let total = Sv2FrameHeader.size + header.payloadLength
        guard available >= total else { return .needMoreBytes(total - available) }
        let payloadStart = readIndex + Sv2FrameHeader.size
        let payload = Array(buffer[payloadStart..<payloadStart + header.payloadLength])
        readIndex += total
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        }
        return .frame(Sv2Frame(
            extensionType: header.extensionType, isChannelMessage: header.isChannelMessage,
            messageType: header.messageType, payload: payload))
    }
}
