/// Which upstream a client connects to next, and after how long: the endpoints in order of preference, moving
/// down the list (and around) after each failure with a delay that doubles from `initialDelay` up to
/// `maximumDelay`, starting over once a connection is set up. Sans-IO: the client's I/O asks, then waits.
public struct Failover<Endpoint: Sendable>: Sendable {
    /// The endpoints, most preferred first (a redirect replaces the current one).
    public private(set) var endpoints: [Endpoint]
    /// The first delay after a failure.
    public let initialDelay: Duration
    /// The longest delay.
    public let maximumDelay: Duration
    private var index = 0
    private var delay: Duration
    private var redirected = false

    /// A failover over `endpoints` (at least one).
    public init(endpoints: [Endpoint], initialDelay: Duration = .seconds(1), maximumDelay: Duration = .seconds(30)) {
        precondition(!endpoints.isEmpty, "a failover needs at least one endpoint")
        self.endpoints = endpoints
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        delay = initialDelay
    }

    /// The endpoint to connect to now.
    public var current: Endpoint { endpoints[index] }

    /// The connection to ``current`` failed or ended: the endpoint to try next and how long to wait first (no wait
    /// after a redirect).
    public mutating func failed() -> (endpoint: Endpoint, delay: Duration) {
        if redirected {
            redirected = false
            return (current, .zero)
        }
        index = (index + 1) % endpoints.count
        let wait = delay
        delay = min(delay * 2, maximumDelay)
        return (current, wait)
    }

    /// A connection was set up: the next failure waits ``initialDelay`` again.
    public mutating func established() {
        delay = initialDelay
    }

    /// The peer asked to move (Reconnect, client.reconnect): `endpoint` replaces the current one and the next
    /// attempt goes there at once.
    public mutating func redirect(to endpoint: Endpoint) {
        endpoints[index] = endpoint
        redirected = true
    }
}
