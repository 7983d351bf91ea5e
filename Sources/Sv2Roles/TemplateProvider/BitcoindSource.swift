import Bitcoin
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Sv2Binary
import Sv2Formats
import Sv2Network
import Sv2Node

/// Bitcoin Core (or Knots, or another `sv2 tp`) over JSON-RPC as a template source: getblocktemplate with the
/// segwit rules and long polling, submitblock for blocks found. An RPC outage is logged and retried with backoff.
public final class BitcoindSource: TemplateSource {
    private let client: JSONRPCClient
    private let logger: Logger
    private let stopped = NIOLockedValueBox(false)

    /// A source calling `client`.
    public init(client: JSONRPCClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Checks the connection and credentials now, so that a wrong password is an error at start, then polls.
    public func start(deliver: @escaping @Sendable (BlockTemplate) -> Void) async throws {
        do {
            _ = try await client.call("getblockchaininfo", timeout: .seconds(15)).get()
        } catch {
            throw TemplateSourceError.unavailable("bitcoind at \(client.host):\(client.port): \(error)")
        }
        poll(longPollID: nil, backoff: 1, deliver: deliver)
    }

    private func poll(longPollID: String?, backoff: Int64, deliver: @escaping @Sendable (BlockTemplate) -> Void) {
        guard !stopped.withLockedValue({ $0 }) else { return }
        var request: [(String, JSONValue)] = [("rules", .array([.string("segwit")]))]
        if let longPollID { request.append(("longpollid", .string(longPollID))) }
        client.call("getblocktemplate", [.object(request)], timeout: longPollID == nil ? .seconds(30) : .seconds(120))
            .whenComplete { [weak self] result in
                guard let self else { return }
                switch result {
                case let .success(reply):
                    do {
                        deliver(try Self.template(from: reply))
                        self.poll(longPollID: reply["longpollid"]?.stringValue, backoff: 1, deliver: deliver)
                    } catch {
                        self.retry(after: backoff, because: "getblocktemplate reply not understood: \(error)", deliver: deliver)
                    }
                case let .failure(error):
                    self.retry(after: backoff, because: "getblocktemplate failed: \(error)", deliver: deliver)
                }
            }
    }

    private func retry(after seconds: Int64, because reason: String, deliver: @escaping @Sendable (BlockTemplate) -> Void) {
        guard !stopped.withLockedValue({ $0 }) else { return }
        logger.warning("\(reason); retrying in \(seconds) s")
        _ = client.group.next().scheduleTask(in: .seconds(seconds)) { [weak self] in
            self?.poll(longPollID: nil, backoff: min(seconds * 2, 30), deliver: deliver)
        }
    }

    /// Submits `block` with submitblock; a null reply means it connected.
    public func submit(_ block: Block, completion: @escaping @Sendable (Result<U256, Error>) -> Void) {
        let hash = block.hash
        client.call("submitblock", [.string(Hex.encode(block.serialized))]).whenComplete { result in
            switch result {
            case let .success(reply):
                if case .null = reply {
                    completion(.success(hash))
                } else {
                    completion(.failure(TemplateSourceError.rejected(reply.stringValue ?? reply.text)))
                }
            case let .failure(error):
                completion(.failure(error))
            }
        }
    }

    /// Stops polling.
    public func stop() async {
        stopped.withLockedValue { $0 = true }
    }

    /// A BlockTemplate from a getblocktemplate result (BIP22/23 fields as Bitcoin Core returns them).
    static func template(from reply: JSONValue) throws(TemplateSourceError) -> BlockTemplate {
        func field<T>(_ key: String, _ convert: (JSONValue) -> T?) throws(TemplateSourceError) -> T {
            guard let value = reply[key], let converted = convert(value) else { throw .malformed("missing or bad \(key)") }
            return converted
        }
        let height = try field("height") { $0.int64Value.flatMap { UInt32(exactly: $0) } }
        let bitsText = try field("bits") { $0.stringValue }
        guard let bits = UInt32(bitsText, radix: 16) else { throw .malformed("bad bits \(bitsText)") }
        var transactions = [Transaction]()
        var fees: UInt64 = 0
        for entry in try field("transactions", { $0.arrayValue }) {
            guard let data = entry["data"]?.stringValue, let transaction = try? Transaction(hex: data) else {
                throw .malformed("a transaction's data does not parse")
            }
            transactions.append(transaction)
            fees += UInt64(max(0, entry["fee"]?.int64Value ?? 0))
        }
        let commitment: [UInt8]
        if let text = reply["default_witness_commitment"]?.stringValue, let script = Hex.decode(text) {
            commitment = script
        } else {
            commitment = WitnessCommitment.outputScript(nonCoinbaseWtxids: transactions.map(\.wtxid))
        }
        let minimumTime = try field("mintime") { $0.int64Value.flatMap { UInt32(exactly: $0) } }
        return BlockTemplate(
            height: height,
            version: try field("version") { $0.int64Value.flatMap { UInt32(exactly: $0) } },
            previousBlockHash: try field("previousblockhash") { $0.stringValue.flatMap { U256(displayHex: $0) } },
            bits: bits,
            target: try field("target") { $0.stringValue.flatMap { U256(displayHex: $0) } },
            minimumTime: minimumTime,
            currentTime: max(minimumTime, try field("curtime") { $0.int64Value.flatMap { UInt32(exactly: $0) } }),
            coinbaseValue: try field("coinbasevalue") { $0.int64Value.flatMap { UInt64(exactly: $0) } },
            fees: fees, transactions: transactions, witnessCommitmentScript: commitment,
            coinbaseScriptSigPrefix: BIP34.heightPush(height))
    }
}

/// Why a template source could not serve.
public enum TemplateSourceError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The source cannot be reached or refused us.
    case unavailable(String)
    /// A reply from the source did not make sense.
    case malformed(String)
    /// The source rejected a block, with its reason.
    case rejected(String)

    /// A sentence for the log.
    public var description: String {
        switch self {
        case let .unavailable(reason): return "template source unavailable: \(reason)"
        case let .malformed(reason): return "template source reply malformed: \(reason)"
        case let .rejected(reason): return "block rejected: \(reason)"
        }
    }
}
