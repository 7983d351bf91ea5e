import Logging
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

    /// `log_level` (trace, debug, info, notice, warning, error, critical; default info) and `log_format` (text, the
    /// default, or json).
    public func logSettings() throws(ConfigurationError) -> LogSettings {
        let levelText = (try string("log_level") ?? "info").lowercased()
        guard let level = Logger.Level(rawValue: levelText) else {
            throw error("log_level", "expected one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(levelText)\"")
        }
        let formatText = (try string("log_format") ?? "text").lowercased()
        guard let format = LogFormat(rawValue: formatText) else { throw error("log_format", "expected text or json, got \"\(formatText)\"") }
        return LogSettings(level: level, format: format)
    }
}

/// How a role logs: the lowest level written and the line format.
public struct LogSettings: Sendable, Hashable {
    /// The settings keys.
    public static let keys: Set<String> = ["log_level", "log_format"]

    /// Messages below this level are dropped.
    public var level: Logger.Level
    /// Text or JSON lines.
    public var format: LogFormat

    /// Settings from their parts (default: info, text).
    public init(level: Logger.Level = .info, format: LogFormat = .text) {
        self.level = level
        self.format = format
    }

    /// A logger labelled `label` writing to standard error.
    public func logger(_ label: String) -> Logger {
        Logger.sv2(label, output: .standardError(format: format), level: level)
    }
}
