import FluentKit
import FluentPostgresDriver
import FluentSQL
import FluentSQLiteDriver
import Foundation

/// One value of a row that the write path inserts, in the terms of the schema rather than of one database: each
/// row writer binds it as its database stores that column type (SQLite: a UUID as its text, a date as seconds
/// since 1970, a boolean as 0 or 1, as SQLiteKit does; PostgreSQL: `uuid`, `timestamptz`, `boolean`).
enum Cell: Sendable, Equatable {
    case text(String)
    case integer(Int64)
    case blob([UInt8])
    case bool(Bool)
    case date(Date)
    case uuid(UUID)
    case null

    init(_ value: String?) { self = value.map(Cell.text) ?? .null }
    init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }

    /// As SQLiteNIO binds it, the way SQLiteKit encodes the same Swift value.
    var sqlite: SQLiteData {
        switch self {
        case .text(let text): .text(text)
        case .integer(let integer): .integer(Int(integer))
        case .blob(let bytes): .blob(ByteBuffer(bytes: bytes))
        case .bool(let bool): .integer(bool ? 1 : 0)
        case .date(let date): date.sqliteData ?? .null
        case .uuid(let uuid): .text(uuid.uuidString)
        case .null: .null
        }
    }

    /// Appends it to PostgresNIO's binds as PostgresKit encodes the same Swift value (`text`, `int8`, `bytea`,
    /// `bool`, `timestamptz`, `uuid`), directly: SQLKit would encode every bind through an `Encoder`.
    func bind(into bindings: inout PostgresBindings) {
        switch self {
        case .text(let text): bindings.append(text)
        case .integer(let integer): bindings.append(integer)
        case .blob(let bytes): bindings.append(ByteBuffer(bytes: bytes))
        case .bool(let bool): bindings.append(bool)
        case .date(let date): bindings.append(date)
        case .uuid(let uuid): bindings.append(uuid)
        case .null: bindings.appendNull()
        }
    }
}

/// The tables the write path inserts rows into, each with its columns, defined here once. Every row of these
/// tables, whichever way it reaches the database (`RowBatch` on the SQLite writer's connection or on a Fluent
/// connection of either database, or a migration), is a `[Cell]` in this column order.
enum RowTable: Int, CaseIterable, Sendable {
    // In insertion order: a custody entry never lands without its record.
    case reports, messages, identifiers, searchDocuments, custodyEntries, custodyHashes

    var name: String {
        [
            "reports", "report_messages", "report_identifiers", "search_documents", "custody_entries",
            "custody_hashes",
        ][rawValue]
    }

    var columns: [String] {
        switch self {
        case .reports:
            [
                "id", "reference", "year", "number", "jurisdiction", "status", "received_at", "occurred_start",
                "occurred_end", "area", "agency", "reporter_role", "categories", "content_json", "content_hash",
                "contact_ciphertext", "follow_up_code_hash", "consent_contact", "consent_prosecutor",
                "consent_statistics", "language", "is_sample", "related_profile",
            ]
        case .messages: ["id", "report_id", "author", "body", "created_at", "content_hash"]
        case .identifiers: ["report_id", "kind", "value", "is_whole"]
        case .searchDocuments: ["source_id", "kind", "reference", "body"]
        case .custodyEntries: ["entry_index", "kind", "record_id", "entry"]
        case .custodyHashes: ["level", "position", "hash"]
        }
    }

    /// The `INSERT` of `rows` for PostgreSQL, its binds appended to `bindings` (numbered after those already
    /// there).
    func postgresInsert(_ rows: some Collection<[Cell]>, into bindings: inout PostgresBindings) -> String {
        let names = columns.map { "\"\($0)\"" }.joined(separator: ", ")
        var values: [String] = []
        values.reserveCapacity(rows.count)
        for row in rows {
            let first = bindings.count + 1
            for cell in row { cell.bind(into: &bindings) }
            values.append("(" + (first..<first + row.count).map { "$\($0)" }.joined(separator: ", ") + ")")
        }
        return "INSERT INTO \"\(name)\" (\(names)) VALUES " + values.joined(separator: ", ")
    }

    /// Binds PostgreSQL's protocol allows in one statement.
    static let postgresBindLimit = 65_535

    /// Rows per INSERT statement on a Fluent connection: far below SQLite's and PostgreSQL's bind limits
    /// (250,000 in this SQLite build, 65,535 in PostgreSQL's protocol) at 23 columns.
    static let rowsPerStatement = 200

    /// Inserts `rows` on a Fluent connection of either database, with multi-row statements; binds go to the
    /// database's own driver (SQLiteNIO, PostgresNIO) ready-made.
    func insert(_ rows: [[Cell]], on sql: any SQLDatabase) async throws {
        let names = columns.map { "\"\($0)\"" }.joined(separator: ", ")
        for chunk in rows.chunks(of: Self.rowsPerStatement) {
            if let sqlite = sql as? any SQLiteDatabase {
                let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
                _ = try await sqlite.query(
                    "INSERT INTO \"\(name)\" (\(names)) VALUES "
                        + Array(repeating: row, count: chunk.count).joined(separator: ", "),
                    chunk.flatMap { $0.map(\.sqlite) })
            } else if let postgres = sql as? any PostgresDatabase {
                var bindings = PostgresBindings(capacity: chunk.count * columns.count)
                let statement = postgresInsert(chunk, into: &bindings)
                try await postgres.run(PostgresQuery(unsafeSQL: statement, binds: bindings), logger: sql.logger)
            } else {
                throw PersistenceError.unsupportedDatabase
            }
        }
    }
}

extension PostgresDatabase {
    /// Runs one statement with PostgresNIO's binds, on this database's connection.
    func run(_ query: PostgresQuery, logger: Logger) async throws {
        try await withConnection { connection in
            connection.eventLoop.makeFutureWithTask { _ = try await connection.query(query, logger: logger) }
        }.get()
    }
}
