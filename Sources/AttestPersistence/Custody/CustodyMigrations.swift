import AttestCore
import AttestLedger
import FluentKit
import FluentSQL
import Foundation

/// The foundation's custody table: one row per entry (the hash-chain columns are dropped by `CreateMerkleLog`).
struct CreateCustodyEntries: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("custody_entries")
            .field("entry_index", .int64, .identifier(auto: false))
            .field("kind", .string, .required)
            .field("record_id", .string, .required)
            .field("entry", .string, .required)
            .field("previous_hash", .string, .required)
            .field("entry_hash", .string, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("custody_entries").delete()
    }
}

/// The Merkle log: every complete subtree's hash (`custody_hashes`, level 0 = leaf hashes) and every
/// published checkpoint. Existing entries keep their exact bytes and are hashed into the tree; the
/// hash-chain columns go.
struct CreateMerkleLog: AsyncMigration {
    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        if sql.dialect.name == "sqlite" {
            // WITHOUT ROWID: the hash lives in the primary-key B-tree, so reading a node is one search, not an
            // index search plus a table search (proofs read ~40 scattered nodes at a million entries).
            try await sql.raw(
                """
                CREATE TABLE custody_hashes (level INTEGER NOT NULL, position INTEGER NOT NULL, hash BLOB NOT NULL,
                PRIMARY KEY (level, position)) WITHOUT ROWID
                """
            ).run()
        } else {
            try await database.schema("custody_hashes")
                .field("level", .int64, .required)
                .field("position", .int64, .required)
                .field("hash", .data, .required)
                .compositeIdentifier(over: "level", "position")
                .create()
        }
        try await database.schema("custody_checkpoints")
            .field("size", .int64, .identifier(auto: false))
            .field("root", .string, .required)
            .field("note", .string, .required)
            .field("published_at", .datetime, .required)
            .create()
        try await sql.raw("CREATE INDEX custody_entries_record_id ON custody_entries (record_id)").run()
        struct Row: Decodable {
            var entry_index: Int64
            var entry: String
        }
        var frontier = MerkleFrontier()
        var rows: [[Cell]] = []
        for row in try await sql.select().columns("entry_index", "entry").from("custody_entries")
            .orderBy("entry_index").all(decoding: Row.self)
        {
            guard row.entry_index == Int64(frontier.size) else {
                throw PersistenceError.corruptRow("custody_entries: entry \(frontier.size) is missing")
            }
            frontier.append(TreeHash.leaf(row.entry)) { node, hash in
                rows.append(CustodyStorage.hashRow(node, hash))
            }
        }
        try await RowTable.custodyHashes.insert(rows, on: sql)
        // One column per statement: SQLite alters a table one change at a time.
        try await database.schema("custody_entries").deleteField("previous_hash").update()
        try await database.schema("custody_entries").deleteField("entry_hash").update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("custody_entries").field("previous_hash", .string).update()
        try await database.schema("custody_entries").field("entry_hash", .string).update()
        try await (database as! any SQLDatabase).raw("DROP INDEX custody_entries_record_id").run()
        try await database.schema("custody_checkpoints").delete()
        try await database.schema("custody_hashes").delete()
    }
}
