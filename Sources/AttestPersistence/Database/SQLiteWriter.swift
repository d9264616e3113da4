import AttestLedger
import Foundation
import SQLiteNIO
import VaporCSQLite

/// The SQLite group committer's own connection to the database file, driven through SQLite's C API on the
/// committer's thread (`WriterExecutor`): a batch of submissions is one `BEGIN IMMEDIATE`, a few prepared inserts
/// stepped once per row, and one `COMMIT`, with no thread hop per statement.
///
/// Why not a Fluent connection: through SQLiteNIO every statement goes to a thread pool and comes back through an
/// event loop, three threads per statement and about ten statements per batch, whatever its size; under load those
/// hops and the shared pool's queue, not SQLite, set the pace of every submission (docs/benchmarks.md). This is the
/// same SQLite library SQLiteNIO links (`VaporCSQLite`), so its locks see every other connection's.
///
/// `@unchecked Sendable`: used only from the committer's executor, one call at a time (opened `NOMUTEX`).
final class SQLiteWriter: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private var db: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    /// Multi-row inserts by table and row count, so a batch neither rebuilds nor rehashes their SQL.
    private var inserts: [InsertKey: OpaquePointer] = [:]
    private struct InsertKey: Hashable {
        var table: String
        var rows: Int
    }
    /// `PRAGMA data_version` as this connection's last transaction read it, under the write lock: it changes only
    /// when another connection commits.
    private var seenVersion: Int64?
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    /// Syncs the log after commits when the configured `synchronous` waits for the disk (`FULL`, `EXTRA`): the
    /// connection itself then commits with `NORMAL` (see `WALSyncer`). Nil otherwise.
    let syncer: WALSyncer?

    /// Opens `path` (which must exist: the server's migrations created it) for writing.
    init(path: String, synchronous: String) throws {
        let syncsItself = ["full", "extra"].contains(synchronous.lowercased())
        syncer = syncsItself ? WALSyncer(walPath: path + "-wal") : nil
        checkpointer = try Checkpointer(path: path)
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
        guard sqlite_nio_sqlite3_open_v2(path, &db, flags, nil) == SQLITE_OK else {
            defer { sqlite_nio_sqlite3_close_v2(db) }
            throw Failure(description: "cannot open \(path) for writing: \(message)")
        }
        // Another process (a command) may hold the write lock for a moment.
        sqlite_nio_sqlite3_busy_timeout(db, 10_000)
        try execute("PRAGMA journal_mode = WAL")
        try execute("PRAGMA synchronous = \(syncsItself ? "NORMAL" : synchronous)")
        try execute("PRAGMA foreign_keys = ON")
        checkpointer.watch(db)
    }

    deinit {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        sqlite_nio_sqlite3_close_v2(db)
        checkpointer.stop()
        syncer?.stop()
    }

    /// Checkpoints the WAL on a thread of its own when this connection's commits have made it long.
    private let checkpointer: Checkpointer

    /// Checkpoints run so far for this connection's commits.
    var checkpoints: Int { checkpointer.runs }

    private var message: String { String(cString: sqlite_nio_sqlite3_errmsg(db)) }

    func execute(_ sql: String) throws {
        guard sqlite_nio_sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
            throw Failure(description: "\(sql): \(message)")
        }
    }

    /// The connection's `PRAGMA synchronous`: 0 off, 1 normal, 2 full, 3 extra.
    func synchronousLevel() throws -> Int {
        var level = -1
        try query("PRAGMA synchronous", []) { level = Int(sqlite_nio_sqlite3_column_int64($0, 0)) }
        return level
    }

    /// Starts a write transaction. Returns false when another connection has committed since this one's last
    /// transaction, so what the caller remembers of the database (counters, the custody frontier) is stale.
    func begin() throws -> Bool {
        try execute("BEGIN IMMEDIATE")
        let version = try dataVersion()
        defer { seenVersion = version }
        return version == seenVersion
    }

    /// Commits. `seenVersion` stays as `begin` read it under the write lock: this connection's own commits do not
    /// change `data_version`, and reading it again here could take in another connection's commit made just after
    /// this one, which the next `begin` would then miss (stale counters; seen under load as a refused batch).
    func commit() throws {
        try execute("COMMIT")
    }

    /// Rolls back whatever is open (nothing, after a failed commit that SQLite already rolled back).
    func rollback() {
        if sqlite_nio_sqlite3_get_autocommit(db) == 0 { sqlite_nio_sqlite3_exec(db, "ROLLBACK", nil, nil, nil) }
        seenVersion = nil
    }

    private func dataVersion() throws -> Int64 {
        var version: Int64 = 0
        try query("PRAGMA data_version", []) { version = sqlite_nio_sqlite3_column_int64($0, 0) }
        return version
    }

    /// Runs `sql` once per row of binds (a prepared statement, cached).
    func run(_ sql: String, rows: [[SQLiteData]]) throws {
        let statement = try prepared(sql)
        for row in rows { try step(statement, binds: row) }
    }

    /// Binds `binds` and runs `statement` to completion.
    private func step(_ statement: OpaquePointer, binds: [SQLiteData]) throws {
        try bind(binds, to: statement)
        defer { sqlite_nio_sqlite3_reset(statement) }
        guard sqlite_nio_sqlite3_step(statement) == SQLITE_DONE else {
            throw Failure(description: "\(String(cString: sqlite_nio_sqlite3_sql(statement))): \(message)")
        }
    }

    /// Inserts `rows` with multi-row statements of 1, 2, 4 … 128 rows (prepared once each, so at most eight
    /// statements per table and batch). Not one statement per row: full-text search flushes its pending index
    /// data at every statement that writes it, and a segment per report made its merges the largest cost of a
    /// batch (docs/benchmarks.md).
    func insert(into table: RowTable, rows: [[Cell]]) throws {
        for chunk in rows.powerOfTwoChunks(upTo: 128) {
            let count = chunk.count
            let key = InsertKey(table: table.name, rows: count)
            let statement: OpaquePointer
            if let cached = inserts[key] {
                statement = cached
            } else {
                let names = table.columns.map { "\"\($0)\"" }.joined(separator: ", ")
                let row = "(" + Array(repeating: "?", count: table.columns.count).joined(separator: ", ") + ")"
                statement = try prepared(
                    "INSERT INTO \"\(table.name)\" (\(names)) VALUES "
                        + Array(repeating: row, count: count).joined(separator: ", "))
                inserts[key] = statement
            }
            sqlite_nio_sqlite3_clear_bindings(statement)
            var index: Int32 = 1
            for row in chunk {
                for cell in row {
                    try bind(cell, at: index, to: statement)
                    index += 1
                }
            }
            defer { sqlite_nio_sqlite3_reset(statement) }
            guard sqlite_nio_sqlite3_step(statement) == SQLITE_DONE else {
                throw Failure(description: "inserting into \(table.name): \(message)")
            }
        }
    }

    /// Binds one cell as SQLiteKit would store its Swift value (see `Cell.sqlite`).
    private func bind(_ cell: Cell, at index: Int32, to statement: OpaquePointer) throws {
        let result: Int32
        switch cell {
        case .integer(let integer): result = sqlite_nio_sqlite3_bind_int64(statement, index, integer)
        case .bool(let bool): result = sqlite_nio_sqlite3_bind_int64(statement, index, bool ? 1 : 0)
        case .text(let text): result = bindText(text, at: index, to: statement)
        case .uuid(let uuid): result = bindText(uuid.uuidString, at: index, to: statement)
        // SQLiteNIO's `Date.sqliteData`.
        case .date(let date): result = sqlite_nio_sqlite3_bind_double(statement, index, date.timeIntervalSince1970)
        case .blob(let bytes):
            result = bytes.withUnsafeBytes {
                sqlite_nio_sqlite3_bind_blob64(statement, index, $0.baseAddress, UInt64($0.count), Self.transient)
            }
        case .null: result = sqlite_nio_sqlite3_bind_null(statement, index)
        }
        guard result == SQLITE_OK else { throw Failure(description: "binding value \(index): \(message)") }
    }

    private func bindText(_ text: String, at index: Int32, to statement: OpaquePointer) -> Int32 {
        var text = text
        return text.withUTF8 {
            sqlite_nio_sqlite3_bind_text64(
                statement, index, $0.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                UInt64($0.count), Self.transient, UInt8(SQLITE_UTF8))
        }
    }

    /// Runs a query and hands each result row to `row`.
    func query(_ sql: String, _ binds: [SQLiteData], row: (OpaquePointer) throws -> Void) throws {
        let statement = try prepared(sql)
        try bind(binds, to: statement)
        defer { sqlite_nio_sqlite3_reset(statement) }
        while true {
            switch sqlite_nio_sqlite3_step(statement) {
            case SQLITE_ROW: try row(statement)
            case SQLITE_DONE: return
            default: throw Failure(description: "\(sql): \(message)")
            }
        }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        guard sqlite_nio_sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw Failure(description: "cannot prepare \(sql): \(message)")
        }
        statements[sql] = statement
        return statement
    }

    private func bind(_ values: [SQLiteData], to statement: OpaquePointer) throws {
        sqlite_nio_sqlite3_clear_bindings(statement)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let result: Int32
            switch value {
            case .integer(let integer): result = sqlite_nio_sqlite3_bind_int64(statement, index, Int64(integer))
            case .float(let double): result = sqlite_nio_sqlite3_bind_double(statement, index, double)
            case .text(let text): result = bindText(text, at: index, to: statement)
            case .blob(let buffer):
                result = buffer.withUnsafeReadableBytes {
                    sqlite_nio_sqlite3_bind_blob64(statement, index, $0.baseAddress, UInt64($0.count), Self.transient)
                }
            case .null: result = sqlite_nio_sqlite3_bind_null(statement, index)
            }
            guard result == SQLITE_OK else { throw Failure(description: "binding value \(index): \(message)") }
        }
    }

    /// Moves up to `limit` pending documents into the full-text index (`SearchIndexer`), inside the transaction
    /// the caller opened; returns how many.
    func indexSearch(limit: Int) throws -> Int {
        for statement in SearchIndexer.statements {
            try run(statement, rows: [[.integer(limit)]])
        }
        let indexed = Int(sqlite_nio_sqlite3_changes(db))
        try run(SearchIndexer.merge, rows: [[.integer(SearchIndexer.mergePages)]])
        return indexed
    }

    // MARK: What the group committer reads

    /// The stored value of counter `name` (see `Sequences`), or nil.
    func counter(_ name: String) throws -> Int64? {
        var value: Int64?
        try query("SELECT value FROM sequences WHERE name = ?1", [.text(name)]) {
            value = sqlite_nio_sqlite3_column_int64($0, 0)
        }
        return value
    }

    /// The custody tree's frontier at `size` leaves, from the stored hashes.
    func frontier(size: UInt64) throws -> MerkleFrontier {
        var stored: [TreeNode: TreeHash] = [:]
        for node in MerkleFrontier.nodes(forSize: size) {
            try query(
                "SELECT hash FROM custody_hashes WHERE level = ?1 AND position = ?2",
                [.integer(node.level), .integer(Int(node.index))]
            ) { row in
                guard let bytes = sqlite_nio_sqlite3_column_blob(row, 0),
                    let hash = TreeHash(
                        UnsafeRawBufferPointer(start: bytes, count: Int(sqlite_nio_sqlite3_column_bytes(row, 0))))
                else { return }
                stored[node] = hash
            }
        }
        return try CustodyStorage.frontier(size: size, from: stored)
    }
}
