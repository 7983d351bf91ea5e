import CSv2Native
import Sv2Binary

/// SHA256d of headers and merkle nodes without allocating, through the C implementation.
public enum ShareHash {
    /// SHA256d of `bytes` as a little-endian 256-bit integer (internal byte order).
    public static func sha256d(_ bytes: [UInt8]) -> U256 {
        bytes.withUnsafeBufferPointer { buffer in digest(buffer.baseAddress, buffer.count) }
    }

    /// SHA256d of `left || right`, a merkle tree step.
    public static func sha256d(pair left: U256, _ right: U256) -> U256 {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 8) { words in
            words[0] = left.w0.littleEndian
            words[1] = left.w1.littleEndian
            words[2] = left.w2.littleEndian
            words[3] = left.w3.littleEndian
            words[4] = right.w0.littleEndian
            words[5] = right.w1.littleEndian
            words[6] = right.w2.littleEndian
            words[7] = right.w3.littleEndian
            return digest(UnsafeRawPointer(words.baseAddress).map { $0.assumingMemoryBound(to: UInt8.self) }, 64)
        }
    }

    /// SHA256d of the 80-byte header made of these fields: the share's hash.
    public static func header(
        version: UInt32, previousBlockHash: U256, merkleRoot: U256, time: UInt32, bits: UInt32, nonce: UInt32
    ) -> U256 {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 20) { words in
            words[0] = version.littleEndian
            store(previousBlockHash, into: words, at: 1)
            store(merkleRoot, into: words, at: 9)
            words[17] = time.littleEndian
            words[18] = bits.littleEndian
            words[19] = nonce.littleEndian
            return digest(UnsafeRawPointer(words.baseAddress).map { $0.assumingMemoryBound(to: UInt8.self) }, 80)
        }
    }

    private static func store(_ value: U256, into words: UnsafeMutableBufferPointer<UInt32>, at index: Int) {
        for (offset, limb) in [value.w0, value.w1, value.w2, value.w3].enumerated() {
            words[index + 2 * offset] = UInt32(truncatingIfNeeded: limb).littleEndian
            words[index + 2 * offset + 1] = UInt32(truncatingIfNeeded: limb >> 32).littleEndian
        }
    }

    private static func digest(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> U256 {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 4) { out in
            out.withMemoryRebound(to: UInt8.self) { sv2_sha256d(bytes, count, $0.baseAddress) }
            return U256(w0: UInt64(littleEndian: out[0]), w1: UInt64(littleEndian: out[1]),
                        w2: UInt64(littleEndian: out[2]), w3: UInt64(littleEndian: out[3]))
        }
    }
}
