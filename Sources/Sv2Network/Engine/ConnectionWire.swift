import NIOCore
import Sv1
import Sv2Binary
import Sv2Messages

/// How one protocol's messages meet the pipeline below the connection engine: the value the pipeline delivers
/// becomes the session's message; the session's outbound message becomes the value written, with its size in bytes
/// (the engine bounds what a connection may hold unsent).
public protocol ConnectionWire: Sendable {
    /// What the handler before the engine delivers.
    associatedtype InboundIn
    /// What the session receives.
    associatedtype Message
    /// What the session sends.
    associatedtype Outbound
    /// What the engine writes to the handler before it.
    associatedtype OutboundOut

    /// The session's message for a value from the pipeline.
    func message(_ value: InboundIn) -> Message
    /// `message` as written to the pipeline, and its size on the wire (before encryption).
    func encode(_ message: Outbound, allocator: ByteBufferAllocator) throws -> (value: OutboundOut, bytes: Int)
    /// For an error fired by the pipeline: a description when it concerns one input only (the connection goes on
    /// and the session decides), nil when the pipeline closes the connection for it.
    func recoverableProblem(_ error: Error) -> String?
}

/// Sv2 messages over ``Sv2TransportHandler`` + ``Sv2MessageHandler`` (the latter set not to close on a malformed
/// message, so that the session decides).
public struct Sv2MessageWire: ConnectionWire {
    /// A wire.
    public init() {}

    /// The decoded message.
    public func message(_ value: Sv2DecodedFrame) -> Sv2Message { value.message }

    /// The message as a frame.
    public func encode(_ message: Sv2Message, allocator: ByteBufferAllocator) throws -> (value: Sv2Outbound, bytes: Int) {
        let frame = try message.frame()
        return (.frame(frame), Sv2FrameHeader.size + frame.payload.count)
    }

    /// A frame that did not decode as a message.
    public func recoverableProblem(_ error: Error) -> String? {
        guard case let Sv2NetworkError.malformedMessage(problem)? = error as? Sv2NetworkError else { return nil }
        return "\(problem)"
    }
}

/// Something that is sent as one Stratum V1 line.
public protocol Sv1LineConvertible {
    /// The line's bytes, compact JSON and the newline.
    var sv1Line: [UInt8] { get }
}

extension Sv1Message: Sv1LineConvertible {
    /// The message as ``Sv1Codec`` encodes it.
    public var sv1Line: [UInt8] { Sv1Codec.encode(self) }
}

/// Stratum V1 lines over ``Sv1LineHandler``: decoded messages in, lines out.
public struct Sv1Wire<Outbound: Sv1LineConvertible>: ConnectionWire {
    /// A wire.
    public init() {}

    /// The decoded message.
    public func message(_ value: Sv1Message) -> Sv1Message { value }

    /// The message's line in a buffer.
    public func encode(_ message: Outbound, allocator: ByteBufferAllocator) throws -> (value: ByteBuffer, bytes: Int) {
        let line = message.sv1Line
        return (allocator.buffer(bytes: line), line.count)
    }

    /// A line that is not a Stratum V1 message (an overlong line closes the connection instead).
    public func recoverableProblem(_ error: Error) -> String? {
        guard let error = error as? Sv1Error else { return nil }
        if case .lineTooLong = error { return nil }
        return error.description
    }
}
