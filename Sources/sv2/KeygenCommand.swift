import ArgumentParser
import Sv2Binary
import Sv2Crypto

/// `sv2 keygen`: authority key pairs in the text forms SRI's key-utils uses (spec 4.7), and checks of key strings.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Generate, derive and check authority keys in SRI's base58check text forms.",
        discussion: """
            An authority public key is base58check([0x01, 0x00] || x-only key), the 2-byte version 1 little-endian \
            before the 32-byte BIP340 x coordinate; a secret key is base58check(32 bytes). Both are the forms of the \
            authority_public_key and authority_secret_key settings of SRI's configuration files. A key string that \
            does not parse makes the command exit with status 1 and name the problem (bad checksum, wrong version, \
            wrong length, invalid base58 character, or a key that is not on the curve).
            """,
        subcommands: [Generate.self, PublicKey.self, Check.self],
        defaultSubcommand: Generate.self
    )
}

extension KeygenCommand {
    /// `sv2 keygen [generate]`: a fresh key pair from the system's CSPRNG.
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Print a fresh authority key pair (the default).",
            discussion: """
                Prints two TOML lines, authority_public_key = "..." and authority_secret_key = "...", ready to paste \
                into a configuration file; --json prints one object with the same two keys. The secret key is drawn \
                from the operating system's CSPRNG: keep it private.
                """
        )

        /// Print a JSON object instead of TOML lines.
        @Flag(help: "Print {\"authority_public_key\": ..., \"authority_secret_key\": ...} as JSON.")
        var json = false

        /// Draws a secret key and prints the pair.
        func run() throws {
            var random = SystemRandom()
            let secret = Secp256k1SecretKey.generate(using: &random)
            KeyText.printPair(
                [("authority_public_key", AuthorityKeyText.encode(secret.xOnlyPublicKey)),
                 ("authority_secret_key", AuthorityKeyText.encode(secret))],
                json: json)
        }
    }

    /// `sv2 keygen pubkey <secret>`: the public key of a secret key.
    struct PublicKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pubkey",
            abstract: "Print the authority public key of a secret key.",
            discussion: """
                Prints authority_public_key = "..." as a TOML line, or {"authority_public_key": "..."} with --json.
                """
        )

        /// The secret key in its base58check text form.
        @Argument(help: ArgumentHelp("The authority secret key (base58check of 32 bytes).", valueName: "secret-key"))
        var secretKey: String

        /// Print a JSON object instead of a TOML line.
        @Flag(help: "Print {\"authority_public_key\": ...} as JSON.")
        var json = false

        /// Parses the secret key and prints its public key.
        func run() throws {
            let secret: Secp256k1SecretKey
            do {
                secret = try AuthorityKeyText.secretKey(secretKey)
            } catch {
                throw CommandFailure(KeyText.secretKeyProblem(error, text: secretKey))
            }
            KeyText.printPair([("authority_public_key", AuthorityKeyText.encode(secret.xOnlyPublicKey))], json: json)
        }
    }

    /// `sv2 keygen check <key>`: says what a key string is, or what is wrong with it.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Check whether a string is a valid authority public key or secret key.",
            discussion: """
                Tries the string as an authority public key and as a secret key. A valid public key prints \
                "valid authority public key (x-only <hex>)"; a valid secret key prints "valid authority secret key \
                (public key <text>)". Otherwise the exit status is 1 and the error names the problem: an invalid \
                base58 character, a bad checksum, a wrong length, a wrong version (public keys), a key that is not \
                on the curve (public keys) or zero or not below the curve order (secret keys). When the string fails both \
                ways, a 34-byte payload is judged as a public key and a 32-byte one as a secret key.
                """
        )

        /// The key string to check.
        @Argument(help: ArgumentHelp("An authority public key or secret key in base58check.", valueName: "key"))
        var key: String

        /// Parses the key both ways and reports the outcome.
        func run() throws {
            let publicError: Sv2CryptoError
            do {
                let publicKey = try AuthorityKeyText.publicKey(key)
                print("valid authority public key (x-only \(Hex.encode(publicKey.bytes)))")
                return
            } catch {
                publicError = error
            }
            let secretError: Sv2CryptoError
            do {
                let secret = try AuthorityKeyText.secretKey(key)
                print("valid authority secret key (public key \(AuthorityKeyText.encode(secret.xOnlyPublicKey)))")
                return
            } catch {
                secretError = error
            }
            throw CommandFailure(KeyText.problem(publicError: publicError, secretError: secretError, text: key))
        }
    }
}

