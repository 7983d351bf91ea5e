import Foundation
import NIOCore
import NIOPosix
import Sv2Crypto
import Sv2Messages
import Sv2Noise
import Testing
@testable import Sv2Network
import Sv2Sessions

/// Answers SetupConnection with SetupConnection.Success, as a server would.
final class SetupResponder: ChannelInboundHandler, Sendable {
    typealias InboundIn = Sv2DecodedFrame
    typealias OutboundOut = Sv2Outbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .setupConnection = unwrapInboundIn(data).message else { return }
        context.writeAndFlush(wrapOutboundOut(.message(.setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: 0)))), promise: nil)
    }
}

/// Sends SetupConnection once the transport is ready and completes with the first message or the first error.
final class SetupClient: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Sv2DecodedFrame
    typealias OutboundOut = Sv2Outbound
    let result: EventLoopPromise<Sv2Message>

    init(result: EventLoopPromise<Sv2Message>) {
        self.result = result
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is Sv2TransportReady else { return context.fireUserInboundEventTriggered(event) }
        let setup = SetupConnection(
            protocol: 0, minVersion: 2, maxVersion: 2, flags: 0, endpointHost: "127.0.0.1", endpointPort: 3333,
            vendor: "sv2-tests", hardwareVersion: "", firmware: "", deviceID: "")
        context.writeAndFlush(wrapOutboundOut(.message(.setupConnection(setup))), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        result.succeed(unwrapInboundIn(data).message)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        result.fail(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        result.fail(Sv2NetworkError.closedDuringHandshake)
    }
}

/// Flips one bit of the inbound byte at `offset` (counting from the first byte received): tampering in transit.
final class Tamperer: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private var seen = 0
    let offset: Int

    init(offset: Int) {
        self.offset = offset
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let index = offset - seen
        if index >= 0, index < buffer.readableBytes, let byte = buffer.getInteger(at: buffer.readerIndex + index, as: UInt8.self) {
            buffer.setInteger(byte ^ 1, at: buffer.readerIndex + index)
        }
        seen += buffer.readableBytes
        context.fireChannelRead(wrapInboundOut(buffer))
    }
}

