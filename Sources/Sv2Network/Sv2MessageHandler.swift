import NIOCore
import Sv2Binary
import Sv2Messages

/// What can be written to a channel with a ``Sv2MessageHandler``.
public enum Sv2Outbound: Sendable {
    /// A message, with TLV fields appended (spec 3.4.3).
    case message(Sv2Message, tlvs: [Sv2TLV] = [])
    /// A frame as is (for tools that send arbitrary bytes on purpose).
    case frame(Sv2Frame)
}

/// Decodes inbound frames into messages and encodes outbound messages into frames.
///
/// Inbound: ``Sv2Frame`` in, ``Sv2DecodedFrame`` out. Outbound: ``Sv2Outbound`` in, ``Sv2Frame`` out. A frame of an
/// extension type this implementation does not know is discarded (spec 3: such messages MUST be discarded and
/// ignored), reported as an ``Sv2UnknownExtensionFrame`` user event. A frame that does not decode fires
/// ``Sv2NetworkError/malformedMessage(_:)`` and, unless configured otherwise, closes the connection.
public final class Sv2MessageHandler: ChannelDuplexHandler {
    public typealias InboundIn = Sv2Frame
    public typealias InboundOut = Sv2DecodedFrame
    public typealias OutboundIn = Sv2Outbound
    public typealias OutboundOut = Sv2Frame

    private let closesOnMalformedMessage: Bool

    /// A handler; `closesOnMalformedMessage` false keeps the connection after an undecodable frame.
    public init(closesOnMalformedMessage: Bool = true) {
        self.closesOnMalformedMessage = closesOnMalformedMessage
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        // The spec's own messages (extension type 0) skip the set lookup: this runs once per frame.
        guard frame.header.extensionType == 0 || Sv2MessageRegistry.knownExtensionTypes.contains(frame.header.extensionType) else {
            context.fireUserInboundEventTriggered(Sv2UnknownExtensionFrame(frame: frame))
            return
        }
        do {
            let (message, tlvs) = try Sv2Message.decode(frame)
            context.fireChannelRead(wrapInboundOut(Sv2DecodedFrame(header: frame.header, message: message, tlvs: tlvs)))
        } catch {
            context.fireErrorCaught(Sv2NetworkError.malformedMessage(error.shifted(by: Sv2FrameHeader.size)))
            if closesOnMalformedMessage { context.close(promise: nil) }
        }
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case let .frame(frame):
            context.write(wrapOutboundOut(frame), promise: promise)
        case let .message(message, tlvs):
            do {
                context.write(wrapOutboundOut(try message.frame(tlvs: tlvs)), promise: promise)
            } catch {
                promise?.fail(Sv2NetworkError.malformedMessage(error))
            }
        }
    }
}

@available(*, unavailable)
extension Sv2MessageHandler: Sendable {}

/// A frame of an extension type this implementation does not know, discarded by ``Sv2MessageHandler`` and reported
/// as a user inbound event (for a log line, or for a proxy that forwards such channel messages).
public struct Sv2UnknownExtensionFrame: Sendable {
    /// The frame as received.
    public var frame: Sv2Frame
}
