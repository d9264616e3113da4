import FluentKit
import FluentSQL

/// PostgreSQL: indexes pending search documents (`DeferPostgresSearchIndexing`) in the background, a chunk per
/// statement, on a pooled connection of its own, while the group committer goes on with the next batch. The
/// committer wakes it after every batch; it runs until nothing is pending, then waits to be woken again.
/// `stop()` (at shutdown) waits for the chunk in progress and starts no other.
actor BackgroundSearchIndexer {
    /// Documents per statement: about 35 ms of the database's time.
    static let chunk = 128

    private let database: @Sendable () -> any Database
    private var running: Task<Void, Never>?
    private var woken = false
    private var stopped = false
    /// Documents indexed so far.
    private(set) var indexed = 0

    init(database: @escaping @Sendable () -> any Database) {
        self.database = database
    }

    /// New documents may be pending.
    func wake() {
        guard !stopped else { return }
        woken = true
        if running == nil {
            running = Task { await self.run() }
        }
    }

    /// Stops after the chunk in progress, if any.
    func stop() async {
        stopped = true
        await running?.value
    }

    private func run() async {
        while woken && !stopped {
            woken = false
            do {
                while !stopped {
                    let count = try await SearchIndexer.indexPendingPostgres(
                        on: database(), limit: Self.chunk, skipLocked: true)
                    indexed += count
                    if count < Self.chunk { break }
                }
            } catch {
                // Left pending: the next wake, or the next search, indexes it.
            }
        }
        running = nil
    }
}
