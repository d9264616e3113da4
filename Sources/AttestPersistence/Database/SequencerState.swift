import AttestLedger
import FluentKit
import FluentSQL
import Foundation

/// PostgreSQL: what a batch needs before it numbers anything — the sequencer's lock, every counter and the custody
/// tree's frontier — in one round trip, from `attest_sequencer_state` (`CreateSequencerStateFunction`).
///
/// Separately that was three: the lock, then the counters and the frontier, each read by a statement of its own
/// after the lock so that it sees the batch committed just before (a statement's snapshot is taken when it
/// starts, so one that waited for the lock would see the database as it was before the wait). The function is a
/// PL/pgSQL one, whose statements each take a snapshot of their own: it takes the lock first, then reads.
/// With two Attest processes every batch follows the other process's, so each of its reads came back every time
/// (docs/benchmarks.md).
struct SequencerState: Sendable {
    /// Every stored counter (`sequences`).
    var counters: [String: Int64]
    /// The custody tree's frontier at the size the `custody` counter gives.
    var frontier: MerkleFrontier

    /// Takes the transaction-scoped advisory lock `key` and reads the state under it. Call inside a transaction.
    static func lock(_ key: Int64, on sql: any SQLDatabase) async throws -> SequencerState {
        struct Row: Decodable {
            var counter: String?
            var counter_value: Int64?
            var node_level: Int64?
            var node_position: Int64?
            var node_hash: Data?
        }
        let rows = try await sql.raw("SELECT * FROM attest_sequencer_state(\(bind: key))").all(decoding: Row.self)
        var counters: [String: Int64] = [:]
        var nodes: [TreeNode: TreeHash] = [:]
        for row in rows {
            if let name = row.counter, let value = row.counter_value {
                counters[name] = value
            } else if let level = row.node_level, let position = row.node_position, let bytes = row.node_hash {
                guard let hash = TreeHash(bytes) else {
                    throw PersistenceError.corruptRow("custody_hashes (\(level), \(position))")
                }
                nodes[TreeNode(level: Int(level), index: UInt64(position))] = hash
            }
        }
        let size = counters["custody"].map { UInt64($0 + 1) } ?? 0
        return SequencerState(counters: counters, frontier: try CustodyStorage.frontier(size: size, from: nodes))
    }
}

/// PostgreSQL: `attest_sequencer_state(key)`, see `SequencerState`. Rows are either a counter (`counter`,
/// `counter_value`) or a node of the custody tree's frontier (`node_level`, `node_position`, `node_hash`); the
/// frontier's nodes follow `MerkleFrontier.nodes(forSize:)` for the size the `custody` counter gives (its value
/// is the last index used). Nothing on SQLite, whose group committer holds the database's write lock anyway.
struct CreateSequencerStateFunction: AsyncMigration {
    static let function = """
        CREATE OR REPLACE FUNCTION attest_sequencer_state(lock_key bigint)
        RETURNS TABLE (counter text, counter_value bigint, node_level bigint, node_position bigint, node_hash bytea)
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            tree_size bigint;
        BEGIN
            PERFORM pg_advisory_xact_lock(lock_key);
            -- Each statement below takes its own snapshot, after the lock: it sees the batch committed before.
            RETURN QUERY SELECT s.name::text, s.value, NULL::bigint, NULL::bigint, NULL::bytea FROM sequences s;
            SELECT s.value + 1 INTO tree_size FROM sequences s WHERE s.name = 'custody';
            IF tree_size IS NOT NULL THEN
                RETURN QUERY SELECT NULL::text, NULL::bigint, h.level, h.position, h.hash
                FROM generate_series(0, 62) AS l
                JOIN custody_hashes h ON h.level = l AND h.position = (tree_size >> l) - 1
                WHERE (tree_size >> l) & 1 = 1;
            END IF;
        END
        $$
        """

    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        guard sql.dialect.name != "sqlite" else { return }
        try await sql.raw(SQLQueryString(Self.function)).run()
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        guard sql.dialect.name != "sqlite" else { return }
        try await sql.raw("DROP FUNCTION attest_sequencer_state(bigint)").run()
    }
}
