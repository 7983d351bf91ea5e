import Foundation
import Sv2Formats
import Testing
@testable import Sv2Roles

@Suite("configuration layers: file < environment < flags, errors naming their origin")
struct ConfigurationLayersTests {
    private static let keys: Set<String> = ["fee_delta", "listen_address", "template_interval", "upstream", "plaintext"]

    private static func layers(file: String? = nil, environment: [String: String] = [:], flags: [String: TOMLValue] = [:]) throws -> ConfigurationLayers {
        var path: String?
        if let file {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("layers-\(UUID().uuidString).toml").path
            try file.write(toFile: path!, atomically: true, encoding: .utf8)
        }
        return try ConfigurationLayers(role: "tp", configPath: path, flags: flags, knownKeys: keys, environment: environment)
    }

    @Test func flagsOverrideTheEnvironmentWhichOverridesTheFile() throws {
        let file = "fee_delta = 1\n"
        #expect(try Self.layers(file: file).integer("fee_delta") == 1)
        #expect(try Self.layers(file: file, environment: ["SV2_TP_FEE_DELTA": "2"]).integer("fee_delta") == 2)
        #expect(try Self.layers(file: file, environment: ["SV2_TP_FEE_DELTA": "2"], flags: ["fee_delta": .integer(3)]).integer("fee_delta") == 3)
        // A bad value that loses is never read.
        #expect(try Self.layers(file: "fee_delta = \"lots\"\n", flags: ["fee_delta": .integer(3)]).integer("fee_delta") == 3)
    }

    @Test func errorsNameTheFlagTheVariableOrTheFileKey() throws {
        let fromFlag = #expect(throws: ConfigurationError.self) {
            try Self.layers(flags: ["fee_delta": .integer(-1)]).integer("fee_delta", in: 0...10)
        }
        #expect(fromFlag?.description == "--fee-delta: -1 is outside 0...10")
        let fromEnvironment = #expect(throws: ConfigurationError.self) {
            try Self.layers(environment: ["SV2_TP_FEE_DELTA": "lots"]).integer("fee_delta")
        }
        #expect(fromEnvironment?.description == "SV2_TP_FEE_DELTA: expected an integer, got \"lots\"")
        let layers = try Self.layers(file: "template_interval = \"soon\"\n")
        let fromFile = #expect(throws: ConfigurationError.self) { try layers.seconds("template_interval", in: 0...60) }
        #expect(fromFile?.description == "template_interval in \(layers.fileName): expected a number, got string")
        let unknown = #expect(throws: ConfigurationError.self) { try Self.layers(environment: ["SV2_TP_FEE_DELTAA": "1"]) }
        #expect(unknown?.description == "SV2_TP_FEE_DELTAA: unknown setting")
    }

    @Test func typedValues() throws {
        let layers = try Self.layers(
            file: "upstream = [\"a\", \"b\"]\nplaintext = true\n", environment: ["SV2_TP_TEMPLATE_INTERVAL": "1.5"],
            flags: ["listen_address": .string("[::1]:8442")])
        #expect(try layers.hostPort("listen_address") == HostPort(host: "::1", port: 8442))
        #expect(try layers.seconds("template_interval", in: 0...60) == .milliseconds(1500))
        #expect(try layers.strings("upstream") == ["a", "b"])
        #expect(try layers.boolean("plaintext") == true)
        #expect(try Self.layers(environment: ["SV2_TP_UPSTREAM": "x,y z"]).strings("upstream") == ["x", "y", "z"])
        #expect(HostPort("nowhere") == nil)
        #expect(HostPort("h:70000") == nil)
    }
}

/// `sv2 proxy --jd-address`: the miner's template provider is `tp_address`, else the embedded node.
@Suite("proxy settings: the job declarator client's template provider")
struct ProxyJobDeclarationSettingsTests {
    static let key = "9bXiEd8boQVhq7WddEcERUL5tyyJVFYdU8th3HfbNXK3Yw6GRXh"

    static func settings(_ flags: [String: TOMLValue], environment: [String: String] = [:]) throws -> ProxySettings {
        var all: [String: TOMLValue] = [
            "upstream": .array([.string("stratum2+tcp://127.0.0.1:1/\(key)")]), "coinbase_reward_script": .string("raw(51)"),
        ]
        all.merge(flags) { _, flag in flag }
        return try ProxySettings(ConfigurationLayers(role: "proxy", configPath: nil, flags: all, knownKeys: ProxySettings.keys, environment: environment))
    }

    @Test("jd_address without tp_address runs the embedded node (its own default datadir); node keys need it")
    func embeddedNode() throws {
        let embedded = try Self.settings(["jd_address": .array([.string("127.0.0.1:2/\(Self.key)")]), "generation_rate": .integer(7)])
        #expect(embedded.jobDeclaration != nil)
        #expect(embedded.embedded?.generationRate == 7)
        #expect(embedded.embedded?.datadir.hasSuffix("/.sv2/proxy-regtest") == true)
        let external = try Self.settings(["jd_address": .array([.string("127.0.0.1:2/\(Self.key)")]), "tp_address": .string("127.0.0.1:3")])
        #expect(external.embedded == nil && external.jobDeclaration?.templateProvider.description == "127.0.0.1:3")
        let stray = #expect(throws: ConfigurationError.self) { try Self.settings(["datadir": .string("/tmp/x")]) }
        #expect(stray?.description == "--datadir: sets the embedded node, which runs only with jd_address and no tp_address")
        let strayEnvironment = #expect(throws: ConfigurationError.self) { try Self.settings([:], environment: ["SV2_PROXY_FOLLOW": "http://u:p@h:1"]) }
        #expect(strayEnvironment?.description.hasPrefix("SV2_PROXY_FOLLOW: sets the embedded node") == true)
        let fromEnvironment = try Self.settings(["jd_address": .array([.string("127.0.0.1:2/\(Self.key)")])], environment: ["SV2_PROXY_DATADIR": "/tmp/env"])
        #expect(fromEnvironment.embedded?.datadir == "/tmp/env")
        let keyAlone = #expect(throws: ConfigurationError.self) {
            try Self.settings(["jd_address": .array([.string("127.0.0.1:2/\(Self.key)")]), "tp_authority_public_key": .string(Self.key)])
        }
        #expect(keyAlone?.description.hasPrefix("--tp-authority-public-key: is the key of tp_address") == true)
    }
}
