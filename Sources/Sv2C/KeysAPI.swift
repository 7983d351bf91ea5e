import Bitcoin
import CSv2
import Sv2Binary
import Sv2Crypto
import Sv2Noise

// Authority keys, certificates and the hashing helpers of sv2.h.

/// A fresh key pair.
@_cdecl("sv2_key_generate")
public func sv2_key_generate(_ secret: UnsafeMutablePointer<UInt8>?, _ publicKey: UnsafeMutablePointer<UInt8>?) -> sv2_error {
    cCall { () throws(CFailure) in
        var random = SystemRandom()
        let key = Secp256k1SecretKey.generate(using: &random)
        if let secret { try copy(key.bytes, to: secret, "secret_key") }
        if let publicKey { try copy(key.xOnlyPublicKey.bytes, to: publicKey, "public_key") }
    }
}

/// The public key of a secret key.
@_cdecl("sv2_key_public")
public func sv2_key_public(_ secret: UnsafePointer<UInt8>?, _ publicKey: UnsafeMutablePointer<UInt8>?) -> sv2_error {
    cCall { () throws(CFailure) in
        try copy(try secretKey(secret, "secret_key").xOnlyPublicKey.bytes, to: publicKey, "public_key")
    }
}

/// Parses key text with `parse`, mapping its failure to SV2_ERR_KEY.
private func parseKey(_ text: UnsafePointer<CChar>?, _ parse: (String) throws(Sv2CryptoError) -> [UInt8]) throws(CFailure) -> [UInt8] {
    let string = String(cString: try required(text, "text"))
    do {
        return try parse(string)
    } catch {
        throw CFailure(SV2_ERR_KEY, error.description)
    }
}

/// Parses a public key text.
@_cdecl("sv2_key_parse_public")
public func sv2_key_parse_public(_ text: UnsafePointer<CChar>?, _ publicKey: UnsafeMutablePointer<UInt8>?) -> sv2_error {
    cCall { () throws(CFailure) in
        try copy(try parseKey(text) { string throws(Sv2CryptoError) in try AuthorityKeyText.publicKey(string).bytes }, to: publicKey, "public_key")
    }
}

/// Parses a secret key text.
@_cdecl("sv2_key_parse_secret")
public func sv2_key_parse_secret(_ text: UnsafePointer<CChar>?, _ secret: UnsafeMutablePointer<UInt8>?) -> sv2_error {
    cCall { () throws(CFailure) in
        try copy(try parseKey(text) { string throws(Sv2CryptoError) in try AuthorityKeyText.secretKey(string).bytes }, to: secret, "secret_key")
    }
}

/// Writes `text` and its NUL into the caller's buffer; *written counts the characters.
private func deliver(text: String, _ out: UnsafeMutablePointer<CChar>?, _ capacity: Int, _ written: UnsafeMutablePointer<Int>?) throws(CFailure) {
    let bytes = Array(text.utf8) + [0]
    try deliver(bytes, out.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt8.self) }, capacity, written)
    written?.pointee = bytes.count - 1
}

/// The text form of a public key.
@_cdecl("sv2_key_format_public")
public func sv2_key_format_public(
    _ publicKey: UnsafePointer<UInt8>?, _ out: UnsafeMutablePointer<CChar>?, _ capacity: Int, _ written: UnsafeMutablePointer<Int>?
) -> sv2_error {
    cCall { () throws(CFailure) in
        try deliver(text: AuthorityKeyText.encode(try Sv2C.publicKey(publicKey, "public_key")), out, capacity, written)
    }
}

/// The text form of a secret key.
@_cdecl("sv2_key_format_secret")
public func sv2_key_format_secret(
    _ secret: UnsafePointer<UInt8>?, _ out: UnsafeMutablePointer<CChar>?, _ capacity: Int, _ written: UnsafeMutablePointer<Int>?
) -> sv2_error {
    cCall { () throws(CFailure) in
        try deliver(text: AuthorityKeyText.encode(try secretKey(secret, "secret_key")), out, capacity, written)
    }
}

