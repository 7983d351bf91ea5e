import NIOCore

/// A role's listening socket could not be bound (or reports no address): the address configured and why.
public struct ListenError: Error, CustomStringConvertible {
    /// Where the role was to listen.
    public var address: HostPort
    /// Why it cannot.
    public var reason: String

    /// A sentence for the user.
    public var description: String { "cannot listen on \(address): \(reason)" }

    /// The listening channel `bind` opens, any failure named as a listen error on `address`.
    static func binding(_ address: HostPort, _ bind: () async throws -> Channel) async throws(ListenError) -> Channel {
        do {
            return try await bind()
        } catch {
            throw ListenError(address: address, reason: "\(error)")
        }
    }

    /// The address `channel`, listening for `address`, is bound to.
    static func localAddress(of channel: Channel, configured address: HostPort) throws(ListenError) -> SocketAddress {
        guard let local = channel.localAddress else { throw ListenError(address: address, reason: "the listener has no address") }
        return local
    }
}
