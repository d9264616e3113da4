import AttestLedger
import FluentKit
import FluentSQL
import FluentSQLiteDriver
import Foundation

/// What the SQLite writer accumulates while it runs one batch of units of work, written out just before the
/// batch commits: the counters (report numbers, custody indexes) and the custody tree's frontier are kept in memory
/// instead of being read and upserted per report, and new rows are inserted together. That turns five statements
/// per report into a few per batch.
///
/// Two ways to the database. On the group committer's own connection (`SQLiteWriter`) the batch outlives its
/// transaction: counters and frontier stay in memory for the next batch unless another connection committed in
/// between, and a unit that needs a Fluent connection (`flush`) is told so with `NeedsConnection` and run again on
/// one. In a Fluent transaction (`sql`), as before: everything is read once per transaction and `flush` writes.
///
/// Only the group committer uses this, one unit after another, so it needs no locking; it is
/// `@unchecked Sendable` because it crosses `await`s within that one task.
final class SQLiteBatch: @unchecked Sendable {
    private enum Storage {
        case connection(any SQLDatabase)
        case writer(SQLiteWriter)
    }

    /// Thrown by `flush` on the committer's own connection: the unit must run in a Fluent transaction.
    struct NeedsConnection: Error {}

    /// How far a batch had got, to undo one unit's work (`restore`).
    struct Mark {
        fileprivate var counters: [String: Int64]
        fileprivate var touchedCounters: Set<String>
        fileprivate var frontier: MerkleFrontier?
        fileprivate var rowCounts: [Int]
    }

    /// The tables a batch inserts into, in insertion order: a custody entry never lands without its record.
    private enum Table: Int, CaseIterable {
        case reports, messages, identifiers, custodyEntries, custodyHashes

        var name: String {
            ["reports", "report_messages", "report_identifiers", "custody_entries", "custody_hashes"][rawValue]
        }

        var columns: [String] {
            switch self {
            case .reports: SQLiteBatch.reportColumns
            case .messages: SQLiteBatch.messageColumns
            case .identifiers: ReportIdentifiers.columns
            case .custodyEntries: CustodyStorage.entryColumns
            case .custodyHashes: CustodyStorage.hashColumns
            }
        }
    }

    private let storage: Storage
    private var counters: [String: Int64] = [:]
    private var touchedCounters: Set<String> = []
    private var frontier: MerkleFrontier?
    /// New rows, by `Table.rawValue`.
    private var rows = Array(repeating: [[SQLiteData]](), count: Table.allCases.count)

    static let reportColumns = [
        "id", "reference", "year", "number", "jurisdiction", "status", "received_at", "occurred_start",
        "occurred_end", "area", "agency", "reporter_role", "categories", "content_json", "content_hash",
        "contact_ciphertext", "follow_up_code_hash", "consent_contact", "consent_prosecutor",
        "consent_statistics", "language", "is_sample", "related_profile",
    ]
    static let messageColumns = ["id", "report_id", "author", "body", "created_at", "content_hash"]
    /// Rows per INSERT statement (SQLite allows 250,000 bound values in this build; 23 × 200 is far below).
    static let rowsPerStatement = 200

    /// A batch inside a Fluent transaction on `sql`.
    init(sql: any SQLDatabase) {
        storage = .connection(sql)
    }

    /// A batch on the committer's own connection, for as long as the committer lives.
    init(writer: SQLiteWriter) {
        storage = .writer(writer)
    }

    /// The next value of counter `name` (the same numbering as `Sequences.next`).
    func next(_ name: String, first: Int64) async throws -> Int64 {
        if counters[name] == nil {
            let stored: Int64?
            switch storage {
            case .connection(let sql):
                struct Row: Decodable { var value: Int64 }
                stored = try await sql.select().column("value").from("sequences")
                    .where("name", .equal, SQLBind(name)).first(decoding: Row.self)?.value
            case .writer(let writer): stored = try writer.counter(name)
            }
            counters[name] = stored ?? (first - 1)
        }
        let value = counters[name]! + 1
        counters[name] = value
        touchedCounters.insert(name)
        return value
    }

