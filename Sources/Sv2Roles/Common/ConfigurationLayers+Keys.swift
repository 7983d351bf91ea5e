import Sv2Crypto

extension ConfigurationLayers {
    /// `authority_secret_key`, checked against `authority_public_key` when both are given (a public key alone is an
    /// error: the server must sign its certificates).
    public func authoritySecretKey() throws(ConfigurationError) -> Secp256k1SecretKey? {
        var secretKey: Secp256k1SecretKey?
        if let secretText = try string("authority_secret_key") {
            do {
                secretKey = try AuthorityKeyText.secretKey(secretText)
            } catch {
                throw self.error("authority_secret_key", error.description)
            }
        }
        if let publicKey = try publicKey("authority_public_key") {
            guard let secretKey else { throw self.error("authority_public_key", "given without authority_secret_key") }
            guard secretKey.xOnlyPublicKey == publicKey else {
                throw self.error("authority_public_key", "does not belong to authority_secret_key")
            }
        }
        return secretKey
    }

    /// An authority public key in its base58check text form, or nil when `key` is not set.
    public func publicKey(_ key: String) throws(ConfigurationError) -> XOnlyPublicKey? {
        guard let text = try string(key) else { return nil }
        do {
            return try AuthorityKeyText.publicKey(text)
        } catch {
            throw self.error(key, error.description)
        }
    }

    /// `log_level`: debug, info (the default), warning or error.
    public func logLevel() throws(ConfigurationError) -> Sv2Log.Level {
        switch (try string("log_level") ?? "info").lowercased() {
        case "debug": return .debug
        case "info": return .info
        case "warning": return .warning
        case "error": return .error
        case let other: throw error("log_level", "expected debug, info, warning or error, got \"\(other)\"")
        }
    }
}
