import Foundation
import NIOCore
import NIOPosix
import Sv2Formats

/// An error answered to a JSON-RPC call, with bitcoind's codes (RPC_METHOD_NOT_FOUND = -32601,
/// RPC_INVALID_PARAMETER = -8, RPC_MISC_ERROR = -1, RPC_PARSE_ERROR = -32700, RPC_INVALID_REQUEST = -32600, ...).
public struct JSONRPCError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The numeric code.
    public var code: Int
    /// The message.
    public var message: String

    /// An error with `code` and `message`.
    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    /// Bitcoin Core's RPC_METHOD_NOT_FOUND.
    public static let methodNotFoundCode = -32601
    /// Bitcoin Core's RPC_INVALID_REQUEST.
    public static let invalidRequestCode = -32600
    /// Bitcoin Core's RPC_PARSE_ERROR.
    public static let parseErrorCode = -32700

    /// -32601 "Method not found", as Bitcoin Core words it (the method is not named).
    public static let methodNotFound = JSONRPCError(code: methodNotFoundCode, message: "Method not found")
    /// -32700 "Parse error".
    static let parse = JSONRPCError(code: parseErrorCode, message: "Parse error")
    /// -8: invalid parameter.
    public static func invalidParameter(_ text: String) -> JSONRPCError { JSONRPCError(code: -8, message: text) }

    /// `code -8: message`.
    public var description: String { "code \(code): \(message)" }
}

/// Who may call: HTTP basic authentication against user/password pairs (`rpcuser`/`rpcpassword`, or the cookie
/// `__cookie__:<random>` bitcoind writes to its data directory).
public struct JSONRPCCredentials: Sendable {
    /// Accepted user and password pairs.
    public var accepted: [(user: String, password: String)]

    /// Credentials accepting these pairs.
    public init(accepted: [(user: String, password: String)]) {
        self.accepted = accepted
    }

    /// A fresh cookie (user `__cookie__`, 32 random bytes in hex) written to `path` as bitcoind does; the file is
    /// readable by its owner only.
    public static func writeCookie(to path: String, password: String) throws {
        let text = "__cookie__:\(password)"
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw JSONRPCError(code: -1, message: "cannot write the RPC cookie file \(path)")
        }
    }

    /// True when the `Authorization` header value matches a pair (compared without early exit).
    func allows(authorization: String?) -> Bool {
        guard let authorization, authorization.hasPrefix("Basic "),
              let decoded = Data(base64Encoded: String(authorization.dropFirst(6))),
              let text = String(data: decoded, encoding: .utf8)
        else { return false }
        var allowed = false
        for pair in accepted {
            let expected = Array("\(pair.user):\(pair.password)".utf8)
            let given = Array(text.utf8)
            var difference = expected.count ^ given.count
            for index in 0..<expected.count { difference |= Int(expected[index] ^ (index < given.count ? given[index] : 0)) }
            if difference == 0 { allowed = true }
        }
        return allowed
    }
}

/// A JSON-RPC method: its argument names (for calls with named parameters) and its implementation, parameters in
/// by position (null where not given), a result (or a failed ``JSONRPCError``) out, possibly later (long polls).
public struct JSONRPCMethod: Sendable {
    /// The arguments' names in positional order.
    public var argumentNames: [String]
    /// The implementation.
    public var run: @Sendable (_ params: [JSONValue], _ eventLoop: EventLoop) -> EventLoopFuture<JSONValue>

    /// A method taking `argumentNames`.
    public init(
        _ argumentNames: [String] = [],
        run: @escaping @Sendable (_ params: [JSONValue], _ eventLoop: EventLoop) -> EventLoopFuture<JSONValue>
    ) {
        self.argumentNames = argumentNames
        self.run = run
    }
}

/// A bitcoind-compatible JSON-RPC server over HTTP/1.0 and 1.1 (keep-alive, bare-LF or CRLF header lines, chunked
/// or sized bodies): POST a JSON-RPC 1.0/2.0 request, or a batch of them, to any path.
public enum JSONRPCServer {
    /// Binds on `host`:`port`, dispatching to `methods`.
    public static func listen(
        host: String, port: Int, group: EventLoopGroup, credentials: JSONRPCCredentials,
        methods: [String: JSONRPCMethod], maximumBodySize: Int = 64 << 20
    ) -> EventLoopFuture<Channel> {
        let dispatcher = JSONRPCDispatcher(methods: methods)
        return ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(JSONRPCHTTPHandler(
                        credentials: credentials, dispatcher: dispatcher, maximumBodySize: maximumBodySize))
                }
            }
            .bind(host: host, port: port)
    }
}

/// Bitcoin Core's JSON-RPC semantics over a parsed request body: version 1.0 (legacy: `result`, `error` and `id`
/// in every reply; errors answered with HTTP 500, 404 for an unknown method, 400 for an invalid request) and 2.0
/// (`jsonrpc`, `id` and either `result` or `error`, HTTP 200; notifications get no reply), batches of either.
struct JSONRPCDispatcher: Sendable {
    /// An answer: the HTTP status and the JSON body (nil: 204 No Content).
    typealias Answer = (status: Int, body: JSONValue?)