@Suite("Noise over loopback TCP", .serialized)
struct HandshakeOverTCPTests {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    /// A server with a random authority, and the clock offset it signs certificates with.
    func server(clockOffset: Int64 = 0, handshakeTimeout: TimeAmount = .seconds(10)) async throws -> (Channel, XOnlyPublicKey) {
        var random = SystemRandom()
        let authority = Secp256k1SecretKey.generate(using: &random)
        let configuration = Sv2TransportConfiguration(
            security: .responder(Sv2ResponderIdentity(authoritySecretKey: authority)), handshakeTimeout: handshakeTimeout,
            clock: Sv2Clock { Timestamp(seconds: Date().timeIntervalSince1970 + Double(clockOffset)) })
        let channel = try await Sv2Connections.listen(host: "127.0.0.1", port: 0, group: Self.group, configuration: configuration) { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(SetupResponder()) }
        }.get()
        return (channel, authority.xOnlyPublicKey)
    }

    /// Connects, runs the handshake and SetupConnection; returns the answer or throws the connection's error.
    func exchange(port: Int, authority: XOnlyPublicKey?, tamperAt: Int? = nil) async throws -> Sv2Message {
        let promise = Self.group.next().makePromise(of: Sv2Message.self)
        let configuration = Sv2TransportConfiguration(security: .initiator(authority: authority))
        let channel = try await Sv2Connections.connect(host: "127.0.0.1", port: port, group: Self.group, configuration: configuration) { channel in
            channel.eventLoop.makeCompletedFuture {
                if let tamperAt { try channel.pipeline.syncOperations.addHandler(Tamperer(offset: tamperAt), position: .first) }
                try channel.pipeline.syncOperations.addHandler(SetupClient(result: promise))
            }
        }.get()
        defer { channel.close(promise: nil) }
        return try await promise.futureResult.get()
    }

    @Test("1,000 handshakes with random keys and randomised encodings, each followed by SetupConnection")
    func thousandHandshakes() async throws {
        let (server, authority) = try await server()
        defer { server.close(promise: nil) }
        let port = try #require(server.localAddress?.port)
        try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var done = 0
                    for _ in stride(from: worker, to: 1000, by: 8) {
                        let answer = try await exchange(port: port, authority: authority)
                        guard case .setupConnectionSuccess = answer else { throw Sv2NetworkError.closedDuringHandshake }
                        done += 1
                    }
                    return done
                }
            }
            var total = 0
            for try await count in group { total += count }
            #expect(total == 1000)
        }
    }

    @Test("each certificate failure is its named error, and the server keeps serving")
    func certificateFailures() async throws {
        let (server, authority) = try await server()
        defer { server.close(promise: nil) }
        let port = try #require(server.localAddress?.port)
        var random = SystemRandom()
        let stranger = Secp256k1SecretKey.generate(using: &random).xOnlyPublicKey
        await #expect(throws: Sv2NetworkError.noise(.wrongAuthority)) { try await exchange(port: port, authority: stranger) }
        // Byte 229 of act 2 lies inside the certificate's MAC (the transcript's tampered act 2).
        await #expect(throws: Sv2NetworkError.noise(.decryptionFailed("act 2 certificate"))) {
            try await exchange(port: port, authority: authority, tamperAt: 229)
        }
        await #expect(throws: Sv2NetworkError.noise(.decryptionFailed("act 2 static key"))) {
            try await exchange(port: port, authority: authority, tamperAt: 100)
        }
        guard case .setupConnectionSuccess = try await exchange(port: port, authority: authority) else {
            Issue.record("an honest client was not served after the failures")
            return
        }

        let (past, pastAuthority) = try await self.server(clockOffset: -7200)
        defer { past.close(promise: nil) }
        let expired = await #expect(throws: Sv2NetworkError.self) { try await exchange(port: past.localAddress?.port ?? 0, authority: pastAuthority) }
        guard case .noise(.certificateExpired)? = expired else { Issue.record("expected certificateExpired, got \(String(describing: expired))"); return }

        let (future, futureAuthority) = try await self.server(clockOffset: 600)
        defer { future.close(promise: nil) }
        let early = await #expect(throws: Sv2NetworkError.self) { try await exchange(port: future.localAddress?.port ?? 0, authority: futureAuthority) }
        guard case .noise(.certificateNotYetValid)? = early else { Issue.record("expected certificateNotYetValid, got \(String(describing: early))"); return }
    }

    @Test("garbage before a handshake and a silent client each close only their connection")
    func badClients() async throws {
        let (server, authority) = try await server(handshakeTimeout: .milliseconds(500))
        defer { server.close(promise: nil) }
        let port = try #require(server.localAddress?.port)
        // A plaintext client's SetupConnection is too short to be act 1: the server's handshake times out and
        // closes that connection alone.
        let promise = Self.group.next().makePromise(of: Sv2Message.self)
        let plaintext = try await Sv2Connections.connect(host: "127.0.0.1", port: port, group: Self.group, configuration: .init(security: .plaintext)) { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(SetupClient(result: promise)) }
        }.get()
        await #expect(throws: (any Error).self) { try await promise.futureResult.get() }
        plaintext.close(promise: nil)
        guard case .setupConnectionSuccess = try await exchange(port: port, authority: authority) else {
            Issue.record("an honest client was not served")
            return
        }
    }

    @Test("a handshake that never completes times out")
    func handshakeTimeout() async throws {
        var random = SystemRandom()
        let configuration = Sv2TransportConfiguration(
            security: .responder(Sv2ResponderIdentity(authoritySecretKey: .generate(using: &random))), handshakeTimeout: .milliseconds(200))
        let errors = Self.group.next().makePromise(of: Error.self)
        final class ErrorCatcher: ChannelInboundHandler, @unchecked Sendable {
            typealias InboundIn = Sv2DecodedFrame
            let promise: EventLoopPromise<Error>
            init(_ promise: EventLoopPromise<Error>) { self.promise = promise }
            func errorCaught(context: ChannelHandlerContext, error: Error) { promise.succeed(error) }
        }
        let server = try await Sv2Connections.listen(host: "127.0.0.1", port: 0, group: Self.group, configuration: configuration) { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ErrorCatcher(errors)) }
        }.get()
        defer { server.close(promise: nil) }
        let silent = try await ClientBootstrap(group: Self.group).connect(host: "127.0.0.1", port: server.localAddress?.port ?? 0).get()
        defer { silent.close(promise: nil) }
        let error = try await errors.futureResult.get()
        #expect(error as? Sv2NetworkError == .handshakeTimeout(seconds: 0))
    }
}
