/// Base58 and base58check as Bitcoin defines them (checksum = first 4 bytes of SHA256d).
public enum Base58 {
    private static let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)
    private static let indexes: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = Int8(index) }
        return table
    }()

    /// Base58 text of `bytes` (leading zero bytes become leading '1's).
    public static func encode(_ bytes: [UInt8]) -> String {
        let zeros = bytes.prefix { $0 == 0 }.count
        var digits = [UInt8]()
        for byte in bytes[zeros...] {
            var carry = Int(byte)
            for index in digits.indices {
                carry += Int(digits[index]) << 8
                digits[index] = UInt8(carry % 58)
                carry /= 58
            }
            while carry > 0 {
                digits.append(UInt8(carry % 58))
                carry /= 58
            }
        }
        let text = [UInt8](repeating: alphabet[0], count: zeros) + digits.reversed().map { alphabet[Int($0)] }
        return String(decoding: text, as: UTF8.self)
    }

    /// Bytes of base58 `text`.
    public static func decode(_ text: String) throws(Sv2CryptoError) -> [UInt8] {
        let characters = Array(text.utf8)
        let zeros = characters.prefix { $0 == alphabet[0] }.count
        var bytes = [UInt8]()
        for character in characters[zeros...] {
            guard character < 128, indexes[Int(character)] >= 0 else {
                throw .invalidBase58Character(Character(Unicode.Scalar(character)))
            }
            var carry = Int(indexes[Int(character)])
            for index in bytes.indices {
                carry += Int(bytes[index]) * 58
                bytes[index] = UInt8(carry & 0xff)
                carry >>= 8
            }
            while carry > 0 {
                bytes.append(UInt8(carry & 0xff))
                carry >>= 8
            }
        }
        return [UInt8](repeating: 0, count: zeros) + bytes.reversed()
    }

    /// base58check: payload || first 4 bytes of SHA256d(payload).
    public static func checkEncode(_ payload: [UInt8]) -> String {
        encode(payload + Sv2Hash.sha256d(payload).prefix(4))
    }

    /// The payload of a base58check string, after verifying its checksum.
    public static func checkDecode(_ text: String) throws(Sv2CryptoError) -> [UInt8] {
        let bytes = try decode(text)
        guard bytes.count >= 4 else { throw .wrongLength(what: "base58check data", expected: 4, actual: bytes.count) }
        let payload = Array(bytes.dropLast(4))
        guard Array(Sv2Hash.sha256d(payload).prefix(4)) == Array(bytes.suffix(4)) else { throw .badChecksum }
        return payload
    }
}
