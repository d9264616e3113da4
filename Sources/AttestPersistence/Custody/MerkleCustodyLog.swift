import AttestCore
import AttestLedger
import FluentKit
import FluentSQL
import FluentSQLiteDriver
import Foundation

/// The custody log as an RFC 6962 Merkle tree in the database. An append writes the entry, its leaf hash and
/// every subtree the leaf completes, inside the caller's transaction: no record without its entry, no entry
/// without its record.
///
/// Appenders are serialised by the `custody` sequence: on PostgreSQL its row lock is held until the appending
/// transaction ends, so several Attest processes append without gaps or duplicate indexes, and each reads the
/// frontier its predecessor committed. On SQLite the group committer's single writer keeps the frontier in
/// memory for the whole batch.
struct MerkleCustodyLog: CustodyLog {
    let database: any Database
    let random: any RandomSource
    /// On SQLite, the group committer's batch (see `SQLiteBatch`).
    var batch: SQLiteBatch? = nil

    func append(_ event: CustodyEvent) async throws -> CustodyReceipt {
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        let entry = try CustodyEntry(event: event, nonce: random.bytes(count: 32)).canonicalJSON()
        let leaf = TreeHash.leaf(entry)
        let index: Int64
        var nodes: [(TreeNode, TreeHash)] = []
        if let batch {
            index = try await batch.next("custody", first: 0)
            try await batch.appendLeaf(leaf, at: UInt64(index)) { nodes.append(($0, $1)) }
            // The SQLite writer binds `SQLiteData` itself (see `SQLiteBatch.insert`).
            batch.addCustodyEntry(
                [.integer(Int(index)), .text(event.kind.rawValue), .text(event.recordID), .text(entry)],
                nodes: nodes.map { node, hash in
                    [.integer(node.level), .integer(Int(node.index)), .blob(ByteBuffer(bytes: hash.bytes))]
                })
        } else {
            index = try await Sequences.next("custody", first: 0, on: database)
            var frontier = try await CustodyStorage.frontier(size: UInt64(index), on: sql)
            frontier.append(leaf) { nodes.append(($0, $1)) }
            try await sql.insert(into: "custody_entries").columns(CustodyStorage.entryColumns)
                .values(SQLBind(index), SQLBind(event.kind.rawValue), SQLBind(event.recordID), SQLBind(entry)).run()
            try await CustodyStorage.insert(hashRows: nodes.map(CustodyStorage.hashRow), on: sql)
        }
        return CustodyReceipt(index: index, entryHash: leaf.hex)
    }
}

/// The custody tables' shapes and the reads every custody component shares.
enum CustodyStorage {
    static let entryColumns = ["entry_index", "kind", "record_id", "entry"]
    static let hashColumns = ["level", "position", "hash"]

    static func hashRow(_ node: TreeNode, _ hash: TreeHash) -> [any SQLExpression] {
        [SQLBind(Int64(node.level)), SQLBind(Int64(node.index)), SQLBind(hash.data)]
    }

    static func insert(hashRows: [[any SQLExpression]], on sql: any SQLDatabase) async throws {
        var start = 0
        while start < hashRows.count {
            let chunk = hashRows[start..<min(start + 300, hashRows.count)]
            let builder = sql.insert(into: "custody_hashes").columns(hashColumns)
            for row in chunk { builder.values(row) }
            try await builder.run()
            start += chunk.count
        }
    }

    private struct HashRow: Decodable {
        var level: Int64
        var position: Int64
        var hash: Data
    }

    /// The stored hashes of `nodes`, in one query (chunked for very long lists). Missing nodes are absent.
    static func hashes(of nodes: some Collection<TreeNode>, on sql: any SQLDatabase) async throws
        -> [TreeNode: TreeHash]
    {
        var found: [TreeNode: TreeHash] = [:]
        let unique = Array(Set(nodes))
        var start = 0
        while start < unique.count {
            let chunk = unique[start..<min(start + 200, unique.count)]
            // One point lookup per node, joined with UNION ALL: SQLite plans a long OR of (level, position)
            // pairs as a multi-index OR, about three times slower (measured at a million entries).
            let query = chunk.map { node -> SQLQueryString in
                "SELECT level, position, hash FROM custody_hashes WHERE level = \(bind: Int64(node.level)) AND position = \(bind: Int64(node.index))"
            }.joined(separator: " UNION ALL ")
            let rows = try await sql.raw(query).all(decoding: HashRow.self)
            for row in rows {
                guard let hash = TreeHash(row.hash) else {
                    throw PersistenceError.corruptRow("custody_hashes (\(row.level), \(row.position))")
                }
                found[TreeNode(level: Int(row.level), index: UInt64(row.position))] = hash
            }
            start += chunk.count
        }
        return found
    }

    /// The hashes of one level between two positions.
    static func hashes(level: Int, positions: Range<UInt64>, on sql: any SQLDatabase) async throws -> [TreeNode:
        TreeHash]
    {
        let rows = try await sql.select().columns("position", "hash").from("custody_hashes")
            .where("level", .equal, SQLBind(Int64(level)))
            .where("position", .greaterThanOrEqual, SQLBind(Int64(positions.lowerBound)))
            .where("position", .lessThan, SQLBind(Int64(positions.upperBound)))
            .all()
        var found: [TreeNode: TreeHash] = [:]
        found.reserveCapacity(rows.count)
        for row in rows {
            let position = try row.decode(column: "position", as: Int64.self)
            guard let hash = TreeHash(try row.decode(column: "hash", as: Data.self)) else {
                throw PersistenceError.corruptRow("custody_hashes (\(level), \(position))")
            }
            found[TreeNode(level: level, index: UInt64(position))] = hash
        }
        return found
    }

    /// The right edge of the tree of `size` leaves, from its stored nodes.
    static func frontier(size: UInt64, on sql: any SQLDatabase) async throws -> MerkleFrontier {
        let nodes = MerkleFrontier.nodes(forSize: size)
        let stored = try await hashes(of: nodes, on: sql)
        guard let frontier = MerkleFrontier(size: size, nodes: { stored[$0] }) else {
            throw PersistenceError.corruptRow("custody_hashes: the frontier of size \(size) is incomplete")
        }
        return frontier
    }
}
