import AttestCore
import AttestLedger
import FluentKit
import FluentSQL
import Foundation

/// A signed checkpoint as published.
public struct PublishedCheckpoint: Sendable, Equatable {
    public var size: UInt64
    public var root: TreeHash
    /// The signed note, verbatim.
    public var note: String
    public var publishedAt: Date
}

/// The custody log seen from outside the transactions that append to it: its size, stored hashes, proofs,
/// tiles and signed checkpoints. Reads go to the database directly; checkpoint writes go through the store's
/// writer (on SQLite the group committer, the only writer).
public struct CustodyLedger: Sendable {
    let store: FluentReportStore
    /// Signs checkpoints; its name is the key name.
    public let signer: NoteSigner
    /// The checkpoint origin line.
    public let origin: String
    /// Stored hashes of upper levels, kept in memory: a complete subtree's hash never changes once written,
    /// and proofs keep asking for the same upper nodes.
    private let upperNodes = NodeCache()

    /// Why a ledger request was refused.
    public enum Error: Swift.Error, Equatable {
        /// The size asked for is larger than the latest published checkpoint.
        case beyondCheckpoint(requested: UInt64, published: UInt64)
        /// Nothing is published yet.
        case noCheckpoint
    }

    public init(store: FluentReportStore, signer: NoteSigner, origin: String) {
        self.store = store
        self.signer = signer
        self.origin = origin
    }

    public var verifier: NoteVerifier { signer.verifier }

    private var sql: any SQLDatabase { store.sql }

    /// How many entries are committed.
    public func size() async throws -> UInt64 {
        struct Row: Decodable { var size: Int64? }
        let row = try await sql.raw("SELECT MAX(entry_index) + 1 AS size FROM custody_entries").first(
            decoding: Row.self)
        return UInt64(row?.size ?? 0)
    }

    /// The stored hashes of `nodes` (upper levels from memory when already read).
    public func hashes(of nodes: [TreeNode]) async throws -> [TreeNode: TreeHash] {
        var found = upperNodes.lookup(nodes)
        let missing = nodes.filter { found[$0] == nil }
        guard !missing.isEmpty else { return found }
        let read = try await CustodyStorage.hashes(of: missing, on: sql)
        upperNodes.remember(read)
        found.merge(read) { $1 }
        return found
    }

    /// The root of the tree of `size` leaves.
    public func root(size: UInt64) async throws -> TreeHash {
        let stored = try await hashes(of: Merkle.nodes(covering: 0..<size))
        guard let root = Merkle.root(size: size, nodes: { stored[$0] }) else {
            throw PersistenceError.corruptRow("custody_hashes: the tree of size \(size) is incomplete")
        }
        return root
    }

    /// The inclusion proof of entry `index` in the tree of `size` leaves, with O(log n) stored hashes read in one query.
    public func inclusionProof(index: UInt64, size: UInt64) async throws -> [TreeHash] {
        try await proof(ranges: try Merkle.inclusionRanges(index: index, size: size))
    }

    /// The consistency proof between trees of `old` and `new` leaves.
    public func consistencyProof(old: UInt64, new: UInt64) async throws -> [TreeHash] {
        try await proof(ranges: try Merkle.consistencyRanges(old: old, new: new))
    }

    private func proof(ranges: [Range<UInt64>]) async throws -> [TreeHash] {
        let stored = try await hashes(of: ranges.flatMap(Merkle.nodes(covering:)))
        return try ranges.map { range in
            guard let hash = Merkle.hash(of: range, nodes: { stored[$0] }) else {
                throw PersistenceError.corruptRow("custody_hashes: a node of \(range) is missing")
            }
            return hash
        }
    }

    /// A hash tile's bytes, or `nil` when the tree of `size` leaves does not hold it.
    public func hashTile(_ tile: Tile, size: UInt64) async throws -> Data? {
        guard let level = tile.level, tile.exists(inTreeOfSize: size) else { return nil }
        let first = tile.index * UInt64(Tile.fullWidth)
        let stored = try await CustodyStorage.hashes(
            level: level * 8, positions: first..<(first + UInt64(tile.width)), on: sql)
        let hashes = try tile.nodes.map { node in
            guard let hash = stored[node] else { throw PersistenceError.corruptRow("custody_hashes \(node)") }
            return hash
        }
        return Tile.hashTile(hashes)
    }

