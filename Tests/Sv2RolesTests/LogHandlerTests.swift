import Foundation
import Logging
import Synchronization
import Testing
@testable import Sv2Roles

/// Lines an output wrote, and a clock the test moves.
private final class Capture: Sendable {
    let lines = Mutex([String]())
    let now = Mutex(Date(timeIntervalSince1970: 1_800_000_000))

    func output(_ format: LogFormat, limiter: LogRateLimiter = LogRateLimiter(burst: 3, interval: 10)) -> LogOutput {
        LogOutput(format: format, limiter: limiter, clock: { self.now.withLock { $0 } }) { line in self.lines.withLock { $0.append(line) } }
    }

    func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
    var written: [String] { lines.withLock { $0 } }
}

@Suite("logging: text and JSON lines with metadata, repeated warnings rate-limited")
struct LogHandlerTests {
    @Test func textLinesCarryLevelLabelAndMetadata() {
        let capture = Capture()
        var logger = Logger.sv2("pool", output: capture.output(.text))
        logger[metadataKey: "peer"] = "10.0.0.1:5000"
        logger.info("channel opened", metadata: ["channel": "3", "user": "alice"])
        logger.warning("share rejected")
        logger.debug("not written at info")
        #expect(capture.written == [
            "2027-01-15T08:00:00Z pool: channel opened channel=3 peer=10.0.0.1:5000 user=alice\n",
            "2027-01-15T08:00:00Z pool: warning: share rejected peer=10.0.0.1:5000\n",
        ])
    }

    @Test func jsonLinesAreOneObjectEach() throws {
        let capture = Capture()
        let logger = Logger.sv2("tp", output: capture.output(.json))
        logger.error("block \"x\" rejected", metadata: ["height": "7"])
        let line = try #require(capture.written.first)
        #expect(line.hasSuffix("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object == ["time": "2027-01-15T08:00:00Z", "level": "error", "label": "tp", "message": "block \"x\" rejected", "height": "7"])
    }

    @Test func aFloodOfOneWarningWritesTheFirstFewAndOneSummary() {
        let capture = Capture()
        let logger = Logger.sv2("pool", output: capture.output(.text))
        for peer in 0..<1000 { logger.warning("closing: Noise handshake failed", metadata: ["peer": "10.0.0.\(peer % 250):1"]) }
        logger.warning("another kind")
        #expect(capture.written.count == 4)
        capture.advance(10)
        logger.info("later")
        #expect(capture.written.count == 6)
        #expect(capture.written[4] == "2027-01-15T08:00:10Z pool: warning: closing: Noise handshake failed (and 997 more like it in 10 s, not logged)\n")
        // The next interval starts afresh.
        logger.warning("closing: Noise handshake failed")
        #expect(capture.written.count == 7)
    }

    @Test func summariesAreFlushedWhenTheFloodStops() {
        let capture = Capture()
        let output = capture.output(.text, limiter: LogRateLimiter(burst: 1, interval: 5))
        let logger = Logger.sv2("translate", output: output)
        for _ in 0..<3 { logger.warning("line too long") }
        output.flushSummaries()
        #expect(capture.written.count == 1)
        capture.advance(5)
        output.flushSummaries()
        #expect(capture.written.last == "2027-01-15T08:00:05Z translate: warning: line too long (and 2 more like it in 5 s, not logged)\n")
        output.flushSummaries()
        #expect(capture.written.count == 2)
    }
}
