import NIOCore
import Sv1

/// Stratum V1 over a TCP channel, inbound: bytes in become ``Sv1Message``s (an ``Sv1LineFramer`` then
/// ``Sv1Codec``). Outbound lines pass through as bytes (the connection engine's ``Sv1Wire`` encodes them).
///
/// A line that does not decode is reported with `fireErrorCaught` and skipped: the connection goes on. A line over
/// the framer's limit is reported and closes the connection.
public final class Sv1LineHandler: ChannelInboundHandler {
    /// Bytes from the socket.
    public typealias InboundIn = ByteBuffer
    /// One decoded message per line.
    public typealias InboundOut = Sv1Message

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
}

@available(*, unavailable)
extension Sv1LineHandler: Sendable {}
