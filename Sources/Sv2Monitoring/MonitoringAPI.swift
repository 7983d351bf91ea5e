import Sv2Binary
import Sv2Formats

/// The JSON API of SRI's monitoring server, sans-IO: a request's path and query in, a status and a body out, from a
/// ``MonitoringSnapshot``. Paths, field names, pagination (`offset`, `limit`: 25 by default, 100 at most) and the
/// 404 bodies (`{"error": …}`) follow sv2-apps' `stratum-apps/src/monitoring`, so dashboards built on SRI work.
public enum MonitoringAPI {
    /// An HTTP answer.
    public struct Response: Sendable, Hashable {
        /// The status code.
        public var status: Int
        /// The body.
        public var body: String
        /// The media type of the body.
        public var contentType: String

        /// A JSON answer.
        public static func json(_ value: JSONValue, status: Int = 200) -> Response {
            Response(status: status, body: value.text, contentType: "application/json")
        }

        /// `{"error": message}` with `status`.
        public static func error(_ message: String, status: Int) -> Response {
            json(.object([("error", .string(message))]), status: status)
        }
    }

    /// What `/` answers: the service and its endpoints (SRI's RootResponse).
    public static let root = Response.json(.object([
        ("service", .string("sv2 monitoring")), ("version", .string("0.1.0")),
        ("endpoints", .object([
            ("/api-docs/openapi.json", .string("OpenAPI document of this API")), ("/api/v1/clients", .string("Sv2 clients (paginated)")),
            ("/api/v1/clients/{client_id}", .string("One Sv2 client")), ("/api/v1/clients/{client_id}/channels", .string("Its channels (paginated)")),
            ("/api/v1/global", .string("Totals")), ("/api/v1/health", .string("Health check")),
            ("/api/v1/server", .string("Upstream channel totals")), ("/api/v1/server/channels", .string("Upstream channels (paginated)")),
            ("/api/v1/sv1/clients", .string("Sv1 clients (paginated)")), ("/api/v1/sv1/clients/{client_id}", .string("One Sv1 client")),
            ("/metrics", .string("Prometheus metrics")),
        ])),
    ]))

    /// Rows per page when the request gives no `limit`.
    public static let defaultLimit = 25
    /// The most rows a page holds.
    public static let maximumLimit = 100

