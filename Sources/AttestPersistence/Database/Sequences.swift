import FluentKit
import FluentSQL
import Foundation

/// Named counters (report numbers per year, custody log indexes). Incremented with a single
/// `INSERT … ON CONFLICT DO UPDATE … RETURNING`, which takes a row lock on PostgreSQL, so concurrent
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

enum Sequences {
    struct Row: Decodable { var value: Int64 }

    /// The next value of `name`, starting at `first`.
    static func next(_ name: String, first: Int64 = 1, on database: any Database) async throws -> Int64 {
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        let row = try await sql.raw(
            """
            INSERT INTO sequences (name, value) VALUES (\(bind: name), \(bind: first))
            ON CONFLICT (name) DO UPDATE SET value = sequences.value + 1
            RETURNING value
            """
        ).first(decoding: Row.self)
        guard let row else { throw PersistenceError.sequenceUnavailable(name) }
        return row.value
    }
}

/// Failures of the persistence layer that are not the database's own errors.
public enum PersistenceError: Error, Equatable {
    /// The configured database does not speak SQL.
    case unsupportedDatabase
    /// A sequence returned no value.
    case sequenceUnavailable(String)
    /// A stored row could not be read back into a domain value.
    case corruptRow(String)
}
