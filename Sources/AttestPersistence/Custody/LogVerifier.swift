import AttestCore
import AttestLedger
import FluentKit
import FluentSQL
import Foundation

/// Recomputes the custody log from its stored entries and checks everything against it: every stored hash,
/// every checkpoint's signature and root, the consistency of consecutive checkpoints, and every record an
/// entry covers (re-hashed from its stored content). It catches rows changed, added, deleted or reordered
/// behind the application's back, and names what it finds.
public struct LogVerifier: Sendable {
    let ledger: CustodyLedger
    /// Entries read per query.
    public var pageSize: UInt64 = 8_192
    /// When set, every evidence file is read back and re-hashed (slow: it reads every byte stored).
    public var evidenceFiles: (any EvidenceBlobStore)?

    public init(ledger: CustodyLedger, evidenceFiles: (any EvidenceBlobStore)? = nil) {
        self.ledger = ledger
        self.evidenceFiles = evidenceFiles
    }

    /// What a verification found.
    public struct Outcome: Sendable {
        public var entries: UInt64 = 0
        public var checkpoints = 0
        public var recordsChecked = 0
        /// Each problem, in plain words, naming the entry or record.
        public var discrepancies: [String] = []
        public var isClean: Bool { discrepancies.isEmpty }
    }

    private var sql: any SQLDatabase { ledger.store.sql }

    /// Runs the verification; `progress` is told (entries done, entries total) after each page.
    public func verify(progress: @Sendable (UInt64, UInt64) -> Void = { _, _ in }) async throws -> Outcome {
        var outcome = Outcome()
        let checkpoints = try await ledger.checkpoints()
        outcome.checkpoints = checkpoints.count
        let stored = try await ledger.size()
        struct Counter: Decodable { var value: Int64 }
        let appended =
            try await sql.select().column("value").from("sequences")
            .where("name", .equal, SQLBind("custody")).first(decoding: Counter.self).map { UInt64($0.value + 1) } ?? 0
        if appended > stored {
            outcome.discrepancies.append(
                "the log is truncated: \(appended) entries were appended, the last stored is \(Int64(stored) - 1)")
        }
        let total = max(stored, appended, checkpoints.last?.size ?? 0)
        outcome.entries = stored

        for checkpoint in checkpoints {
            do {
                let opened = try Checkpoint.open(Data(checkpoint.note.utf8), verifier: ledger.verifier)
                if opened.size != checkpoint.size || opened.root != checkpoint.root {
                    outcome.discrepancies.append(
                        "checkpoint \(checkpoint.size): its columns differ from its signed note")
                }
                if opened.origin != ledger.origin {
                    outcome.discrepancies.append(
                        "checkpoint \(checkpoint.size): origin “\(opened.origin)” is not “\(ledger.origin)”")
                }
            } catch {
                outcome.discrepancies.append("checkpoint \(checkpoint.size): the signature does not verify (\(error))")
            }
            if checkpoint.size > stored {
                outcome.discrepancies.append(
                    "the log is truncated: checkpoint \(checkpoint.size) covers \(checkpoint.size) entries, only \(stored) are stored"
                )
            }
        }

        var frontier = MerkleFrontier()
        var pendingCheckpoints = checkpoints[...]
        var coverage = Coverage()
        var treeIsBroken = false
        // Pages are read, hashed and their entries checked on other threads while this one follows the tree.
        let reader = try await PageReader(sql: sql, ledger: ledger)
        let pageSize = pageSize
        func read(from start: UInt64) -> Task<Page, any Error> {
            let range = start..<min(start + pageSize, total)
            return Task { try await reader.page(range) }
        }
        var next = total > 0 ? read(from: 0) : nil
        var start: UInt64 = 0
        while start < total, let reading = next {
            let end = min(start + pageSize, total)
            let page = try await reading.value
            next = end < total ? read(from: end) : nil
            outcome.discrepancies += page.discrepancies
            coverage.merge(page.coverage)
            for index in start..<end {
                let offset = Int(index - start)
                let row = page.recordIDs[offset]
                let storedLeaf = page.stored(level: 0, position: index)
                var leaf = page.leaves[offset]
                if let row, let leaf {
                    if let storedLeaf, storedLeaf != leaf {
                        let recordID = page.recordIDBytes.withUnsafeBytes {
                            String(decoding: UnsafeRawBufferPointer(rebasing: $0[row]), as: UTF8.self)
                        }
                        outcome.discrepancies.append(
                            "entry \(index) (\(recordID)): its bytes do not match its stored leaf hash (changed or moved?)"
                        )
                    }
                } else if index < stored || index < total {
                    outcome.discrepancies.append("entry \(index) is missing (deleted?)")
                    leaf = storedLeaf
                }
                guard let leaf, !treeIsBroken else {
                    treeIsBroken = true
                    continue
                }
                frontier.append(leaf) { node, hash in
                    guard node.level > 0 else { return }
                    if let storedHash = page.stored(level: node.level, position: node.index) {
                        if storedHash != hash {
                            outcome.discrepancies.append("stored tree node \(node) does not match the entries below it")
                        }
                    } else {
                        outcome.discrepancies.append("stored tree node \(node) is missing")
                    }
                }
                if storedLeaf == nil, row != nil {
                    outcome.discrepancies.append("entry \(index): its leaf hash is not stored")
                }
                while let next = pendingCheckpoints.first, next.size <= frontier.size {
                    pendingCheckpoints.removeFirst()
                    if next.size == frontier.size, frontier.root != next.root {
                        outcome.discrepancies.append(
                            "checkpoint \(next.size): its root does not match the tree recomputed from the entries")
                    }
                }
            }
            start = end
            progress(min(end, stored), stored)
        }

        try await checkConsistency(of: checkpoints, into: &outcome)
        try await checkRecords(received: coverage.received, supplemented: coverage.supplemented, into: &outcome)
        try await checkEvidence(ingested: coverage.ingested, into: &outcome)
        try await checkCaseFileParts(changed: coverage.changedParts, into: &outcome)
        try await checkHashCount(size: stored, into: &outcome)
        return outcome
    }

