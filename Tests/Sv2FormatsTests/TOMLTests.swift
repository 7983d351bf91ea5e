import Testing
@testable import Sv2Formats

@Suite("TOML")
struct TOMLTests {
    @Test("an SRI-style configuration")
    func sriStyle() throws {
        let table = try TOMLTable(parsing: """
            # pool
            listen_address = "0.0.0.0:3333"
            authority_public_key = "9auqWEzQDVyd2oe1JVGFLMLHZtCo2FFqZwtKA5gd9xbuEu7PH72"
            cert_validity_sec = 3_600
            shares_per_minute = 6.0
            aggregate_channels = true
            coinbase_reward_script = 'addr(bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080)'

            [[upstreams]]
            address = "127.0.0.1"
            port = 34254
            authority_pubkey = "9auqWEzQDVyd2oe1JVGFLMLHZtCo2FFqZwtKA5gd9xbuEu7PH72"

            [[upstreams]]
            address = "::1"   # second choice
            port = 0x857e
            hosts = ["a", 'b',
                     "c"]
            limits = { max = 10, min = -2 }

            [server.tls]
            enabled = false
            """)
        #expect(table["listen_address"] == .string("0.0.0.0:3333"))
        #expect(table["cert_validity_sec"] == .integer(3600))
        #expect(table["shares_per_minute"] == .float(6))
        #expect(table["aggregate_channels"] == .boolean(true))
        #expect(table["coinbase_reward_script"] == .string("addr(bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080)"))
        guard case let .array(upstreams)? = table["upstreams"], upstreams.count == 2, case let .table(second) = upstreams[1] else {
            Issue.record("upstreams")
            return
        }
        #expect(second["port"] == .integer(0x857e))
        #expect(second["hosts"] == .array([.string("a"), .string("b"), .string("c")]))
        guard case let .table(limits)? = second["limits"] else { Issue.record("inline table"); return }
        #expect(limits["min"] == .integer(-2))
        guard case let .table(server)? = table["server"], case let .table(tls)? = server["tls"] else { Issue.record("nested table"); return }
        #expect(tls["enabled"] == .boolean(false))
    }

    @Test("strings: escapes, multi-line, dotted and quoted keys")
    func strings() throws {
        let table = try TOMLTable(parsing: "a.b = \"x\\ty\\u00e9\"\n\"quoted key\" = '''\nraw \\n'''\nc = \"\"\"\nline1\nline2\"\"\"\n")
        guard case let .table(a)? = table["a"] else { Issue.record("dotted"); return }
        #expect(a["b"] == .string("x\tyé"))
        #expect(table["quoted key"] == .string("raw \\n"))
        #expect(table["c"] == .string("line1\nline2"))
    }

    @Test("errors name the line and column")
    func errors() {
        func failure(_ text: String) -> String {
            do {
                _ = try TOMLTable(parsing: text)
                return "no error"
            } catch {
                return error.description
            }
        }
        #expect(failure("a = 1\nb 2") == "line 2, column 3: expected '=' after the key")
        #expect(failure("a = hello") == "line 1, column 5: 'hello' is not a valid value (strings need quotes)")
        #expect(failure("a = 1\na = 2").hasPrefix("line 2"))
        #expect(failure("a = \"open").contains("unterminated string"))
        #expect(failure("[t]\n[t]").contains("defined twice"))
        #expect(failure("a = [1, 2").contains("expected"))
        #expect(failure("a = 1 b = 2").contains("one key = value per line"))
        #expect(failure(String(repeating: "[", count: 100)).contains("expected"))
        #expect(failure("a = " + String(repeating: "[", count: 100)).contains("nested too deeply"))
    }
}
