import CSv2
import Sv2Binary
import Sv2Messages

// The frame and message entry points of sv2.h.

/// Parses a frame header.
@_cdecl("sv2_frame_header_parse")
public func sv2_frame_header_parse(_ data: UnsafePointer<UInt8>?, _ len: Int, _ header: UnsafeMutablePointer<sv2_frame_header>?) -> sv2_error {
    cCall { () throws(CFailure) in
        let parsed = try parseHeader(data, len)
        try required(header, "header").pointee = sv2_frame_header(
            extension_type: parsed.extensionType, channel_msg: parsed.isChannelMessage ? 1 : 0, msg_type: parsed.messageType,
            length: UInt32(parsed.payloadLength))
    }
}

private func parseHeader(_ data: UnsafePointer<UInt8>?, _ len: Int) throws(CFailure) -> Sv2FrameHeader {
    guard len >= Sv2FrameHeader.size else {
        throw CFailure(SV2_ERR_INCOMPLETE, "a frame header is \(Sv2FrameHeader.size) bytes, \(max(0, len)) given")
    }
    let data = try required(data, "data")
    guard let header = Sv2FrameHeader(UnsafeRawBufferPointer(start: data, count: Sv2FrameHeader.size)) else {
        throw CFailure(SV2_ERR_INCOMPLETE, "a frame header is \(Sv2FrameHeader.size) bytes")
    }
    return header
}

/// Decodes the payload of `header` into a new message handle.
private func decodeMessage(_ header: Sv2FrameHeader, _ payload: UnsafeRawBufferPointer) throws(CFailure) -> CMessage {
    let decoded: Sv2Message
    do {
        decoded = try Sv2Message.decode(header: header, payload: payload).message
    } catch {
        if error.field == "msg_type" {
            throw CFailure(SV2_ERR_UNKNOWN_MESSAGE, "\(error)")
        }
        throw CFailure(SV2_ERR_MALFORMED, "\(error)")
    }
    return try CMessage(payload: decoded.payload)
}

/// Decodes one frame at the start of `data`.
@_cdecl("sv2_frame_decode")
public func sv2_frame_decode(
    _ data: UnsafePointer<UInt8>?, _ len: Int, _ message: UnsafeMutablePointer<OpaquePointer?>?, _ frameSize: UnsafeMutablePointer<Int>?
) -> sv2_error {
    cCall { () throws(CFailure) in
        let message = try required(message, "message")
        let frameSize = try required(frameSize, "frame_size")
        message.pointee = nil
        frameSize.pointee = Sv2FrameHeader.size
        let header = try parseHeader(data, len)
        let total = Sv2FrameHeader.size + header.payloadLength
        frameSize.pointee = total
        guard len >= total else {
            throw CFailure(SV2_ERR_INCOMPLETE, "the frame is \(total) bytes, \(len) given")
        }
        let payload = UnsafeRawBufferPointer(start: try required(data, "data") + Sv2FrameHeader.size, count: header.payloadLength)
        message.pointee = try decodeMessage(header, payload).handle
    }
}

/// Decodes a payload as the given message type.
@_cdecl("sv2_message_decode")
public func sv2_message_decode(
    _ extensionType: UInt16, _ messageType: UInt8, _ payload: UnsafePointer<UInt8>?, _ len: Int,
    _ message: UnsafeMutablePointer<OpaquePointer?>?
) -> sv2_error {
    cCall { () throws(CFailure) in
        let message = try required(message, "message")
        message.pointee = nil
        guard len >= 0, len <= Sv2FrameHeader.maximumPayloadLength else {
            throw CFailure(SV2_ERR_OVERSIZED, "a payload is at most \(Sv2FrameHeader.maximumPayloadLength) bytes, \(len) given")
        }
        let header = Sv2FrameHeader(
            extensionType: extensionType & ~Sv2FrameHeader.channelMessageMask, isChannelMessage: false,
            messageType: messageType, payloadLength: len)
        let bytes = len == 0 ? UnsafeRawBufferPointer(start: nil, count: 0) : UnsafeRawBufferPointer(start: try required(payload, "payload"), count: len)
        let decoded = try decodeMessage(header, bytes)
        // All of the payload must be the message's fields.
        guard decoded.payload.encodedSize == len else {
            throw CFailure(SV2_ERR_MALFORMED, "\(decoded.info.type.name) takes \(decoded.payload.encodedSize) bytes; \(len - decoded.payload.encodedSize) bytes are left over")
        }
        message.pointee = decoded.handle
    }
}