    /// What the entries say about the records they cover (the latest entry of each kind per record), gathered
    /// while the log is read and checked against the records afterwards.
    struct Coverage: Sendable {
        var received: CoveredRecords = [:]
        var supplemented: CoveredRecords = [:]
        var ingested: CoveredRecords = [:]
        var changedParts: CoveredRecords = [:]

        /// Adds what a later page found (its entries are the later ones).
        mutating func merge(_ later: Coverage) {
            received.merge(later.received) { $1 }
            supplemented.merge(later.supplemented) { $1 }
            ingested.merge(later.ingested) { $1 }
            changedParts.merge(later.changedParts) { $1 }
        }
    }

    /// Checks one entry's bytes against its indexed columns and notes the record it covers. Works on the bytes in
    /// place (`CustodyEntry.essentialRanges`); strings are made only for the entries that cover a record.
    fileprivate static func check(
        index: UInt64, entry: UnsafeRawBufferPointer, kindColumn: UnsafeRawBufferPointer,
        recordColumn: UnsafeRawBufferPointer, into discrepancies: inout [String], coverage: inout Coverage
    ) {
        func text(_ bytes: UnsafeRawBufferPointer) -> String { String(decoding: bytes, as: UTF8.self) }
        if entry.count > CustodyEntry.maxBytes {
            discrepancies.append("entry \(index) is larger than \(CustodyEntry.maxBytes) bytes")
        }
        func note(kind: UnsafeRawBufferPointer, record: UnsafeRawBufferPointer, hash: UnsafeRawBufferPointer) {
            if !same(kind, kindColumn) || !same(record, recordColumn) {
                discrepancies.append(
                    "entry \(index): its indexed columns differ from its bytes (\(text(recordColumn)))")
            }
            switch eventKind(kind) {
            case .reportReceived:
                coverage.received[text(record)] = (index, text(hash))
            case .reportSupplemented:
                coverage.supplemented[text(record)] = (index, text(hash))
            case .evidenceIngested:
                coverage.ingested[text(record)] = (index, text(hash))
            case .recordChanged:
                // The latest change names the part's current content.
                let recordID = text(record)
                if isCaseFilePart(recordID) { coverage.changedParts[recordID] = (index, text(hash)) }
            case nil:
                discrepancies.append("entry \(index) has an unknown type “\(text(kind))”")
            default:
                break
            }
        }
        if let ranges = CustodyEntry.essentialRanges(in: entry) {
            return note(
                kind: UnsafeRawBufferPointer(rebasing: entry[ranges.kind]),
                record: UnsafeRawBufferPointer(rebasing: entry[ranges.recordID]),
                hash: UnsafeRawBufferPointer(rebasing: entry[ranges.contentHash]))
        }
        // Escapes or an unusual shape: the full parser.
        guard let essentials = CustodyEntry.essentials(of: text(entry)) else {
            discrepancies.append("entry \(index) is not a readable custody entry")
            return
        }
        let kind = Array(essentials.kind.utf8)
        let record = Array(essentials.recordID.utf8)
        let hash = Array(essentials.contentHash.utf8)
        kind.withUnsafeBytes { kind in
            record.withUnsafeBytes { record in hash.withUnsafeBytes { note(kind: kind, record: record, hash: $0) } }
        }
    }