/// Signs a certificate.
@_cdecl("sv2_certificate_sign")
public func sv2_certificate_sign(
    _ authority: UnsafePointer<UInt8>?, _ server: UnsafePointer<UInt8>?, _ validFrom: UInt32, _ notValidAfter: UInt32,
    _ certificate: UnsafeMutablePointer<UInt8>?
) -> sv2_error {
    cCall { () throws(CFailure) in
        let key = try secretKey(authority, "authority_secret_key")
        let serverKey = try Sv2C.publicKey(server, "server_public_key")
        guard notValidAfter >= validFrom else {
            throw CFailure(SV2_ERR_INVALID_ARGUMENT, "not_valid_after (\(notValidAfter)) is before valid_from (\(validFrom))")
        }
        var random = SystemRandom()
        let signed: SignatureNoiseMessage
        do throws(NoiseError) {
            signed = try SignatureNoiseMessage.sign(
                authority: key, serverStaticX: serverKey.bytes, validFrom: validFrom, validity: notValidAfter - validFrom,
                auxiliaryRandom: random.bytes(32))
        } catch {
            throw CFailure(SV2_ERR_KEY, error.description)
        }
        try copy(signed.bytes, to: certificate, "certificate")
    }
}

/// Checks a certificate.
@_cdecl("sv2_certificate_verify")
public func sv2_certificate_verify(
    _ certificate: UnsafePointer<UInt8>?, _ authority: UnsafePointer<UInt8>?, _ server: UnsafePointer<UInt8>?, _ now: UInt32
) -> sv2_error {
    cCall { () throws(CFailure) in
        let authorityKey = try Sv2C.publicKey(authority, "authority_public_key")
        let serverKey = try Sv2C.publicKey(server, "server_public_key")
        let input = try bytes(try required(certificate, "certificate"), SignatureNoiseMessage.size, "certificate")
        do throws(NoiseError) {
            try SignatureNoiseMessage(bytes: input).verify(authority: authorityKey, serverStaticX: serverKey.bytes, now: unixTime(now))
        } catch {
            throw CFailure(SV2_ERR_CERTIFICATE, error.description)
        }
    }
}

/// SHA256(SHA256(data)).
@_cdecl("sv2_hash256")
public func sv2_hash256(_ data: UnsafePointer<UInt8>?, _ len: Int, _ hash: UnsafeMutablePointer<UInt8>?) -> sv2_error {
    cCall { () throws(CFailure) in
        try copy(Sv2Hash.sha256d(try bytes(data, len, "data")), to: hash, "hash")
    }
}

/// The merkle root of a block from its coinbase and Sv2 merkle path.
@_cdecl("sv2_coinbase_merkle_root")
public func sv2_coinbase_merkle_root(
    _ coinbase: UnsafePointer<UInt8>?, _ len: Int, _ path: UnsafePointer<UInt8>?, _ pathCount: Int, _ root: UnsafeMutablePointer<UInt8>?
) -> sv2_error {
    cCall { () throws(CFailure) in
        let transaction: Transaction
        do {
            transaction = try Transaction(bytes: try bytes(coinbase, len, "coinbase_tx"))
        } catch {
            throw CFailure(SV2_ERR_MALFORMED, "coinbase_tx: \(error)")
        }
        guard pathCount >= 0, pathCount <= 255 else {
            throw CFailure(SV2_ERR_OUT_OF_RANGE, "a merkle path has at most 255 hashes, \(pathCount) given")
        }
        let flat = try bytes(path, pathCount * 32, "path")
        let hashes = stride(from: 0, to: flat.count, by: 32).compactMap { U256(littleEndianBytes: flat[$0..<$0 + 32]) }
        try copy(Merkle.root(coinbaseTxid: transaction.txid, path: hashes).littleEndianBytes, to: root, "root")
    }
}
