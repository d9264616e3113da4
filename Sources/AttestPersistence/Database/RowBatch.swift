import AttestLedger
import FluentKit
import FluentPostgresDriver
import FluentSQL
import FluentSQLiteDriver
import Foundation

/// The row writer: what one batch of units of work writes, accumulated while the batch runs and written just
/// before it commits. The counters (report numbers, custody indexes) and the custody tree's frontier are kept in
/// memory instead of being read and upserted per unit, and new rows (`RowTable`, `[Cell]` each) are inserted
/// together. That turns five statements per report into a few per batch, on either database.
///
/// Two ways to the database. On the SQLite group committer's own connection (`SQLiteWriter`) the batch outlives
/// its transaction: counters and frontier stay in memory for the next batch unless another connection committed
/// in between, and a unit that needs a Fluent connection (`flush`) is told so with `NeedsConnection` and run again
/// on one. In a Fluent transaction (`sql`: PostgreSQL always, SQLite for such units and in memory), everything is
/// read once per transaction, after the batch's lock (see `GroupCommitter`), and `flush` writes.
///
/// Only the group committer uses this, one unit after another, so it needs no locking; it is
/// `@unchecked Sendable` because it crosses `await`s within that one task.
final class RowBatch: @unchecked Sendable {
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

    private let storage: Storage
    private var counters: [String: Int64] = [:]
    /// On a Fluent connection: every stored counter, read at the batch's first `next` (one query).
    private var storedCounters: [String: Int64]?
    private var touchedCounters: Set<String> = []
    private var frontier: MerkleFrontier?
    /// New rows, by `RowTable.rawValue`.
    private var rows = Array(repeating: [[Cell]](), count: RowTable.allCases.count)

    /// A batch inside a Fluent transaction on `sql`; `state`: the counters and frontier already read under the
    /// batch's lock (PostgreSQL, `SequencerState`), or nil to read them when first needed.
    init(sql: any SQLDatabase, state: SequencerState? = nil) {
        storage = .connection(sql)
        storedCounters = state?.counters
        loadedFrontier = state?.frontier
    }

    /// See `init(sql:state:)`.
    private let loadedFrontier: MerkleFrontier?

    /// A batch on the committer's own connection, for as long as the committer lives.
    init(writer: SQLiteWriter) {
        storage = .writer(writer)
        loadedFrontier = nil
    }

    /// The next value of counter `name` (the same numbering as `Sequences.next`).
    func next(_ name: String, first: Int64) async throws -> Int64 {
        if counters[name] == nil {
            let stored: Int64?
            switch storage {
            case .connection(let sql):
                if storedCounters == nil {
                    struct Row: Decodable {
                        var name: String
                        var value: Int64
                    }
                    // A few rows (a counter per kind of record and year): all at once, one round trip.
                    let rows = try await sql.select().columns("name", "value").from("sequences")
                        .all(decoding: Row.self)
                    storedCounters = Dictionary(rows.map { ($0.name, $0.value) }) { first, _ in first }
                }
                stored = storedCounters?[name]
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
            case .connection(let sql):
                if let loaded = loadedFrontier, loaded.size == index {
                    frontier = loaded
                } else {
                    frontier = try await CustodyStorage.frontier(size: index, on: sql)
                }
            case .writer(let writer): frontier = try writer.frontier(size: index)
            }
        }
        guard frontier?.size == index else {
            throw PersistenceError.corruptRow("custody_hashes: frontier at \(frontier?.size ?? 0), appending \(index)")
        }
        frontier?.append(leaf, completed: completed)
    }

    /// Adds rows to write with the batch.
    func add(_ table: RowTable, _ newRows: [[Cell]]) { rows[table.rawValue] += newRows }

    /// Writes everything accumulated so far. Units that read tables the batch writes, or write with the unit's
    /// Fluent database, call this first; on the committer's own connection it throws `NeedsConnection` instead.
    func flush() async throws {
        guard case .connection(let sql) = storage else { throw NeedsConnection() }
        if let postgres = sql as? any PostgresDatabase, try await flushInOneStatement(postgres, logger: sql.logger) {
            return
        }
        for table in RowTable.allCases {
            try await table.insert(rows[table.rawValue], on: sql)
        }
        let counters = pendingCounters
        if !counters.isEmpty {
            // One statement for every counter the batch moved.
            let values = counters.map { SQLQueryString("(\(bind: $0.name), \(bind: $0.value))") }
            try await sql.raw(
                "INSERT INTO sequences (name, value) VALUES \(values.joined(separator: ", "))"
                    + " ON CONFLICT (name) DO UPDATE SET value = excluded.value"
            ).run()
            for (name, value) in counters { storedCounters?[name] = value }
        }
        clearPending()
    }

    /// PostgreSQL: every row and the counters in one statement (one round trip): an `INSERT` per table as a
    /// data-modifying `WITH` clause, in `RowTable` order, and the counters' upsert as the main statement. False
    /// (nothing written) when the binds would exceed the protocol's limit; `flush` then writes table by table.
    private func flushInOneStatement(_ postgres: any PostgresDatabase, logger: Logger) async throws -> Bool {
        let counters = pendingCounters
        let binds = rows.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } } + counters.count * 2
        guard binds <= RowTable.postgresBindLimit else { return false }
        guard binds > 0 else { return true }
        var bindings = PostgresBindings(capacity: binds)
        var clauses: [String] = []
        for table in RowTable.allCases where !rows[table.rawValue].isEmpty {
            clauses.append("w\(table.rawValue) AS (\(table.postgresInsert(rows[table.rawValue], into: &bindings)))")
        }
        var main = "SELECT 1"
        if !counters.isEmpty {
            let values = counters.map { counter -> String in
                let first = bindings.count + 1
                bindings.append(counter.name)
                bindings.append(counter.value)
                return "($\(first), $\(first + 1))"
            }
            main =
                "INSERT INTO sequences (name, value) VALUES \(values.joined(separator: ", "))"
                + " ON CONFLICT (name) DO UPDATE SET value = excluded.value"
        }
        let statement = clauses.isEmpty ? main : "WITH " + clauses.joined(separator: ", ") + " " + main
        try await postgres.run(PostgresQuery(unsafeSQL: statement, binds: bindings), logger: logger)
        for (name, value) in counters { storedCounters?[name] = value }
        clearPending()
        return true
    }

    /// On the committer's own connection: writes everything accumulated, inside the transaction `writer` has open.
    /// Returns how many rows it wrote that the search index will want (reports and messages).
    func write() throws -> Int {
        guard case .writer(let writer) = storage else { throw PersistenceError.unsupportedDatabase }
        let searchable = rows[RowTable.reports.rawValue].count + rows[RowTable.messages.rawValue].count
        for table in RowTable.allCases where !rows[table.rawValue].isEmpty {
            try writer.insert(into: table, rows: rows[table.rawValue])
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
        storedCounters = nil
        frontier = nil
    }

    private var pendingCounters: [(name: String, value: Int64)] {
        touchedCounters.sorted().map { ($0, counters[$0]!) }
    }

    private func clearPending() {
        rows = rows.map { _ in [] }
        touchedCounters = []
    }
}