    /// Appends a leaf to the custody tree, loading the frontier from storage the first time in this batch.
    func appendLeaf(_ leaf: TreeHash, at index: UInt64, completed: (TreeNode, TreeHash) -> Void) async throws {
        if frontier == nil {
            switch storage {
            case .connection(let sql): frontier = try await CustodyStorage.frontier(size: index, on: sql)
            case .writer(let writer): frontier = try writer.frontier(size: index)
            }
        }
        guard frontier?.size == index else {
            throw PersistenceError.corruptRow("custody_hashes: frontier at \(frontier?.size ?? 0), appending \(index)")
        }
        frontier?.append(leaf, completed: completed)
    }

    func addReport(_ values: [SQLiteData]) { rows[Table.reports.rawValue].append(values) }
    func addMessage(_ values: [SQLiteData]) { rows[Table.messages.rawValue].append(values) }
    func addIdentifiers(_ identifiers: [[SQLiteData]]) { rows[Table.identifiers.rawValue] += identifiers }

    func addCustodyEntry(_ row: [SQLiteData], nodes: [[SQLiteData]]) {
        rows[Table.custodyEntries.rawValue].append(row)
        rows[Table.custodyHashes.rawValue] += nodes
    }

    /// Writes everything accumulated so far. Units that read tables the batch writes, or write with the unit's
    /// Fluent database, call this first; on the committer's own connection it throws `NeedsConnection` instead.
    func flush() async throws {
        guard case .connection(let sql) = storage, let sqlite = sql as? any SQLiteDatabase else {
            throw NeedsConnection()
        }
        for table in Table.allCases {
            try await Self.insert(into: table.name, columns: table.columns, rows: rows[table.rawValue], on: sqlite)
        }
        for (name, value) in pendingCounters {
            try await sql.raw(
                """
                INSERT INTO sequences (name, value) VALUES (\(bind: name), \(bind: value))
                ON CONFLICT (name) DO UPDATE SET value = excluded.value
                """
            ).run()
        }
        clearPending()
    }

    /// On the committer's own connection: writes everything accumulated, inside the transaction `writer` has open.
    /// Returns how many rows it wrote that the search index will want (reports and messages).
    func write() throws -> Int {
        guard case .writer(let writer) = storage else { throw PersistenceError.unsupportedDatabase }
        let searchable = rows[Table.reports.rawValue].count + rows[Table.messages.rawValue].count
        for table in Table.allCases where !rows[table.rawValue].isEmpty {
            try writer.insert(into: table.name, columns: table.columns, rows: rows[table.rawValue])
        }
        try writer.run(
            "INSERT INTO sequences (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            rows: pendingCounters.map { [.text($0.name), .integer(Int($0.value))] })
        clearPending()
        return searchable
    }

    /// Where this batch stands, before a unit runs.
    func mark() -> Mark {
        Mark(
            counters: counters, touchedCounters: touchedCounters, frontier: frontier,
            rowCounts: rows.map(\.count))
    }

    /// Undoes everything since `mark` (a unit that failed, or that must run in a Fluent transaction).
    func restore(_ mark: Mark) {
        counters = mark.counters
        touchedCounters = mark.touchedCounters
        frontier = mark.frontier
        for (table, count) in mark.rowCounts.enumerated() { rows[table].removeSubrange(count...) }
    }

    /// Forgets what was read from the database (another connection changed it, or a transaction failed).
    func forget() {
        clearPending()
        counters = [:]
        frontier = nil
    }

    private var pendingCounters: [(name: String, value: Int64)] {
        touchedCounters.sorted().map { ($0, counters[$0]!) }
    }

    private func clearPending() {
        rows = rows.map { _ in [] }
        touchedCounters = []
    }

    /// Multi-row inserts through SQLiteNIO with ready `SQLiteData` binds (SQLKit would encode every bind through
    /// an `Encoder`). Table and column names are constants of this type, never input.
    static func insert(into table: String, columns: [String], rows: [[SQLiteData]], on sqlite: any SQLiteDatabase)
        async throws
    {
        let placeholders = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(start + rowsPerStatement, rows.count)]
            let values = Array(repeating: placeholders, count: chunk.count).joined(separator: ", ")
            let names = columns.map { "\"\($0)\"" }.joined(separator: ", ")
            _ = try await sqlite.query("INSERT INTO \"\(table)\" (\(names)) VALUES \(values)", chunk.flatMap { $0 })
            start += chunk.count
        }
    }
}