    let methods: [String: JSONRPCMethod]

    /// Answers a request body (one request object, or an array of them).
    func answer(_ body: [UInt8], eventLoop: EventLoop) -> EventLoopFuture<Answer> {
        let parsed: JSONValue
        do {
            let values = try JSONValue.parseAll(String(decoding: body, as: UTF8.self))
            guard values.count == 1, let value = values.first else { throw JSONRPCError.parse }
            parsed = value
        } catch {
            return eventLoop.makeSucceededFuture((500, Self.reply(.legacy, id: .null, outcome: .failure(.parse))))
        }
        switch parsed {
        case let .array(requests):
            let calls = requests.map { call($0, eventLoop: eventLoop) }
            return EventLoopFuture.whenAllSucceed(calls, on: eventLoop).map { outcomes in
                (200, .array(outcomes.compactMap { $0.reply }))
            }
        case .object:
            return call(parsed, eventLoop: eventLoop).map { outcome in
                guard let reply = outcome.reply else { return (204, nil) }
                return (outcome.status, reply)
            }
        default:
            let error = JSONRPCError(code: JSONRPCError.parseErrorCode, message: "Top-level object parse error")
            return eventLoop.makeSucceededFuture((500, Self.reply(.legacy, id: .null, outcome: .failure(error))))
        }
    }

    /// The JSON-RPC version a request asked for.
    enum Version {
        /// 1.0 and Bitcoin Core's "1.1" default.
        case legacy
        /// 2.0.
        case v2
    }

    /// One call's reply (nil for a 2.0 notification) and the HTTP status it gets on its own.
    typealias Outcome = (reply: JSONValue?, status: Int)

    /// Runs one request object; never fails (errors become error replies).
    private func call(_ request: JSONValue, eventLoop: EventLoop) -> EventLoopFuture<Outcome> {
        func refused(_ version: Version, _ id: JSONValue?, _ error: JSONRPCError) -> EventLoopFuture<Outcome> {
            eventLoop.makeSucceededFuture((Self.reply(version, id: id, outcome: .failure(error)), Self.status(version, error)))
        }
        guard case let .object(pairs) = request else {
            return refused(.legacy, .null, JSONRPCError(code: JSONRPCError.invalidRequestCode, message: "Invalid Request object"))
        }
        func field(_ name: String) -> JSONValue? { pairs.first { $0.0 == name }?.1 }
        let id = field("id")
        let version: Version
        switch field("jsonrpc") {
        case nil, .null?, .string("1.0")?: version = .legacy
        case .string("2.0")?: version = .v2
        case .string?:
            return refused(.legacy, id, JSONRPCError(code: JSONRPCError.invalidRequestCode, message: "JSON-RPC version not supported"))
        default:
            return refused(.legacy, id, JSONRPCError(code: JSONRPCError.invalidRequestCode, message: "jsonrpc field must be a string"))
        }
        let method: String
        switch field("method") {
        case let .string(name)?: method = name
        case nil, .null?: return refused(version, id, JSONRPCError(code: JSONRPCError.invalidRequestCode, message: "Missing method"))
        default: return refused(version, id, JSONRPCError(code: JSONRPCError.invalidRequestCode, message: "Method must be a string"))
        }
        let params: JSONRPCParameters
        switch field("params") {
        case nil, .null?: params = .positional([])
        case let .array(values)?: params = .positional(values)
        case let .object(named)?: params = .named(named)
        default:
            return refused(version, id, JSONRPCError(code: JSONRPCError.invalidRequestCode, message: "Params must be an array or object"))
        }
        let notification = version == .v2 && id == nil
        guard let body = methods[method] else {
            return refused(version, id, .methodNotFound).map { notification ? (nil, 204) : $0 }
        }
        let result: EventLoopFuture<JSONValue>
        do {
            result = body.run(try params.positional(names: body.argumentNames), eventLoop)
        } catch {
            result = eventLoop.makeFailedFuture(error)
        }
        return result.map { value -> Outcome in
            (notification ? nil : Self.reply(version, id: id, outcome: .success(value)), notification ? 204 : 200)
        }.recover { error in
            let rpcError = error as? JSONRPCError ?? JSONRPCError(code: -1, message: "\(error)")
            return (notification ? nil : Self.reply(version, id: id, outcome: .failure(rpcError)), Self.status(version, rpcError))
        }
    }

    /// The HTTP status of a single request's error: 2.0 always 200; 1.0 400 for an invalid request, 404 for an
    /// unknown method, 500 otherwise.
    private static func status(_ version: Version, _ error: JSONRPCError) -> Int {
        guard version == .legacy else { return 200 }
        switch error.code {
        case JSONRPCError.invalidRequestCode: return 400
        case JSONRPCError.methodNotFoundCode: return 404
        default: return 500
        }
    }

