import AttestCore
import FluentKit
import FluentSQL
import Foundation

/// One custody log entry: its canonical JSON and the hash chaining it to the one before.
final class CustodyEntryRecord: Model, @unchecked Sendable {
    static let schema = "custody_entries"

    @ID(custom: "entry_index", generatedBy: .user) var id: Int64?
    @Field(key: "kind") var kind: String
    @Field(key: "record_id") var recordID: String
    @Field(key: "entry") var entry: String
    @Field(key: "previous_hash") var previousHash: String
    @Field(key: "entry_hash") var entryHash: String

    init() {}
}

struct CreateCustodyEntries: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(CustodyEntryRecord.schema)
            .field("entry_index", .int64, .identifier(auto: false))
            .field("kind", .string, .required)
            .field("record_id", .string, .required)
            .field("entry", .string, .required)
            .field("previous_hash", .string, .required)
            .field("entry_hash", .string, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(CustodyEntryRecord.schema).delete()
    }
}

/// The foundation's custody log: a hash chain in the database, each entry's hash covering the previous
/// entry's hash and its own canonical JSON. The Merkle log (RFC 6962, signed checkpoints) replaces it; the
/// entry format is already the one that log uses.
struct HashChainCustodyLog: CustodyLog {
    // An entry, as hashed and stored, is a canonical JSON object of strings: actor, kind, nonce (32 random
    // bytes, base64), record, sha256 (of the record's canonical content), time. No personal data.

    static let genesisHash = String(repeating: "0", count: 64)

    let database: any Database
    let random: any RandomSource
    /// On SQLite, the group committer's batch (see `SQLiteBatch`).
    var batch: SQLiteBatch? = nil

    func append(_ event: CustodyEvent) async throws -> CustodyReceipt {
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        let index: Int64
        let previous: String
        if let batch {
            index = try await batch.next("custody", first: 0)
            previous = try await batch.custodyHash(before: index, genesis: Self.genesisHash)
        } else {
            // The sequence's row lock serialises appenders, so reading the previous hash is race-free.
            index = try await Sequences.next("custody", first: 0, on: database)
            struct Previous: Decodable { var entry_hash: String }
            previous =
                index == 0
                ? Self.genesisHash
                : try await sql.select().column("entry_hash").from(CustodyEntryRecord.schema)
                    .where("entry_index", .equal, SQLBind(index - 1)).first(decoding: Previous.self)?.entry_hash
                    ?? Self.genesisHash
        }
        let json = CanonicalJSON.object([
            ("kind", event.kind.rawValue), ("time", RFC3339.string(from: event.occurredAt)),
            ("nonce", Data(random.bytes(count: 32)).base64EncodedString()), ("actor", event.actor),
            ("record", event.recordID), ("sha256", event.contentHash),
        ])
        let hash = ContentHash.sha256Hex(previous + "\n" + json)
        let values: [any SQLExpression] = [
            SQLBind(index), SQLBind(event.kind.rawValue), SQLBind(event.recordID), SQLBind(json), SQLBind(previous),
            SQLBind(hash),
        ]
        if let batch {
            batch.addCustodyEntry(values, hash: hash)
        } else {
            try await sql.insert(into: CustodyEntryRecord.schema).columns(SQLiteBatch.custodyColumns).values(values)
                .run()
        }
        return CustodyReceipt(index: index, entryHash: hash)
    }
}
