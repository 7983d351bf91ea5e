import Sv2Roles

/// Runs `body` while `miner` mines, then stops it (also when `body` fails).
func whileMining<P: MinerProtocol>(_ miner: CPUMiner<P>, _ body: () async throws -> Void) async throws {
    try await withCleanup(body) { await miner.stop() }
}
