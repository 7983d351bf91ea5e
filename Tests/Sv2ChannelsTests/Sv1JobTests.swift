import Bitcoin
import Sv1
import Sv2Binary
import Sv2Channels
import Sv2Crypto
import Sv2Formats
import Testing

/// Sv1Job against mining.notify lines from public Stratum V1 documentation, and headers built the way Sv1 firmware
/// builds them.
@Suite("Sv1 job")
struct Sv1JobTests {
    /// The mining.notify of slush's Stratum documentation (testnet3, 2012): no merkle branch. The subscribe answer
    /// of that exchange gave extranonce1 08000002 and extranonce2_size 4; its mining.submit was
    /// ["slush.miner1", "bf", "00000001", "504e86ed", "b2957c02"].
    static let slushNotify = #"{"params":["bf","4d16b6f85af6e2198f44ae2a6de67f78487ae5611b77c6c0440b921e00000000","#
        + #""01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20020862062f503253482f04b8864e5008","#
        + #""072f736c7573682f000000000100f2052a010000001976a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac00000000","#
        + #"[],"00000002","1c2ac4af","504e86b9",false],"id":null,"method":"mining.notify"}"#

    /// A mining.notify with a two-step merkle branch, as a P2SH-era pool sent it.
    static let branchNotify = #"{"params":["b3ba","7dcf1304b04e79024066cd9481aa464e2fe17966e19edf6f33970e1fe0b60277","#
        + #""01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff270362f401062f503253482f049b8f175308","#
        + #""0d2f7374726174756d506f6f6c2f000000000100868591052100001976a91431482118f1d7504daf1c001cbfaf91ad580d176d88ac00000000","#
        + #"["57351e8569cb9d036187a79fd1844fd930c1309efcd16c46af9bb9713b6ee734","#
        + #""936ab9c33420f187acae660fcdb07ffdffa081273674f0f41e6ecc1347451d23"],"00000002","1b44dfdb","53178f9b",true],"#
        + #""id":null,"method":"mining.notify"}"#

    /// The params of a notify line and their compact JSON text as sent.
    static func params(_ line: String) throws -> (params: [JSONValue], text: String) {
        guard case let .notification(method, params) = try Sv1Codec.decode(Array(line.utf8)), method == Sv1Method.notify else {
            Issue.record("not a mining.notify")
            return ([], "")
        }
        let text = JSONValue.array(params).text
        return (params, text)
    }

    /// The 80-byte header as cgminer-style firmware builds it from the notify strings: the header as hex of
    /// big-endian words (version, prevhash as sent, merkle root word-swapped, ntime, nbits, nonce), then every
    /// 4-byte word byte-swapped; the merkle root is SHA256d folded over the branch from the coinbase
    /// coinb1 + extranonce1 + extranonce2 + coinb2.
    static func sv1Header(
        _ params: [JSONValue], extranonce1: String, extranonce2: String, ntime: String, nonce: String, version: String? = nil
    ) -> [UInt8] {
        let strings = params.map { $0.stringValue ?? "" }
        var root = Sv2Hash.sha256d(Hex.decode(strings[2] + extranonce1 + extranonce2 + strings[3]) ?? [])
        for step in params[4].arrayValue ?? [] {
            root = Sv2Hash.sha256d(root + (Hex.decode(step.stringValue ?? "") ?? []))
        }
        let text = (version ?? strings[5]) + strings[1] + Hex.encode(Sv1Job.wordSwapped(root)) + ntime + strings[6] + nonce
        return Sv1Job.wordSwapped(Hex.decode(text) ?? [])
    }

    /// The same header from the job's values the way Sv2 builds it (CoinbaseTemplate, BlockHeader).
    static func sv2Header(_ job: Sv1Job, extranonce1: [UInt8], extranonce2: [UInt8], time: UInt32, nonce: UInt32, version: UInt32? = nil) -> [UInt8] {
        let template = CoinbaseTemplate(
            prefix: job.coinbase1 + extranonce1, extranonceSize: extranonce2.count, suffix: job.coinbase2,
            merklePath: job.merkleBranch)
        return BlockHeader(
            version: version ?? job.version, previousBlockHash: job.prevHash,
            merkleRoot: template.merkleRoot(extranonce: extranonce2), time: time, bits: job.nBits, nonce: nonce
        ).serialized
    }

    @Test("slush's mining.notify: values, params round trip byte for byte, the coinbase is a 50 BTC coinbase")
    func slushKnownAnswer() throws {
        let (params, text) = try Self.params(Self.slushNotify)
        let job = try #require(Sv1Job(params: params))
        #expect(job.jobID == "bf" && job.version == 2 && job.nBits == 0x1c2a_c4af && job.nTime == 0x504e_86b9)
        #expect(!job.cleanJobs && job.merkleBranch.isEmpty)
        // Sv1's prevhash is the display hash with its 4-byte words in reverse order.
        #expect(job.prevHash.displayHex == "00000000440b921e1b77c6c0487ae5616de67f788f44ae2a5af6e2194d16b6f8")
        #expect(JSONValue.array(job.params).text == text)
        #expect(Sv1Job(params: job.params) == job)

        let extranonce = try #require(Hex.decode("08000002" + "00000001"))
        let coinbase = try Transaction(bytes: job.coinbase1 + extranonce + job.coinbase2)
        #expect(coinbase.isCoinbase && coinbase.outputs.map(\.value) == [5_000_000_000])
        // The scriptSig pushes the 8 extranonce bytes, then "/slush/" from coinb2.
        let scriptSig = try #require(coinbase.inputs.first?.scriptSig)
        let pushes: [UInt8] = [8] + extranonce + [7] + Array("/slush/".utf8)
        #expect(Array(scriptSig.suffix(pushes.count)) == pushes)
    }

