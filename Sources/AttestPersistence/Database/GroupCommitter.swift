import FluentKit
import FluentSQL
import Foundation

/// Group commit for SQLite. Write transactions queue here; one writer takes every queued unit of work,
/// runs them all in a single transaction (sharing one `SQLiteBatch`), and commits once. With `synchronous=FULL`
/// that is one fsync of the write-ahead log for the whole batch instead of one per report, which is what lets
/// every acknowledged report be on disk without capping throughput at the disk's fsync rate.
///
/// A unit of work that throws gets its own error and the others still commit (see `commit`). If the commit
/// itself fails, every unit in the batch gets the error: nothing is acknowledged that was not committed.
actor GroupCommitter {
    typealias Work = @Sendable (any Database, SQLiteBatch) async throws -> any Sendable

    private struct Job {
        let work: Work
        let continuation: CheckedContinuation<any Sendable, any Error>
    }

    private let database: @Sendable () -> any Database
    private let synchronous: String
    private let maxBatch: Int
    private var pending: [Job] = []
    private var isDraining = false

    init(database: @escaping @Sendable () -> any Database, synchronous: String, maxBatch: Int = 256) {
        self.database = database
        self.synchronous = synchronous
        self.maxBatch = maxBatch
    }

    /// Runs `work` in the next batch and returns its result once the batch is committed.
    func submit(_ work: @escaping Work) async throws -> any Sendable {
        try await withCheckedThrowingContinuation { continuation in
            pending.append(Job(work: work, continuation: continuation))
            if !isDraining {
                isDraining = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let batch = Array(pending.prefix(maxBatch))
            pending.removeFirst(batch.count)
            await Self.commit(batch, on: database(), synchronous: synchronous)
        }
        isDraining = false
    }

    private struct UnitFailed: Error {
        let error: any Error
    }

    /// Runs the whole batch in one transaction. When a unit throws, that transaction is rolled back and each
    /// unit is run again on its own, so one bad unit cannot take the others down with it (savepoints per
    /// unit would do the same at two extra statements per unit on the happy path).
    private static func commit(_ batch: [Job], on database: any Database, synchronous: String) async {
        let works = batch.map(\.work)
        do {
            let values = try await run(works, on: database, synchronous: synchronous)
            for (job, value) in zip(batch, values) { job.continuation.resume(returning: value) }
        } catch let failure as UnitFailed {
            guard batch.count > 1 else {
                batch[0].continuation.resume(throwing: failure.error)
                return
            }
            for job in batch { await commit([job], on: database, synchronous: synchronous) }
        } catch {
            // The commit itself failed: nothing in the batch was stored, so nothing is acknowledged.
            for job in batch { job.continuation.resume(throwing: error) }
        }
    }

    private static func run(_ works: [Work], on database: any Database, synchronous: String) async throws
        -> [any Sendable]
    {
        try await database.withConnection { connection in
            guard let sql = connection as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
            try await sql.raw("PRAGMA synchronous = \(unsafeRaw: synchronous)").run()
            return try await connection.transaction { transaction in
                let batch = SQLiteBatch(sql: transaction as! any SQLDatabase)
                var values: [any Sendable] = []
                values.reserveCapacity(works.count)
                do {
                    for work in works {
                        values.append(try await work(transaction, batch))
                    }
                    // A row refused here (a broken constraint) is one unit's fault too: retry one by one.
                    try await batch.flush()
                } catch {
                    throw UnitFailed(error: error)
                }
                return values
            }
        }
    }
}
