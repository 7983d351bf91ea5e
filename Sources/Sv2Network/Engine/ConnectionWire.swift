import NIOCore
import Sv1
import Sv2Binary
import Sv2Messages

/// How one protocol's messages meet the pipeline below the connection engine: what the pipeline delivers becomes
/// the session's messages (with per-connection ``Decoder`` state, a line framer for Stratum V1); the session's
/// outbound message becomes the value written, with its size in bytes (the engine bounds what a connection may
/// hold unsent).
public protocol ConnectionWire: Sendable {
    /// What the handler before the engine delivers.
    associatedtype InboundIn
    /// Per-connection decoding state.
    associatedtype Decoder
    /// What the session receives.
    associatedtype Message
    /// What the session sends.
    associatedtype Outbound
    /// What the engine writes to the handler before it.
    associatedtype OutboundOut

    /// The decoding state of a new connection.
    func makeDecoder() -> Decoder
    /// Passes each message in `value` to `deliver`, and a description of each input that is not one to `malformed`
    /// (the session decides); throws, naming the problem, when the connection must close.
    func decode(
        _ value: InboundIn, with decoder: inout Decoder, deliver: (Message) -> Void, malformed: (WireProblem) -> Void
    ) throws
    /// `message` as written to the pipeline, and its size on the wire (before encryption).
    func encode(_ message: Outbound, allocator: ByteBufferAllocator) throws -> (value: OutboundOut, bytes: Int)
    /// For an error fired by the pipeline: a description when it concerns one input only (the connection goes on
    /// and the session decides), nil when the pipeline closes the connection for it.
    func recoverableProblem(_ error: Error) -> String?
    /// What the pipeline delivered, as this wire's input.
    func unwrap(_ data: NIOAny) -> InboundIn
    /// `value` as the pipeline carries it.
    func wrap(_ value: OutboundOut) -> NIOAny
    /// ``encode(_:allocator:)`` boxed for the pipeline.
    func encodeBoxed(_ message: Outbound, allocator: ByteBufferAllocator) throws -> (value: NIOAny, bytes: Int)
}

extension ConnectionWire {
    // Requirements rather than the engine's own unwrapping so that each wire's witness is compiled for its concrete
    // types: the generic engine then does no dynamic casts, and needs no metadata of generic tuples, per message.

    /// The delivered value, cast.
    public func unwrap(_ data: NIOAny) -> InboundIn { PipelineTypes<InboundIn, OutboundOut>.unwrapInboundIn(data) }

    /// The value in a pipeline box.
    public func wrap(_ value: OutboundOut) -> NIOAny { PipelineTypes<InboundIn, OutboundOut>.wrapOutboundOut(value) }

    /// The message encoded, then boxed.
    public func encodeBoxed(_ message: Outbound, allocator: ByteBufferAllocator) throws -> (value: NIOAny, bytes: Int) {
        let (value, bytes) = try encode(message, allocator: allocator)
        return (wrap(value), bytes)
    }
}

/// A wire's pipeline types, for NIO's typed boxing; never instantiated.
private final class PipelineTypes<InboundIn, OutboundOut>: ChannelDuplexHandler {
    typealias OutboundIn = OutboundOut
}

/// One input that is not a message, described.
public struct WireProblem: Error, Hashable, Sendable, CustomStringConvertible {
    /// The description.
    public var description: String

    /// A problem described by `description`.
    public init(_ description: String) {
        self.description = description
    }
}

/// Sv2 messages over ``Sv2TransportHandler`` + ``Sv2MessageHandler`` (the latter set not to close on a malformed
/// message, so that the session decides): the session receives `Message` and sends `Outbound`, each either a plain
/// ``Sv2Message`` (TLV fields dropped) or an ``Sv2TaggedMessage`` (TLV fields kept, for extension 0x0002).
public struct Sv2Wire<Message: Sv2WireMessage, Outbound: Sv2WireMessage>: ConnectionWire {
    /// A wire.
    public init() {}

    /// Nothing to keep: frames arrive decoded.
    public func makeDecoder() {}

    /// The decoded message.
    public func decode(_ value: Sv2DecodedFrame, with decoder: inout Void, deliver: (Message) -> Void, malformed: (WireProblem) -> Void) {
        deliver(Message(value.message, tlvs: value.tlvs))
    }

    /// The message as a frame.
    public func encode(_ message: Outbound, allocator: ByteBufferAllocator) throws -> (value: Sv2Outbound, bytes: Int) {
        let frame = try message.message.frame(tlvs: message.tlvs)
        return (.frame(frame), Sv2FrameHeader.size + frame.payload.count)
    }

    /// A frame that did not decode as a message.
    public func recoverableProblem(_ error: Error) -> String? {
        guard case let Sv2NetworkError.malformedMessage(problem)? = error as? Sv2NetworkError else { return nil }
        return "\(problem)"
    }
}

/// Plain Sv2 messages both ways (TLV fields dropped).
public typealias Sv2MessageWire = Sv2Wire<Sv2Message, Sv2Message>
/// Messages with their TLV fields both ways (a client that negotiates extensions).
public typealias Sv2TaggedWire = Sv2Wire<Sv2TaggedMessage, Sv2TaggedMessage>
/// Messages with their TLV fields in, plain messages out (a server that reads extension fields).
public typealias Sv2TaggedInboundWire = Sv2Wire<Sv2TaggedMessage, Sv2Message>

/// Something that is sent as one Stratum V1 line.
public protocol Sv1LineConvertible {
    /// The line's bytes, compact JSON and the newline.
    var sv1Line: [UInt8] { get }
}

extension Sv1Message: Sv1LineConvertible {
    /// The message as ``Sv1Codec`` encodes it.
    public var sv1Line: [UInt8] { Sv1Codec.encode(self) }
}

/// Stratum V1 over TCP: bytes in, framed into lines (``Sv1LineFramer``, with a line limit) and decoded
/// (``Sv1Codec``); messages out as lines. A line that does not decode goes to the session; a line over the limit
/// closes the connection.
public struct Sv1Wire<Outbound: Sv1LineConvertible>: ConnectionWire {
    /// Longest line accepted.
    public let maximumLineLength: Int

    /// A wire accepting lines of up to `maximumLineLength` bytes.
    public init(maximumLineLength: Int = 16_384) {
        self.maximumLineLength = maximumLineLength
    }

    /// A framer.
    public func makeDecoder() -> Sv1LineFramer {
        Sv1LineFramer(maximumLineLength: maximumLineLength)
    }

    /// Every complete line in what arrived, decoded.
    public func decode(
        _ value: ByteBuffer, with framer: inout Sv1LineFramer, deliver: (Sv1Message) -> Void, malformed: (WireProblem) -> Void
    ) throws {
        value.withUnsafeReadableBytes { framer.append($0) }
        while let line = try framer.nextLine() {
            do {
                deliver(try Sv1Codec.decode(line))
            } catch {
                malformed(WireProblem(error.description))
            }
        }
    }

    /// The message's line in a buffer.
    public func encode(_ message: Outbound, allocator: ByteBufferAllocator) throws -> (value: ByteBuffer, bytes: Int) {
        let line = message.sv1Line
        return (allocator.buffer(bytes: line), line.count)
    }

    /// Nothing before this wire reports problems.
    public func recoverableProblem(_ error: Error) -> String? { nil }
}