    /// The answer to `GET path?query` (path without the query, query already split) from `snapshot`; `uptime` in
    /// seconds, `now` in Unix seconds. Nil for a path this API does not have (the server answers 404 then).
    public static func respond(path: String, query: [String: String], snapshot: MonitoringSnapshot, uptime: UInt64, now: UInt64) -> Response? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard parts.count >= 2, parts[0] == "api", parts[1] == "v1" else { return nil }
        let page: Page
        switch Page.parse(query) {
        case let .success(parsed): page = parsed
        case let .failure(problem): return .error(problem.message, status: 400)
        }
        switch Array(parts.dropFirst(2)) {
        case ["health"]:
            return .json(.object([("status", .string("ok")), ("timestamp", .number(String(now)))]))
        case ["global"]:
            return .json(global(snapshot, uptime: uptime))
        case ["server"]:
            guard let server = snapshot.server else { return .error("Server monitoring not available", status: 404) }
            let counts = ChannelCounts(server.channels)
            return .json(.object([
                ("extended_channels_count", .int(counts.extended)), ("standard_channels_count", .int(counts.standard)),
                ("total_hashrate", .float(counts.hashrate)),
            ]))
        case ["server", "channels"]:
            guard let server = snapshot.server else { return .error("Server monitoring not available", status: 404) }
            return .json(.object(channelPages(server.channels, page: page, render: serverChannel)))
        case ["clients"]:
            guard let clients = snapshot.sv2Clients else { return .error("Sv2 clients monitoring not available", status: 404) }
            return .json(.object(page.list(clients.sorted { $0.clientID < $1.clientID }.map(clientMetadata))))
        case let path where (path.count == 2 || path.count == 3) && path[0] == "clients" && (path.count == 2 || path[2] == "channels"):
            guard let clients = snapshot.sv2Clients else { return .error("Sv2 clients monitoring not available", status: 404) }
            guard let id = UInt64(path[1]) else { return .error("client id '\(path[1])' is not a number", status: 400) }
            guard let client = clients.first(where: { $0.clientID == id }) else { return .error("Sv2 client \(id) not found", status: 404) }
            if path.count == 2 { return .json(clientMetadata(client)) }
            return .json(.object([("client_id", .int(Int(client.clientID)))] + channelPages(client.channels, page: page, render: clientChannel)))
        case ["sv1", "clients"]:
            guard let clients = snapshot.sv1Clients else { return .error("Sv1 client monitoring not available", status: 404) }
            return .json(.object(page.list(clients.sorted { $0.clientID < $1.clientID }.map(sv1Client))))
        case let path where path.count == 3 && path[0] == "sv1" && path[1] == "clients":
            guard let clients = snapshot.sv1Clients else { return .error("Sv1 client monitoring not available", status: 404) }
            guard let id = UInt64(path[2]) else { return .error("client id '\(path[2])' is not a number", status: 400) }
            guard let client = clients.first(where: { $0.clientID == id }) else { return .error("Sv1 client \(id) not found", status: 404) }
            return .json(sv1Client(client))
        default:
            return nil
        }
    }

    /// `offset` and `limit` of a list request.
    struct Page {
        /// What a malformed query parameter was.
        struct Problem: Error {
            let message: String
        }

        let offset: Int
        let limit: Int

        /// The page the query asks for: `offset` (default 0) and `limit` (default 25, at most 100), non-negative integers.
        static func parse(_ query: [String: String]) -> Result<Page, Problem> {
            func value(_ name: String, default fallback: Int) -> Result<Int, Problem> {
                guard let text = query[name] else { return .success(fallback) }
                guard let number = Int(text), number >= 0 else {
                    return .failure(Problem(message: "query parameter '\(name)' must be a non-negative integer, not '\(text)'"))
                }
                return .success(number)
            }
            return value("offset", default: 0).flatMap { offset in
                value("limit", default: MonitoringAPI.defaultLimit).map { Page(offset: offset, limit: min($0, MonitoringAPI.maximumLimit)) }
            }
        }

        /// The page's slice of `rows`.
        func slice<T>(_ rows: [T]) -> [T] {
            let start = min(offset, rows.count)
            return Array(rows[start..<min(rows.count, start + limit)])
        }

        /// `{offset, limit, total, items}`.
        func list(_ rows: [JSONValue]) -> [(String, JSONValue)] {
            [("offset", .int(offset)), ("limit", .int(limit)), ("total", .int(rows.count)), ("items", .array(slice(rows)))]
        }
    }

    private static func channelPages(
        _ channels: [ChannelSnapshot], page: Page, render: (ChannelSnapshot) -> JSONValue
    ) -> [(String, JSONValue)] {
        let sorted = channels.sorted { $0.channelID < $1.channelID }
        let extended = sorted.filter { $0.kind == .extended }, standard = sorted.filter { $0.kind == .standard }
        return [
            ("offset", .int(page.offset)), ("limit", .int(page.limit)), ("total_extended", .int(extended.count)),
            ("total_standard", .int(standard.count)), ("extended_channels", .array(page.slice(extended).map(render))),
            ("standard_channels", .array(page.slice(standard).map(render))),
        ]
    }

    /// Channel counts and the declared hash rate of a set of channels.
    public struct ChannelCounts {
        /// Extended channels.
        public var extended = 0
        /// Standard channels.
        public var standard = 0
        /// Their declared hash rates, summed.
        public var hashrate: Double = 0

        /// The counts of `channels`.
        public init(_ channels: [ChannelSnapshot]) {
            for channel in channels {
                if channel.kind == .extended { extended += 1 } else { standard += 1 }
                hashrate += Double(channel.nominalHashrate ?? 0)
            }
        }
    }

    private static func global(_ snapshot: MonitoringSnapshot, uptime: UInt64) -> JSONValue {
        let server: JSONValue = snapshot.server.map { server in
            let counts = ChannelCounts(server.channels)
            return .object([
                ("total_channels", .int(counts.extended + counts.standard)), ("extended_channels", .int(counts.extended)),
                ("standard_channels", .int(counts.standard)), ("total_hashrate", .float(counts.hashrate)),
            ])
        } ?? .null
        let clients: JSONValue = snapshot.sv2Clients.map { clients in
            let counts = ChannelCounts(clients.flatMap(\.channels))
            return .object([
                ("total_clients", .int(clients.count)), ("total_channels", .int(counts.extended + counts.standard)),
                ("extended_channels", .int(counts.extended)), ("standard_channels", .int(counts.standard)),
                ("total_hashrate", .float(counts.hashrate)),
            ])
        } ?? .null
        let sv1: JSONValue = snapshot.sv1Clients.map { clients in
            .object([("total_clients", .int(clients.count)), ("total_hashrate", .float(clients.reduce(0) { $0 + Double($1.hashrate ?? 0) }))])
        } ?? .null
        return .object([("server", server), ("sv2_clients", clients), ("sv1_clients", sv1), ("uptime_secs", .number(String(uptime)))])
    }

    /// The fields SRI's server and client channel records share, in its order.
    private static func serverChannel(_ channel: ChannelSnapshot) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("channel_id", .int(Int(channel.channelID))), ("user_identity", .string(channel.userIdentity)),
            ("nominal_hashrate", channel.nominalHashrate.map { .float(Double($0)) } ?? .null), ("target_hex", .string(channel.target.bigEndianHex)),
            ("extranonce_prefix_hex", .string(Hex.encode(channel.extranoncePrefix))),
        ]
        if channel.kind == .extended {
            fields += [
                ("full_extranonce_size", .int(channel.fullExtranonceSize)), ("rollable_extranonce_size", .int(Int(channel.rollableExtranonceSize))),
                ("version_rolling", .bool(channel.versionRolling ?? false)),
            ]
        }
        let shares = channel.shares
        fields += [
            ("shares_acknowledged", .int(Int(shares.accepted))), ("shares_submitted", .int(Int(shares.submitted))),
            ("shares_rejected", .int(Int(shares.rejected))), ("shares_rejected_by_reason", reasons(shares)),
            ("acknowledged_work_sum", .number(String(shares.acknowledgedWorkSum))), ("validated_work_sum", .float(shares.workSum)),
            ("best_diff", .float(shares.bestDifficulty)), ("blocks_found", .int(Int(shares.blocksFound))),
        ]
        return .object(fields)
    }

    private static func clientChannel(_ channel: ChannelSnapshot) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("channel_id", .int(Int(channel.channelID))), ("user_identity", .string(channel.userIdentity)),
            ("nominal_hashrate", .float(Double(channel.nominalHashrate ?? 0))), ("stable_hashrate", .bool(channel.stableHashrate)),
            ("target_hex", .string(channel.target.bigEndianHex)), ("requested_max_target_hex", .string(channel.requestedMaximumTarget.bigEndianHex)),
            ("extranonce_prefix_hex", .string(Hex.encode(channel.extranoncePrefix))),
        ]
        if channel.kind == .extended {
            fields += [("full_extranonce_size", .int(channel.fullExtranonceSize)), ("rollable_extranonce_size", .int(Int(channel.rollableExtranonceSize)))]
        }
        let shares = channel.shares
        fields += [
            ("expected_shares_per_minute", .float(Double(channel.expectedSharesPerMinute))), ("shares_accepted", .int(Int(shares.accepted))),
            ("shares_rejected", .int(Int(shares.rejected))), ("shares_rejected_by_reason", reasons(shares)),
            ("share_work_sum", .float(shares.workSum)), ("last_share_sequence_number", .int(Int(shares.lastSequenceNumber))),
            ("best_diff", .float(shares.bestDifficulty)), ("last_batch_accepted", .int(Int(shares.lastBatchAccepted))),
            ("last_batch_work_sum", .number(String(shares.lastBatchWorkSum))), ("share_batch_size", .int(1)),
            ("blocks_found", .int(Int(shares.blocksFound))),
        ]
        return .object(fields)
    }

    private static func reasons(_ shares: ShareCounters) -> JSONValue {
        .object(shares.rejectedByReason.sorted { $0.key < $1.key }.map { ($0.key, .int(Int($0.value))) })
    }

    private static func clientMetadata(_ client: Sv2Client) -> JSONValue {
        let counts = ChannelCounts(client.channels)
        return .object([
            ("client_id", .number(String(client.clientID))), ("client_kind", .string(client.kind.rawValue)),
            ("extended_channels_count", .int(counts.extended)), ("standard_channels_count", .int(counts.standard)),
            ("total_hashrate", .float(counts.hashrate)),
        ])
    }

    private static func sv1Client(_ client: Sv1Client) -> JSONValue {
        .object([
            ("client_id", .number(String(client.clientID))), ("channel_id", client.channelID.map { .int(Int($0)) } ?? .null),
            ("connection_ip", .string(client.connectionIP)), ("sv1_username", .string(client.username)),
            ("sv1_worker_name", .string(client.workerName)), ("target_hex", .string(client.target.bigEndianHex)),
            ("hashrate", client.hashrate.map { .float(Double($0)) } ?? .null), ("stable_hashrate", .bool(client.stableHashrate)),
            ("extranonce1_hex", .string(Hex.encode(client.extranonce1))), ("extranonce2_len", .int(client.extranonce2Length)),
            ("version_rolling_mask", client.versionRollingMask.map { .string(Hex.word($0)) } ?? .null),
            ("version_rolling_min_bit", client.versionRollingMinimumBitCount.map { .string(Hex.word($0)) } ?? .null),
            ("shares_accepted", .number(String(client.sharesAccepted))), ("shares_rejected", .number(String(client.sharesRejected))),
        ])
    }
}

extension JSONValue {
    /// An integer.
    static func int(_ value: Int) -> JSONValue { .number(String(value)) }

    /// A floating-point number; 0 for what JSON cannot hold (infinities, NaN).
    static func float(_ value: Double) -> JSONValue { .number(value.isFinite ? "\(value)" : "0") }
}

extension U256 {
    /// The 32 bytes, most significant first, in hexadecimal (how SRI prints targets).
    var bigEndianHex: String { Hex.encode(littleEndianBytes.reversed()) }
}

extension Hex {
    /// A 32-bit word as 8 hexadecimal digits.
    static func word(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
