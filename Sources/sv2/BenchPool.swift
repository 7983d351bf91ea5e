import Bitcoin
import Foundation
import Logging
import NIOCore
import NIOPosix
import Sv2Binary
import Sv2Channels
import Sv2Crypto
import Sv2Ledger
import Sv2Messages
import Sv2Network
import Sv2Roles

/// A pool for the benchmarks, in this process: ``PoolService`` with Noise on loopback, fed by hand instead of a
/// template provider (a template with an 11-step merkle path and a network target no share meets), no vardiff and
/// no statistics log during a run.
struct BenchPool {
    /// The running service.
    let service: PoolService
    /// The port it listens on (127.0.0.1).
    let port: Int
    /// Its authority key (clients check the pool's certificate against the public half).
    let authority: Secp256k1SecretKey

    /// Starts a pool on `group` with `session` settings (recording shares in `ledger` when given, whose ``ShareLedger/run()``
    /// the caller runs) and gives it its first tip (``newTip(_:)`` 1).
    init(group: EventLoopGroup, session: PoolSessionConfiguration, ledger: ShareLedger? = nil) async throws {
        var random = SystemRandom()
        authority = Secp256k1SecretKey.generate(using: &random)
        service = PoolService(
            configuration: .init(
                listen: HostPort(host: "127.0.0.1", port: 0),
                transport: Sv2TransportConfiguration(security: .responder(Sv2ResponderIdentity(authoritySecretKey: authority))),
                session: session, rewardScript: [0x51], poolSignature: "bench",
                vardiffInterval: .seconds(3600), statisticsInterval: .seconds(3600)),
            group: group, logger: LogSettings(level: .warning).logger("bench"), ledger: ledger
        ) { _, sent in sent(true) }
        guard let port = try await service.start().port else { throw CommandFailure("the pool did not bind") }
        self.port = port
        newTip(1)
    }

    /// Stops the pool, then `group`'s event loops.
    func stop(_ group: MultiThreadedEventLoopGroup) async {
        await service.stop()
        try? await group.shutdownGracefully()
    }

    /// A new block: template `number` and a prevhash naming it, so every channel gets a new clean job.
    func newTip(_ number: UInt64) {
        service.handle(.template(NewTemplate(
            templateID: number, futureTemplate: true, version: 0x2000_0000, coinbaseTxVersion: 2, coinbasePrefix: [0x02, 0x10, 0x27],
            coinbaseTxInputSequence: 0xffff_ffff, coinbaseTxValueRemaining: 312_500_000, coinbaseTxOutputsCount: 0,
            coinbaseTxOutputs: [], coinbaseTxLocktime: 0, merklePath: (0..<11).map { U256(UInt64($0) &* 0x9e37_79b9_7f4a_7c15) })))
        service.handle(.prevHash(TemplateSetNewPrevHash(
            templateID: number, prevHash: U256(w0: number, w1: 8, w2: 7, w3: 6), headerTimestamp: UInt32(Date().timeIntervalSince1970),
            nBits: 0x1703_4219, target: .zero)))
    }
}
