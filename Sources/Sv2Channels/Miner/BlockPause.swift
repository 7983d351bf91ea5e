/// A lane's wait after it found a block: every further hash on the same prevhash would compete with that block (on
/// regtest half of all hashes are blocks), so the lane stops until new work arrives, or resumes after
/// ``BlockPause/ticks`` ticks (a second each) when none came (the pool may have refused the block).
struct BlockPause: Sendable {
    /// Ticks a lane waits for new work before it resumes.
    static let ticks = 2

    private var waited: Int?

    /// Whether the lane is stopped.
    var isPaused: Bool { waited != nil }

    /// The lane found a block: true when that stops it now (it was hashing).
    mutating func blockFound() -> Bool {
        guard waited == nil else { return false }
        waited = 0
        return true
    }

    /// New work reached the lane.
    mutating func clear() {
        waited = nil
    }

    /// One tick: true when the lane resumes now.
    mutating func tick() -> Bool {
        guard let count = waited else { return false }
        guard count + 1 >= Self.ticks else {
            waited = count + 1
            return false
        }
        waited = nil
        return true
    }
}

extension MiningWork {
    /// The same work under `id`, one second later in ntime, so that a resumed lane does not repeat its hashes.
    func resumed(id: UInt64) -> MiningWork {
        var work = self
        work.id = id
        work.time &+= 1
        return work
    }
}
