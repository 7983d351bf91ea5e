import Sv2Formats

/// The id of a Stratum V1 JSON-RPC message, kept exactly as the peer wrote it so that a response echoes it unchanged.
public enum Sv1ID: Hashable, Sendable {
    /// A numeric id: the literal digits as sent (`"7"`, `"1e3"` stays `1e3`). Written back verbatim, so a value made
    /// by hand must be a valid JSON number.
    case number(String)
    /// A string id.
    case string(String)
    /// A null id (or none at all): notifications, and responses to requests whose id could not be read.
    case null

    /// The id as a JSON value.
    public var json: JSONValue {
        switch self {
        case let .number(text): return .number(text)
        case let .string(text): return .string(text)
        case .null: return .null
        }
    }
}

/// One Stratum V1 message: a line of JSON-RPC 1.0 as deployed pools and firmware speak it.
public enum Sv1Message: Hashable, Sendable {
    /// A call that expects a response: it has a `method` and a non-null id.
    case request(id: Sv1ID, method: String, params: [JSONValue])
    /// A call that expects none: it has a `method` and a null or absent id (mining.notify, mining.set_difficulty...).
    case notification(method: String, params: [JSONValue])
    /// The answer to a request: no `method`; `result` and `error` are `.null` when absent.
    case response(id: Sv1ID, result: JSONValue, error: JSONValue)
}
