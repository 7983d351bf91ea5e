import Sv2Binary
import Testing

@testable import Sv2Channels

/// Mining job tokens the pool checks without the job declarator: MAC, expiry, kind and commitment.
@Suite("mining job tokens: MAC, expiry, kind, commitment")
struct MiningJobTokenTests {
    static let key = [UInt8](repeating: 7, count: 32)
    static let user = MiningJobToken.userCommitment("alice")

    static func token(kind: MiningJobToken.Kind = .allocation, expiry: UInt32 = 2000, commitment: [UInt8] = user) -> MiningJobToken {
        MiningJobToken(kind: kind, expiry: expiry, nonce: [1, 2, 3, 4, 5, 6, 7, 8], commitment: commitment)
    }

    @Test("a token round-trips under its key until it expires")
    func roundTrip() throws {
        let bytes = Self.token().encoded(key: Self.key)
        #expect(bytes.count == MiningJobToken.size && bytes[0] == 1)
        #expect(try MiningJobToken.decode(bytes, key: Self.key, now: 2000).get() == Self.token())
        #expect(MiningJobToken.decode(bytes, key: Self.key, now: 2001) == .failure(.expired(at: 2000)))
        let distant = Self.token(expiry: 1000 + MiningJobToken.maximumLifetime + 1).encoded(key: Self.key)
        #expect(MiningJobToken.decode(distant, key: Self.key, now: 1000) == .failure(.tooLong))
    }

    @Test("forged, altered, short and unknown-kind tokens are refused with their reason")
    func refusals() {
        let bytes = Self.token().encoded(key: Self.key)
        #expect(MiningJobToken.decode(bytes, key: [UInt8](repeating: 8, count: 32), now: 1000) == .failure(.forged))
        var altered = bytes
        altered[2] ^= 1  // a later expiry
        #expect(MiningJobToken.decode(altered, key: Self.key, now: 1000) == .failure(.forged))
        #expect(MiningJobToken.decode(Array(bytes.dropLast()), key: Self.key, now: 1000) == .failure(.malformed))
        var unknown = bytes
        unknown[0] = 9
        #expect(MiningJobToken.decode(unknown, key: Self.key, now: 1000) == .failure(.malformed))
        #expect(MiningJobToken.Refusal.expired(at: 1).code == "stale-mining-job-token" && MiningJobToken.Refusal.forged.code == "invalid-mining-job-token")
    }

    @Test("a declared-job token commits to the tip, the coinbase's merkle path and its outputs")
    func declaredJob() {
        let path = [U256(1), U256(2)]
        let commitment = MiningJobToken.declaredJobCommitment(previousBlockHash: U256(9), merklePath: path, outputs: [1, 2])
        let others = [
            MiningJobToken.declaredJobCommitment(previousBlockHash: U256(8), merklePath: path, outputs: [1, 2]),
            MiningJobToken.declaredJobCommitment(previousBlockHash: U256(9), merklePath: [U256(2), U256(1)], outputs: [1, 2]),
            MiningJobToken.declaredJobCommitment(previousBlockHash: U256(9), merklePath: [U256(1)], outputs: [1, 2]),
            MiningJobToken.declaredJobCommitment(previousBlockHash: U256(9), merklePath: path, outputs: [1, 3]),
            MiningJobToken.userCommitment("alice"),
        ]
        #expect(Set(others + [commitment]).count == others.count + 1)
        #expect(MiningJobToken.userCommitment("alice") != MiningJobToken.userCommitment("bob"))
    }
}
