import Foundation
import NIOCore
import NIOPosix

/// Helpers the load benchmarks share.
enum BenchSupport {
    /// Polls `condition` every 20 ms for up to 30 s.
    static func waitFor(_ what: String, _ condition: () throws -> Bool) throws {
        let deadline = Date(timeIntervalSinceNow: 30)
        while try !condition() {
            guard Date() < deadline else { throw CommandFailure("timed out waiting for \(what)") }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    /// A port nothing listens on now (bound and released).
    static func freePort(group: EventLoopGroup) throws -> Int {
        let channel = try ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).wait()
        defer { try? channel.close().wait() }
        guard let port = channel.localAddress?.port else { throw CommandFailure("no free port") }
        return port
    }

    /// Sets the soft RLIMIT_NOFILE to the hard one; throws when that is below `needed`.
    static func raiseDescriptorLimit(needed: Int) throws {
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { throw CommandFailure("getrlimit: errno \(errno)") }
        limit.rlim_cur = limit.rlim_max
        guard setrlimit(resource, &limit) == 0 else { throw CommandFailure("setrlimit: errno \(errno)") }
        guard limit.rlim_cur >= needed else {
            throw CommandFailure("\(needed) file descriptors needed, the hard limit is \(limit.rlim_max) (ulimit -Hn)")
        }
    }
}
