import Sv2Crypto
import Sv2Noise

/// The fixed key material of the Noise targets: secret keys of one repeated byte, public key encodings with zero
/// randomness (as SRI's test vectors), a certificate signed with zero auxiliary randomness. An input therefore
/// meets the same keys in every run, and a failure reproduces from the input alone.
enum FuzzKeys {
    /// Start of the certificate's validity, Unix seconds.
    static let validFrom: UInt32 = 1_700_000_000
    /// Length of the certificate's validity, seconds.
    static let validity: UInt32 = 3600
    /// The time at which the initiator reads act 2: within the certificate's validity.
    static let now: UInt32 = validFrom + 1

    /// The pool's authority key, which signs the responder's certificate.
    static let authority = secretKey(0x03)
    /// The responder's static key.
    static let responderStatic = keyPair(0x01)
    /// The responder's ephemeral key.
    static let responderEphemeral = keyPair(0x02)
    /// The initiator's ephemeral key.
    static let initiatorEphemeral = keyPair(0x04)
    /// The certificate the responder presents: its static key signed by ``authority`` from ``validFrom``.
    static let certificate: SignatureNoiseMessage = {
        do {
            return try SignatureNoiseMessage.sign(
                authority: authority, serverStaticX: responderStatic.secretKey.xOnlyPublicKey.bytes,
                validFrom: validFrom, validity: validity, auxiliaryRandom: [UInt8](repeating: 0, count: 32))
        } catch {
            fatalError("fixed fuzz certificate: \(error)")
        }
    }()
    /// The transport key of the `noise-frames` target (its cipher starts at nonce 0).
    static let transportKey: [UInt8] = Array(0..<32)

    /// The secret key whose 32 bytes are all `byte`.
    static func secretKey(_ byte: UInt8) -> Secp256k1SecretKey {
        do {
            return try Secp256k1SecretKey(bytes: [UInt8](repeating: byte, count: 32))
        } catch {
            fatalError("fixed fuzz secret key \(byte): \(error)")
        }
    }

    /// The key pair of ``secretKey(_:)``, its public key encoded with 32 zero bytes of randomness.
    static func keyPair(_ byte: UInt8) -> NoiseKeyPair {
        let key = secretKey(byte)
        do {
            let encoding = try ElligatorSwift.encode(compressedPublicKey: key.compressedPublicKey, randomness: [UInt8](repeating: 0, count: 32))
            return try NoiseKeyPair(secretKey: key, encoding: encoding)
        } catch {
            fatalError("fixed fuzz key pair \(byte): \(error)")
        }
    }
}