    private static func same(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && (a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
    }

    private static let eventKinds = CustodyEventKind.allCases.map { (Array($0.rawValue.utf8), $0) }

    private static func eventKind(_ bytes: UnsafeRawBufferPointer) -> CustodyEventKind? {
        for (name, kind) in eventKinds where name.withUnsafeBytes({ same($0, bytes) }) { return kind }
        return nil
    }

    private func checkConsistency(of checkpoints: [PublishedCheckpoint], into outcome: inout Outcome) async throws {
        let size = try await ledger.size()
        for (old, new) in zip(checkpoints, checkpoints.dropFirst()) where new.size <= size {
            do {
                let proof = try await ledger.consistencyProof(old: old.size, new: new.size)
                try Merkle.verifyConsistency(
                    old: old.size, new: new.size, oldRoot: old.root, newRoot: new.root, proof: proof)
            } catch {
                outcome.discrepancies.append("checkpoints \(old.size) and \(new.size) are not consistent (\(error))")
            }
        }
    }

    typealias CoveredRecords = [String: (index: UInt64, hash: String)]

    /// Re-hashes every report and every reporter's supplement and compares each with the entry that covers it;
    /// names records without an entry and entries without a record. Pages by key, not by offset, so a million
    /// reports cost a million rows read, not a quadratic skip.
    private func checkRecords(
        received: CoveredRecords, supplemented: CoveredRecords, into outcome: inout Outcome
    ) async throws {
        struct ReportRow: Decodable {
            var reference: String
            var content_json: String
            var content_hash: String
        }
        var seen = Set<String>()
        var after = ""
        while true {
            let rows = try await sql.select().columns("reference", "content_json", "content_hash").from("reports")
                .where("reference", .greaterThan, SQLBind(after))
                .orderBy("reference").limit(Int(pageSize)).all(decoding: ReportRow.self)
            for row in rows {
                let recordID = "report:\(row.reference)"
                seen.insert(recordID)
                compare(
                    recordID, kind: .reportReceived,
                    hashes: [ContentHash.sha256Hex(row.content_json), row.content_hash], with: received,
                    into: &outcome)
            }
            guard rows.count == Int(pageSize), let last = rows.last else { break }
            after = last.reference
        }
        reportMissing(received, seen: seen, into: &outcome)

        struct MessageRow: Decodable {
            var id: UUID
            var reference: String
            var body: String
            var created_at: Date
            var content_hash: String
        }
        var seenMessages = Set<String>()
        var afterID: UUID?
        while true {
            let query = sql.select()
                .column(SQLColumn("id", table: "m")).column(SQLColumn("reference", table: "r"))
                .column(SQLColumn("body", table: "m")).column(SQLColumn("created_at", table: "m"))
                .column(SQLColumn("content_hash", table: "m"))
                .from(SQLAlias(SQLIdentifier("report_messages"), as: SQLIdentifier("m")))
                .join(
                    SQLAlias(SQLIdentifier("reports"), as: SQLIdentifier("r")), method: SQLJoinMethod.left,
                    on: SQLColumn("report_id", table: "m"), .equal, SQLColumn("id", table: "r")
                )
                .where(SQLColumn("author", table: "m"), .equal, SQLBind(ThreadMessage.Author.reporter.rawValue))
            if let afterID { query.where(SQLColumn("id", table: "m"), .greaterThan, SQLBind(afterID)) }
            let rows = try await query.orderBy(SQLColumn("id", table: "m")).limit(Int(pageSize))
                .all(decoding: MessageRow.self)
            for row in rows {
                let recordID = "report:\(row.reference)/message:\(Identifier<ThreadMessage>(row.id))"
                seenMessages.insert(recordID)
                let recomputed = ReportReference(row.reference).map {
                    ThreadMessage.contentHash(
                        reference: $0, author: .reporter, body: row.body, createdAt: row.created_at)
                }
                compare(
                    recordID, kind: .reportSupplemented, hashes: [recomputed, row.content_hash], with: supplemented,
                    into: &outcome)
            }
            guard rows.count == Int(pageSize), let last = rows.last else { break }
            afterID = last.id
        }
        reportMissing(supplemented, seen: seenMessages, into: &outcome)
    }

    /// `subject:SA-…` or `case-file:CF-…/<kind>:<id>`.
    static func isCaseFilePart(_ recordID: String) -> Bool {
        recordID.hasPrefix("subject:") || (recordID.hasPrefix("case-file:") && recordID.contains("/"))
    }

    /// Every case file part (subject, person, allegation, note, task, timeline event) against its latest
    /// `record.changed` entry: a body edited in the database, a part deleted or one inserted behind the
    /// application's back is named. Sealed personal data is outside the hash (and stays sealed here).
    private func checkCaseFileParts(changed: CoveredRecords, into outcome: inout Outcome) async throws {
        var seen = Set<String>()
        var after: UUID?
        while true {
            let query = sql.select().columns(UnsealedPartRow.columns)
                .from("case_file_parts")
            if let after { query.where("id", .greaterThan, SQLBind(after)) }
            let rows = try await query.orderBy("id").limit(Int(pageSize)).all(decoding: UnsealedPartRow.self)
            for row in rows {
                guard let part = try? row.part() else {
                    outcome.discrepancies.append("case file part \(row.id) is not readable (changed?)")
                    continue
                }
                seen.insert(part.recordID)
                compare(part.recordID, kind: .recordChanged, hashes: [part.contentHash], with: changed, into: &outcome)
            }
            guard rows.count == Int(pageSize), let last = rows.last else { break }
            after = last.id
        }
        reportMissing(changed, seen: seen, into: &outcome)
    }

    /// Every evidence row against its `evidence.ingested` entry (the entry carries the file's SHA-256), and, when
    /// the verifier has the evidence store, every file re-hashed against both.
    private func checkEvidence(ingested: CoveredRecords, into outcome: inout Outcome) async throws {
        var seen = Set<String>()
        var after: UUID?
        while true {
            let query = sql.select().column("*").from("evidence")
            if let after { query.where("id", .greaterThan, SQLBind(after)) }
            let rows = try await query.orderBy("id").limit(Int(pageSize)).all(decoding: EvidenceRow.self)
            for row in rows {
                let recordID = "evidence:\(Identifier<EvidenceItem>(row.id))"
                seen.insert(recordID)
                var hashes: [String?] = [row.sha256]
                if let files = evidenceFiles {
                    do {
                        let digests = try await files.digests(sha256: row.sha256)
                        hashes.append(digests.sha256)
                        if digests.sha512 != row.sha512 || digests.size != row.size {
                            outcome.discrepancies.append(
                                "\(recordID): its stored file does not match its record (changed?)")
                        }
                    } catch {
                        outcome.discrepancies.append("\(recordID): its stored file is missing or unreadable (\(error))")
                    }
                }
                compare(recordID, kind: .evidenceIngested, hashes: hashes, with: ingested, into: &outcome)
            }
            guard rows.count == Int(pageSize), let last = rows.last else { break }
            after = last.id
        }
        reportMissing(ingested, seen: seen, into: &outcome)
    }

    /// One stored record against the entry covering it: the entry must exist and every hash must equal its own.
    private func compare(
        _ recordID: String, kind: CustodyEventKind, hashes: [String?], with entries: CoveredRecords,
        into outcome: inout Outcome
    ) {
        outcome.recordsChecked += 1
        guard let entry = entries[recordID] else {
            outcome.discrepancies.append(
                "\(recordID) has no \(kind.rawValue) entry (added behind the application's back?)")
            return
        }
        if hashes.contains(where: { $0 != entry.hash }) {
            outcome.discrepancies.append(
                "\(recordID): its stored content does not match custody entry \(entry.index) (changed?)")
        }
    }

    /// Entries naming records that no longer exist.
    private func reportMissing(_ entries: CoveredRecords, seen: Set<String>, into outcome: inout Outcome) {
        for (recordID, entry) in entries.sorted(by: { $0.value.index < $1.value.index })
        where !seen.contains(recordID) {
            outcome.discrepancies.append(
                "\(recordID), named by custody entry \(entry.index), does not exist (deleted?)")
        }
    }

    /// A tree of n leaves stores exactly 2n − popcount(n) complete subtrees.
    private func checkHashCount(size: UInt64, into outcome: inout Outcome) async throws {
        struct Row: Decodable { var count: Int64 }
        let row = try await sql.raw("SELECT COUNT(*) AS count FROM custody_hashes").first(decoding: Row.self)
        let expected = 2 * size - UInt64(size.nonzeroBitCount)
        let actual = UInt64(row?.count ?? 0)
        if actual > expected {
            outcome.discrepancies.append("\(actual - expected) stored tree hashes lie beyond the log's \(size) entries")
        }
    }
}

extension LogVerifier {
    /// One page of the log as stored, checked as it was read: each entry's leaf hash and record id, what its
    /// fields showed (`check`), and for every level the stored hashes over the page's range. The entries' bytes
    /// themselves are not kept: they are hashed and read where SQLite holds them.
    struct Page: Sendable {
        let start: UInt64
        /// `leaves[i]` is the leaf hash of the entry at `start + i`; nil where none is stored.
        var leaves: [TreeHash?]
        /// `recordIDs[i]` places the record id column of the entry at `start + i` in `recordIDBytes`.
        var recordIDs: [Range<Int>?]
        var recordIDBytes: [UInt8] = []
        /// `levels[l][p]` is the stored hash of the node at level `l`, position `(start >> l) + p`.
        var levels: [[TreeHash?]] = []
        var discrepancies: [String] = []
        var coverage = Coverage()

