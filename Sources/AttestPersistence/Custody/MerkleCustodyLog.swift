import AttestCore
import AttestLedger
import FluentKit
import FluentSQL
import FluentSQLiteDriver
import Foundation

/// The custody log as an RFC 6962 Merkle tree in the database. An append adds the entry, its leaf hash and every
/// subtree the leaf completes to the unit's batch, written in the caller's transaction: no record without its
/// entry, no entry without its record.
///
/// Indexes are numbered per batch (`RowBatch`): the batch reads the `custody` counter and the tree's frontier once,
/// under the batch's lock (see `GroupCommitter`), so several Attest processes append without gaps or duplicate
/// indexes, and each reads the frontier its predecessor committed.
struct MerkleCustodyLog: CustodyLog {
    let random: any RandomSource
    let batch: RowBatch

    func append(_ event: CustodyEvent) async throws -> CustodyReceipt {
        let entry = try CustodyEntry(event: event, nonce: random.bytes(count: 32)).canonicalJSON()
        let leaf = TreeHash.leaf(entry)
        let index = try await batch.next("custody", first: 0)
        var nodes: [[Cell]] = []
        try await batch.appendLeaf(leaf, at: UInt64(index)) { nodes.append(CustodyStorage.hashRow($0, $1)) }
        batch.add(
            .custodyEntries, [[.integer(index), .text(event.kind.rawValue), .text(event.recordID), .text(entry)]])
        batch.add(.custodyHashes, nodes)
        return CustodyReceipt(index: index, entryHash: leaf.hex)
    }
}

/// The custody tables' shapes and the reads every custody component shares.
enum CustodyStorage {
    /// A `custody_hashes` row (`RowTable.custodyHashes`).
    static func hashRow(_ node: TreeNode, _ hash: TreeHash) -> [Cell] {
        [.integer(Int64(node.level)), .integer(Int64(node.index)), .blob(hash.bytes)]
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
        for chunk in Array(Set(nodes)).chunks(of: 200) {
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
        try frontier(size: size, from: try await hashes(of: MerkleFrontier.nodes(forSize: size), on: sql))
    }

    /// The right edge of the tree of `size` leaves from its nodes' stored hashes (`MerkleFrontier.nodes`), however
    /// they were read; a missing one is a corrupt log.
    static func frontier(size: UInt64, from stored: [TreeNode: TreeHash]) throws -> MerkleFrontier {
        guard let frontier = MerkleFrontier(size: size, nodes: { stored[$0] }) else {
            throw PersistenceError.corruptRow("custody_hashes: the frontier of size \(size) is incomplete")
        }
        return frontier
    }
}
