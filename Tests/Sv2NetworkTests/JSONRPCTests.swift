import NIOCore
import NIOPosix
import Sv2Formats
import Testing
@testable import Sv2Network

@Suite("JSON-RPC over HTTP")
struct JSONRPCTests {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    func server() async throws -> Channel {
        let methods: [String: JSONRPCMethod] = [
            "getblockcount": JSONRPCMethod { _, loop in loop.makeSucceededFuture(.number("7")) },
            "echo": JSONRPCMethod(["first", "second"]) { params, loop in loop.makeSucceededFuture(.array(params)) },
            "fail": JSONRPCMethod { _, loop in loop.makeFailedFuture(JSONRPCError.invalidParameter("no such block")) },
            "later": JSONRPCMethod { _, loop in loop.scheduleTask(in: .milliseconds(50)) { JSONValue.string("done") }.futureResult },
        ]
        return try await JSONRPCServer.listen(
            host: "127.0.0.1", port: 0, group: Self.group,
            credentials: JSONRPCCredentials(accepted: [("user", "secret"), ("__cookie__", "abc")]), methods: methods
        ).get()
    }

    @Test("calls, errors, delayed results and credentials")
    func calls() async throws {
        let server = try await server()
        defer { server.close(promise: nil) }
        let port = try #require(server.localAddress?.port)
        let client = JSONRPCClient(host: "127.0.0.1", port: port, user: "user", password: "secret", group: Self.group)
        #expect(try await client.call("getblockcount").get() == .number("7"))
        #expect(try await client.call("echo", [.string("a"), .number("1")]).get() == .array([.string("a"), .number("1")]))
        #expect(try await client.call("later").get() == .string("done"))
        await #expect(throws: JSONRPCError(code: -8, message: "no such block")) { try await client.call("fail").get() }
        await #expect(throws: JSONRPCError.methodNotFound) { try await client.call("nope").get() }
        let cookie = JSONRPCClient(host: "127.0.0.1", port: port, user: "__cookie__", password: "abc", group: Self.group)
        #expect(try await cookie.call("getblockcount").get() == .number("7"))
        let wrong = JSONRPCClient(host: "127.0.0.1", port: port, user: "user", password: "guess", group: Self.group)
        await #expect(throws: JSONRPCClientError.unauthorized) { try await wrong.call("getblockcount").get() }
    }

    @Test("a reply over the client's limit fails the call instead of being held")
    func oversizedReply() async throws {
        let server = try await server()
        defer { server.close(promise: nil) }
        let port = try #require(server.localAddress?.port)
        let client = JSONRPCClient(host: "127.0.0.1", port: port, user: "user", password: "secret", group: Self.group, maximumReplySize: 64)
        #expect(try await client.call("getblockcount").get() == .number("7"))
        let long = JSONValue.string(String(repeating: "x", count: 100))
        await #expect(throws: JSONRPCClientError.badReply("a reply over 64 bytes")) { try await client.call("echo", [long]).get() }
    }

    @Test("an unreachable server is a clear error")
    func unreachable() async throws {
        let server = try await server()
        let port = try #require(server.localAddress?.port)
        try await server.close()
        let client = JSONRPCClient(host: "127.0.0.1", port: port, user: "user", password: "secret", group: Self.group)
        let error = await #expect(throws: JSONRPCClientError.self) { try await client.call("getblockcount").get() }
        guard case .unreachable? = error else { Issue.record("\(String(describing: error))"); return }
    }
}
