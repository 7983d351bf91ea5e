/// Text forms of Sv2 authority keys (spec 4.7, as SRI's key-utils writes them).
///
/// Public key: base58check([0x01, 0x00] || x-only key), the U16 version 1 little-endian. Secret key:
/// base58check(32 raw bytes), no version.
public enum AuthorityKeyText {
    /// The version of the public key text form.
    public static let publicKeyVersion: UInt16 = 1

    /// The text form of an authority public key.
    public static func encode(_ key: XOnlyPublicKey) -> String {
        Base58.checkEncode([UInt8(truncatingIfNeeded: publicKeyVersion), UInt8(truncatingIfNeeded: publicKeyVersion >> 8)] + key.bytes)
    }

    /// The text form of an authority secret key.
    public static func encode(_ key: Secp256k1SecretKey) -> String {
        Base58.checkEncode(key.bytes)
    }

    /// Parses an authority public key; bad characters, a bad checksum, a wrong length, a wrong version and a
    /// point not on the curve are distinct errors.
    public static func publicKey(_ text: String) throws(Sv2CryptoError) -> XOnlyPublicKey {
        let payload = try Base58.checkDecode(text.trimmingWhitespace)
        guard payload.count == 34 else { throw .wrongLength(what: "authority public key (version + x-only key)", expected: 34, actual: payload.count) }
        let version = UInt16(payload[0]) | UInt16(payload[1]) << 8
        guard version == publicKeyVersion else { throw .wrongVersion(expected: publicKeyVersion, actual: version) }
        return try XOnlyPublicKey(bytes: Array(payload[2...]))
    }

    /// Parses an authority secret key.
    public static func secretKey(_ text: String) throws(Sv2CryptoError) -> Secp256k1SecretKey {
        let payload = try Base58.checkDecode(text.trimmingWhitespace)
        guard payload.count == 32 else { throw .wrongLength(what: "authority secret key", expected: 32, actual: payload.count) }
        return try Secp256k1SecretKey(bytes: payload)
    }
}

/// A pool address with its authority key: `stratum2+tcp://host:port/<authority public key>`.
public struct Sv2PoolURL: Hashable, Sendable, CustomStringConvertible {
    /// Host name or IP address (IPv6 without brackets).
    public var host: String
    /// TCP port.
    public var port: Int
    /// The authority key that signs the server's certificates; nil when the URL has none (plaintext use).
    public var authorityKey: XOnlyPublicKey?

    /// Creates a URL from its parts.
    public init(host: String, port: Int, authorityKey: XOnlyPublicKey?) {
        self.host = host
        self.port = port
        self.authorityKey = authorityKey
    }

    /// Why a URL did not parse.
    public struct ParseError: Error, Hashable, CustomStringConvertible {
        /// A sentence for the user.
        public var description: String
    }

    /// Parses `stratum2+tcp://host:port[/<authority public key>]`.
    public init(_ text: String) throws(ParseError) {
        let scheme = "stratum2+tcp://"
        guard text.hasPrefix(scheme) else { throw ParseError(description: "'\(text)' does not start with \(scheme)") }
        let rest = text.dropFirst(scheme.count)
        let hostPort = rest.prefix { $0 != "/" }
        let keyText = rest.dropFirst(hostPort.count).drop { $0 == "/" }
        guard let colon = hostPort.lastIndex(of: ":"), let port = Int(hostPort[hostPort.index(after: colon)...]),
              (1...65535).contains(port)
        else { throw ParseError(description: "'\(text)' has no valid :port (1 to 65535)") }
        var host = String(hostPort[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ParseError(description: "'\(text)' has no host") }
        self.host = host
        self.port = port
        if keyText.isEmpty {
            authorityKey = nil
        } else {
            do {
                authorityKey = try AuthorityKeyText.publicKey(String(keyText))
            } catch {
                throw ParseError(description: "authority public key in '\(text)': \(error)")
            }
        }
    }

    /// The URL as text.
    public var description: String {
        let hostText = host.contains(":") ? "[\(host)]" : host
        let key = authorityKey.map { "/" + AuthorityKeyText.encode($0) } ?? ""
        return "stratum2+tcp://\(hostText):\(port)\(key)"
    }
}

extension String {
    var trimmingWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
