import AttestLedger
import Foundation
import VaporCSQLite

/// Reads the custody tables of an SQLite database file through SQLite's C API, on a read-only connection of its
/// own inside one read transaction (a consistent snapshot while the server keeps appending).
///
/// Why not through SQLiteNIO: verification reads every entry and every stored hash (three million rows for a
/// million entries), and SQLiteNIO hands each row to its event loop and wraps each value — about 16 µs a row, which
/// held `attest log verify` to 62,500 entries a second. This is the same SQLite library SQLiteNIO is built on
/// (its `VaporCSQLite` module, symbols prefixed `sqlite_nio_`), so one process never mixes two SQLite copies
/// (whose POSIX locks would not see each other). Blocking calls: meant for the verification command.
/// `@unchecked Sendable`: its one reader uses it from one thread at a time (the connection is opened
/// `NOMUTEX`).
final class SQLiteCustodyScan: @unchecked Sendable {
    private var db: OpaquePointer?
    private var entriesStatement: OpaquePointer?
    private var hashesStatement: OpaquePointer?

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(path: String) throws {
        let flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
        guard sqlite_nio_sqlite3_open_v2(path, &db, flags, nil) == SQLITE_OK else {
            defer { sqlite_nio_sqlite3_close_v2(db) }
            throw Failure(description: "cannot open \(path) read-only: \(message)")
        }
        sqlite_nio_sqlite3_busy_timeout(db, 10_000)
        // Pages mapped rather than copied by a read(2) each (SQLite caps the size at its compile-time maximum).
        try execute("PRAGMA mmap_size = 2147418112")
        entriesStatement = try prepare(
            "SELECT entry_index, kind, record_id, entry FROM custody_entries WHERE entry_index >= ?1 AND entry_index < ?2 ORDER BY entry_index"
        )
        hashesStatement = try prepare(
            "SELECT position, hash FROM custody_hashes WHERE level = ?1 AND position >= ?2 AND position < ?3 ORDER BY position"
        )
        // A deferred transaction takes its snapshot at the first read.
        try execute("BEGIN")
    }

    deinit {
        sqlite_nio_sqlite3_finalize(entriesStatement)
        sqlite_nio_sqlite3_finalize(hashesStatement)
        sqlite_nio_sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
        sqlite_nio_sqlite3_close_v2(db)
    }

    private var message: String { String(cString: sqlite_nio_sqlite3_errmsg(db)) }

    private func prepare(_ statement: String) throws -> OpaquePointer? {
        var prepared: OpaquePointer?
        guard sqlite_nio_sqlite3_prepare_v2(db, statement, -1, &prepared, nil) == SQLITE_OK else {
            throw Failure(description: "cannot prepare \(statement): \(message)")
        }
        return prepared
    }

    private func execute(_ statement: String) throws {
        guard sqlite_nio_sqlite3_exec(db, statement, nil, nil, nil) == SQLITE_OK else {
            throw Failure(description: "\(statement): \(message)")
        }
    }

    private func run(_ statement: OpaquePointer?, binds: [Int64], row: (OpaquePointer?) throws -> Void) throws {
        sqlite_nio_sqlite3_reset(statement)
        for (offset, value) in binds.enumerated() {
            sqlite_nio_sqlite3_bind_int64(statement, Int32(offset + 1), value)
        }
        while true {
            switch sqlite_nio_sqlite3_step(statement) {
            case SQLITE_ROW: try row(statement)
            case SQLITE_DONE: return
            default: throw Failure(description: "reading the custody log: \(message)")
            }
        }
    }

    private static func bytes(_ statement: OpaquePointer?, _ column: Int32) -> UnsafeRawBufferPointer {
        let start = UnsafeRawPointer(sqlite_nio_sqlite3_column_text(statement, column))
        return UnsafeRawBufferPointer(start: start, count: Int(sqlite_nio_sqlite3_column_bytes(statement, column)))
    }

    /// Calls `body` with each entry with an index in `range`, in index order: its index, entry, kind and record id
    /// bytes (valid during the call only).
    func entries(
        _ range: Range<UInt64>,
        _ body: (UInt64, UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void
    ) throws {
        try run(entriesStatement, binds: [Int64(range.lowerBound), Int64(range.upperBound)]) { statement in
            body(
                UInt64(sqlite_nio_sqlite3_column_int64(statement, 0)), Self.bytes(statement, 3),
                Self.bytes(statement, 1), Self.bytes(statement, 2))
        }
    }

    /// The stored hashes of `level` at `positions`, each at `position - positions.lowerBound` (nil where none is
    /// stored); throws on a stored value that is not 32 bytes.
    func hashes(level: Int, positions: Range<UInt64>) throws -> [TreeHash?] {
        var hashes = [TreeHash?](repeating: nil, count: positions.count)
        try run(
            hashesStatement, binds: [Int64(level), Int64(positions.lowerBound), Int64(positions.upperBound)]
        ) { statement in
            let position = UInt64(sqlite_nio_sqlite3_column_int64(statement, 0))
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, 1))
            guard let bytes = sqlite_nio_sqlite3_column_blob(statement, 1), count == 32,
                let hash = TreeHash(UnsafeRawBufferPointer(start: bytes, count: count))
            else { throw PersistenceError.corruptRow("custody_hashes (\(level), \(position))") }
            hashes[Int(position - positions.lowerBound)] = hash
        }
        return hashes
    }
}
