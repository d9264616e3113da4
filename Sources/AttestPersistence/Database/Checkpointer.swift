import Foundation
import VaporCSQLite

/// Copies the write-ahead log back into the SQLite database file on a thread and connection of its own, so that
/// the group committer only finishes what is left (see `watch`).
///
/// Why: by default the connection that commits past 1,000 WAL pages runs the checkpoint itself, in its `COMMIT`.
/// For the committer that was 4 % of a submission's CPU time, all of it in the one batch every few hundred
/// submissions that then waited tens of milliseconds for it (docs/benchmarks.md). Here the committer's commits
/// only note the WAL's length (`sqlite3_wal_hook`); past `pages` this thread runs passive checkpoints, which take
/// no lock the committer needs.
///
/// Durability is unchanged: a commit is durable once its WAL frames are synced; checkpointing only moves them.
/// `@unchecked Sendable`: the request flag is guarded by `condition`; the connection is used by the thread only.
final class Checkpointer: @unchecked Sendable {
    /// WAL pages after which a checkpoint is started (4 KiB pages: 16 MiB).
    static let pages: Int32 = 4_000

    private let condition = NSCondition()
    private var isRequested = false
    private var isStopped = false
    private var completed = 0
    /// The checkpointer's own connection, used by its thread only.
    private let connection: OpaquePointer?

    /// Checkpoints run so far.
    var runs: Int { condition.withLock { completed } }

    /// Opens a connection to `path` (which must exist) and starts the thread; `stop()` ends it.
    init(path: String) throws {
        var db: OpaquePointer?
        guard sqlite_nio_sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK
        else {
            sqlite_nio_sqlite3_close_v2(db)
            throw SQLiteWriter.Failure(description: "cannot open \(path) for checkpoints")
        }
        // A connection knows the file is in WAL mode only once it has looked (until then a checkpoint does nothing).
        guard sqlite_nio_sqlite3_exec(db, "PRAGMA journal_mode = WAL", nil, nil, nil) == SQLITE_OK else {
            sqlite_nio_sqlite3_close_v2(db)
            throw SQLiteWriter.Failure(description: "cannot read the journal mode of \(path)")
        }
        connection = db
        let thread = Thread { [self] in
            while waitForRequest() {
                var logged: Int32 = 0
                var copied: Int32 = 0
                _ = sqlite_nio_sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, &logged, &copied)
                condition.withLock { completed += 1 }
            }
            sqlite_nio_sqlite3_close_v2(connection)
        }
        thread.name = "attest-checkpoint"
        thread.start()
    }

    /// Blocks until a checkpoint is requested (true) or the checkpointer is stopped (false).
    private func waitForRequest() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !isRequested && !isStopped { condition.wait() }
        isRequested = false
        return !isStopped
    }

    /// Asks for a checkpoint; requests made while one runs lead to one more after it.
    func request() {
        condition.signal { isRequested = true }
    }

    /// Lets the thread close its connection and end.
    func stop() {
        condition.signal { isStopped = true }
    }

    /// Makes `db`'s commits request a checkpoint once the WAL holds `pages` pages, replacing SQLite's automatic
    /// checkpoint on that connection. `self` must outlive `db`'s use (its owner stops it after closing `db`).
    ///
    /// The log starts over from its beginning only when a write transaction begins with every frame copied, which
    /// a checkpoint on another thread, always a commit behind, never achieves. So at twice `pages` the committing
    /// connection checkpoints itself, right after its commit as SQLite's automatic checkpoint does: by then this
    /// thread has copied all but the last commits' frames, and the next transaction restarts the log.
    func watch(_ db: OpaquePointer?) {
        sqlite_nio_sqlite3_wal_hook(
            db,
            { context, db, _, pages in
                if pages >= 2 * Checkpointer.pages {
                    sqlite_nio_sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
                } else if pages >= Checkpointer.pages, let context {
                    Unmanaged<Checkpointer>.fromOpaque(context).takeUnretainedValue().request()
                }
                return SQLITE_OK
            },
            Unmanaged.passUnretained(self).toOpaque()
        )
    }
}
