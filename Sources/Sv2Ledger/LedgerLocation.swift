/// Where a share ledger lives: `sqlite:PATH` (a file, created with its directory's permissions) or
/// `postgresql://USER:PASS@HOST:PORT/DB` (`postgres://` too; port 5432 and user `postgres` when left out).
public enum LedgerLocation: Sendable, Hashable, CustomStringConvertible {
    /// A SQLite database file.
    case sqlite(path: String)
    /// A PostgreSQL database.
    case postgresql(PostgreSQLAddress)

    /// A PostgreSQL server and database, with the credentials to reach it.
    public struct PostgreSQLAddress: Sendable, Hashable {
        /// Server host.
        public var host: String
        /// Server port.
        public var port: Int
        /// Role name.
        public var user: String
        /// Password (nil: none).
        public var password: String?
        /// Database name.
        public var database: String
    }

    /// Why a ledger URL is not one.
    public struct ParseError: Error, Hashable, CustomStringConvertible {
        /// The sentence.
        public var description: String
    }

    /// Parses a ledger URL.
    public init(_ text: String) throws(ParseError) {
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else { throw ParseError(description: "\"\(text)\": sqlite:PATH needs a file path") }
            self = .sqlite(path: path)
            return
        }
        for scheme in ["postgresql://", "postgres://"] where text.hasPrefix(scheme) {
            self = .postgresql(try Self.postgreSQL(String(text.dropFirst(scheme.count)), whole: text))
            return
        }
        throw ParseError(description: "\"\(text)\": expected sqlite:PATH or postgresql://USER:PASS@HOST:PORT/DB")
    }

    private static func postgreSQL(_ rest: String, whole: String) throws(ParseError) -> PostgreSQLAddress {
        guard let slash = rest.firstIndex(of: "/") else {
            throw ParseError(description: "\"\(whole)\": the database name is missing (postgresql://USER:PASS@HOST:PORT/DB)")
        }
        let database = String(rest[rest.index(after: slash)...])
        guard !database.isEmpty, !database.contains("/"), !database.contains("?") else {
            throw ParseError(description: "\"\(whole)\": \"\(database)\" is not a database name")
        }
        var authority = Substring(rest[..<slash])
        var user = "postgres", password: String?
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = percentDecoded(credentials[..<colon])
                password = percentDecoded(credentials[credentials.index(after: colon)...])
            } else {
                user = percentDecoded(credentials)
            }
        }
        var host = String(authority), port = 5432
        if let colon = authority.lastIndex(of: ":") {
            guard let number = Int(authority[authority.index(after: colon)...]), (1...65535).contains(number) else {
                throw ParseError(description: "\"\(whole)\": \"\(authority[authority.index(after: colon)...])\" is not a port")
            }
            host = String(authority[..<colon])
            port = number
        }
        guard !host.isEmpty, !user.isEmpty else { throw ParseError(description: "\"\(whole)\": the host or the user is empty") }
        return PostgreSQLAddress(host: host, port: port, user: user, password: password, database: database)
    }

    /// `%XX` escapes decoded (a password may hold `@` or `:` written as `%40`, `%3A`); anything else kept.
    private static func percentDecoded(_ text: Substring) -> String {
        var bytes = [UInt8]()
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
               let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The URL with the password hidden, for logs.
    public var description: String {
        switch self {
        case let .sqlite(path): return "sqlite:\(path)"
        case let .postgresql(address):
            let secret = address.password == nil ? "" : ":***"
            return "postgresql://\(address.user)\(secret)@\(address.host):\(address.port)/\(address.database)"
        }
    }
}