    /// One stored entry row.
    public struct StoredEntry: Sendable {
        public var index: UInt64
        public var kind: String
        public var recordID: String
        public var entry: String
    }

    /// The entries with indexes in `range`, in index order (gaps, if rows were deleted, are simply absent).
    public func entries(_ range: Range<UInt64>) async throws -> [StoredEntry] {
        // Columns read one by one rather than through `Decodable`: verification reads every entry.
        try await sql.select().columns("entry_index", "kind", "record_id", "entry").from("custody_entries")
            .where("entry_index", .greaterThanOrEqual, SQLBind(Int64(range.lowerBound)))
            .where("entry_index", .lessThan, SQLBind(Int64(range.upperBound)))
            .orderBy("entry_index")
            .all()
            .map { row in
                StoredEntry(
                    index: UInt64(try row.decode(column: "entry_index", as: Int64.self)),
                    kind: try row.decode(column: "kind", as: String.self),
                    recordID: try row.decode(column: "record_id", as: String.self),
                    entry: try row.decode(column: "entry", as: String.self))
            }
    }

    /// An entry bundle's bytes, or `nil` when the tree of `size` leaves does not hold it.
    public func entryBundle(_ tile: Tile, size: UInt64) async throws -> Data? {
        guard tile.level == nil, tile.exists(inTreeOfSize: size) else { return nil }
        let rows = try await entries(tile.entries)
        guard rows.count == tile.width else { throw PersistenceError.corruptRow("custody_entries \(tile.entries)") }
        return Tile.bundle(rows.map { Data($0.entry.utf8) })
    }

    /// The index of the entry of `kind` for `recordID` (the first, if several).
    public func entryIndex(kind: CustodyEventKind, recordID: String) async throws -> UInt64? {
        struct Row: Decodable { var entry_index: Int64 }
        return try await sql.select().column("entry_index").from("custody_entries")
            .where("record_id", .equal, SQLBind(recordID)).where("kind", .equal, SQLBind(kind.rawValue))
            .orderBy("entry_index").first(decoding: Row.self).map { UInt64($0.entry_index) }
    }

    private struct CheckpointRow: Decodable {
        var size: Int64
        var root: String
        var note: String
        var published_at: Date
    }

    private func checkpoint(from row: CheckpointRow) throws -> PublishedCheckpoint {
        guard let root = TreeHash(base64: row.root) else {
            throw PersistenceError.corruptRow("custody_checkpoints \(row.size)")
        }
        return PublishedCheckpoint(size: UInt64(row.size), root: root, note: row.note, publishedAt: row.published_at)
    }

    /// The latest published checkpoint.
    public func latestCheckpoint() async throws -> PublishedCheckpoint? {
        try await sql.select().columns("size", "root", "note", "published_at").from("custody_checkpoints")
            .orderBy("size", .descending).limit(1).first(decoding: CheckpointRow.self).map(checkpoint(from:))
    }

    /// The published checkpoint of exactly `size` entries.
    public func checkpoint(size: UInt64) async throws -> PublishedCheckpoint? {
        try await sql.select().columns("size", "root", "note", "published_at").from("custody_checkpoints")
            .where("size", .equal, SQLBind(Int64(size))).first(decoding: CheckpointRow.self).map(checkpoint(from:))
    }

    /// Every published checkpoint, smallest first.
    public func checkpoints() async throws -> [PublishedCheckpoint] {
        try await sql.select().columns("size", "root", "note", "published_at").from("custody_checkpoints")
            .orderBy("size").all(decoding: CheckpointRow.self).map(checkpoint(from:))
    }

    /// When to publish: after `entries` new entries, or after `seconds` with any new entry.
    public struct Policy: Sendable {
        public var entries: UInt64
        public var seconds: TimeInterval

