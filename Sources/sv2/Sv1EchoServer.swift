import NIOCore
import NIOPosix
import Sv1
import Sv2Formats

/// The reference of `sv2 bench translate`: a bare Stratum V1 server answering with canned lines of the sizes the
/// translator sends, and the floor of any Sv1 server on NIO and the same sockets.
///
/// mining.subscribe gets a subscribe result with a 4-byte extranonce1; mining.authorize gets `true`, a
/// mining.set_difficulty and the prepared mining.notify line; mining.submit gets `true`. A `bench.fanout` request on
/// any connection writes the notify line to every connection. Requests are recognised by their first bytes
/// (`{"id":<id>,"method":"<name>"`, as ``Sv1Codec`` writes them), not parsed; anything else is ignored.
final class Sv1EchoServer: Sendable {
    /// The method of the request that makes the server send the notify line to every connection.
    static let fanOutMethod = "bench.fanout"

    /// The connections of one event loop, only touched on that loop.
    final class LoopConnections: @unchecked Sendable {
        fileprivate var connections = [ObjectIdentifier: Sv1EchoConnection]()
    }

    fileprivate let notify: ByteBuffer
    fileprivate let subscribeReply: [UInt8]
    fileprivate let trueReply: [UInt8]
    fileprivate let afterAuthorize: ByteBuffer
    private let loops: [ObjectIdentifier: (loop: EventLoop, connections: LoopConnections)]

    /// A server on `group` whose mining.notify line is `notifyLine` (without its newline).
    init(notifyLine: String, group: MultiThreadedEventLoopGroup) {
        var notify = ByteBuffer(string: notifyLine)
        notify.writeString("\n")
        self.notify = notify
        let extranonce1 = JSONValue.string("00000000")
        subscribeReply = Self.replyTail(.array([
            .array([.array([.string(Sv1Method.setDifficulty), extranonce1]), .array([.string(Sv1Method.notify), extranonce1])]),
            extranonce1, .number("4"),
        ]))
        trueReply = Self.replyTail(.bool(true))
        var afterAuthorize = ByteBuffer(bytes: Sv1Codec.encode(.notification(method: Sv1Method.setDifficulty, params: [.number("1e-12")])))
        afterAuthorize.writeImmutableBuffer(notify)
        self.afterAuthorize = afterAuthorize
        var loops = [ObjectIdentifier: (loop: EventLoop, connections: LoopConnections)]()
        for loop in group.makeIterator() { loops[ObjectIdentifier(loop)] = (loop, LoopConnections()) }
        self.loops = loops
    }

    /// A response with `result` and a null error, after its id: `,"result":...,"error":null}` and the newline.
    private static func replyTail(_ result: JSONValue) -> [UInt8] {
        Array(Sv1Codec.encode(.response(id: .number("0"), result: result, error: .null)).dropFirst(#"{"id":0"#.utf8.count))
    }

    /// Listens on `host`:`port`.
    func bind(host: String, port: Int, group: MultiThreadedEventLoopGroup) async throws -> Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Sv1EchoConnection(server: self))
                }
            }
            .bind(host: host, port: port).get()
    }

    /// The connection list of `loop`.
    fileprivate func connections(on loop: EventLoop) -> LoopConnections? {
        loops[ObjectIdentifier(loop)]?.connections
    }

    /// Writes the notify line to every connection, one task per event loop.
    fileprivate func fanOut() {
        for (loop, connections) in loops.values {
            loop.execute {
                for connection in connections.connections.values { connection.send(self.notify) }
            }
        }
    }
}

/// One connection of the echo reference.
final class Sv1EchoConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private static let requestStart = Array(#"{"id":"#.utf8)
    private static let methodStart = Array(#","method":""#.utf8)
    private static let subscribe = Array(Sv1Method.subscribe.utf8)
    private static let authorize = Array(Sv1Method.authorize.utf8)
    private static let submit = Array(Sv1Method.submit.utf8)
    private static let fanOut = Array(Sv1EchoServer.fanOutMethod.utf8)

    private let server: Sv1EchoServer
    private var lines = BenchLineSplitter()
    private var context: ChannelHandlerContext?

    init(server: Sv1EchoServer) {
        self.server = server
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        server.connections(on: context.eventLoop)?.connections[ObjectIdentifier(self)] = self
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        server.connections(on: context.eventLoop)?.connections[ObjectIdentifier(self)] = nil
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var reply = context.channel.allocator.buffer(capacity: 0)
        let complete = lines.forEachLine(in: unwrapInboundIn(data)) { line in
            guard line.starts(with: Self.requestStart),
                  let idEnd = line.firstIndex(of: UInt8(ascii: ",")),
                  line[idEnd...].starts(with: Self.methodStart)
            else { return }
            let nameStart = idEnd + Self.methodStart.count
            let name = line[nameStart...].prefix { $0 != UInt8(ascii: "\"") }
            let id = line[(line.startIndex + Self.requestStart.count)..<idEnd]
            if name.elementsEqual(Self.fanOut) {
                server.fanOut()
                return
            }
            let isAuthorize = name.elementsEqual(Self.authorize)
            guard isAuthorize || name.elementsEqual(Self.subscribe) || name.elementsEqual(Self.submit) else { return }
            reply.writeBytes(Self.requestStart)
            reply.writeBytes(id)
            if isAuthorize {
                reply.writeBytes(server.trueReply)
                reply.writeImmutableBuffer(server.afterAuthorize)
            } else {
                reply.writeBytes(name.elementsEqual(Self.subscribe) ? server.subscribeReply : server.trueReply)
            }
        }
        if reply.readableBytes > 0 { context.writeAndFlush(wrapOutboundOut(reply), promise: nil) }
        if !complete { context.close(promise: nil) }
    }

    /// Writes `line` (on this connection's event loop).
    fileprivate func send(_ line: ByteBuffer) {
        context?.writeAndFlush(wrapOutboundOut(line), promise: nil)
    }
}