    @Test("a header built from an Sv1Job equals the header Sv1 firmware builds from the same notify")
    func headersAgree() throws {
        let (slush, _) = try Self.params(Self.slushNotify)
        let slushJob = try #require(Sv1Job(params: slush))
        let firmware = Self.sv1Header(slush, extranonce1: "08000002", extranonce2: "00000001", ntime: "504e86ed", nonce: "b2957c02")
        #expect(firmware.count == 80)
        #expect(Self.sv2Header(slushJob, extranonce1: [8, 0, 0, 2], extranonce2: [0, 0, 0, 1], time: 0x504e_86ed, nonce: 0xb295_7c02)
            == firmware)

        let (branch, text) = try Self.params(Self.branchNotify)
        let job = try #require(Sv1Job(params: branch))
        #expect(job.merkleBranch.count == 2 && job.merkleBranch.first?.hex == "57351e8569cb9d036187a79fd1844fd930c1309efcd16c46af9bb9713b6ee734")
        #expect(job.cleanJobs && JSONValue.array(job.params).text == text)
        // Rolled version bits (BIP310): nVersion = (job & ~mask) | (bits & mask).
        let firmwareRolled = Self.sv1Header(
            branch, extranonce1: "2a000001", extranonce2: "00000000ff01", ntime: "53178fa0", nonce: "0000fffe", version: "04a6e002")
        #expect(Self.sv2Header(
            job, extranonce1: [0x2a, 0, 0, 1], extranonce2: [0, 0, 0, 0, 0xff, 1], time: 0x5317_8fa0, nonce: 0xfffe,
            version: (job.version & ~0x1fff_e000) | (0x04a6_e000 & 0x1fff_e000)) == firmwareRolled)
    }

    @Test("prevhash word swap is its own inverse; hex helpers")
    func helpers() throws {
        let bytes = (0..<32).map { UInt8($0 * 7 & 0xff) }
        #expect(Sv1Job.wordSwapped(Sv1Job.wordSwapped(bytes)) == bytes)
        #expect(Sv1Job.wordSwapped([1, 2, 3, 4, 5, 6, 7, 8, 9]) == [4, 3, 2, 1, 8, 7, 6, 5, 9])
        let prevHash = try #require(U256(littleEndianBytes: bytes))
        let job = Sv1Job(
            jobID: "1", prevHash: prevHash, coinbase1: [1], coinbase2: [2], merkleBranch: [prevHash], version: 0x2000_0000,
            nBits: 0x1703_4219, nTime: 0x0000_0001, cleanJobs: true)
        #expect(job.params[1].stringValue.flatMap(Hex.decode).map(Sv1Job.wordSwapped) == bytes)
        #expect(Sv1Job(params: job.params) == job)

        #expect(Sv1Job.hex(0x2000_0000) == "20000000" && Sv1Job.hex(0) == "00000000" && Sv1Job.hex(.max) == "ffffffff")
        #expect(Sv1Job.uint32(hex: "1C2AC4AF") == 0x1c2a_c4af && Sv1Job.uint32(hex: "1c2ac4af") == 0x1c2a_c4af)
        #expect(Sv1Job.uint32(hex: "2") == 2)
        for bad in ["", "123456789", "0x12", "-1", "+1", "12g4", " 12", "ffffffff0"] {
            #expect(Sv1Job.uint32(hex: bad) == nil, "\(bad)")
        }
    }

    @Test("malformed notify params give nil")
    func malformed() throws {
        let (params, _) = try Self.params(Self.branchNotify)
        #expect(Sv1Job(params: Array(params.prefix(8))) == nil)
        let replacements: [(Int, JSONValue)] = [
            (0, .number("1")), (1, .string("00")), (1, .string(String(repeating: "zz", count: 32))), (2, .string("abc")),
            (3, .null), (4, .string("")), (4, .array([.string("00")])), (4, .array([.number("1")])),
            (5, .string("100000000")), (6, .string("xyz")), (7, .number("1")), (8, .string("true")),
            (1, .string("0x" + String(repeating: "0", count: 62))),
        ]
        for (index, value) in replacements {
            var bad = params
            bad[index] = value
            #expect(Sv1Job(params: bad) == nil, "param \(index) = \(value.text)")
        }
        #expect(Sv1Job(params: params + [.string("extra")]) == Sv1Job(params: params))
    }
}
