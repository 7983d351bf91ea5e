import Foundation
import NIOCore
import NIOPosix
import Sv2Network
import Sv2Node
import Sv2NodeRPC

/// Bitcoin Core's consensus engine as a test oracle: serves a node's chain over JSON-RPC and runs
/// Tests/Kernel/validate_chain.py (py-bitcoinkernel) against it.
public enum KernelCheck {
    /// The Python interpreter that has py-bitcoinkernel, from SV2_PBK_PYTHON (scripts/test sets it to .venv's);
    /// nil skips the check.
    public static let python = ProcessInfo.processInfo.environment["SV2_PBK_PYTHON"]

    /// Runs the script against `node`'s chain; returns its exit status and output.
    public static func validate(_ node: RegtestNode, python: String) throws -> (status: Int32, output: String) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let server = try JSONRPCServer.listen(
            host: "127.0.0.1", port: 0, group: group, credentials: JSONRPCCredentials(accepted: [("kernel", "check")]),
            methods: rpcMethods(node: node)
        ).wait()
        defer { try? server.close().wait() }
        let port = server.localAddress?.port ?? 0
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
        return (process.terminationStatus, text)
    }
}
