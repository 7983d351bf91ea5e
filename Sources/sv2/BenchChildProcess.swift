import Foundation
import Synchronization

/// A copy of this `sv2` binary running another role for a benchmark (`sv2 translate`, the Sv1 echo reference), so
/// that its memory is its own and it has its own file-descriptor limit.
///
/// The benchmark runs one child at a time. It is stopped by ``stop()`` (call it in a `defer`, so an error stops it
/// too); if the benchmark exits any other way (`exit`, SIGINT, SIGTERM) an `atexit` hook and signal handlers kill it.
final class BenchChildProcess {
    /// The running child's pid (0: none), read by the exit hook and the signal handlers.
    private static let current = Atomic<Int32>(0)
    private static let hooks: Void = {
        atexit { BenchChildProcess.killCurrent() }
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber) { received in
                BenchChildProcess.killCurrent()
                _exit(128 + received)
            }
        }
    }()

    private let process = Process()

    /// The child's process id.
    var pid: Int32 { process.processIdentifier }

    /// Starts this binary with `arguments` (the subcommand first); standard output and error are the benchmark's.
    init(arguments: [String]) throws {
        Self.hooks
        let path: String
        do {
            path = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        } catch {
            throw CommandFailure("cannot find this sv2 binary through /proc/self/exe: \(error)")
        }
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        do {
            try process.run()
        } catch {
            throw CommandFailure("cannot start \(path) \(arguments.joined(separator: " ")): \(error)")
        }
        Self.current.store(process.processIdentifier, ordering: .sequentiallyConsistent)
    }

    /// True while the child has not exited.
    var isRunning: Bool { process.isRunning }

    /// Resident memory of the child (VmRSS of /proc/<pid>/status), in bytes.
    func residentBytes() throws -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kilobytes = Int(fields[1]) { return kilobytes * 1024 }
        }
        throw CommandFailure("no VmRSS for process \(pid) (has it exited?)")
    }

    /// SIGTERM, and SIGKILL when the child is still there after five seconds; returns once it has exited.
    func stop() {
        defer { Self.current.store(0, ordering: .sequentiallyConsistent) }
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date(timeIntervalSinceNow: 5)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    /// Kills the running child at once (async-signal-safe: an atomic load and kill(2)).
    private static func killCurrent() {
        let pid = current.load(ordering: .sequentiallyConsistent)
        if pid > 0 { kill(pid, SIGKILL) }
    }
}