        init(_ range: Range<UInt64>) {
            start = range.lowerBound
            leaves = Array(repeating: nil, count: range.count)
            recordIDs = Array(repeating: nil, count: range.count)
            recordIDBytes.reserveCapacity(range.count * 24)
        }

        /// Hashes and checks the entry at `index` (ignored outside the page).
        mutating func add(
            index: UInt64, entry: UnsafeRawBufferPointer, kind: UnsafeRawBufferPointer,
            recordID: UnsafeRawBufferPointer
        ) {
            guard index >= start, index - start < UInt64(leaves.count) else { return }
            let from = recordIDBytes.count
            recordIDBytes.append(contentsOf: recordID)
            recordIDs[Int(index - start)] = from..<recordIDBytes.count
            leaves[Int(index - start)] = TreeHash.leaf(entry)
            LogVerifier.check(
                index: index, entry: entry, kindColumn: kind, recordColumn: recordID, into: &discrepancies,
                coverage: &coverage)
        }

        /// Hashes and checks an entry read through SQLKit.
        mutating func add(_ row: CustodyLedger.StoredEntry) {
            var (entry, kind, recordID) = (row.entry, row.kind, row.recordID)
            entry.withUTF8 { entry in
                kind.withUTF8 { kind in
                    recordID.withUTF8 {
                        add(
                            index: row.index, entry: UnsafeRawBufferPointer(entry), kind: UnsafeRawBufferPointer(kind),
                            recordID: UnsafeRawBufferPointer($0))
                    }
                }
            }
        }

