// swift-tools-version: 6.1
import PackageDescription

/// The sv2 toolkit: one `sv2` executable over layered libraries (see ARCHITECTURE.md).
let package = Package(
    name: "sv2",
    products: [
        .executable(name: "sv2", targets: ["sv2"]),
        .library(name: "Sv2Binary", targets: ["Sv2Binary"]),
        .library(name: "Sv2Messages", targets: ["Sv2Messages"]),
        // libsv2c: the wire primitives as a C library (header Sources/CSv2/include/sv2.h; see the README).
        .library(name: "sv2c", type: .dynamic, targets: ["Sv2C"]),
        .library(name: "sv2c-static", type: .static, targets: ["Sv2C"]),
        // The allocation counter, preloaded by `sv2 bench codec` only (LD_PRELOAD): never linked into sv2.
        .library(name: "sv2alloccount", type: .dynamic, targets: ["CAllocCounter"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    ],
    targets: [
        // System libraries from Debian (scripts/setup installs the -dev packages).
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CSecp256k1", pkgConfig: "libsecp256k1", providers: [.apt(["libsecp256k1-dev"])]),
        .systemLibrary(name: "CReadline", providers: [.apt(["libreadline-dev"])]),

        // Hot C kernels: ElligatorSwift field arithmetic (BIP324), SHA-256 for its hashing, the SHA-256d nonce search.
        .target(name: "CSv2Native"),

        // Counts heap allocations on the calling thread: linked into Sv2Fuzz, preloaded by `sv2 bench codec`.
        .target(name: "CAllocCounter"),

        // Wire layer: spec 3.1 data types, reader/writer, frame header and the sans-IO frame decoder.
        .target(name: "Sv2Binary"),
        // SHA-256/HMAC/HKDF, ChaCha20-Poly1305, secp256k1 keys and Schnorr, ElligatorSwift, base58check keys.
        .target(name: "Sv2Crypto", dependencies: ["CSodium", "CSecp256k1", "CSv2Native"]),
        // Transactions with witness, merkle paths, BIP141 commitments, headers and nBits, BIP34, addresses, descriptors.
        .target(name: "Bitcoin", dependencies: ["Sv2Crypto", "Sv2Binary"]),
        // Noise NX handshake and cipher states as value-type state machines, certificates, encrypted framing.
        .target(name: "Sv2Noise", dependencies: ["Sv2Binary", "Sv2Crypto"]),
        // Text formats: a TOML parser for configuration files and a JSON model (numbers kept exact).
        .target(name: "Sv2Formats"),
        // Stratum V1: JSON-RPC line framing and messages (sans-IO).
        .target(name: "Sv1", dependencies: ["Sv2Formats"]),
        // Every message of the spec, one dispatch enum, text/JSON rendering.
        .target(name: "Sv2Messages", dependencies: ["Sv2Binary", "Sv2Formats"]),
        // Sans-IO mining logic: channels, jobs, extranonces, share validation, vardiff; clock and randomness injected.
        .target(
            name: "Sv2Channels",
            dependencies: ["Sv1", "Sv2Binary", "Sv2Formats", "Sv2Messages", "Sv2Sessions", "Sv2Monitoring", "Bitcoin", "Sv2Crypto", "CSv2Native"]
        ),
        // The sans-IO session contract shared by the roles' logic and the connection engine: ConnectionSession,
        // SessionAction, Timestamp and the clock, Failover.
        .target(name: "Sv2Sessions", dependencies: [.product(name: "Logging", package: "swift-log")]),
        // SwiftNIO glue: the Noise/plaintext transport handler, the message codec handler, connect and listen; Sv1 lines.
        .target(
            name: "Sv2Network",
            dependencies: [
                "Sv2Binary", "Sv2Crypto", "Sv2Noise", "Sv2Messages", "Sv2Formats", "Sv1", "Sv2Sessions",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The embedded regtest node: chain from genesis, UTXO set and block validation, mempool with a transaction
        // generator, block templates; datadir persistence. No network I/O (the template source of `sv2 tp`/`sv2 pool`).
        .target(name: "Sv2Node", dependencies: ["Bitcoin", "Sv2Crypto", "Sv2Binary", "Sv2Sessions"]),
        // bitcoind-compatible JSON-RPC methods (getblocktemplate with long poll, submitblock, getblock...) over a node.
        .target(
            name: "Sv2NodeRPC",
            dependencies: [
                "Sv2Node", "Bitcoin", "Sv2Binary", "Sv2Crypto", "Sv2Formats", "Sv2Network",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The share ledger: accepted shares, blocks, rejections and connections recorded with group commit in SQLite
        // (GRDB) or PostgreSQL (postgres-nio), schema migrations in code, and the reports of `sv2 pool stats`.
        .target(
            name: "Sv2Ledger",
            dependencies: [
                "Bitcoin", "Sv2Channels", "Sv2Sessions", "Sv2Binary", "Sv2Formats",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Monitoring, sans-IO: the snapshot model of a role (SRI's monitoring schema), its JSON API and OpenAPI document.
        .target(name: "Sv2Monitoring", dependencies: ["Sv2Binary", "Sv2Formats", "Sv2Sessions"]),
        // Monitoring's server: Prometheus metrics (swift-prometheus, swift-metrics) and the HTTP endpoints (Hummingbird).
        .target(
            name: "Sv2MonitoringServer",
            dependencies: [
                "Sv2Monitoring", "Sv2Sessions",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The roles: template provider, pool, CPU miner, translator (and, later, proxy and job declaration).
        .target(
            name: "Sv2Roles",
            dependencies: [
                "Bitcoin", "Sv2Binary", "Sv2Crypto", "Sv2Formats", "Sv2Messages", "Sv2Network", "Sv2Node", "Sv2NodeRPC",
                "Sv2Channels", "Sv1", "Sv2Sessions", "CSv2Native", "Sv2Ledger", "Sv2Monitoring", "Sv2MonitoringServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // sv2 probe: the conformance catalogue (checks over an injected dialer) and its TCP dialer.
        .target(
            name: "Sv2Probe",
            dependencies: [
                "Bitcoin", "Sv2Binary", "Sv2Crypto", "Sv2Messages", "Sv2Network", "Sv2Channels", "Sv2Sessions",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),

        .executableTarget(
            name: "sv2",
            dependencies: [
                "Sv2Probe", "Sv1", "Sv2Binary", "Sv2Formats", "Sv2Messages", "Sv2Crypto", "Sv2Noise", "Sv2Network", "Sv2Node", "Sv2Channels", "Sv2Roles", "Sv2Ledger", "CSv2Native", "CReadline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        // libsv2c: sv2.h (hand-written C99, the one public header) with the C parts (ABI version, error sentences),
        // and the Swift implementation of the rest of its declarations as @_cdecl exports.
        .target(name: "CSv2"),
        .target(name: "Sv2C", dependencies: ["CSv2", "Sv2Binary", "Sv2Messages", "Sv2Crypto", "Sv2Noise", "Bitcoin"]),
        // The fuzz targets (frames, handshake, noise-frames): replays inputs normally; libFuzzer with
        // -DSV2_LIBFUZZER --sanitize=fuzzer (scripts/fuzz). CAllocCounter bounds what a decoder allocates.
        .executableTarget(
            name: "Sv2Fuzz",
            dependencies: ["Sv2Binary", "Sv2Messages", "Sv2Crypto", "Sv2Noise", "CAllocCounter"]
        ),

        // Loading of the known-answer files in Tests/Vectors, shared by the test targets.
        .target(
            name: "Sv2TestSupport",
            dependencies: ["Sv2Node", "Sv2NodeRPC", "Sv2Network", .product(name: "NIOPosix", package: "swift-nio")],
            path: "Tests/Sv2TestSupport"
        ),
        .testTarget(name: "Sv2FormatsTests", dependencies: ["Sv2Formats"]),
        .testTarget(
            name: "Sv2LedgerTests",
            dependencies: ["Sv2Ledger", "Sv2Channels", "Sv2Binary", "Sv2Messages", "Sv2Sessions", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "Sv1Tests", dependencies: ["Sv1", "Sv2Formats"]),
        .testTarget(name: "Sv2MonitoringTests", dependencies: ["Sv2Monitoring", "Sv2MonitoringServer", "Sv2Binary", "Sv2Formats"]),
        .testTarget(name: "Sv2BinaryTests", dependencies: ["Sv2Binary", "Sv2TestSupport"]),
        .testTarget(name: "Sv2MessagesTests", dependencies: ["Sv2Binary", "Sv2Formats", "Sv2Messages", "Sv2TestSupport"]),
        .testTarget(name: "Sv2NativeTests", dependencies: ["CSv2Native", "Sv2TestSupport"]),
        .testTarget(name: "Sv2CryptoTests", dependencies: ["Sv2Crypto", "CSv2Native", "Sv2TestSupport"]),
        .testTarget(name: "BitcoinTests", dependencies: ["Bitcoin", "Sv2Binary", "Sv2TestSupport"]),
        .testTarget(
            name: "Sv2NetworkTests",
            dependencies: [
                "Sv2Network", "Sv2Crypto", "Sv2Messages", "Sv1", "Sv2Sessions", .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "Sv2NodeTests",
            dependencies: [
                "Sv2Node", "Sv2NodeRPC", "Bitcoin", "Sv2Binary", "Sv2Formats", "Sv2Network", "Sv2TestSupport", "Sv2Sessions",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "Sv2RolesTests",
            dependencies: [
                "Sv2Roles", "Sv2Node", "Bitcoin", "Sv2Binary", "Sv2Crypto", "Sv2Messages", "Sv2Network", "Sv2TestSupport",
                "Sv2Channels", "Sv2Formats", "Sv2Sessions", "CSv2Native",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "Sv2ChannelsTests", dependencies: ["Sv2Channels", "Sv2Monitoring", "Sv1", "Sv2Formats", "Sv2Messages", "Sv2Binary", "Bitcoin", "Sv2Crypto", "Sv2TestSupport"]
        ),
        .testTarget(
            name: "Sv2ProbeTests",
            dependencies: [
                "Sv2Probe", "Sv2Channels", "Sv2Messages", "Sv2Binary", "Sv2Sessions",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "Sv2NoiseTests", dependencies: ["Sv2Noise", "Sv2Crypto", "Sv2Binary", "Sv2Messages", "Sv2TestSupport"]),
    ]
)
