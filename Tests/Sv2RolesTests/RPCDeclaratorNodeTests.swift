import Sv2Binary
import NIOCore
import NIOPosix
import Sv2Formats
import Sv2Network
import Testing

@testable import Sv2Roles

/// `sv2 jn --bitcoind`: the tip a declared job is checked on, read over a scripted JSON-RPC node.
@Suite("The declarator's node over JSON-RPC")
struct RPCDeclaratorNodeTests {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    static let hash = "00000000000000000001f4ed3b9c5e4bb6c6b1e5d0c2b0f1a5a4f2ce3b2a1d0e"

    /// A node whose tip is at height 2015 (a retarget next) with nBits 1d00ffff, answering getmininginfo with
    /// `mining` (nil: the method is unknown, as on nodes before Bitcoin Core 29).
    static func node(mining: JSONValue?) async throws -> Channel {
        var methods: [String: JSONRPCMethod] = [
            "getbestblockhash": JSONRPCMethod { _, loop in loop.makeSucceededFuture(.string(hash)) },
            "getblockheader": JSONRPCMethod(["blockhash"]) { params, loop in
                guard params.first == .string(hash) else { return loop.makeFailedFuture(JSONRPCError.invalidParameter("Block not found")) }
                return loop.makeSucceededFuture(.object([
                    ("hash", .string(hash)), ("height", .number("2015")), ("bits", .string("1d00ffff")), ("mediantime", .number("1700000000")),
                ]))
            },
        ]
        if let mining { methods["getmininginfo"] = JSONRPCMethod { _, loop in loop.makeSucceededFuture(mining) } }
        return try await JSONRPCServer.listen(
            host: "127.0.0.1", port: 0, group: group, credentials: JSONRPCCredentials(accepted: [("u", "p")]), methods: methods
        ).get()
    }

    static func tip(mining: JSONValue?) async throws -> DeclaratorTip {
        let server = try await node(mining: mining)
        defer { server.close(promise: nil) }
        let port = try #require(server.localAddress?.port)
        return try await RPCDeclaratorNode(client: JSONRPCClient(host: "127.0.0.1", port: port, user: "u", password: "p", group: group)).tip()
    }

    static func mining(nextHeight: String) -> JSONValue {
        .object([("blocks", .number("2015")), ("bits", .string("1d00ffff")), ("next", .object([("height", .number(nextHeight)), ("bits", .string("1c3fffc0"))]))])
    }

    @Test("the next block's nBits come from getmininginfo's next when it is for the block after the tip, else the tip's")
    func nextBits() async throws {
        let retarget = try await Self.tip(mining: Self.mining(nextHeight: "2016"))
        #expect(retarget == DeclaratorTip(hash: try #require(U256(displayHex: Self.hash)), bits: 0x1c3f_ffc0, medianTimePast: 1_700_000_000))
        // The tip moved between the calls: its next block is not the one checked.
        #expect(try await Self.tip(mining: Self.mining(nextHeight: "2017")).bits == 0x1d00_ffff)
        // A node without next (before Bitcoin Core 29) or without getmininginfo.
        #expect(try await Self.tip(mining: .object([("blocks", .number("2015"))])).bits == 0x1d00_ffff)
        #expect(try await Self.tip(mining: nil).bits == 0x1d00_ffff)
    }
}
