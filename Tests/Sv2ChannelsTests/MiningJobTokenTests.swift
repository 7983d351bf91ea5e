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
        #expect(MiningJobToken.verify(bytes, key: Self.key, now: 1000, kind: .allocation, commitment: Self.user).map(\.expiry) == .success(2000))
    }

    @Test("forged, altered, short, unknown-kind, wrong-kind and other-user tokens are refused with their reason")
    func refusals() {
        let bytes = Self.token().encoded(key: Self.key)
        #expect(MiningJobToken.decode(bytes, key: [UInt8](repeating: 8, count: 32), now: 0) == .failure(.forged))
        var altered = bytes
        altered[2] ^= 1  // a later expiry
        #expect(MiningJobToken.decode(altered, key: Self.key, now: 0) == .failure(.forged))
        #expect(MiningJobToken.decode(Array(bytes.dropLast()), key: Self.key, now: 0) == .failure(.malformed))
        var unknown = bytes
        unknown[0] = 9
        #expect(MiningJobToken.decode(unknown, key: Self.key, now: 0) == .failure(.malformed))
        #expect(MiningJobToken.verify(bytes, key: Self.key, now: 0, kind: .declaredJob, commitment: Self.user) == .failure(.wrongKind(.allocation)))
        #expect(MiningJobToken.verify(bytes, key: Self.key, now: 0, kind: .allocation, commitment: MiningJobToken.userCommitment("bob")) == .failure(.mismatch))
        #expect(MiningJobToken.Refusal.expired(at: 1).code == "stale-mining-job-token" && MiningJobToken.Refusal.forged.code == "invalid-mining-job-token")
    }

    @Test("a declared-job token commits to the tip and the coinbase's merkle path")
    func declaredJob() {
        let path = [U256(1), U256(2)]
        let commitment = MiningJobToken.declaredJobCommitment(previousBlockHash: U256(9), merklePath: path)
        let bytes = Self.token(kind: .declaredJob, commitment: commitment).encoded(key: Self.key)
        #expect((try? MiningJobToken.verify(bytes, key: Self.key, now: 0, kind: .declaredJob, commitment: commitment).get()) != nil)
        for other in [
            MiningJobToken.declaredJobCommitment(previousBlockHash: U256(8), merklePath: path),
            MiningJobToken.declaredJobCommitment(previousBlockHash: U256(9), merklePath: [U256(2), U256(1)]),
            MiningJobToken.declaredJobCommitment(previousBlockHash: U256(9), merklePath: [U256(1)]),
        ] {
            #expect(MiningJobToken.verify(bytes, key: Self.key, now: 0, kind: .declaredJob, commitment: other) == .failure(.mismatch))
        }
    }
}