        public init(entries: UInt64, seconds: TimeInterval) {
            self.entries = entries
            self.seconds = seconds
        }

        /// Publish whenever anything is new.
        public static let always = Policy(entries: 1, seconds: 0)
    }

    /// Signs and stores a checkpoint of the current size when `policy` says one is due, and never at size 0.
    /// Returns the latest checkpoint afterwards. Safe to run in several processes at once: a checkpoint of a
    /// given size is stored once (and Ed25519 on Linux signs deterministically, so both would be identical).
    @discardableResult
    public func publishIfDue(now: Date, policy: Policy) async throws -> PublishedCheckpoint? {
        let latest = try await latestCheckpoint()
        let size = try await size()
        guard size > 0, size > latest?.size ?? 0 else { return latest }
        if let latest {
            let isDue =
                size - latest.size >= policy.entries || now.timeIntervalSince(latest.publishedAt) >= policy.seconds
            guard isDue else { return latest }
        }
        let root = try await root(size: size)
        let note = try Checkpoint(origin: origin, size: size, root: root).signed(by: signer)
        let published = PublishedCheckpoint(size: size, root: root, note: note, publishedAt: now)
        try await store.write { sql in
            try await sql.insert(into: "custody_checkpoints").columns("size", "root", "note", "published_at")
                .values(SQLBind(Int64(size)), SQLBind(root.base64), SQLBind(note), SQLBind(now))
                .ignoringConflicts(with: "size")
                .run()
        }
        return published
    }
}

/// Hashes of nodes at level `minimumLevel` and above (subtrees of at least 16 leaves): about 62,500 per million
/// entries (a few MB), so the cache needs no eviction; a proof then reads only its few lowest nodes.
final class NodeCache: @unchecked Sendable {
    static let minimumLevel = 4
    private let lock = NSLock()
    private var hashes: [TreeNode: TreeHash] = [:]

    func lookup(_ nodes: [TreeNode]) -> [TreeNode: TreeHash] {
        lock.withLock {
            var found: [TreeNode: TreeHash] = [:]
            for node in nodes where node.level >= Self.minimumLevel {
                if let hash = hashes[node] { found[node] = hash }
            }
            return found
        }
    }

    func remember(_ read: [TreeNode: TreeHash]) {
        lock.withLock {
            for (node, hash) in read where node.level >= Self.minimumLevel { hashes[node] = hash }
        }
    }
}

/// The checkpoint signing key: an Ed25519 seed in the data directory (mode 0600), created on first run, or a
/// configured x/mod signer-key string.
public enum LogSigningKey {
    public enum Error: Swift.Error, CustomStringConvertible {
        case unreadableKeyFile(String)
        case invalidConfiguredKey(String)

        public var description: String {
            switch self {
            case .unreadableKeyFile(let path):
                "the custody log signing key \(path) is not a 32-byte Ed25519 seed; restore it from backup (a new key"
                    + " would not verify the checkpoints already published)"
            case .invalidConfiguredKey(let reason):
                "ATTEST_LOG_SIGNING_KEY must be a signer key `PRIVATE+KEY+<name>+<id>+<base64>` (\(reason))"
            }
        }
    }

    /// The signer from `configured` (a signer-key string), or from the seed file at `fileURL` (created when absent).
    public static func load(configured: String?, fileURL: URL, name: String, random: any RandomSource) throws
        -> NoteSigner
    {
        if let configured {
            do {
                return try NoteSigner(signerKey: configured)
            } catch {
                throw Error.invalidConfiguredKey("\(error)")
            }
        }
        if FileManager.default.fileExists(atPath: fileURL.path) {
            guard let seed = try? Data(contentsOf: fileURL), seed.count == 32 else {
                throw Error.unreadableKeyFile(fileURL.path)
            }
            return try NoteSigner(name: name, seed: seed)
        }
        let seed = Data(random.bytes(count: 32))
        try SecretFiles.write(seed, to: fileURL)
        return try NoteSigner(name: name, seed: seed)
    }
}
