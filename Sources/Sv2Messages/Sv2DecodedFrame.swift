import Sv2Binary

/// A frame decoded down to its message: what `sv2 decode` prints for each frame.
public struct Sv2DecodedFrame: Hashable, Sendable {
    /// The header as received.
    public var header: Sv2FrameHeader
    /// The message.
    public var message: Sv2Message
    /// TLV fields found after the message's fields.
    public var tlvs: [Sv2TLV]

    /// Wraps the parts.
    public init(header: Sv2FrameHeader, message: Sv2Message, tlvs: [Sv2TLV]) {
        self.header = header
        self.message = message
        self.tlvs = tlvs
    }

    /// The text `sv2 decode` prints for this frame: a title line with the message name and header, a warning
    /// when the channel_msg bit is not the spec's, then `  field: value` lines and TLV lines.
    public var textLines: [String] {
        var title = "\(message.name)  (extension_type 0x\(String(header.extensionType, radix: 16)), msg_type 0x\(String(header.messageType, radix: 16))"
        title += header.isChannelMessage ? ", channel_msg" : ""
        title += ", \(header.payloadLength) byte payload)"
        var lines = [title]
        if !message.hasExpectedChannelBit(header) {
            let bit = header.isChannelMessage ? 1 : 0
            lines.append("  warning: channel_msg bit is \(bit), the spec gives \(1 - bit) for \(message.name)")
        }
        return lines + message.textLines(tlvs: tlvs).map { "  " + $0 }
    }

    /// A failure in a sequence of frames: which frame (counting from 1), at which byte of that frame (the header's
    /// first byte is 0), and the codec error.
    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        /// Index of the failing frame, counting from 1.
        public var frame: Int
        /// The error, its offset relative to the start of the frame.
        public var error: Sv2CodecError

        /// `frame 2, byte 34: extranonce: B0_32 length 40 exceeds 32`.
        public var description: String { "frame \(frame), \(error)" }
    }

    /// Decodes every frame in `bytes`, which hold whole frames back to back.
    public static func decodeAll(_ bytes: [UInt8]) throws(Failure) -> [Sv2DecodedFrame] {
        var frames = [Sv2DecodedFrame]()
        var start = 0
        while start < bytes.count {
            let index = frames.count + 1
            let available = bytes.count - start
            let header = bytes.withUnsafeBytes { Sv2FrameHeader(UnsafeRawBufferPointer(rebasing: $0[start...])) }
            guard let header else {
                throw Failure(frame: index, error: Sv2CodecError(
                    field: "header", offset: 0, problem: .truncated(needed: Sv2FrameHeader.size, available: available)))
            }
            let payloadStart = start + Sv2FrameHeader.size
            guard header.payloadLength <= bytes.count - payloadStart else {
                throw Failure(frame: index, error: Sv2CodecError(
                    field: "payload", offset: Sv2FrameHeader.size,
                    problem: .truncated(needed: header.payloadLength, available: bytes.count - payloadStart)))
            }
            let end = payloadStart + header.payloadLength
            let decoded = bytes.withUnsafeBytes { buffer in
                Result { () throws(Sv2CodecError) in
                    try Sv2Message.decode(header: header, payload: UnsafeRawBufferPointer(rebasing: buffer[payloadStart..<end]))
                }
            }
            switch decoded {
            case let .success((message, tlvs)):
                frames.append(Sv2DecodedFrame(header: header, message: message, tlvs: tlvs))
            case let .failure(error):
                let shift = error.field == "msg_type" ? 2 : Sv2FrameHeader.size
                throw Failure(frame: index, error: error.shifted(by: shift))
            }
            start = end
        }
        return frames
    }
}
