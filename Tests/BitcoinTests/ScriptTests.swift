import Sv2Binary
import Sv2TestSupport
import Testing
@testable import Bitcoin

@Suite("scripts, BIP34 heights, subsidy, sigops")
struct ScriptTests {
    @Test("BIP34 height pushes match CScript() << nHeight and parse back")
    func heightPushes() throws {
        let cases: [(UInt32, String)] = [
            (0, "00"), (1, "51"), (2, "52"), (16, "60"), (17, "0111"), (127, "017f"), (128, "028000"), (255, "02ff00"),
            (256, "020001"), (32767, "02ff7f"), (32768, "03008000"), (65535, "03ffff00"), (65536, "03000001"),
            (840_000, "0340d10c"), (8_388_607, "03ffff7f"), (8_388_608, "0400008000"), (2_147_483_647, "04ffffff7f"),
            (2_147_483_648, "050000008000"), (.max, "05ffffffff00"),
        ]
        for (height, push) in cases {
            #expect(Hex.encode(BIP34.heightPush(height)) == push, "height \(height)")
            #expect(try BIP34.height(inScriptSig: hex(push)) == height, "height \(height)")
            #expect(try BIP34.height(inScriptSig: hex(push) + [0x00, 0x08, 1, 2, 3]) == height, "height \(height) + more")
        }
    }

    @Test("BIP34 heights in the SRI and Braiins coinbase scriptSigs")
    func sriHeights() throws {
        let cases: [(String, UInt32)] = [("5200", 2), ("029f0000", 159), ("0172", 114), ("02450800162f", 2117), ("03cee20d0f2f", 910_030)]
        for (scriptSig, height) in cases {
            #expect(try BIP34.height(inScriptSig: hex(scriptSig)) == height, "\(scriptSig)")
        }
    }

    @Test("BIP34 parser rejects what Bitcoin Core's check would reject")
    func invalidHeights() {
        let cases: [(String, String)] = [
            ("", "empty"), ("0105", "5 must be OP_5"), ("0100", "0 must be OP_0"), ("020100", "non-minimal 1"),
            ("0181", "negative"), ("4f", "OP_1NEGATE"), ("030102", "truncated push"), ("6a", "OP_RETURN"),
            ("4c0105", "PUSHDATA1"), ("06010203040506", "6-byte push"), ("0500000000ff", "negative 5-byte"),
            ("050000000001", "above 2^32-1"), ("020080", "negative zero"),
        ]
        for (scriptSig, reason) in cases {
            expectError("invalid_coinbase_height", "\(reason)") { () throws(BitcoinError) in
                _ = try BIP34.height(inScriptSig: hex(scriptSig))
            }
        }
    }

    @Test("block subsidy halves every interval and reaches zero without trapping")
    func subsidy() {
        #expect(BlockSubsidy.amount(height: 0, halvingInterval: 210_000) == 5_000_000_000)
        #expect(BlockSubsidy.amount(height: 209_999, halvingInterval: 210_000) == 5_000_000_000)
        #expect(BlockSubsidy.amount(height: 210_000, halvingInterval: 210_000) == 2_500_000_000)
        #expect(BlockSubsidy.amount(height: 840_000, halvingInterval: 210_000) == 312_500_000)
        #expect(BlockSubsidy.amount(height: 6_929_999, halvingInterval: 210_000) == 1)
        #expect(BlockSubsidy.amount(height: 6_930_000, halvingInterval: 210_000) == 0)
        #expect(BlockSubsidy.amount(height: 64 * 150, halvingInterval: 150) == 0)
        #expect(BlockSubsidy.amount(height: .max, halvingInterval: 1) == 0)
        #expect(BlockSubsidy.amount(height: 5, halvingInterval: 0) == 0)
        #expect(Network.regtest.blockSubsidy(height: 149) == 5_000_000_000)
        #expect(Network.regtest.blockSubsidy(height: 150) == 2_500_000_000)
        #expect(Network.mainnet.blockSubsidy(height: 150) == 5_000_000_000)
    }

    @Test("pushes: lengths select the opcode; integers as CScript << int64")
    func pushes() {
        #expect(Script.pushData([]) == [0x00])
        #expect(Script.pushData([7]) == [0x01, 7])
        #expect(Script.pushData([UInt8](repeating: 1, count: 75)).prefix(1) == [0x4b])
        #expect(Script.pushData([UInt8](repeating: 1, count: 76)).prefix(2) == [0x4c, 76])
        #expect(Script.pushData([UInt8](repeating: 1, count: 255)).prefix(2) == [0x4c, 0xff])
        #expect(Script.pushData([UInt8](repeating: 1, count: 256)).prefix(3) == [0x4d, 0x00, 0x01])
        #expect(Script.pushData([UInt8](repeating: 1, count: 65536)).prefix(5) == [0x4e, 0x00, 0x00, 0x01, 0x00])
        #expect(Script.pushInteger(-1) == [0x4f])
        #expect(Script.pushInteger(-2) == [0x01, 0x82])
        #expect(Script.pushInteger(-128) == [0x02, 0x80, 0x80])
        #expect(Script.scriptNumber(Int64.min) == [0, 0, 0, 0, 0, 0, 0, 0x80, 0x80])
        #expect(Script.scriptNumber(Int64.max) == [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])
        for value: Int64 in [-300, -129, -1, 1, 127, 128, 255, 256, 1 << 40, Int64.max, Int64.min + 1] {
            #expect(Script.decodeScriptNumber(Script.scriptNumber(value)) == value, "\(value)")
        }
    }

    @Test("instructions and legacy sigop counts as GetSigOpCount")
    func sigops() throws {
        let p2pkh = hex("76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac")
        let instructions = try Script.instructions(p2pkh)
        #expect(instructions.map(\.opcode) == [0x76, 0xa9, 0x14, 0x88, 0xac])
        #expect(instructions[2].data?.count == 20 && instructions[2].offset == 2 && instructions[4].offset == 24)
        #expect(Script.sigOpCount(p2pkh, accurate: false) == 1)
        #expect(Script.sigOpCount(hex("ae"), accurate: false) == 20)
        #expect(Script.sigOpCount(hex("52ae"), accurate: true) == 2)
        #expect(Script.sigOpCount(hex("52ae"), accurate: false) == 20)
        #expect(Script.sigOpCount(hex("60af"), accurate: true) == 16)
        #expect(Script.sigOpCount(hex("00ae"), accurate: true) == 20)
        #expect(Script.sigOpCount(hex("acadac"), accurate: false) == 3)
        #expect(Script.sigOpCount(hex("ac4c"), accurate: false) == 1, "counting stops at a truncated push")
        #expect(Script.sigOpCount(hex("ac4d01ac"), accurate: false) == 1)
        #expect(Script.sigOpCount(hex("01ac"), accurate: false) == 0, "pushed bytes are data")
        expectError("truncated_script_push") { () throws(BitcoinError) in _ = try Script.instructions(hex("4e0000")) }
        expectError("truncated_script_push") { () throws(BitcoinError) in _ = try Script.instructions(hex("4effffffff00")) }
        #expect(try Script.instructions([]) == [])
        let pushes = try Script.instructions(hex("4c00") + hex("4d0100aa") + hex("4e01000000bb"))
        #expect(pushes.map(\.data) == [[], [0xaa], [0xbb]])
    }
}
