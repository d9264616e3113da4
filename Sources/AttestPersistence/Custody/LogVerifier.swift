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

    private var sql: any SQLDatabase { ledger.store.database() as! any SQLDatabase }

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
        var received: CoveredRecords = [:]
        var supplemented: CoveredRecords = [:]
        var ingested: CoveredRecords = [:]
        var changedParts: CoveredRecords = [:]
        var treeIsBroken = false
        var start: UInt64 = 0
        while start < total {
            let end = min(start + pageSize, total)
            let rows = Dictionary(uniqueKeysWithValues: try await ledger.entries(start..<end).map { ($0.index, $0) })
            var storedNodes: [TreeNode: TreeHash] = [:]
            var level = 0
            while level < 64, UInt64(1) << UInt64(level) <= end {
                let positions = (start >> UInt64(level))..<(((end - 1) >> UInt64(level)) + 1)
                storedNodes.merge(try await CustodyStorage.hashes(level: level, positions: positions, on: sql)) { $1 }
                level += 1
            }
            for index in start..<end {
                let row = rows[index]
                var leaf: TreeHash?
                if let row {
                    leaf = TreeHash.leaf(row.entry)
                    check(
                        row, into: &outcome, received: &received, supplemented: &supplemented, ingested: &ingested,
                        changedParts: &changedParts)
                    if let storedLeaf = storedNodes[TreeNode(level: 0, index: index)], storedLeaf != leaf {
                        outcome.discrepancies.append(
                            "entry \(index) (\(row.recordID)): its bytes do not match its stored leaf hash (changed or moved?)"
                        )
                    }
                } else if index < stored || index < total {
                    outcome.discrepancies.append("entry \(index) is missing (deleted?)")
                    leaf = storedNodes[TreeNode(level: 0, index: index)]
                }
                guard let leaf, !treeIsBroken else {
                    treeIsBroken = true
                    continue
                }
                frontier.append(leaf) { node, hash in
                    guard node.level > 0 else { return }
                    if let storedHash = storedNodes[node], storedHash != hash {
                        outcome.discrepancies.append("stored tree node \(node) does not match the entries below it")
                    } else if storedNodes[node] == nil {
                        outcome.discrepancies.append("stored tree node \(node) is missing")
                    }
                }
                if storedNodes[TreeNode(level: 0, index: index)] == nil, row != nil {
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
        try await checkRecords(received: received, supplemented: supplemented, into: &outcome)
        try await checkEvidence(ingested: ingested, into: &outcome)
        try await checkCaseFileParts(changed: changedParts, into: &outcome)
        try await checkHashCount(size: stored, into: &outcome)
        return outcome
    }

    private func check(
        _ row: CustodyLedger.StoredEntry, into outcome: inout Outcome,
        received: inout CoveredRecords, supplemented: inout CoveredRecords, ingested: inout CoveredRecords,
        changedParts: inout CoveredRecords
    ) {
        guard let entry = CustodyEntry.essentials(of: row.entry) else {
            outcome.discrepancies.append("entry \(row.index) is not a readable custody entry")
            return
        }
        if row.entry.utf8.count > CustodyEntry.maxBytes {
            outcome.discrepancies.append("entry \(row.index) is larger than \(CustodyEntry.maxBytes) bytes")
        }
        if entry.kind != row.kind || entry.recordID != row.recordID {
            outcome.discrepancies.append(
                "entry \(row.index): its indexed columns differ from its bytes (\(row.recordID))")
        }
        switch CustodyEventKind(rawValue: entry.kind) {
        case .reportReceived:
            received[entry.recordID] = (row.index, entry.contentHash)
        case .reportSupplemented:
            supplemented[entry.recordID] = (row.index, entry.contentHash)
        case .evidenceIngested:
            ingested[entry.recordID] = (row.index, entry.contentHash)
        case .recordChanged where Self.isCaseFilePart(entry.recordID):
            // The latest change names the part's current content.
            changedParts[entry.recordID] = (row.index, entry.contentHash)
        case nil:
            outcome.discrepancies.append("entry \(row.index) has an unknown type “\(entry.kind)”")
        default:
            break
        }
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
        struct PartRow: Decodable {
            var id: UUID
            var case_file: String
            var kind: String
            var number: Int?
            var body_json: String
            var author: String
            var created_at: Date
        }
        var seen = Set<String>()
        var after: UUID?
        while true {
            let query = sql.select().columns("id", "case_file", "kind", "number", "body_json", "author", "created_at")
                .from("case_file_parts")
            if let after { query.where("id", .greaterThan, SQLBind(after)) }
            let rows = try await query.orderBy("id").limit(Int(pageSize)).all(decoding: PartRow.self)
            for row in rows {
                guard let reference = CaseFileReference(row.case_file),
                    let kind = CaseFilePartBody.Kind(rawValue: row.kind),
                    let body = try? CaseFilePartBody.decode(kind: kind, json: Data(row.body_json.utf8))
                else {
                    outcome.discrepancies.append("case file part \(row.id) is not readable (changed?)")
                    continue
                }
                let part = CaseFilePart(
                    id: Identifier(row.id), caseFile: reference, number: row.number, body: body, author: row.author,
                    createdAt: row.created_at)
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
