import Bitcoin
import Foundation
import Sv2Binary
import Testing
@testable import Sv2Node

@Suite("datadir: persistence, crash recovery, corruption")
struct PersistenceTests {
    /// A datadir with a node bootstrapped to 110 blocks plus one block carrying generated transactions, closed.
    /// Returns its path and the tip.
    private func populatedDatadir() throws -> (String, (hash: U256, height: UInt32)) {
        let datadir = temporaryDatadir()
        let node = try RegtestNode(configuration: testConfiguration(datadir: datadir, generationRate: 10, bootstrapBlocks: 110))
        node.generateTransactions(now: testNow)
        node.generate(blocks: 1)
        let tip = node.tip
        node.close()
        return (datadir, tip)
    }

    private func blocksFile(_ datadir: String) -> String { datadir + "/blocks.dat" }

    private func expectNodeError(_ code: String, datadir: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let node = try RegtestNode(configuration: testConfiguration(datadir: datadir, bootstrapBlocks: 110))
            node.close()
            Issue.record("the node opened, expected \(code)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            #expect(!error.description.isEmpty, sourceLocation: sourceLocation)
        }
    }

    @Test("a restart from the datadir replays and revalidates to the same tip, UTXO set and generator state")
    func restart() throws {
        let (datadir, tip) = try populatedDatadir()
        defer { try? FileManager.default.removeItem(atPath: datadir) }
        #expect(tip.height == 111)
        let marker = try String(contentsOfFile: datadir + "/network", encoding: .utf8)
        #expect(marker == "regtest\n")
        let node = try RegtestNode(configuration: testConfiguration(datadir: datadir, bootstrapBlocks: 110))
        #expect(node.tip == tip, "no new bootstrap on a non-empty chain")
        #expect(node.startupWarnings.isEmpty)
        let block = try #require(node.block(hash: tip.hash))
        #expect(block.transactions.count > 1)
        #expect(node.spendableCoinCount > 0)
        node.generateTransactions(now: testNow)
        #expect(node.mempoolInfo.count == 10)
        // A block submitted after the restart is persisted too.
        node.generate(blocks: 1)
        let newTip = node.tip
        node.close()
        let again = try RegtestNode(configuration: testConfiguration(datadir: datadir))
        #expect(again.tip == newTip)
        again.close()
    }

    @Test("the block file is Bitcoin Core's framing: regtest magic, size, block; genesis first")
    func fileFormat() throws {
        let (datadir, _) = try populatedDatadir()
        defer { try? FileManager.default.removeItem(atPath: datadir) }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: blocksFile(datadir))))
        #expect(Array(bytes.prefix(4)) == [0xfa, 0xbf, 0xb5, 0xda])
        let genesis = Network.regtest.genesisBlock.serialized
        #expect(Int(bytes[4]) | Int(bytes[5]) << 8 == genesis.count)
        #expect(Array(bytes[8..<(8 + genesis.count)]) == genesis)
    }

    @Test("a truncated last record (crash mid-write) is cut away with a warning")
    func truncatedRecord() throws {
        let (datadir, tip) = try populatedDatadir()
        defer { try? FileManager.default.removeItem(atPath: datadir) }
        let path = blocksFile(datadir)
        let goodSize = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        for partial: [UInt8] in [[0xfa, 0xbf], [0xfa, 0xbf, 0xb5, 0xda, 0x10, 0x01, 0, 0, 1, 2, 3]] {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(partial))
            try handle.close()
            let warnings = ChangeLog()
            var configuration = testConfiguration(datadir: datadir)
            configuration.log = { warnings.append($0) }
            let node = try RegtestNode(configuration: configuration)
            #expect(node.tip == tip)
            #expect(node.startupWarnings.count == 1)
            #expect(warnings.lines == node.startupWarnings)
            #expect(node.startupWarnings.first?.contains("truncated") == true)
            node.close()
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == goodSize)
        }
    }

    @Test("a damaged record start or a corrupted block is a NodeError, not a crash")
    func corrupt() throws {
        let (datadir, _) = try populatedDatadir()
        defer { try? FileManager.default.removeItem(atPath: datadir) }
        let path = blocksFile(datadir)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        let genesisRecord = 8 + Network.regtest.genesisBlock.serialized.count

        var badMagic = [UInt8](original)
        badMagic[genesisRecord] = 0x00
        try Data(badMagic).write(to: URL(fileURLWithPath: path))
        expectNodeError("corrupt", datadir: datadir)

        var badLength = [UInt8](original)
        badLength[genesisRecord + 7] = 0xff
        try Data(badLength).write(to: URL(fileURLWithPath: path))
        expectNodeError("corrupt", datadir: datadir)

        var badBlock = [UInt8](original)
        badBlock[genesisRecord + 8 + 40] ^= 0x01 // inside the merkle root of block 1
        try Data(badBlock).write(to: URL(fileURLWithPath: path))
        expectNodeError("invalid_stored_block", datadir: datadir)

        var badGenesis = [UInt8](original)
        badGenesis[8 + 70] ^= 0x01
        try Data(badGenesis).write(to: URL(fileURLWithPath: path))
        expectNodeError("foreign_network", datadir: datadir)

        try original.write(to: URL(fileURLWithPath: path))
        let node = try RegtestNode(configuration: testConfiguration(datadir: datadir))
        #expect(node.tip.height == 111)
        node.close()
    }

    @Test("a foreign network marker, a missing marker, a locked datadir and a file as datadir are NodeErrors")
    func datadirProblems() throws {
        let (datadir, _) = try populatedDatadir()
        defer { try? FileManager.default.removeItem(atPath: datadir) }
        let marker = datadir + "/network"
        try "mainnet\n".write(toFile: marker, atomically: true, encoding: .utf8)
        expectNodeError("foreign_network", datadir: datadir)
        try FileManager.default.removeItem(atPath: marker)
        expectNodeError("missing_network_marker", datadir: datadir)
        try "regtest\n".write(toFile: marker, atomically: true, encoding: .utf8)

        let node = try RegtestNode(configuration: testConfiguration(datadir: datadir))
        expectNodeError("in_use", datadir: datadir)
        node.close()
        let reopened = try RegtestNode(configuration: testConfiguration(datadir: datadir))
        reopened.close()

        let file = temporaryDatadir()
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        expectNodeError("unreadable", datadir: file)
    }

    @Test("after close, submissions are refused and nothing is written")
    func closed() throws {
        let datadir = temporaryDatadir()
        defer { try? FileManager.default.removeItem(atPath: datadir) }
        let node = try RegtestNode(configuration: testConfiguration(datadir: datadir, bootstrapBlocks: 3))
        node.close()
        let block = craftedBlock(node)
        expectRejection(node.submit(block), "disk-write-failed")
        #expect(node.tip.height == 3)
    }
}

/// Collects log lines from any thread.
final class ChangeLog: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [String] = []

    func append(_ line: String) {
        lock.lock()
        recorded.append(line)
        lock.unlock()
    }

    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }
}
