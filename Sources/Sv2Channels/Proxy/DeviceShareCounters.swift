import Sv2Messages
import Sv2Monitoring

/// Share counters of a proxy's device channels, kept from the messages the proxy relays (the shares a device
/// submits, the SubmitShares.Success and .Error it is sent), for monitoring: the group and Sv1-pool proxies forward
/// shares without judging them, so what the pool answered is what counts.
public struct DeviceShareCounters<Device: Hashable & Sendable>: Sendable {
    private struct Key: Hashable, Sendable {
        var device: Device
        var channelID: UInt32
    }

    private var counters = [Key: ShareCounters]()

    /// No channels yet.
    public init() {}

    /// A message from `device`: its shares count as submitted.
    public mutating func fromDevice(_ device: Device, _ message: Sv2Message) {
        switch message {
        case let .submitSharesStandard(share): submitted(Key(device: device, channelID: share.channelID), sequence: share.sequenceNumber)
        case let .submitSharesExtended(share): submitted(Key(device: device, channelID: share.channelID), sequence: share.sequenceNumber)
        default: break
        }
    }

    /// A message to `device`: acknowledgements and refusals of its shares.
    public mutating func toDevice(_ device: Device, _ message: Sv2Message) {
        switch message {
        case let .submitSharesSuccess(success):
            let key = Key(device: device, channelID: success.channelID)
            counters[key, default: ShareCounters()].accepted &+= success.newSubmitsAcceptedCount
            counters[key, default: ShareCounters()].acknowledgedWorkSum &+= success.newSharesSum
            counters[key, default: ShareCounters()].lastBatchAccepted = success.newSubmitsAcceptedCount
            counters[key, default: ShareCounters()].lastBatchWorkSum = success.newSharesSum
        case let .submitSharesError(error):
            counters[Key(device: device, channelID: error.channelID), default: ShareCounters()].rejectedByReason[error.errorCode.description, default: 0] &+= 1
        default: break
        }
    }

    /// The device disconnected: its counters go.
    public mutating func deviceGone(_ device: Device) {
        counters = counters.filter { $0.key.device != device }
    }

    /// The counters of `device`'s channel `channelID`.
    public func counters(device: Device, channelID: UInt32) -> ShareCounters {
        counters[Key(device: device, channelID: channelID)] ?? ShareCounters()
    }

    private mutating func submitted(_ key: Key, sequence: UInt32) {
        counters[key, default: ShareCounters()].submitted &+= 1
        counters[key, default: ShareCounters()].lastSequenceNumber = sequence
    }
}
