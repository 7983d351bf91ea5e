import Sv2Binary
import Sv2Formats
import Sv2Monitoring
import Sv2MonitoringServer
import Testing

/// The monitoring API (SRI's paths, shapes, pagination and errors) and the Prometheus registry fed from snapshots.
@Suite("monitoring: JSON API and Prometheus metrics")
struct MonitoringTests {
    static func channel(_ id: UInt32, _ kind: ChannelKind, user: String, accepted: UInt32, rejected: [String: UInt32] = [:]) -> ChannelSnapshot {
        var shares = ShareCounters()
        shares.accepted = accepted
        shares.rejectedByReason = rejected
        shares.blocksFound = 1
        return ChannelSnapshot(
            channelID: id, kind: kind, userIdentity: user, nominalHashrate: 1000, stableHashrate: true, target: U256(w0: 0, w1: 0, w2: 0, w3: 0xff << 48),
            requestedMaximumTarget: .max, extranoncePrefix: [0, 0, 0, UInt8(id)], fullExtranonceSize: kind == .extended ? 12 : 4,
            rollableExtranonceSize: kind == .extended ? 8 : 0, versionRolling: true, expectedSharesPerMinute: 6, shares: shares)
    }

    /// A pool's view: two clients, no server and no Sv1 side.
    static let pool = MonitoringSnapshot(
        sv2Clients: [
            Sv2Client(clientID: 3, kind: .miner, peer: "127.0.0.1:5000", channels: [
                channel(1, .extended, user: "alice.rig1", accepted: 10, rejected: ["stale-share": 2]),
                channel(2, .standard, user: "alice.rig2", accepted: 5),
            ]),
            Sv2Client(clientID: 1, kind: .translatorProxy, peer: "127.0.0.1:5001", channels: [channel(1, .extended, user: "farm", accepted: 7)]),
        ],
        workers: [WorkerWork(user: "farm", worker: "w1", accepted: 4, rejected: 0, work: 400, blocks: 0)])

    static func get(_ path: String, _ query: [String: String] = [:], _ snapshot: MonitoringSnapshot = pool) throws -> (Int, JSONValue) {
        let answer = try #require(MonitoringAPI.respond(path: path, query: query, snapshot: snapshot, uptime: 42, now: 1_700_000_000))
        let json = try #require(try JSONValue.parseAll(answer.body).first)
        return (answer.status, json)
    }

    @Test("health, global, and the 404 of a side the role does not have")
    func globalAndHealth() throws {
        let (status, health) = try Self.get("/api/v1/health")
        #expect(status == 200 && health.text == #"{"status":"ok","timestamp":1700000000}"#)
        let (_, global) = try Self.get("/api/v1/global")
        #expect(global["server"] == .null && global["sv1_clients"] == .null && global["uptime_secs"] == .number("42"))
        #expect(global["sv2_clients"]?.text
            == #"{"total_clients":2,"total_channels":3,"extended_channels":2,"standard_channels":1,"total_hashrate":3000.0}"#)
        let (missing, error) = try Self.get("/api/v1/server")
        #expect(missing == 404 && error.text == #"{"error":"Server monitoring not available"}"#)
        let (noSv1, _) = try Self.get("/api/v1/sv1/clients")
        #expect(noSv1 == 404)
        #expect(MonitoringAPI.respond(path: "/api/v1/nope", query: [:], snapshot: Self.pool, uptime: 0, now: 0) == nil)
    }

    @Test("clients are paginated by offset and limit (25 by default, 100 at most), sorted by id")
    func pagination() throws {
        let (_, all) = try Self.get("/api/v1/clients")
        #expect(all["offset"] == .number("0") && all["limit"] == .number("25") && all["total"] == .number("2"))
        #expect(all["items"]?.arrayValue?.map { $0["client_id"] } == [.number("1"), .number("3")])
        let (_, second) = try Self.get("/api/v1/clients", ["offset": "1", "limit": "1"])
        #expect(second["items"]?.arrayValue?.map { $0["client_id"] } == [.number("3")])
        let (_, capped) = try Self.get("/api/v1/clients", ["limit": "1000", "offset": "9"])
        #expect(capped["limit"] == .number("100") && capped["offset"] == .number("9") && capped["items"]?.arrayValue?.isEmpty == true)
        let (bad, problem) = try Self.get("/api/v1/clients", ["limit": "-1"])
        #expect(bad == 400 && problem["error"]?.stringValue?.contains("'limit'") == true)
    }

