import Sv2Binary
import Sv2Channels

/// Finds headers for the probe's shares on one core: a nonce whose header meets a target (a share the server must
/// accept), or one whose header does not (a share it must refuse as too easy), with the version, time and
/// extranonce the check chose.
public enum ShareSearch {
    /// The first nonce from `start` whose header meets `target` (`meets` true) or misses it and the network target
    /// (`meets` false), trying at most `budget` nonces; nil when none did.
    public static func nonce(
        _ work: MiningWork, target: U256, meets: Bool = true, time: UInt32, version: UInt32, extranonce: [UInt8],
        start: UInt32 = 0, budget: Int
    ) -> UInt32? {
        guard let root = work.merkleRoot.root(extranonce: extranonce) else { return nil }
        let network = work.networkTarget
        var nonce = start
        for _ in 0..<max(0, budget) {
            let hash = ShareHash.header(
                version: version, previousBlockHash: work.previousBlockHash, merkleRoot: root, time: time, bits: work.bits, nonce: nonce)
            if meets ? hash <= target : (hash > target && hash > network) { return nonce }
            nonce &+= 1
        }
        return nil
    }
}
