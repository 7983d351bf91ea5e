import NIOCore
import NIOEmbedded
import Sv1
import Sv2Network
import Testing

@Suite("Sv1 line handler")
struct Sv1LineHandlerTests {
    @Test("lines in any chunking become messages; a malformed line is reported and skipped")
    func decodesAndEncodes() throws {
        let channel = EmbeddedChannel(handler: Sv1LineHandler())
        let errors = ErrorCollector()
        try channel.pipeline.syncOperations.addHandler(errors)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let stream = #"{"id":1,"result":true,"error":null}"# + "\r\nnot json\n" + #"{"id":null,"method":"mining.set_difficulty","params":[2]}"# + "\n"
        for byte in stream.utf8 { try channel.writeInbound(ByteBuffer(bytes: [byte])) }
        #expect(try channel.readInbound(as: Sv1Message.self) == .response(id: .number("1"), result: .bool(true), error: .null))
        #expect(try channel.readInbound(as: Sv1Message.self) == .notification(method: Sv1Method.setDifficulty, params: [.number("2")]))
        #expect(try channel.readInbound(as: Sv1Message.self) == nil)
        #expect(errors.errors.count == 1 && channel.isActive)
    }

    @Test("a line over the limit is reported and closes the connection")
    func overlongLine() throws {
        let channel = EmbeddedChannel(handler: Sv1LineHandler(maximumLineLength: 64))
        let errors = ErrorCollector()
        try channel.pipeline.syncOperations.addHandler(errors)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(ByteBuffer(string: String(repeating: "x", count: 65)))
        #expect(errors.errors.first as? Sv1Error == .lineTooLong(limit: 64))
        #expect(!channel.isActive)
    }
}

/// Keeps the errors that reach the end of the pipeline.
final class ErrorCollector: ChannelInboundHandler {
    typealias InboundIn = Sv1Message
    private(set) var errors: [Error] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        errors.append(error)
    }
}
