import Foundation
import NIOConcurrencyHelpers
import ServiceLifecycle
import Sv2Probe

/// The reports of `sv2 probe --serve`, printed as each graded connection ends. As a service it returns once
/// `limit` connections were graded (which ends the run), or at shutdown.
final class ClientReports: Service, Sendable {
    private let limit: Int?
    private let json: Bool
    private let state = NIOLockedValueBox((graded: 0, failed: false))
    private let done: AsyncStream<Void>
    private let finish: AsyncStream<Void>.Continuation

    /// Reports as text (or JSON, one object per line); `limit` connections end the run (nil: only a signal does).
    init(limit: Int?, json: Bool) {
        self.limit = limit
        self.json = json
        (done, finish) = AsyncStream.makeStream()
    }

    /// True when some graded connection failed a check.
    var failed: Bool { state.withLockedValue { $0.failed } }

    /// Prints `report` and counts it.
    func add(_ report: ProbeReport) {
        let reached = state.withLockedValue { state -> Bool in
            print(json ? report.json : (report.lines + [""]).joined(separator: "\n"))
            fflush(nil)
            state.graded += 1
            state.failed = state.failed || !report.passed
            return limit.map { state.graded >= $0 } ?? false
        }
        if reached { finish.finish() }
    }

    func run() async throws {
        let done = self.done
        await cancelWhenGracefulShutdown {
            for await _ in done {}
        }
    }
}