        /// Adds the hashes `level(l, positions)` returns for every level of the tree up to the page's end.
        mutating func addLevels(_ level: (Int, Range<UInt64>) throws -> [TreeHash?]) rethrows {
            let end = start + UInt64(leaves.count)
            for index in Self.levels(upTo: end) {
                levels.append(try level(index, Self.positions(level: index, of: start..<end)))
            }
        }

        func stored(level: Int, position: UInt64) -> TreeHash? {
            guard level < levels.count else { return nil }
            let base = start >> UInt64(level)
            guard position >= base, position - base < UInt64(levels[level].count) else { return nil }
            return levels[level][Int(position - base)]
        }

        /// The positions of `level` that nodes over `range` occupy.
        static func positions(level: Int, of range: Range<UInt64>) -> Range<UInt64> {
            (range.lowerBound >> UInt64(level))..<(((range.upperBound - 1) >> UInt64(level)) + 1)
        }

        /// The levels a tree reaching `end` leaves can have nodes at.
        static func levels(upTo end: UInt64) -> Range<Int> {
            var count = 0
            while count < 64, UInt64(1) << UInt64(count) <= end { count += 1 }
            return 0..<count
        }
    }

    /// Reads pages: through SQLite's C API when the database is an SQLite file (`SQLiteCustodyScan`), otherwise
    /// through SQLKit. `@unchecked Sendable`: the verifier reads one page at a time (the next while it checks
    /// this one), never two at once.
    final class PageReader: @unchecked Sendable {
        let sql: any SQLDatabase
        let ledger: CustodyLedger
        let scan: SQLiteCustodyScan?
        let hashScan: SQLiteCustodyScan?

