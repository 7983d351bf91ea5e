import Sv2Binary

/// One message of the spec: its identity on the wire and its fields.
public protocol Sv2MessagePayload: Sv2Fields, Sendable, Hashable {
    /// The name `sv2 decode` prints and `sv2 encode` accepts (the spec's, qualified by subprotocol when ambiguous).
    static var name: String { get }
    /// extension_type of the frame, without the channel_msg bit (0 for the core protocols).
    static var extensionType: UInt16 { get }
    /// msg_type of the frame.
    static var messageType: UInt8 { get }
    /// Whether the frame carries the channel_msg bit.
    static var isChannelMessage: Bool { get }
    /// This message as the dispatch enum.
    var message: Sv2Message { get }
}

extension Sv2MessagePayload {
    /// The frame header for this message with a payload of `payloadLength` bytes.
    @inlinable
    public static func header(payloadLength: Int) -> Sv2FrameHeader {
        Sv2FrameHeader(
            extensionType: extensionType, isChannelMessage: isChannelMessage, messageType: messageType,
            payloadLength: payloadLength)
    }

    /// Encodes header and fields into `buffer` without allocating; returns the frame's size in bytes.
    @inlinable
    public func encodeFrame(into buffer: UnsafeMutableRawBufferPointer) throws(Sv2CodecError) -> Int {
        var writer = Sv2Writer(buffer)
        try Self.header(payloadLength: encodedSize).encode(to: &writer)
        try encode(to: &writer)
        return writer.offset
    }

    /// The whole frame (header and fields) as a new array.
    public func encodedFrame() throws(Sv2CodecError) -> [UInt8] {
        try message.encodedFrame()
    }
}

extension Sv2Message {
    /// The spec name of the message inside (see ``Sv2MessagePayload/name``).
    public var name: String { type(of: payload).name }

    /// The frame header this message is sent with, for a payload of `payloadLength` bytes.
    public func header(payloadLength: Int) -> Sv2FrameHeader {
        type(of: payload).header(payloadLength: payloadLength)
    }

    /// The whole frame as a new array, with `tlvs` appended to the payload (spec 3.4.3).
    public func encodedFrame(tlvs: [Sv2TLV] = []) throws(Sv2CodecError) -> [UInt8] {
        let payloadLength = fieldsSize + tlvs.reduce(0) { $0 + $1.encodedSize }
        return try Sv2Writer.makeArray(size: Sv2FrameHeader.size + payloadLength) { writer throws(Sv2CodecError) in
            try header(payloadLength: payloadLength).encode(to: &writer)
            try encodeFields(to: &writer)
            for tlv in tlvs { try tlv.encode(to: &writer) }
        }
    }

    /// The message as a frame (header and payload), with `tlvs` appended to the payload.
    public func frame(tlvs: [Sv2TLV] = []) throws(Sv2CodecError) -> Sv2Frame {
        let type = Swift.type(of: payload)
        let payloadBytes = try Sv2Writer.makeArray(size: fieldsSize + tlvs.reduce(0) { $0 + $1.encodedSize }) { writer throws(Sv2CodecError) in
            try encodeFields(to: &writer)
            for tlv in tlvs { try tlv.encode(to: &writer) }
        }
        return Sv2Frame(
            extensionType: type.extensionType, isChannelMessage: type.isChannelMessage, messageType: type.messageType,
            payload: payloadBytes)
    }

    /// Decodes a payload: the message's fields, then any TLV fields.
    ///
    /// Errors: an unknown (extension_type, msg_type), a field that does not decode, or trailing bytes that are not
    /// well-formed TLV fields. Like SRI, the channel_msg bit is not checked against the message type (see
    /// ``Sv2Message/hasExpectedChannelBit(_:)``).
    public static func decode(header: Sv2FrameHeader, payload: UnsafeRawBufferPointer) throws(Sv2CodecError) -> (message: Sv2Message, tlvs: [Sv2TLV]) {
        var reader = Sv2Reader(payload)
        let message = try decodeFields(extensionType: header.extensionType, messageType: header.messageType, from: &reader)
        guard reader.remaining > 0 else { return (consume message, []) }
        let fieldsEnd = reader.offset
        do {
            return (message, try Sv2TLV.readAll(from: &reader))
        } catch {
            throw Sv2CodecError(field: "tlv", offset: fieldsEnd, problem: .trailingBytes(payload.count - fieldsEnd))
        }
    }

    /// The error for an (extension_type, msg_type) pair that names no message, reported at the msg_type byte.
    @usableFromInline @inline(never)
    static func unknownMessage(extensionType: UInt16, messageType: UInt8) -> Sv2CodecError {
        Sv2CodecError(
            field: "msg_type", offset: 0,
            problem: .invalidValue("unknown message type 0x\(hex2(messageType)) for extension_type 0x\(String(extensionType, radix: 16))"))
    }

    /// True when `header`'s channel_msg bit is the one spec 08-Message-Types gives this message.
    public func hasExpectedChannelBit(_ header: Sv2FrameHeader) -> Bool {
        header.isChannelMessage == type(of: payload).isChannelMessage
    }

    /// Decodes a payload given as an array (see ``decode(header:payload:)``).
    public static func decode(header: Sv2FrameHeader, payload: [UInt8]) throws(Sv2CodecError) -> (message: Sv2Message, tlvs: [Sv2TLV]) {
        let result = payload.withUnsafeBytes { bytes in
            Result { () throws(Sv2CodecError) in try decode(header: header, payload: bytes) }
        }
        return try result.get()
    }

    /// Decodes a complete frame.
    public static func decode(_ frame: Sv2Frame) throws(Sv2CodecError) -> (message: Sv2Message, tlvs: [Sv2TLV]) {
        try decode(header: frame.header, payload: frame.payload)
    }
}

/// Two lower-case hex digits.
func hex2(_ value: UInt8) -> String {
    let text = String(value, radix: 16)
    return value < 16 ? "0" + text : text
}
