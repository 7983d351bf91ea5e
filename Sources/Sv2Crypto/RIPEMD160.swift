/// RIPEMD-160 (Dobbertin, Bosselaers, Preneel 1996), for Bitcoin's HASH160; neither libsodium nor libsecp256k1 has
/// it. Not constant-time: it hashes public data only (scripts and public keys).
public enum RIPEMD160 {
    /// The 20-byte digest of `message`.
    public static func hash(_ message: [UInt8]) -> [UInt8] {
        var state: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476, 0xc3d2_e1f0)
        var padded = message
        padded.append(0x80)
        while padded.count % 64 != 56 { padded.append(0) }
        let bitLength = UInt64(message.count) &* 8
        for index in 0..<8 { padded.append(UInt8(truncatingIfNeeded: bitLength >> (8 * index))) }
        var words = [UInt32](repeating: 0, count: 16)
        for block in stride(from: 0, to: padded.count, by: 64) {
            for index in 0..<16 {
                let offset = block + 4 * index
                words[index] = UInt32(padded[offset]) | UInt32(padded[offset + 1]) << 8
                    | UInt32(padded[offset + 2]) << 16 | UInt32(padded[offset + 3]) << 24
            }
            compress(&state, words)
        }
        var digest = [UInt8]()
        for word in [state.0, state.1, state.2, state.3, state.4] {
            for index in 0..<4 { digest.append(UInt8(truncatingIfNeeded: word >> (8 * index))) }
        }
        return digest
    }

    private static func compress(_ state: inout (UInt32, UInt32, UInt32, UInt32, UInt32), _ x: [UInt32]) {
        var (al, bl, cl, dl, el) = state
        var (ar, br, cr, dr, er) = state
        for round in 0..<80 {
            let group = round / 16
            var t = rotate(al &+ f(round, bl, cl, dl) &+ x[leftWord[round]] &+ leftConstant[group], leftShift[round]) &+ el
            al = el; el = dl; dl = rotate(cl, 10); cl = bl; bl = t
            t = rotate(ar &+ f(79 - round, br, cr, dr) &+ x[rightWord[round]] &+ rightConstant[group], rightShift[round]) &+ er
            ar = er; er = dr; dr = rotate(cr, 10); cr = br; br = t
        }
        let t = state.1 &+ cl &+ dr
        state.1 = state.2 &+ dl &+ er
        state.2 = state.3 &+ el &+ ar
        state.3 = state.4 &+ al &+ br
        state.4 = state.0 &+ bl &+ cr
        state.0 = t
    }

    private static func f(_ round: Int, _ x: UInt32, _ y: UInt32, _ z: UInt32) -> UInt32 {
        switch round / 16 {
        case 0: return x ^ y ^ z
        case 1: return (x & y) | (~x & z)
        case 2: return (x | ~y) ^ z
        case 3: return (x & z) | (y & ~z)
        default: return x ^ (y | ~z)
        }
    }

    private static func rotate(_ value: UInt32, _ count: Int) -> UInt32 {
        (value << UInt32(count)) | (value >> UInt32(32 - count))
    }

    private static let leftConstant: [UInt32] = [0, 0x5a82_7999, 0x6ed9_eba1, 0x8f1b_bcdc, 0xa953_fd4e]
    private static let rightConstant: [UInt32] = [0x50a2_8be6, 0x5c4d_d124, 0x6d70_3ef3, 0x7a6d_76e9, 0]
    private static let leftWord = [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 7, 4, 13, 1, 10, 6, 15, 3, 12, 0, 9, 5, 2, 14, 11, 8,
        3, 10, 14, 4, 9, 15, 8, 1, 2, 7, 0, 6, 13, 11, 5, 12, 1, 9, 11, 10, 0, 8, 12, 4, 13, 3, 7, 15, 14, 5, 6, 2,
        4, 0, 5, 9, 7, 12, 2, 10, 14, 1, 3, 8, 11, 6, 15, 13,
    ]
    private static let rightWord = [
        5, 14, 7, 0, 9, 2, 11, 4, 13, 6, 15, 8, 1, 10, 3, 12, 6, 11, 3, 7, 0, 13, 5, 10, 14, 15, 8, 12, 4, 9, 1, 2,
        15, 5, 1, 3, 7, 14, 6, 9, 11, 8, 12, 2, 10, 0, 4, 13, 8, 6, 4, 1, 3, 11, 15, 0, 5, 12, 2, 13, 9, 7, 10, 14,
        12, 15, 10, 4, 1, 5, 8, 7, 6, 2, 13, 14, 0, 3, 9, 11,
    ]
    private static let leftShift = [
        11, 14, 15, 12, 5, 8, 7, 9, 11, 13, 14, 15, 6, 7, 9, 8, 7, 6, 8, 13, 11, 9, 7, 15, 7, 12, 15, 9, 11, 7, 13, 12,
        11, 13, 6, 7, 14, 9, 13, 15, 14, 8, 13, 6, 5, 12, 7, 5, 11, 12, 14, 15, 14, 15, 9, 8, 9, 14, 5, 6, 8, 6, 5, 12,
        9, 15, 5, 11, 6, 8, 13, 12, 5, 12, 13, 14, 11, 8, 5, 6,
    ]
    private static let rightShift = [
        8, 9, 9, 11, 13, 15, 15, 5, 7, 7, 8, 11, 14, 14, 12, 6, 9, 13, 15, 7, 12, 8, 9, 11, 7, 7, 12, 7, 6, 15, 13, 11,
        9, 7, 15, 11, 8, 6, 6, 14, 12, 13, 5, 14, 13, 13, 7, 5, 15, 5, 8, 11, 14, 14, 6, 14, 6, 9, 12, 9, 12, 5, 15, 8,
        8, 5, 12, 9, 12, 5, 14, 6, 8, 13, 6, 5, 15, 13, 11, 11,
    ]
}

extension Sv2Hash {
    /// Bitcoin's HASH160: RIPEMD-160 of SHA-256.
    public static func hash160(_ data: [UInt8]) -> [UInt8] {
        RIPEMD160.hash(sha256(data))
    }
}
