import Sv2Binary
import Sv2Crypto

/// Bitcoin's transaction merkle tree: SHA256d over pairs of 32-byte hashes in internal byte order, the last hash of
/// an odd level paired with itself.
///
/// Sv2's merkle paths (NewTemplate.merkle_path, NewExtendedMiningJob.merkle_path) are ``coinbasePath(transactionIDs:)``:
/// the siblings of the coinbase (leaf 0) from the bottom up, as raw SHA256d bytes (internal order).
public enum Merkle {
    /// SHA256d(left || right).
    public static func hashPair(_ left: U256, _ right: U256) -> U256 {
        U256.fromDigest(Sv2Hash.sha256d(left.littleEndianBytes + right.littleEndianBytes))
    }

    /// The merkle root of `leaves` (Bitcoin Core's `ComputeMerkleRoot`); zero for no leaves, the leaf itself for one.
    public static func root(_ leaves: [U256]) -> U256 {
        rootDetectingMutation(leaves).root
    }

    /// The merkle root of `leaves`, and whether the tree is "mutated": some level has two equal hashes in a pair
    /// position, so a different transaction list has the same root (CVE-2012-2459; Bitcoin Core rejects such blocks).
    public static func rootDetectingMutation(_ leaves: [U256]) -> (root: U256, mutated: Bool) {
        guard !leaves.isEmpty else { return (.zero, false) }
        var level = leaves
        var mutated = false
        while level.count > 1 {
            for position in stride(from: 0, to: level.count - 1, by: 2) where level[position] == level[position + 1] {
                mutated = true
            }
            level = nextLevel(level)
        }
        return (level[0], mutated)
    }

    /// The level above `level`: hashes of consecutive pairs, the last hash paired with itself when the count is odd.
    private static func nextLevel(_ level: [U256]) -> [U256] {
        var next = [U256]()
        next.reserveCapacity((level.count + 1) / 2)
        for position in stride(from: 0, to: level.count, by: 2) {
            let right = position + 1 < level.count ? level[position + 1] : level[position]
            next.append(hashPair(level[position], right))
        }
        return next
    }

    /// The merkle branch of leaf `index`: its sibling on each level from the bottom up (a leaf without a sibling is
    /// paired with itself). Nil when `index` is not a leaf.
    public static func branch(_ leaves: [U256], index: Int) -> [U256]? {
        guard index >= 0, index < leaves.count else { return nil }
        var branch = [U256]()
        var level = leaves
        var position = index
        while level.count > 1 {
            let sibling = position ^ 1
            branch.append(sibling < level.count ? level[sibling] : level[position])
            level = nextLevel(level)
            position >>= 1
        }
        return branch
    }

    /// The Sv2 merkle path of the coinbase: its branch in a block whose other transactions have `transactionIDs`
    /// (in block order, coinbase excluded). Empty when the coinbase is alone.
    public static func coinbasePath(transactionIDs: [U256]) -> [U256] {
        guard !transactionIDs.isEmpty else { return [] }
        // The coinbase's own hash never enters its branch, so any placeholder works.
        return branch([.zero] + transactionIDs, index: 0) ?? []
    }

    /// The root reached from `leaf` at `index` through `branch`: on each level the running hash is the left input
    /// when that bit of `index` is 0, the right input otherwise.
    public static func root(leaf: U256, branch: [U256], index: Int) -> U256 {
        var hash = leaf
        var position = index
        for sibling in branch {
            hash = position & 1 == 0 ? hashPair(hash, sibling) : hashPair(sibling, hash)
            position >>= 1
        }
        return hash
    }

    /// The merkle root from the coinbase txid and its Sv2 merkle path: root = SHA256d(root || path[i]) for each entry.
    public static func root(coinbaseTxid: U256, path: [U256]) -> U256 {
        root(leaf: coinbaseTxid, branch: path, index: 0)
    }
}