/// Output and error wording shared by the keygen subcommands.
enum KeyText {
    /// Prints `name = "value"` TOML lines, or one JSON object with the same names when `json` is set.
    /// The values are base58 text, which needs no escaping in either form.
    static func printPair(_ fields: [(name: String, value: String)], json: Bool) {
        if json {
            print("{" + fields.map { "\"\($0.name)\":\"\($0.value)\"" }.joined(separator: ",") + "}")
        } else {
            for field in fields { print("\(field.name) = \"\(field.value)\"") }
        }
    }

    /// Why `text` is neither an authority public key (which failed with `publicError`) nor a secret key (which
    /// failed with `secretError`): the reason of the kind its payload length points to.
    static func problem(publicError: Sv2CryptoError, secretError: Sv2CryptoError, text: String) -> String {
        // A 34-byte payload fails as a public key on its version or its point, a 32-byte one as a secret key on
        // its value; every other failure (characters, checksum, length) is the same both ways.
        switch (publicError, secretError) {
        case (.wrongVersion, _), (.invalidPublicKey, _):
            return "not a valid authority public key: " + reason(publicError, text: text)
        case (_, .invalidSecretKey):
            return "not a valid authority secret key: " + reason(secretError, text: text)
        case let (.wrongLength(what, _, actual), _) where what.hasPrefix("authority"):
            return "not a valid authority key: wrong length: the base58check payload is \(actual) bytes; "
                + "an authority public key has 34 (2-byte version + 32-byte x-only key), a secret key 32"
        default:
            return "not a valid authority key: " + reason(publicError, text: text)
        }
    }

    /// Why `text` is not an authority secret key, which failed with `error`.
    static func secretKeyProblem(_ error: Sv2CryptoError, text: String) -> String {
        if case let .wrongLength(what, _, actual) = error, what.hasPrefix("authority") {
            let hint = (try? AuthorityKeyText.publicKey(text)) != nil ? " (this is an authority public key)" : ""
            return "not a valid authority secret key: wrong length: the base58check payload is \(actual) bytes, "
                + "a secret key has 32\(hint)"
        }
        return "not a valid authority secret key: " + reason(error, text: text)
    }

    /// One failure, worded for the user.
    private static func reason(_ error: Sv2CryptoError, text: String) -> String {
        switch error {
        case let .invalidBase58Character(character):
            // The error holds the offending byte; the text gives the whole character and where it is.
            let alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
            let scalars = Array(text.unicodeScalars.drop { " \t\n\r".unicodeScalars.contains($0) })
            guard let index = scalars.firstIndex(where: { !alphabet.unicodeScalars.contains($0) }) else {
                return "invalid base58 character '\(character)'"
            }
            let scalar = scalars[index]
            let shown = scalar.value >= 0x21 && scalar.value < 0x7f
                ? "'\(scalar)'" : "U+" + String(scalar.value, radix: 16, uppercase: true)
            return "invalid base58 character \(shown) at position \(index + 1) (base58 has no 0, O, I or l, and no punctuation)"
        case .badChecksum:
            return "bad checksum (the last 4 bytes are not the SHA256d checksum of the rest: mistyped or truncated?)"
        case let .wrongLength(what, _, actual) where what == "base58check data":
            return actual == 0 && text.allSatisfy(\.isWhitespace)
                ? "wrong length: the key is empty"
                : "wrong length: \(actual) bytes, too short for base58check (the checksum alone is 4)"
        case let .wrongLength(what, expected, actual):
            return "wrong length: \(what) must be \(expected) bytes, got \(actual)"
        case let .wrongVersion(expected, actual):
            return "wrong version \(actual) (an authority public key has version \(expected))"
        case .invalidPublicKey:
            return "the x-only key is not on the curve (no secp256k1 point has that x coordinate)"
        case .invalidSecretKey:
            return "the secret key is zero or not below the curve order"
        case .authenticationFailed, .libraryFailure:
            return error.description
        }
    }
}