    /// A reply object: 1.0 `{"result", "error", "id"}`, 2.0 `{"jsonrpc": "2.0", "result" or "error", "id"}`; without
    /// `id` when the request had none (Bitcoin Core echoes only what was sent).
    static func reply(_ version: Version, id: JSONValue?, outcome: Result<JSONValue, JSONRPCError>) -> JSONValue {
        var pairs: [(String, JSONValue)] = version == .v2 ? [("jsonrpc", .string("2.0"))] : []
        switch outcome {
        case let .success(value):
            pairs.append(("result", value))
            if version == .legacy { pairs.append(("error", .null)) }
        case let .failure(error):
            if version == .legacy { pairs.append(("result", .null)) }
            pairs.append(("error", .object([("code", .number(String(error.code))), ("message", .string(error.message))])))
        }
        if let id { pairs.append(("id", id)) }
        return .object(pairs)
    }
}

/// A request's parameters: by position, or by name (put in the order of the method's argument names, gaps null,
/// as Bitcoin Core does).
enum JSONRPCParameters {
    /// An array.
    case positional([JSONValue])
    /// An object.
    case named([(String, JSONValue)])

    /// The parameters by position, for a method whose arguments are `names`.
    func positional(names: [String]) throws -> [JSONValue] {
        switch self {
        case let .positional(values): return values
        case let .named(pairs):
            var values = [JSONValue]()
            for (name, value) in pairs {
                guard let index = names.firstIndex(of: name) else { throw JSONRPCError.invalidParameter("Unknown named parameter \(name)") }
                while values.count <= index { values.append(.null) }
                guard values[index] == .null else { throw JSONRPCError.invalidParameter("Parameter \(name) specified twice") }
                values[index] = value
            }
            return values
        }
    }
}

/// Reads HTTP requests one at a time (pipelined ones wait their turn) and answers each with its JSON-RPC reply.
final class JSONRPCHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let credentials: JSONRPCCredentials
    private let dispatcher: JSONRPCDispatcher
    private var parser: HTTPRequestParser
    /// A request is being answered (a long poll may take a minute).
    private var busy = false
    private var closing = false

    init(credentials: JSONRPCCredentials, dispatcher: JSONRPCDispatcher, maximumBodySize: Int) {
        self.credentials = credentials
        self.dispatcher = dispatcher
        parser = HTTPRequestParser(maximumBodySize: maximumBodySize)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        parser.append(buffer.readableBytesView)
        serveNext(context: context)
    }

    private func serveNext(context: ChannelHandlerContext) {
        guard !busy, !closing else { return }
        let request: HTTPRequest
        do {
            guard let next = try parser.next() else {
                if parser.takeContinue() {
                    context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: "HTTP/1.1 100 Continue\r\n\r\n")), promise: nil)
                }
                return
            }
            request = next
        } catch {
            send(context: context, minorVersion: 1, status: error.status, body: error.description, keepAlive: false)
            return
        }
        guard credentials.allows(authorization: request.header("Authorization")) else {
            send(context: context, minorVersion: request.minorVersion, status: 401, body: "", keepAlive: request.keepAlive,
                 extraHeaders: [("WWW-Authenticate", "Basic realm=\"jsonrpc\"")])
            return
        }
        guard request.method == "POST" else {
            send(context: context, minorVersion: request.minorVersion, status: 405,
                 body: "JSONRPC server handles only POST requests", keepAlive: request.keepAlive)
            return
        }
        busy = true
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        dispatcher.answer(request.body, eventLoop: context.eventLoop).whenSuccess { answer in
            let (handler, context) = bound.value
            handler.busy = false
            handler.send(context: context, minorVersion: request.minorVersion, status: answer.status,
                         body: answer.body.map { $0.text + "\n" } ?? "", keepAlive: request.keepAlive,
                         extraHeaders: answer.body == nil ? [] : [("Content-Type", "application/json")])
        }
    }

    /// Writes one response; then serves the next pipelined request, or closes.
    private func send(
        context: ChannelHandlerContext, minorVersion: Int, status: Int, body: String, keepAlive: Bool,
        extraHeaders: [(String, String)] = []
    ) {
        var head = "HTTP/1.\(minorVersion) \(status) \(Self.reason(status))\r\n"
        for (name, value) in extraHeaders { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.utf8.count)\r\n"
        head += keepAlive ? (minorVersion == 0 ? "Connection: keep-alive\r\n" : "") : "Connection: close\r\n"
        head += "\r\n"
        var buffer = context.channel.allocator.buffer(capacity: head.utf8.count + body.utf8.count)
        buffer.writeString(head)
        buffer.writeString(body)
        let written = context.writeAndFlush(wrapOutboundOut(buffer))
        guard keepAlive else {
            closing = true
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
            return
        }
        serveNext(context: context)
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 204: return "No Content"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 413: return "Payload Too Large"
        case 431: return "Request Header Fields Too Large"
        case 501: return "Not Implemented"
        default: return "Internal Server Error"
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension JSONRPCHTTPHandler: Sendable {}
