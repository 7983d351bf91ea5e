import Logging
import ServiceLifecycle
import Sv2Monitoring
import Sv2MonitoringServer

/// The monitoring setting every serving role shares: `monitoring_address` (`--monitoring-address`), off by default.
public enum RoleMonitoring {
    /// The settings keys.
    public static let keys: Set<String> = ["monitoring_address"]

    /// The monitoring server of a role whose state `source` gives, on `address`, exporting `metrics` (the role's own
    /// when it records into them, else a new registry); nil when monitoring is off.
    public static func server(
        address: HostPort?, source: any MonitoringSource, metrics: MonitoringMetrics? = nil, logger: Logger
    ) -> MonitoringServer? {
        guard let address else { return nil }
        let metrics = metrics ?? MonitoringMetrics()
        var logger = logger
        logger[metadataKey: "component"] = "monitoring"
        return MonitoringServer(host: address.host, port: address.port, source: source, metrics: metrics, logger: logger)
    }

    /// `role`, followed by its monitoring server when `address` is set (exporting `metrics` when the role records
    /// into them): the services to run, in start order.
    public static func services(
        _ role: some Service & MonitoringSource, address: HostPort?, metrics: MonitoringMetrics? = nil, logger: Logger
    ) -> [any Service] {
        [role] + (server(address: address, source: role, metrics: metrics, logger: logger).map { [$0] } ?? [])
    }

    /// The metrics registry of a role with monitoring at `address`; nil when monitoring is off.
    public static func metrics(address: HostPort?) -> MonitoringMetrics? {
        address.map { _ in MonitoringMetrics() }
    }
}