    @Test("one client and its channels, extended and standard apart, with SRI's fields")
    func clientChannels() throws {
        let (_, client) = try Self.get("/api/v1/clients/3")
        #expect(client.text == #"{"client_id":3,"client_kind":"miner","extended_channels_count":1,"standard_channels_count":1,"total_hashrate":2000.0}"#)
        let (_, channels) = try Self.get("/api/v1/clients/3/channels")
        #expect(channels["client_id"] == .number("3") && channels["total_extended"] == .number("1") && channels["total_standard"] == .number("1"))
        let extended = try #require(channels["extended_channels"]?.arrayValue?.first)
        #expect(extended["user_identity"] == .string("alice.rig1") && extended["shares_accepted"] == .number("10"))
        #expect(extended["shares_rejected"] == .number("2") && extended["shares_rejected_by_reason"]?.text == #"{"stale-share":2}"#)
        #expect(extended["target_hex"] == .string("00ff" + String(repeating: "0", count: 60)))
        #expect(extended["rollable_extranonce_size"] == .number("8") && extended["full_extranonce_size"] == .number("12"))
        let standard = try #require(channels["standard_channels"]?.arrayValue?.first)
        #expect(standard["rollable_extranonce_size"] == nil && standard["channel_id"] == .number("2"))
        let (unknown, missing) = try Self.get("/api/v1/clients/9")
        #expect(unknown == 404 && missing.text == #"{"error":"Sv2 client 9 not found"}"#)
        let (notNumber, _) = try Self.get("/api/v1/clients/x/channels")
        #expect(notNumber == 400)
    }

    @Test("Prometheus: SRI's gauges from a snapshot, the known error codes at 0, series that left removed")
    func metrics() {
        let metrics = MonitoringMetrics()
        metrics.update(from: Self.pool, uptime: 42)
        let text = metrics.render()
        #expect(text.contains("# TYPE sv2_clients_total gauge\nsv2_clients_total 2.0"))
        #expect(text.contains(#"sv2_client_shares_accepted_total{client_id="3",channel_id="1",user_identity="alice.rig1"} 10.0"#))
        #expect(text.contains(#"sv2_client_shares_rejected_total{client_id="3",channel_id="1",user_identity="alice.rig1",error_code="stale-share"} 2.0"#))
        #expect(text.contains(#"sv2_client_shares_rejected_total{client_id="3",channel_id="1",user_identity="alice.rig1",error_code="duplicate-share"} 0.0"#))
        #expect(text.contains(#"sv2_client_channels{channel_type="standard"} 1.0"#))
        #expect(text.contains("sv2_client_blocks_found_total 3.0") && text.contains("sv2_uptime_seconds 42.0"))
        #expect(text.contains(#"sv2_worker_accepted_work_total{user="farm",worker="w1"} 400.0"#))
        #expect(!text.contains("sv2_server_channels"))

        var fewer = Self.pool
        fewer.sv2Clients?.removeFirst()
        metrics.update(from: fewer, uptime: 43)
        let after = metrics.render()
        #expect(after.contains("sv2_clients_total 1.0"))
        #expect(!after.contains(#"client_id="3""#))
    }

    @Test("a translator's view: its upstream channel as the server, its Sv1 miners")
    func translatorView() throws {
        let miner = Sv1Client(
            clientID: 0, channelID: 1, connectionIP: "10.0.0.2", username: "farm", workerName: "w1", target: .max, hashrate: 5e12,
            stableHashrate: false, extranonce1: [0, 0, 0, 1], extranonce2Length: 4, versionRollingMask: 0x1fff_e000,
            versionRollingMinimumBitCount: nil, sharesAccepted: 3, sharesRejected: 1)
        let snapshot = MonitoringSnapshot(server: ServerChannels(channels: [Self.channel(1, .extended, user: "farm", accepted: 9)]), sv1Clients: [miner])
        let (_, server) = try Self.get("/api/v1/server", [:], snapshot)
        #expect(server.text == #"{"extended_channels_count":1,"standard_channels_count":0,"total_hashrate":1000.0}"#)
        let (_, channels) = try Self.get("/api/v1/server/channels", [:], snapshot)
        #expect(channels["extended_channels"]?.arrayValue?.first?["shares_acknowledged"] == .number("9"))
        let (_, sv1) = try Self.get("/api/v1/sv1/clients/0", [:], snapshot)
        #expect(sv1["sv1_worker_name"] == .string("w1") && sv1["version_rolling_mask"] == .string("1fffe000") && sv1["channel_id"] == .number("1"))
        let (noClients, _) = try Self.get("/api/v1/clients", [:], snapshot)
        #expect(noClients == 404)
    }
}
