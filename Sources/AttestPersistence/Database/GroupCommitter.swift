import AttestLedger
import FluentKit
import FluentSQL
import Foundation

/// Group commit, on SQLite and PostgreSQL. Write transactions queue here; one writer takes every queued unit of
/// work, runs them all in a single transaction (sharing one `RowBatch`), and commits once: one sync of the log for
/// the whole batch instead of one per report, which is what lets every acknowledged report be on disk without
/// capping throughput at the disk's sync rate. Nothing is acknowledged before its batch is committed.
///
/// On PostgreSQL each batch is a Fluent transaction that first takes a transaction-scoped advisory lock
/// (`sequencerLock`): one batch at a time across every Attest process on the database numbers reports and custody
/// entries. The batch reads the counters and the custody tree's frontier under the lock, in the same round trip
/// (`SequencerState`), and writes them back before it commits, so a process that dies mid-batch leaves neither a
/// gap nor a duplicate: its transaction rolls back, lock and all. The committer runs on its connection's event
/// loop (`EventLoopCommitterExecutor`) and keeps that connection leased while batches keep coming.
///
/// On an SQLite file the batch runs on the committer's own connection (`SQLiteWriter`), on its own thread
/// (`WriterExecutor`): units that only add rows, number them and append to the custody log — a report
/// submitted, a supplement — never leave that thread. A unit that needs a Fluent connection (it calls
/// `SQLiteBatch.flush`) is undone and run after the batch in a Fluent transaction, as every unit is on an
/// in-memory database.
///
/// A unit of work that throws gets its own error and the others still commit. If the commit itself fails,
/// every unit in the batch gets the error: nothing is acknowledged that was not committed.
actor GroupCommitter {
    typealias Work = @Sendable (any Database, RowBatch) async throws -> any Sendable

    /// Which database the committer writes to.
    enum Kind: Sendable, Equatable {
        /// SQLite; with a file, the committer writes through a connection of its own (nil: in memory).
        case sqlite(file: String?)
        case postgres
    }

    /// The PostgreSQL advisory lock key a batch holds until it commits: the ASCII of "attest" as an integer.
    static let sequencerLock: Int64 = 0x61_74_74_65_73_74

    private struct Job: Sendable {
        let work: Work
        let continuation: CheckedContinuation<any Sendable, any Error>
    }

    private let database: @Sendable () -> any Database
    private let kind: Kind
    /// Called after batches committed in Fluent transactions, when no unit waits or `searchBacklog` have
    /// accumulated (PostgreSQL: wakes its search indexer).
    private let afterBatch: @Sendable () -> Void
    private let synchronous: String
    private let maxBatch: Int
    /// The database file, when the committer has a connection of its own.
    private let path: String?
    private var writer: (SQLiteWriter, RowBatch)?
    private var pending: [Job] = []
    private var isDraining = false
    /// Documents this committer wrote that may still wait for full-text indexing (see `DeferSearchIndexing`).
    private var unindexed = 1
    /// Beyond this many, a chunk is indexed before the next batch even while submissions wait.
    static let searchBacklog = 2_048
    /// Units committed in Fluent transactions since `afterBatch` was last called.
    private var unindexedAfterBatches = 0
    /// What happened so far, counted by the committer (see `GroupCommitStatistics`).
    private var counts = GroupCommitStatistics()

    /// What happened so far, with the current connection's checkpoints and syncs.
    var statistics: GroupCommitStatistics {
        var statistics = counts
        statistics.checkpoints = writer?.0.checkpoints ?? 0
        statistics.syncs = writer?.0.syncer?.syncs ?? 0
        return statistics
    }

    /// The committer runs on its own thread (`WriterExecutor`), or on its PostgreSQL connection's event loop
    /// (`EventLoopCommitterExecutor`).
    private let executor: any CommitterExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// - Parameter kind: the database; an SQLite file gets a connection of the committer's own, an in-memory
    ///   database and PostgreSQL are reached through Fluent's connections.
    init(
        database: @escaping @Sendable () -> any Database, kind: Kind, synchronous: String, maxBatch: Int = 256,
        executor: (any CommitterExecutor)? = nil, afterBatch: @escaping @Sendable () -> Void = {}
    ) {
        self.executor = executor ?? WriterExecutor(name: "attest-writer")
        self.database = database
        self.kind = kind
        self.afterBatch = afterBatch
        if case .sqlite(let file) = kind { self.path = file } else { self.path = nil }
        self.synchronous = synchronous
        self.maxBatch = maxBatch
    }

    deinit {
        executor.stop()
    }

    /// Runs `work` in the next batch and returns its result once the batch is committed.
    func submit(_ work: @escaping Work) async throws -> any Sendable {
        try await withCheckedThrowingContinuation { continuation in
            pending.append(Job(work: work, continuation: continuation))
            if !isDraining {
                isDraining = true
                // Units of work are nonisolated async closures: with this preference they run on the writer
                // thread too, instead of hopping to the shared pool and back for each one.
                Task(executorPreference: executor) { await self.drain() }
            }
        }
    }

    private func drain() async {
        while true {
            if !pending.isEmpty && (unindexed < Self.searchBacklog || writer == nil) {
                if kind == .postgres {
                    await commitOnLeasedConnection()
                    continue
                }
                let batch = takeBatch()
                if let path {
                    await commitOnWriter(batch, path: path)
                } else {
                    await commit(batch, on: database())
                    committedInTransaction(batch.count)
                }
            } else if unindexed > 0, writer != nil {
                // Nothing waiting (or too much unindexed): one chunk of search indexing, then let submissions
                // that arrived meanwhile queue up before the next step.
                indexSearchOnWriter()
                await Task.yield()
            } else {
                break
            }
        }
        isDraining = false
    }

    private func takeBatch() -> [Job] {
        let batch = Array(pending.prefix(maxBatch))
        pending.removeFirst(batch.count)
        return batch
    }

    /// After a batch committed in a Fluent transaction: PostgreSQL's search indexer runs when submissions stop
    /// arriving, or once enough wait for it, as SQLite's does between batches: not on the two cores the
    /// submissions need.
    private func committedInTransaction(_ units: Int) {
        unindexedAfterBatches += units
        if pending.isEmpty || unindexedAfterBatches >= Self.searchBacklog {
            unindexedAfterBatches = 0
            afterBatch()
        }
    }

    /// Whether `commitPending` ran in the current lease (see `commitOnLeasedConnection`).
    private var leaseUsed = false
    /// Whether batches are being committed on a leased connection (`commitPending`).
    private var isLeased = false
    /// Whether the leased connection is in a transaction the last batch's `COMMIT AND CHAIN` opened.
    private var transactionOpen = false

    /// PostgreSQL: commits batch after batch on one connection leased from the committer's pool for as long as
    /// units keep coming, instead of leasing it again for each batch (measured: over a millisecond per batch under
    /// load). A batch that fails ends the lease, so a broken connection is replaced by the pool before the next.
    private func commitOnLeasedConnection() async {
        leaseUsed = false
        do {
            try await database().withConnection { connection in await self.commitPending(on: connection) }
        } catch {
            // No connection to be had: the next batch fails with the error, as when its commit fails.
            guard !leaseUsed else { return }
            let batch = takeBatch()
            counts.failedBatches += 1
            for job in batch { job.continuation.resume(throwing: error) }
        }
    }

    private func commitPending(on connection: any Database) async {
        leaseUsed = true
        isLeased = true
        while !pending.isEmpty {
            let batch = takeBatch()
            let failedBefore = counts.failedBatches
            await commit(batch, on: connection)
            committedInTransaction(batch.count)
            if counts.failedBatches != failedBefore { break }
        }
        isLeased = false
        if transactionOpen {
            // The chained transaction is empty: end it before the connection goes back to its pool.
            transactionOpen = false
            try? await (connection as? any SQLDatabase)?.raw("ROLLBACK").run()
        }
    }

    /// Indexes one chunk of pending search documents on the committer's own connection, in a transaction of its
    /// own. A failure is left for the next chunk or the next search (which indexes what is pending first).
    ///
    /// The chunk is not followed by a sync of the log (`WALSyncer`): nothing acknowledged depends on it. The next
    /// batch's sync makes it durable too; a power cut before that loses only the indexing, and the documents stay
    /// pending.
    private func indexSearchOnWriter() {
        guard let (connection, rows) = writer else { return }
        do {
            if try !connection.begin() { rows.forget() }
            let indexed = try connection.indexSearch(limit: SearchIndexer.chunk)
            try connection.commit()
            unindexed = indexed < SearchIndexer.chunk ? 0 : max(1, unindexed - indexed)
            counts.searchIndexed += indexed
        } catch {
            connection.rollback()
            rows.forget()
            unindexed = 0
        }
    }

    /// Runs the batch on the committer's own connection. Units that need a Fluent connection, and every unit of a
    /// batch whose rows or commit were refused, run afterwards through `commit` (one by one, for the latter).
    private func commitOnWriter(_ batch: [Job], path: String) async {
        var done: [(Job, any Sendable)] = []
        var later: [Job] = []
        var remaining = batch[...]
        do {
            if writer == nil {
                let connection = try SQLiteWriter(path: path, synchronous: synchronous)
                writer = (connection, RowBatch(writer: connection))
            }
            let (connection, rows) = writer!
            if try !connection.begin() { rows.forget() }
            let database = database()
            while let job = remaining.popFirst() {
                let mark = rows.mark()
                do {
                    done.append((job, try await job.work(database, rows)))
                } catch is RowBatch.NeedsConnection {
                    rows.restore(mark)
                    later.append(job)
                } catch {
                    rows.restore(mark)
                    job.continuation.resume(throwing: error)
                }
            }
            let searchable = try rows.write()
            try connection.commit()
            unindexed += searchable
            counts.batches += 1
            counts.units += done.count
            let committed = done
            if let syncer = connection.syncer {
                // Returned once the log holding this batch is on disk; meanwhile the next batch runs.
                syncer.afterSync { result in
                    for (job, value) in committed {
                        switch result {
                        case .success: job.continuation.resume(returning: value)
                        case .failure(let error): job.continuation.resume(throwing: error)
                        }
                    }
                }
            } else {
                for (job, value) in committed { job.continuation.resume(returning: value) }
            }
        } catch {
            // A row refused (one unit's fault) or the commit failed: nothing of this transaction was stored.
            counts.failedBatches += 1
            writer?.0.rollback()
            writer?.1.forget()
            later = done.map(\.0) + later + remaining
        }
        counts.unitsOnConnection += later.count
        if !later.isEmpty { await commit(later, on: database()) }
    }

    private struct UnitFailed: Error {
        let error: any Error
    }

    /// Runs the whole batch in one Fluent transaction. When a unit throws, that transaction is rolled back and
    /// each unit is run again on its own, so one bad unit cannot take the others down with it (savepoints per
    /// unit would do the same at two extra statements per unit on the happy path).
    private func commit(_ batch: [Job], on database: any Database) async {
        do {
            // On a leased PostgreSQL connection each batch's COMMIT opens the next one's transaction.
            let chain = kind == .postgres && isLeased
            let opened = transactionOpen
            transactionOpen = false
            let values = try await Self.run(
                batch.map(\.work), on: database, kind: kind, synchronous: synchronous, opened: opened, chain: chain)
            transactionOpen = chain
            counts.transactions += 1
            counts.unitsInTransactions += batch.count
            for (job, value) in zip(batch, values) { job.continuation.resume(returning: value) }
        } catch let failure as UnitFailed {
            counts.failedBatches += 1
            guard batch.count > 1 else {
                batch[0].continuation.resume(throwing: failure.error)
                return
            }
            for job in batch { await commit([job], on: database) }
        } catch {
            // The commit itself failed: nothing in the batch was stored, so nothing is acknowledged.
            counts.failedBatches += 1
            for job in batch { job.continuation.resume(throwing: error) }
        }
    }

    /// Runs `works` in one transaction on one connection; their values.
    ///
    /// PostgreSQL: `opened`, the connection is already in a transaction (the last batch's `COMMIT AND CHAIN`);
    /// `chain`, end with `COMMIT AND CHAIN`, leaving the next batch's transaction open and saving its `BEGIN`'s
    /// round trip. Any failure ends with a plain `ROLLBACK`: nothing is left open.
    private static func run(
        _ works: [Work], on database: any Database, kind: Kind, synchronous: String, opened: Bool = false,
        chain: Bool = false
    ) async throws -> [any Sendable] {
        try await database.withConnection { connection in
            guard let sql = connection as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
            var state: SequencerState?
            if kind == .postgres {
                do {
                    if !opened { try await sql.raw("BEGIN").run() }
                    // One batch at a time across processes, held until COMMIT or ROLLBACK (or the connection's end),
                    // and the counters and frontier as the batch committed before left them, in one round trip.
                    state = try await SequencerState.lock(sequencerLock, on: sql)
                } catch {
                    try? await sql.raw("ROLLBACK").run()
                    throw error
                }
            } else {
                try await sql.raw("PRAGMA synchronous = \(unsafeRaw: synchronous)").run()
                // Another connection (the committer's own, another process's) may hold the write lock for a moment.
                try await sql.raw("PRAGMA busy_timeout = 10000").run()
                // The write lock first: in a deferred transaction (Fluent's) the first write fails with
                // SQLITE_BUSY_SNAPSHOT, without waiting, when another connection committed after its first read.
                try await sql.raw("BEGIN IMMEDIATE").run()
            }
            let batch = RowBatch(sql: sql, state: state)
            var values: [any Sendable] = []
            values.reserveCapacity(works.count)
            do {
                for work in works {
                    values.append(try await work(connection, batch))
                }
                // A row refused here (a broken constraint) is one unit's fault too: retry one by one.
                try await batch.flush()
            } catch {
                try? await sql.raw("ROLLBACK").run()
                throw UnitFailed(error: error)
            }
            do {
                try await sql.raw(chain ? "COMMIT AND CHAIN" : "COMMIT").run()
            } catch {
                try? await sql.raw("ROLLBACK").run()
                throw error
            }
            return values
        }
    }
}

/// How the group committer ran its units of work, since the store was created.
public struct GroupCommitStatistics: Sendable, Equatable {
    /// Transactions committed on SQLite's own connection.
    public var batches = 0
    /// Units of work committed in them.
    public var units = 0
    /// Units that ran in a Fluent transaction instead: they needed a connection (`SQLiteBatch.flush`), or their
    /// batch failed.
    public var unitsOnConnection = 0
    /// Fluent transactions committed (every batch on PostgreSQL; on SQLite in memory, and for SQLite units that
    /// need a connection).
    public var transactions = 0
    /// Units of work committed in them.
    public var unitsInTransactions = 0
    /// Batches whose rows or commit were refused; their units ran again one by one on a Fluent connection.
    public var failedBatches = 0
    /// Documents the committer moved into the full-text index between batches (see `DeferSearchIndexing`).
    public var searchIndexed = 0
    /// WAL checkpoints run for the committer's current connection (see `Checkpointer`).
    public var checkpoints = 0
    /// Syncs of the log that acknowledged the current connection's batches (see `WALSyncer`).
    public var syncs = 0
}
