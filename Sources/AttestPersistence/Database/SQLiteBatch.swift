import AttestLedger
import FluentKit
import FluentSQL
import FluentSQLiteDriver
import Foundation

/// What the SQLite writer accumulates while it runs one batch of units of work, written out just before the
/// batch commits: the counters (report numbers, custody indexes) and the custody tree's frontier are kept in memory
/// instead of being read and upserted per report, and new report and custody rows go out as multi-row inserts.
/// That turns five statements per report into a few per batch.
///
/// Only the group committer's single SQLite writer uses this, one unit after another inside one transaction,
/// so it needs no locking; it is `@unchecked Sendable` because it crosses `await`s within that one task.
final class SQLiteBatch: @unchecked Sendable {
    let sql: any SQLDatabase
    private var counters: [String: Int64] = [:]
    private var touchedCounters: Set<String> = []
    private var frontier: MerkleFrontier?
    private var reportRows: [[SQLiteData]] = []
    private var messageRows: [[SQLiteData]] = []
    private var identifierRows: [[SQLiteData]] = []
    private var custodyRows: [[SQLiteData]] = []
    private var custodyNodes: [[SQLiteData]] = []

    static let reportColumns = [
        "id", "reference", "year", "number", "jurisdiction", "status", "received_at", "occurred_start",
        "occurred_end", "area", "agency", "reporter_role", "categories", "content_json", "content_hash",
        "contact_ciphertext", "follow_up_code_hash", "consent_contact", "consent_prosecutor",
        "consent_statistics", "language", "is_sample", "related_profile",
    ]
    static let messageColumns = ["id", "report_id", "author", "body", "created_at", "content_hash"]
    /// Rows per INSERT statement (SQLite allows 250,000 bound values in this build; 23 × 200 is far below).
    static let rowsPerStatement = 200

    init(sql: any SQLDatabase) {
        self.sql = sql
    }

    /// The next value of counter `name` (the same numbering as `Sequences.next`).
    func next(_ name: String, first: Int64) async throws -> Int64 {
        if counters[name] == nil {
            struct Row: Decodable { var value: Int64 }
            let stored = try await sql.select().column("value").from("sequences")
                .where("name", .equal, SQLBind(name)).first(decoding: Row.self)
            counters[name] = stored?.value ?? (first - 1)
        }
        let value = counters[name]! + 1
        counters[name] = value
        touchedCounters.insert(name)
        return value
    }

    /// Appends a leaf to the custody tree, loading the frontier from storage the first time in this batch.
    func appendLeaf(_ leaf: TreeHash, at index: UInt64, completed: (TreeNode, TreeHash) -> Void) async throws {
        if frontier == nil { frontier = try await CustodyStorage.frontier(size: index, on: sql) }
        guard frontier?.size == index else {
            throw PersistenceError.corruptRow("custody_hashes: frontier at \(frontier?.size ?? 0), appending \(index)")
        }
        frontier?.append(leaf, completed: completed)
    }

    func addReport(_ values: [SQLiteData]) { reportRows.append(values) }
    func addMessage(_ values: [SQLiteData]) { messageRows.append(values) }
    func addIdentifiers(_ rows: [[SQLiteData]]) { identifierRows += rows }

    func addCustodyEntry(_ row: [SQLiteData], nodes: [[SQLiteData]]) {
        custodyRows.append(row)
        custodyNodes += nodes
    }

    /// Writes everything accumulated so far. Units that read tables the batch writes call this first.
    func flush() async throws {
        guard let sqlite = sql as? any SQLiteDatabase else { throw PersistenceError.unsupportedDatabase }
        try await Self.insert(into: "reports", columns: Self.reportColumns, rows: reportRows, on: sqlite)
        try await Self.insert(into: "report_messages", columns: Self.messageColumns, rows: messageRows, on: sqlite)
        try await Self.insert(
            into: "report_identifiers", columns: ReportIdentifiers.columns, rows: identifierRows, on: sqlite)
        try await Self.insert(
            into: "custody_entries", columns: CustodyStorage.entryColumns, rows: custodyRows, on: sqlite)
        try await Self.insert(
            into: "custody_hashes", columns: CustodyStorage.hashColumns, rows: custodyNodes, on: sqlite)
        reportRows = []
        messageRows = []
        identifierRows = []
        custodyRows = []
        custodyNodes = []
        for name in touchedCounters.sorted() {
            try await sql.raw(
                """
                INSERT INTO sequences (name, value) VALUES (\(bind: name), \(bind: counters[name]!))
                ON CONFLICT (name) DO UPDATE SET value = excluded.value
                """
            ).run()
        }
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
