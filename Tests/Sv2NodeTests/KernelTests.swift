import Foundation
import NIOCore
import NIOPosix
import Sv2Network
import Sv2Node
import Sv2NodeRPC
import Testing

/// The Python interpreter that has py-bitcoinkernel (module pbk), from SV2_PBK_PYTHON; the kernel check runs only
/// when it is set.
private let kernelPython = ProcessInfo.processInfo.environment["SV2_PBK_PYTHON"]

@Suite("libbitcoinkernel agrees with the node (Tests/Kernel/validate_chain.py)")
struct KernelTests {
    @Test(
        "150 blocks with generated segwit transactions, served over JSON-RPC, all accepted by libbitcoinkernel",
        .enabled(if: kernelPython != nil, "set SV2_PBK_PYTHON to a python with py-bitcoinkernel")
    )
    func kernelAcceptsChain() throws {
        let python = try #require(kernelPython)
        let node = try RegtestNode(configuration: RegtestNodeConfiguration(
            generationRate: 20, randomSeed: 11, bootstrapBlocks: 110))
        while node.tip.height < 150 {
            node.generateTransactions(now: RegtestNodeConfiguration.systemClock())
            node.generate(blocks: 1)
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let server = try JSONRPCServer.listen(
            host: "127.0.0.1", port: 0, group: group, credentials: JSONRPCCredentials(accepted: [("kernel", "check")]),
            methods: rpcMethods(node: node)
        ).wait()
        defer { try? server.close().wait() }
        let port = try #require(server.localAddress?.port)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Kernel/validate_chain.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, "--rpc", "http://127.0.0.1:\(port)", "--user", "kernel", "--password", "check"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        print(text)
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("VALID: all 150 blocks"))
    }
}