/// A new message with every field zero or empty.
@_cdecl("sv2_message_new")
public func sv2_message_new(_ name: UnsafePointer<CChar>?, _ message: UnsafeMutablePointer<OpaquePointer?>?) -> sv2_error {
    cCall { () throws(CFailure) in
        let message = try required(message, "message")
        message.pointee = nil
        let text = String(cString: try required(name, "name"))
        let type: any Sv2MessagePayload.Type
        do throws(Sv2MessageRegistry.LookupError) {
            type = try Sv2MessageRegistry.lookup(text)
        } catch {
            throw CFailure(SV2_ERR_UNKNOWN_MESSAGE, error.description)
        }
        message.pointee = try CMessage(payload: type.init()).handle
    }
}

/// Writes the message as a frame.
@_cdecl("sv2_message_encode")
public func sv2_message_encode(
    _ message: OpaquePointer?, _ out: UnsafeMutablePointer<UInt8>?, _ capacity: Int, _ written: UnsafeMutablePointer<Int>?
) -> sv2_error {
    cCall { () throws(CFailure) in
        let box = try CMessage.from(message)
        let frame: [UInt8]
        do {
            frame = try box.payload.encodedFrame()
        } catch {
            throw CFailure(SV2_ERR_OVERSIZED, "\(error)")
        }
        try deliver(frame, out, capacity, written)
    }
}

/// Releases a message.
@_cdecl("sv2_message_free")
public func sv2_message_free(_ message: OpaquePointer?) {
    guard let message else { return }
    Unmanaged<CMessage>.fromOpaque(UnsafeRawPointer(message)).release()
}

/// The message's spec name.
@_cdecl("sv2_message_name")
public func sv2_message_name(_ message: OpaquePointer?) -> UnsafePointer<CChar>? {
    (try? CMessage.from(message))?.info.cName
}

/// extension_type of the message.
@_cdecl("sv2_message_extension_type")
public func sv2_message_extension_type(_ message: OpaquePointer?) -> UInt16 {
    (try? CMessage.from(message))?.info.type.extensionType ?? 0
}

/// msg_type of the message.
@_cdecl("sv2_message_msg_type")
public func sv2_message_msg_type(_ message: OpaquePointer?) -> UInt8 {
    (try? CMessage.from(message))?.info.type.messageType ?? 0
}

/// 1 when the message is sent with the channel_msg bit.
@_cdecl("sv2_message_is_channel_message")
public func sv2_message_is_channel_message(_ message: OpaquePointer?) -> Int32 {
    (try? CMessage.from(message))?.info.type.isChannelMessage == true ? 1 : 0
}

/// The number of fields.
@_cdecl("sv2_message_field_count")
public func sv2_message_field_count(_ message: OpaquePointer?) -> Int {
    (try? CMessage.from(message))?.info.fields.count ?? 0
}

/// The description of field `index`, nil when out of range.
private func fieldInfo(_ message: OpaquePointer?, _ index: Int) -> CFieldInfo? {
    guard let fields = (try? CMessage.from(message))?.info.fields, fields.indices.contains(index) else { return nil }
    return fields[index]
}

/// The name of field `index`.
@_cdecl("sv2_message_field_name")
public func sv2_message_field_name(_ message: OpaquePointer?, _ index: Int) -> UnsafePointer<CChar>? {
    fieldInfo(message, index)?.cName
}

/// The kind of field `index`.
@_cdecl("sv2_message_field_kind")
public func sv2_message_field_kind(_ message: OpaquePointer?, _ index: Int) -> sv2_field_kind {
    fieldInfo(message, index)?.kind ?? sv2_field_kind(rawValue: 0)
}

/// The spec type name of field `index`.
@_cdecl("sv2_message_field_type_name")
public func sv2_message_field_type_name(_ message: OpaquePointer?, _ index: Int) -> UnsafePointer<CChar>? {
    fieldInfo(message, index)?.cTypeName
}
