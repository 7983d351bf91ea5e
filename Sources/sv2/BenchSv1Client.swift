import Dispatch
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Sv1
import Sv2Channels
import Sv2Formats

/// Fan-out rounds of a benchmark's simulated clients: each client reports once per round when the round's job reached
/// it, and the benchmark waits for the last one.
final class BenchArrivals: @unchecked Sendable {
    private let condition = NSCondition()
    private var round = 0
    private var arrived = 0
    /// The arrivals the waiter waits for (it is woken once, not at every arrival).
    private var expected = Int.max
    private var lastArrival: UInt64 = 0

    /// Clients that have the current round's job.
    var count: Int { condition.withLock { arrived } }

    /// Starts a fan-out round: nobody has its job yet.
    func nextRound() {
        condition.withLock {
            round += 1
            arrived = 0
        }
    }

    /// A client got the round's job; `seen` is the last round it counted (so a second job in a round is not counted).
    func arrived(seen: inout Int) {
        let now = DispatchTime.now().uptimeNanoseconds
        condition.withLock {
            guard seen != round else { return }
            seen = round
            arrived += 1
            lastArrival = now
            if arrived == expected { condition.broadcast() }
        }
    }

    /// Waits until `clients` clients have the current round's job; returns the uptime nanoseconds of the last arrival.
    func wait(for clients: Int, seconds: Double) throws -> UInt64 {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        expected = clients
        while arrived < clients {
            guard condition.wait(until: deadline) else {
                throw CommandFailure("only \(arrived) of \(clients) clients got the job within \(seconds) s")
            }
        }
        return lastArrival
    }
}

/// What every simulated Sv1 miner of `sv2 bench translate` reports to: clean mining.notify arrivals per fan-out
/// round, the latest notify line (kept from the first client only), and share round trips.
final class BenchSv1Load: @unchecked Sendable {
    /// Share round trips of the submitters.
    let roundTrips = BenchRoundTrips()
    /// Clean mining.notify arrivals per round.
    let arrivals = BenchArrivals()
    private let condition = NSCondition()
    private var notifyLine: String?
    private var submitBody: ByteBuffer?

    /// Keeps the latest notify line the first client received.
    func keep(notifyLine line: ByteBufferView) {
        let text = String(decoding: line, as: UTF8.self)
        condition.withLock { notifyLine = text }
    }

    /// The latest notify line the first client received.
    var latestNotifyLine: String? { condition.withLock { notifyLine } }

