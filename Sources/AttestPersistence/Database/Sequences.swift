import FluentKit
import FluentSQL
import Foundation

/// Named counters (report numbers per year, custody log indexes). A batch of units of work reads each once and
/// writes it back before it commits (`RowBatch`), under the batch's lock (`GroupCommitter`), so concurrent
/// transactions, even in several Attest processes, never receive the same number.
struct CreateSequences: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("sequences")
            .field("name", .string, .identifier(auto: false))
            .field("value", .int64, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("sequences").delete()
    }
}

/// Failures of the persistence layer that are not the database's own errors.
public enum PersistenceError: Error, Equatable {
    /// The configured database does not speak SQL.
    case unsupportedDatabase
    /// A stored row could not be read back into a domain value.
    case corruptRow(String)
}
