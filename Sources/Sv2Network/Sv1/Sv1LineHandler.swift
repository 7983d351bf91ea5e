import NIOCore
import Sv1

/// Stratum V1 over a TCP channel: bytes in become ``Sv1Message``s (an ``Sv1LineFramer`` then ``Sv1Codec``), messages
/// written become compact JSON lines.
///
/// A line that does not decode is reported with `fireErrorCaught` and skipped: the connection goes on. A line over
/// the framer's limit is reported and closes the connection.
public final class Sv1LineHandler: ChannelDuplexHandler {
    /// Bytes from the socket.
    public typealias InboundIn = ByteBuffer
    /// One decoded message per line.
    public typealias InboundOut = Sv1Message
    /// A message to send.
    public typealias OutboundIn = Sv1Message
    /// Its line.
    public typealias OutboundOut = ByteBuffer

    private var framer: Sv1LineFramer

    /// A handler accepting lines of up to `maximumLineLength` bytes.
    public init(maximumLineLength: Int = 16_384) {
        framer = Sv1LineFramer(maximumLineLength: maximumLineLength)
    }

    /// Frames and decodes what arrived.
    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        framer.append(unwrapInboundIn(data).readableBytesView)
        while true {
            let line: [UInt8]
            do {
                guard let next = try framer.nextLine() else { return }
                line = next
            } catch {
                context.fireErrorCaught(error)
                context.close(promise: nil)
                return
            }
            do {
                context.fireChannelRead(wrapInboundOut(try Sv1Codec.decode(line)))
            } catch {
                context.fireErrorCaught(error)
            }
        }
    }

    /// Encodes a message as one line.
    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let line = Sv1Codec.encode(unwrapOutboundIn(data))
        var buffer = context.channel.allocator.buffer(capacity: line.count)
        buffer.writeBytes(line)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }
}

@available(*, unavailable)
extension Sv1LineHandler: Sendable {}
