import FluentKit
import FluentSQL
import Foundation

/// Group commit for SQLite. Write transactions queue here; one writer takes every queued unit of work,
/// runs each inside its own SAVEPOINT of a single transaction, and commits once. With `synchronous=FULL`
/// that is one fsync of the write-ahead log for the whole batch instead of one per report, which is what lets
/// every acknowledged report be on disk without capping throughput at the disk's fsync rate.
///
/// A unit of work that throws is rolled back to its savepoint and gets its own error; the others still
/// commit. If the commit itself fails, every unit in the batch gets the error: nothing is acknowledged that
/// was not committed.
actor GroupCommitter {
    typealias Work = @Sendable (any Database) async throws -> any Sendable

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

    private static func commit(_ batch: [Job], on database: any Database, synchronous: String) async {
        let works = batch.map(\.work)
        let outcomes: [Result<any Sendable, any Error>]
        do {
            outcomes = try await database.withConnection { connection in
                guard let sql = connection as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
                try await sql.raw("PRAGMA synchronous = \(unsafeRaw: synchronous)").run()
                return try await connection.transaction { transaction in
                    let sql = transaction as! any SQLDatabase
                    var outcomes: [Result<any Sendable, any Error>] = []
                    for (index, work) in works.enumerated() {
                        try await sql.raw("SAVEPOINT unit\(unsafeRaw: String(index))").run()
                        do {
                            let value = try await work(transaction)
                            try await sql.raw("RELEASE unit\(unsafeRaw: String(index))").run()
                            outcomes.append(.success(value))
                        } catch {
                            try await sql.raw("ROLLBACK TO unit\(unsafeRaw: String(index))").run()
                            try await sql.raw("RELEASE unit\(unsafeRaw: String(index))").run()
                            outcomes.append(.failure(error))
                        }
                    }
                    return outcomes
                }
            }
        } catch {
            for job in batch { job.continuation.resume(throwing: error) }
            return
        }
        for (job, outcome) in zip(batch, outcomes) {
            job.continuation.resume(with: outcome)
        }
    }
}
