import Sv2Binary
import Testing
@testable import Sv2Crypto

@Suite("RIPEMD-160 and HASH160")
struct RIPEMD160Tests {
    @Test("the designers' test vectors", arguments: [
        ("", "9c1185a5c5e9fc54612808977ee8f548b2258d31"),
        ("a", "0bdc9d2d256b3ee9daae347be6f4dc835a467ffe"),
        ("abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"),
        ("message digest", "5d0689ef49d2fae572b881b123a85ffa21595f36"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "12a053384a9c0c88e405a06c27dcf49ada62eb2b"),
        ("12345678901234567890123456789012345678901234567890123456789012345678901234567890",
         "9b752e45573d4b39f4dbd3323cab82bf63326bfb"),
    ])
    func vectors(message: String, digest: String) {
        #expect(Hex.encode(RIPEMD160.hash(Array(message.utf8))) == digest)
    }

    @Test("HASH160 of the generator point's compressed key is BIP173's P2WPKH program")
    func hash160() throws {
        let key = try #require(Hex.decode("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"))
        #expect(Hex.encode(Sv2Hash.hash160(key)) == "751e76e8199196d454941c45d1b3a323f1433bd6")
    }
}
