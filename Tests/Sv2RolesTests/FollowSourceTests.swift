import Testing

@testable import Sv2Roles

/// The `follow` setting of `sv2 tp`: another node's JSON-RPC with its credentials.
@Suite("follow: http://USER:PASSWORD@HOST:PORT")
struct FollowSourceTests {
    @Test("credentials and address parse (IPv6 too); the description leaves the password out")
    func parses() throws {
        let source = try #require(FollowSource("http://u:p:q@127.0.0.1:18443"))
        #expect(source.address == HostPort(host: "127.0.0.1", port: 18443) && source.user == "u" && source.password == "p:q")
        #expect(source.description == "http://127.0.0.1:18443")
        #expect(FollowSource("alice:secret@node.example:8332/")?.address == HostPort(host: "node.example", port: 8332))
        #expect(FollowSource("HTTP://u:p@[::1]:18443")?.address == HostPort(host: "::1", port: 18443))
    }

    @Test("no credentials, no user, another scheme, a path, no port or a bad one are refused")
    func refuses() {
        for text in [
            "http://127.0.0.1:18443", "http://:p@127.0.0.1:18443", "http://u:p@127.0.0.1", "http://u:p@127.0.0.1:0", "http://u:p@:80",
            "http://up@host:80", "https://u:p@host:80", "http://u:p@host:80/wallet/w",
        ] {
            #expect(FollowSource(text) == nil, "\(text)")
        }
    }
}