    /// What follows the id in every mining.submit of the round-trip phase: the method and the params up to the
    /// nonce, for the job of `notifyLine` (the nonce, its closing quote and the rest follow).
    func prepareSubmits(notifyLine: String, extranonce2Size: Int) throws {
        guard case let .notification(_, params)? = try? Sv1Codec.decode(Array(notifyLine.utf8)), let job = Sv1Job(params: params) else {
            throw CommandFailure("cannot read the job of \(notifyLine)")
        }
        let sample = Sv1Codec.encode(.request(id: .number("0"), method: Sv1Method.submit, params: [
            .string("bench"), .string(job.jobID), .string(String(repeating: "0", count: 2 * extranonce2Size)),
            .string(Sv1Job.hex(job.nTime)), .string(""),
        ]))
        // `{"id":0` then the body, which ends with the empty nonce: `"]}` and the newline.
        let body = sample.dropFirst(#"{"id":0"#.utf8.count).dropLast(#""]}"#.utf8.count + 1)
        condition.withLock { submitBody = ByteBuffer(bytes: body) }
    }

    /// The bytes between the id and the nonce of a mining.submit (see ``prepareSubmits(notifyLine:extranonce2Size:)``).
    var submitLineBody: ByteBuffer? { condition.withLock { submitBody } }
}

/// A simulated Sv1 miner: subscribes and authorizes, counts clean mining.notify lines, and, once asked, keeps one
/// mining.submit in flight and times each response. Lines are inspected in the read buffer, never copied.
final class BenchSv1Client: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// mining.subscribe and mining.authorize, sent on connect.
    static let hello: ByteBuffer = {
        var buffer = ByteBuffer(bytes: Sv1Codec.encode(.request(id: .number("1"), method: Sv1Method.subscribe, params: [.string("sv2-bench/0.1")])))
        buffer.writeBytes(Sv1Codec.encode(.request(id: .number("2"), method: Sv1Method.authorize, params: [.string("bench"), .string("x")])))
        return buffer
    }()
    /// How a mining.notify line starts.
    static let notifyStart = Array(#"{"id":null,"method":"mining.notify""#.utf8)
    /// How every notification starts.
    private static let notificationStart = Array(#"{"id":null"#.utf8)
    /// How a clean mining.notify ends.
    private static let cleanEnd = Array("true]}".utf8)
    /// How an accepted response ends.
    private static let acceptedEnd = Array(#""error":null}"#.utf8)
    private static let submitStart = Array(#"{"id":"#.utf8)
    private static let submitEnd = Array("\"]}\n".utf8)
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// The connection's event loop.
    let eventLoop: EventLoop
    private let load: BenchSv1Load
    private let keepsNotify: Bool
    private var lines = BenchLineSplitter()
    private var seenRound = -1
    private var context: ChannelHandlerContext?
    private var submitBody: ByteBuffer?
    private var submitLine = ByteBuffer()
    private var sequence: UInt32 = 0
    private var sentAt: UInt64 = 0
    private var acceptedShares: UInt64 = 0

    /// A client on `eventLoop` reporting to `load`; `keepsNotify` makes it keep the latest notify line.
    init(load: BenchSv1Load, eventLoop: EventLoop, keepsNotify: Bool) {
        self.load = load
        self.eventLoop = eventLoop
        self.keepsNotify = keepsNotify
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(Self.hello), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let complete = lines.forEachLine(in: unwrapInboundIn(data)) { line in
            if line.starts(with: Self.notifyStart) {
                guard line.hasSuffix(Self.cleanEnd) else { return }
                load.arrivals.arrived(seen: &seenRound)
                if keepsNotify { load.keep(notifyLine: line) }
            } else if !line.starts(with: Self.notificationStart), sentAt != 0 {
                let elapsed = DispatchTime.now().uptimeNanoseconds - sentAt
                sentAt = 0
                let accepted = line.hasSuffix(Self.acceptedEnd)
                if accepted { acceptedShares += 1 }
                load.roundTrips.record(microseconds: Double(elapsed) / 1000, accepted: accepted)
                if load.roundTrips.isRunning { submit(context) }
            }
        }
        if !complete { context.close(promise: nil) }
    }

    /// Shares accepted since ``startSubmitting()`` (the timed window and after), and whether one is still
    /// unanswered; on the event loop.
    var tally: (accepted: UInt64, inFlight: Bool) { (acceptedShares, sentAt != 0) }

    /// Starts keeping one mining.submit in flight (from any thread).
    func startSubmitting() {
        eventLoop.execute {
            guard let context = self.context, let body = self.load.submitLineBody else { return }
            self.submitBody = body
            self.submit(context)
        }
    }

    /// The next share: `{"id":<n>` + the prepared body + 8 hex digits of nonce + `"]}\n`, in a buffer reused once the
    /// previous write is done (it is: its response came back).
    private func submit(_ context: ChannelHandlerContext) {
        guard let submitBody else { return }
        sequence &+= 1
        submitLine.clear()
        submitLine.writeBytes(Self.submitStart)
        submitLine.writeString(String(sequence))
        submitLine.writeImmutableBuffer(submitBody)
        for shift in stride(from: 28, through: 0, by: -4) {
            submitLine.writeInteger(Self.hexDigits[Int((sequence >> UInt32(shift)) & 0xf)])
        }
        submitLine.writeBytes(Self.submitEnd)
        sentAt = DispatchTime.now().uptimeNanoseconds
        context.writeAndFlush(wrapOutboundOut(submitLine), promise: nil)
    }
}
