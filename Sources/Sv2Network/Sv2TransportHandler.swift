import NIOCore
import Sv2Binary
import Sv2Crypto
import Sv2Noise

/// Fired down the pipeline (as a user inbound event) when the connection is ready for frames: after the Noise
/// handshake, or at once in plaintext mode.
public struct Sv2TransportReady: Sendable {
    /// The responder's certificate when the connection is encrypted.
    public var certificate: SignatureNoiseMessage?
    /// The responder's static key encoding when the connection is encrypted.
    public var responderStaticEncoding: [UInt8]?
}

/// Turns a TCP byte stream into plaintext Sv2 frames and back: runs the Noise NX handshake (initiator or responder)
/// with a timeout, then encrypts and decrypts frames (spec 4.6); or passes plaintext frames when configured so.
///
/// Inbound: `ByteBuffer` in, ``Sv2Frame`` out. Outbound: ``Sv2Frame`` in, `ByteBuffer` out. Frames written before
/// the handshake completes are held and sent after it. Any failure closes this connection only, after firing the
/// error (a ``Sv2NetworkError``) down the pipeline.
public final class Sv2TransportHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = Sv2Frame
    public typealias OutboundIn = Sv2Frame
    public typealias OutboundOut = ByteBuffer

    fileprivate enum State {
        case idle
        case initiatorWaitingForAct2(NoiseInitiator)
        case responderWaitingForAct1(NoiseResponder)
        case encrypted
        case plaintext
        case failed
    }

    private let configuration: Sv2TransportConfiguration
    private var state = State.idle
    // Kept outside `state` so that a write made while inbound frames are being delivered finds them in place.
    private var encoder: NoiseFrameEncoder?
    private var noiseDecoder: NoiseFrameDecoder?
    private var plaintextDecoder: Sv2FrameDecoder?
    private var handshakeBytes: [UInt8] = []
    private var pendingWrites: [(Sv2Frame, EventLoopPromise<Void>?)] = []
    private var timeout: Scheduled<Void>?

    /// A handler with `configuration`.
    public init(configuration: Sv2TransportConfiguration) {
        self.configuration = configuration
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        switch state {
        case .initiatorWaitingForAct2, .responderWaitingForAct1:
            state = .failed
            context.fireErrorCaught(Sv2NetworkError.closedDuringHandshake)
        default:
            break
        }
        failPendingWrites(Sv2NetworkError.closedDuringHandshake)
        context.fireChannelInactive()
    }

    private func start(context: ChannelHandlerContext) {
        guard case .idle = state else { return }
        var random = configuration.random()
        switch configuration.security {
        case .plaintext:
            plaintextDecoder = Sv2FrameDecoder(maximumPayloadLength: configuration.maximumPayloadLength)
            state = .plaintext
            context.fireUserInboundEventTriggered(Sv2TransportReady())
            return
        case let .initiator(authority):
            var initiator = NoiseInitiator(authority: authority, ephemeral: .generate(using: &random))
            do {
                let act1 = try initiator.writeAct1()
                state = .initiatorWaitingForAct2(initiator)
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: act1)), promise: nil)
            } catch {
                fail(context: context, error: .noise(error))
                return
            }
        case let .responder(identity):
            do {
                let certificate = try SignatureNoiseMessage.sign(
                    authority: identity.authoritySecretKey, serverStaticX: identity.staticKey.secretKey.xOnlyPublicKey.bytes,
                    validFrom: configuration.clock.now().unixSeconds, validity: identity.certificateValidity, auxiliaryRandom: random.bytes(32))
                state = .responderWaitingForAct1(NoiseResponder(staticKey: identity.staticKey, ephemeral: .generate(using: &random), certificate: certificate))
            } catch {
                fail(context: context, error: .noise(error))
                return
            }
        }
        let seconds = Int(configuration.handshakeTimeout.nanoseconds / 1_000_000_000)
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        timeout = context.eventLoop.scheduleTask(in: configuration.handshakeTimeout) {
            let (handler, context) = bound.value
            switch handler.state {
            case .initiatorWaitingForAct2, .responderWaitingForAct1:
                handler.fail(context: context, error: .handshakeTimeout(seconds: seconds))
            default:
                break
            }
        }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        switch state {
        case .plaintext:
            buffer.withUnsafeReadableBytes { plaintextDecoder?.feed($0) }
            drain(context: context) {
                do throws(Sv2FrameDecoder.OversizedFrame) {
                    return try self.plaintextDecoder?.next()
                } catch {
                    throw Sv2NetworkError.frameTooLarge(length: error.header.payloadLength, maximum: error.maximum)
                }
            }
        case .encrypted:
            buffer.withUnsafeReadableBytes { noiseDecoder?.feed($0) }
            drain(context: context) {
                do throws(NoiseError) {
                    return try self.noiseDecoder?.next()
                } catch {
                    throw Sv2NetworkError.noise(error)
                }
            }
        case .initiatorWaitingForAct2, .responderWaitingForAct1:
            handshakeBytes += buffer.readBytes(length: buffer.readableBytes) ?? []
            advanceHandshake(context: context)
        case .idle, .failed:
            break
        }
    }

    /// Passes every complete frame on; a failure closes the connection.
    private func drain(context: ChannelHandlerContext, next: () throws -> Sv2FrameDecoder.Output?) {
        while !state.isFailed {
            do {
                guard case let .frame(frame)? = try next() else { return }
                context.fireChannelRead(wrapInboundOut(frame))
            } catch let error as Sv2NetworkError {
                fail(context: context, error: error)
                return
            } catch {
                return
            }
        }
    }

    private func advanceHandshake(context: ChannelHandlerContext) {
        do throws(NoiseError) {
            switch state {
            case var .initiatorWaitingForAct2(initiator):
                guard handshakeBytes.count >= NoiseInitiator.act2Size else { return }
                let act2 = Array(handshakeBytes.prefix(NoiseInitiator.act2Size))
                let rest = Array(handshakeBytes.dropFirst(NoiseInitiator.act2Size))
                let session = try initiator.readAct2(act2, now: configuration.clock.now().unixSeconds)
                becomeEncrypted(context: context, session: session, leftover: rest)
            case var .responderWaitingForAct1(responder):
                guard handshakeBytes.count >= NoiseInitiator.act1Size else { return }
                let act1 = Array(handshakeBytes.prefix(NoiseInitiator.act1Size))
                let rest = Array(handshakeBytes.dropFirst(NoiseInitiator.act1Size))
                let (act2, session) = try responder.respond(toAct1: act1)
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: act2)), promise: nil)
                becomeEncrypted(context: context, session: session, leftover: rest)
            default:
                return
            }
        } catch {
            fail(context: context, error: .noise(error))
        }
    }

    private func becomeEncrypted(context: ChannelHandlerContext, session: NoiseSession, leftover: [UInt8]) {
        timeout?.cancel()
        timeout = nil
        handshakeBytes = []
        encoder = NoiseFrameEncoder(cipher: session.sender)
        noiseDecoder = NoiseFrameDecoder(cipher: session.receiver, maximumPayloadLength: configuration.maximumPayloadLength)
        state = .encrypted
        context.fireUserInboundEventTriggered(Sv2TransportReady(
            certificate: session.certificate, responderStaticEncoding: session.responderStaticEncoding))
        let writes = pendingWrites
        pendingWrites = []
        for (frame, promise) in writes { write(context: context, frame: frame, promise: promise) }
        context.flush()
        if !leftover.isEmpty {
            channelRead(context: context, data: NIOAny(context.channel.allocator.buffer(bytes: leftover)))
        }
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        write(context: context, frame: unwrapOutboundIn(data), promise: promise)
    }

    private func write(context: ChannelHandlerContext, frame: Sv2Frame, promise: EventLoopPromise<Void>?) {
        switch state {
        case .plaintext:
            do {
                context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: try frame.encoded())), promise: promise)
            } catch {
                promise?.fail(Sv2NetworkError.malformedMessage(error))
            }
        case .encrypted:
            // Sealed straight from the frame's payload into the outgoing buffer.
            let size = NoiseFrameEncoder.encryptedSize(payloadLength: frame.payload.count)
            var buffer = context.channel.allocator.buffer(capacity: size)
            var failure: NoiseError?
            frame.payload.withUnsafeBytes { payload in
                _ = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { output in
                    do throws(NoiseError) {
                        try encoder?.encrypt(header: frame.header, payload: payload, into: UnsafeMutableRawBufferPointer(rebasing: output[..<size]))
                        return size
                    } catch {
                        failure = error
                        return 0
                    }
                }
            }
            if let failure {
                promise?.fail(Sv2NetworkError.noise(failure))
                fail(context: context, error: .noise(failure))
                return
            }
            context.write(wrapOutboundOut(buffer), promise: promise)
        case .idle, .initiatorWaitingForAct2, .responderWaitingForAct1:
            pendingWrites.append((frame, promise))
        case .failed:
            promise?.fail(Sv2NetworkError.closedDuringHandshake)
        }
    }

    private func fail(context: ChannelHandlerContext, error: Sv2NetworkError) {
        guard !(state.isFailed) else { return }
        state = .failed
        timeout?.cancel()
        failPendingWrites(error)
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    private func failPendingWrites(_ error: Error) {
        let writes = pendingWrites
        pendingWrites = []
        for (_, promise) in writes { promise?.fail(error) }
    }
}

extension Sv2TransportHandler.State {
    fileprivate var isFailed: Bool {
        if case .failed = self { return true }
        return false
    }
}

@available(*, unavailable)
extension Sv2TransportHandler: Sendable {}
