import NIOCore

extension SocketAddress {
    /// `127.0.0.1:3333` or `[::1]:3333` (the address as people write it), or the system's description.
    public var hostPortDescription: String {
        guard let ip = ipAddress, let port else { return description }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}

extension Channel {
    /// The remote address as `host:port`, for log lines (`?` once unknown).
    public var peerDescription: String {
        remoteAddress?.hostPortDescription ?? "?"
    }
}
