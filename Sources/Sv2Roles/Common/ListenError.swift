import NIOCore
import Sv2Messages
import Sv2Network
import Sv2Sessions

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

    /// Listens on `address` for `engine`'s sessions over `transport`: the listening channel and the address it is
    /// bound to, any failure named as a listen error on `address`.
    static func listen<Session: ConnectionSession, Message: Sv2WireMessage, Outbound: Sv2WireMessage>(
        on address: HostPort, transport: Sv2TransportConfiguration, group: EventLoopGroup, buffers: Sv2Connections.OutboundBuffers? = nil,
        engine: ConnectionEngine<Session, Sv2Wire<Message, Outbound>>, registry: ConnectionRegistry<Session, Sv2Wire<Message, Outbound>>
    ) async throws(ListenError) -> (channel: Channel, address: SocketAddress) {
        let channel = try await binding(address) {
            try await Sv2Connections.listen(
                host: address.host, port: address.port, group: group, configuration: transport, buffers: buffers, engine: engine, registry: registry
            ).get()
        }
        return (channel, try localAddress(of: channel, configured: address))
    }
}