        /// `direct`: read an SQLite file through SQLite's C API (tests turn it off to compare both ways).
        init(sql: any SQLDatabase, ledger: CustodyLedger, direct: Bool = true) async throws {
            self.sql = sql
            self.ledger = ledger
            let file = direct ? try await Self.sqliteFile(of: sql) : nil
            scan = try file.map { try SQLiteCustodyScan(path: $0) }
            hashScan = try file.map { try SQLiteCustodyScan(path: $0) }
        }

        /// The file of an SQLite database's `main` schema; nil for PostgreSQL or an in-memory database.
        static func sqliteFile(of sql: any SQLDatabase) async throws -> String? {
            guard sql.dialect.name == "sqlite" else { return nil }
            struct Row: Decodable { var file: String }
            let row = try await sql.raw("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .first(decoding: Row.self)
            guard let file = row?.file, !file.isEmpty else { return nil }
            return file
        }

        /// SQLite's C API blocks: pages are read on threads of their own, so the next is read while one is checked.
        private let queue = DispatchQueue(label: "attest.log-verify.entries")
        private let hashQueue = DispatchQueue(label: "attest.log-verify.hashes")

        private static func run<Value: Sendable>(
            on queue: DispatchQueue, _ body: @escaping @Sendable () throws -> Value
        ) async throws -> Value {
            try await withCheckedThrowingContinuation { continuation in
                queue.async { continuation.resume(with: Result { try body() }) }
            }
        }

        func page(_ range: Range<UInt64>) async throws -> Page {
            if let scan, let hashScan {
                // Entries and stored hashes on two connections at once.
                async let entries = Self.run(on: queue) {
                    var page = Page(range)
                    try scan.entries(range) { page.add(index: $0, entry: $1, kind: $2, recordID: $3) }
                    return page
                }
                async let levels = Self.run(on: hashQueue) {
                    try Page.levels(upTo: range.upperBound).map {
                        try hashScan.hashes(level: $0, positions: Page.positions(level: $0, of: range))
                    }
                }
                var page = try await entries
                page.levels = try await levels
                return page
            }
            var page = Page(range)
            for row in try await ledger.entries(range) { page.add(row) }
            var levels: [[TreeHash?]] = []
            for level in Page.levels(upTo: range.upperBound) {
                let positions = Page.positions(level: level, of: range)
                var hashes = [TreeHash?](repeating: nil, count: positions.count)
                for (node, hash) in try await CustodyStorage.hashes(level: level, positions: positions, on: sql) {
                    hashes[Int(node.index - positions.lowerBound)] = hash
                }
                levels.append(hashes)
            }
            page.addLevels { level, _ in levels[level] }
            return page
        }
    }
}
