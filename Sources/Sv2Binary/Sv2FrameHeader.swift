/// The 6-byte frame header of spec 3.2: extension_type U16, msg_type U8, msg_length U24.
///
/// Bit 15 of extension_type is the channel_msg bit (mask 0x8000): when set, the payload starts with a U32
/// channel_id. ``extensionType`` is the value without that bit.
@frozen
public struct Sv2FrameHeader: Hashable, Sendable {
    /// Size of the header on the wire.
    public static let size = 6
    /// Mask of the channel_msg bit in the raw extension_type.
    public static let channelMessageMask: UInt16 = 0x8000
    /// Largest payload a header can describe (U24).
    public static let maximumPayloadLength = 0xff_ffff

    /// The extension this message belongs to (0 for the core protocols), without the channel_msg bit.
    public var extensionType: UInt16
    /// True when the channel_msg bit is set.
    public var isChannelMessage: Bool
    /// The message type.
    public var messageType: UInt8
    /// Payload length in bytes (not counting this header).
    public var payloadLength: Int

    /// Creates a header; `extensionType` must not include the channel_msg bit.
    @inlinable
    public init(extensionType: UInt16, isChannelMessage: Bool, messageType: UInt8, payloadLength: Int) {
        self.extensionType = extensionType & 0x7fff
        self.isChannelMessage = isChannelMessage
        self.messageType = messageType
        self.payloadLength = payloadLength
    }

    /// extension_type as on the wire, channel_msg bit included.
    @inlinable
    public var rawExtensionType: UInt16 {
        extensionType | (isChannelMessage ? Self.channelMessageMask : 0)
    }

    /// Parses the first 6 bytes of `bytes`; nil when fewer are given.
    @inlinable
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= Self.size else { return nil }
        let raw = UInt16(bytes[0]) | UInt16(bytes[1]) << 8
        self.init(
            extensionType: raw & 0x7fff, isChannelMessage: raw & Self.channelMessageMask != 0, messageType: bytes[2],
            payloadLength: Int(bytes[3]) | Int(bytes[4]) << 8 | Int(bytes[5]) << 16)
    }

    /// Writes the header; a payload length over 2^24 - 1 is an error.
    @inlinable
    public func encode(to writer: inout Sv2Writer) throws(Sv2CodecError) {
        guard payloadLength <= Self.maximumPayloadLength else {
            throw Sv2CodecError(
                field: "msg_length", offset: writer.offset,
                problem: .lengthExceeds(type: "U24", length: payloadLength, maximum: Self.maximumPayloadLength))
        }
        try writer.integer("extension_type", rawExtensionType)
        try writer.integer("msg_type", messageType)
        try writer.u24("msg_length", UInt32(payloadLength))
    }
}

/// A complete frame: header and payload bytes (TLV fields, if any, are part of the payload).
public struct Sv2Frame: Hashable, Sendable {
    /// The header; its payloadLength equals `payload.count`.
    public var header: Sv2FrameHeader
    /// The payload.
    public var payload: [UInt8]

    /// Creates a frame, setting the header's payload length from `payload`.
    public init(extensionType: UInt16, isChannelMessage: Bool, messageType: UInt8, payload: [UInt8]) {
        self.header = Sv2FrameHeader(
            extensionType: extensionType, isChannelMessage: isChannelMessage, messageType: messageType,
            payloadLength: payload.count)
        self.payload = payload
    }

    /// Header and payload as one array.
    public func encoded() throws(Sv2CodecError) -> [UInt8] {
        try Sv2Writer.makeArray(size: Sv2FrameHeader.size + payload.count) { writer throws(Sv2CodecError) in
            try header.encode(to: &writer)
            try writer.fixedBytes("payload", payload)
        }
    }
}
