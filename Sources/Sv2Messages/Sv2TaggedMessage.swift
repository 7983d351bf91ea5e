import Sv2Binary

/// What a connection's session exchanges with the wire: a message, with or without the TLV fields that may follow
/// its payload (spec 3.4.3).
public protocol Sv2WireMessage: Sendable {
    /// The message part.
    var message: Sv2Message { get }
    /// The TLV fields (empty for a type that does not keep them).
    var tlvs: [Sv2TLV] { get }
    /// `message` with `tlvs` (a type that does not keep TLV fields drops them).
    init(_ message: Sv2Message, tlvs: [Sv2TLV])
}

/// A message with the TLV fields that follow its payload: what a session that negotiates extensions (0x0002's
/// user_identity on SubmitSharesExtended) receives or sends.
public struct Sv2TaggedMessage: Sv2WireMessage, Hashable {
    /// The message.
    public var message: Sv2Message
    /// Its TLV fields.
    public var tlvs: [Sv2TLV]

    /// `message` with `tlvs` (none by default).
    public init(_ message: Sv2Message, tlvs: [Sv2TLV] = []) {
        self.message = message
        self.tlvs = tlvs
    }

    /// The worker of extension 0x0002's user_identity field, when one is present.
    public var userIdentity: String? {
        for tlv in tlvs { if let worker = tlv.userIdentity { return worker } }
        return nil
    }
}

extension Sv2Message: Sv2WireMessage {
    /// The message itself.
    public var message: Sv2Message { self }
    /// None: a plain message keeps no TLV fields.
    public var tlvs: [Sv2TLV] { [] }

    /// `message`; TLV fields are dropped (a session that ignores extensions ignores them, as spec 3.4.3 requires).
    public init(_ message: Sv2Message, tlvs: [Sv2TLV]) {
        self = message
    }
}
