import AttestCore
import FluentKit
import FluentSQL
import FluentSQLiteDriver
import Foundation

/// The report store on Fluent: SQLite or PostgreSQL. Contact details are sealed with `ContactCipher`
/// before they reach the database and opened only when a report is read back.
public struct FluentReportStore: ReportStore {
    let database: @Sendable () -> any Database
    private let cipherBox: CipherBox
    let random: any RandomSource
    /// Every write goes through it: batched units of work, one transaction and one lock per batch.
    let committer: GroupCommitter

    /// SQLite's durability setting for each write transaction.
    public enum SQLiteSynchronous: String, Sendable, CaseIterable {
        /// The WAL is fsynced at every commit: an acknowledged report survives a power cut.
        case full = "FULL"
        /// The WAL is written at every commit and fsynced at checkpoints: an acknowledged report survives
        /// the process being killed, not a power cut.
        case normal = "NORMAL"
    }

    /// - Parameters:
    ///   - database: gives the database to use (Fluent's connection pools are per event loop).
    ///   - kind: which database `database` is. Writes are batched by the group committer, which on an SQLite file
    ///     writes through a connection of its own (see `GroupCommitter`).
    public init(
        database: @escaping @Sendable () -> any Database, cipher: ContactCipher, random: any RandomSource,
        kind: DatabaseKind, sqliteSynchronous: SQLiteSynchronous = .full
    ) {
        self.database = database
        self.cipherBox = CipherBox(cipher)
        self.random = random
        self.isSQLite = kind.isSQLite
        let indexer = kind.isSQLite ? nil : BackgroundSearchIndexer(database: database)
        self.searchIndexer = indexer
        // PostgreSQL: the committer's connection on a thread of its own (the application's pool if that fails).
        let own = kind.isSQLite ? nil : try? CommitterDatabases(kind: kind)
        self.committerDatabases = own
        let committerDatabase: @Sendable () -> any Database
        if let own {
            committerDatabase = { own.database() }
        } else {
            committerDatabase = database
        }
        self.committer = GroupCommitter(
            database: committerDatabase,
            kind: kind.isSQLite ? .sqlite(file: kind.sqliteFile?.path) : .postgres,
            synchronous: sqliteSynchronous.rawValue,
            executor: own.map { EventLoopCommitterExecutor(loop: $0.eventLoop) },
            afterBatch: { if let indexer { Task { await indexer.wake() } } })
    }

    /// PostgreSQL: indexes new search documents after their batch (see `DeferPostgresSearchIndexing`).
    let searchIndexer: BackgroundSearchIndexer?
    /// PostgreSQL: the group committer's own connection (see `CommitterDatabases`).
    let committerDatabases: CommitterDatabases?

    /// Stops background work that uses the database (before the database shuts down).
    public func stopBackgroundWork() async {
        await searchIndexer?.stop()
    }

    /// Closes the group committer's own connection (at shutdown, after the last write).
    public func shutdown() async {
        await stopBackgroundWork()
        await committerDatabases?.shutdown()
    }

    /// Whether the database is SQLite (which indexes search documents in the background).
    let isSQLite: Bool

    public func seal(_ contact: ContactDetails, of report: Identifier<Report>) throws -> String {
        try cipher.seal(contact, recordID: report.rawValue.uuidString)
    }

    /// How the group committer has run units of work so far.
    public func groupCommitStatistics() async -> GroupCommitStatistics? {
        await committer.statistics
    }

    /// Indexes every search document still pending (see `DeferSearchIndexing`, `DeferPostgresSearchIndexing`), so
    /// that a search that follows sees everything committed before it.
    public func indexPendingSearch() async throws {
        guard isSQLite else {
            while try await SearchIndexer.indexPendingPostgres(on: database(), limit: 1_000, skipLocked: false)
                == 1_000
            {}
            return
        }
        struct Row: Decodable { var pending: Bool }
        guard
            try await sql.raw("SELECT EXISTS (SELECT 1 FROM search_pending) AS pending").first(decoding: Row.self)?
                .pending == true
        else { return }
        while try await write({ sql in try await SearchIndexer.indexPending(on: sql, limit: 1_000) }) > 1_000 {}
    }

    /// The cipher in use.
    public var cipher: ContactCipher { cipherBox.value }

    /// Reloads the contact key ring from its file, after another process (`attest keys rotate`) changed it.
    public func reloadKeys() throws {
        guard let url = cipher.ring.fileURL else { return }
        cipherBox.value = ContactCipher(ring: try ContactKeyRing.file(at: url, random: random, now: Date()))
    }

    public func transaction<Result: Sendable>(
        _ work: @escaping @Sendable (any UnitOfWork) async throws -> Result
    ) async throws -> Result {
        try await unitOfWork { try await work($0) }
    }

    /// Runs `work` in the group committer's next batch with this store's unit of work (see `transaction`).
    func unitOfWork<Result: Sendable>(
        _ work: @escaping @Sendable (FluentUnitOfWork) async throws -> Result
    ) async throws -> Result {
        let cipher = self.cipher
        let random = self.random
        let value = try await committer.submit { database, batch in
            try await work(FluentUnitOfWork(database: database, cipher: cipher, random: random, batch: batch))
        }
        // The committer is type-erased; it hands back exactly what `work` returned.
        return value as! Result
    }

    /// Runs `work` in a write transaction on its connection (`FluentUnitOfWork.connection`), after
    /// everything batched before it is written.
    func write<Result: Sendable>(_ work: @escaping @Sendable (any SQLDatabase) async throws -> Result) async throws
        -> Result
    {
        try await unitOfWork { unit in try await work(try await unit.connection()) }
    }

    /// The database for reads (SQL on both SQLite and PostgreSQL).
    var sql: any SQLDatabase { database() as! any SQLDatabase }

    public func report(reference: ReportReference) async throws -> Report? {
        guard
            let record = try await ReportRecord.query(on: database())
                .filter(\.$reference == reference.description)
                .first()
        else { return nil }
        do {
            return try ReportMapping.report(from: record, cipher: cipher)
        } catch ContactCipher.Error.unknownKey {
            // Keys were rotated by another process since this one started.
            try reloadKeys()
            return try ReportMapping.report(from: record, cipher: cipher)
        }
    }

    public func messages(of report: Identifier<Report>) async throws -> [ThreadMessage] {
        try await ThreadMessageRecord.query(on: database())
            .filter(\.$reportID == report.rawValue)
            .sort(\.$createdAt)
            .all()
            .map(ReportMapping.message(from:))
    }

    public func countReports(samples: Bool) async throws -> Int {
        try await ReportRecord.query(on: database()).filter(\.$isSample == samples).count()
    }

    /// Readies the database for use: SQLite switches to write-ahead logging (readers never block the writer,
    /// and a commit is one append to the log), and the custody log gets its genesis entry.
    public func prepare(now: Date) async throws {
        if isSQLite {
            try await sql.raw("PRAGMA journal_mode = WAL").run()
        }
        try await ensureCustodyGenesis(now: now)
    }

    /// Appends the genesis entry (`log.created`) when the custody log is empty, so no published state of
    /// the log is ever empty.
    func ensureCustodyGenesis(now: Date) async throws {
        try await unitOfWork { unit in
            struct Row: Decodable { var count: Int64 }
            guard
                try await unit.connection().raw("SELECT COUNT(*) AS count FROM custody_entries")
                    .first(decoding: Row.self)?.count == 0
            else { return }
            _ = try await unit.custodyLog.append(
                CustodyEvent(
                    kind: .logCreated, occurredAt: now, actor: "system", recordID: "log",
                    contentHash: ContentHash.sha256Hex("")
                )
            )
        }
    }

    /// Re-encrypts every stored contact under the active key of `newCipher`'s ring (which holds the older
    /// keys too, to open what they sealed), in one transaction, and records `key.rotated`. From then on this
    /// store seals with the new key. Returns how many ciphertexts were rewritten.
    public func reencryptContacts(with newCipher: ContactCipher, now: Date) async throws -> Int {
        defer { cipherBox.value = newCipher }
        return try await unitOfWork { unit in
            let sql = try await unit.connection()
            let records = try await ReportRecord.query(on: unit.database)
                .filter(\.$contactCiphertext != nil)
                .all()
            var rewritten = 0
            for record in records {
                guard let ciphertext = record.contactCiphertext, let id = record.id else { continue }
                if ContactCipher.keyID(of: ciphertext) == newCipher.ring.activeID { continue }
                let contact = try newCipher.open(ciphertext, recordID: id.uuidString)
                record.contactCiphertext = try newCipher.seal(contact, recordID: id.uuidString)
                try await record.update(on: unit.database)
                rewritten += 1
            }
            rewritten += try await self.reencryptCaseFileParts(with: newCipher, on: sql)
            _ = try await unit.custodyLog.append(
                CustodyEvent(
                    kind: .keyRotated, occurredAt: now, actor: "system", recordID: "key:contact",
                    contentHash: ContentHash.sha256Hex(newCipher.ring.activeID)
                )
            )
            return rewritten
        }
    }
}

/// The current cipher, replaceable when the key ring is reloaded.
final class CipherBox: @unchecked Sendable {
    private let lock = NSLock()
    private var cipher: ContactCipher

    init(_ cipher: ContactCipher) {
        self.cipher = cipher
    }

    var value: ContactCipher {
        get { lock.withLock { cipher } }
        set { lock.withLock { cipher = newValue } }
    }
}

/// A unit of work on Fluent: one per unit the group committer runs. Each feature's repository writes through it:
/// new rows into the batch (`RowBatch`), anything else on `connection()`.
struct FluentUnitOfWork: UnitOfWork {
    let database: any Database
    let cipher: ContactCipher
    let random: any RandomSource
    /// The group committer's batch: counters and rows accumulate there and are written once.
    let batch: RowBatch

    var custodyLog: any CustodyLog { MerkleCustodyLog(random: random, batch: batch) }
    var reports: any ReportRepository { FluentReportRepository(unit: self) }
    var evidence: any EvidenceRepository { FluentEvidenceRepository(unit: self) }
    var incidents: any IncidentRepository { FluentIncidentRepository(unit: self) }
    var caseFiles: any CaseFileRepository { FluentCaseFileRepository(unit: self) }
    var staff: any StaffRepository { FluentStaffRepository(unit: self) }
    var uploads: any UploadRepository { FluentUploadRepository(unit: self) }

    func nextNumber(in sequence: String) async throws -> Int {
        Int(try await batch.next(sequence, first: 1))
    }

    /// The unit's connection for statements of its own: every row the batch holds is written first, so what
    /// follows reads them and comes after them. On the SQLite writer's own connection this throws
    /// `RowBatch.NeedsConnection`, and the unit runs again in a Fluent transaction.
    func connection() async throws -> any SQLDatabase {
        try await batch.flush()
        return database as! any SQLDatabase
    }
}

/// Reports and their threads, written in a unit of work.
struct FluentReportRepository: ReportRepository {
    let unit: FluentUnitOfWork

    // New rows go to the batch rather than through `Model.create`: Fluent enumerates a model's properties by
    // reflection on every create, which cost more than the rest of a submission together (measured with
    // perf under wrk).
    func insert(_ prepared: PreparedReport) async throws {
        let report = prepared.report
        unit.batch.add(.reports, [ReportMapping.cells(of: report, sealedContact: prepared.sealedContact)])
        unit.batch.add(.identifiers, ReportIdentifiers.rows(prepared.indexKeys, of: report.id.rawValue))
        unit.batch.add(
            .searchDocuments,
            [
                [
                    .uuid(report.id.rawValue), .text("report"), .text(report.reference.description),
                    .text(prepared.searchableText),
                ]
            ])
    }

    func insert(_ message: ThreadMessage) async throws {
        unit.batch.add(
            .messages,
            [
                [
                    .uuid(message.id.rawValue), .uuid(message.reportID.rawValue), .text(message.author.rawValue),
                    .text(message.body), .date(message.createdAt), .text(message.contentHash),
                ]
            ])
    }

    func setStatus(_ status: TriageStatus, of report: Identifier<Report>) async throws {
        try await unit.connection().update(ReportRecord.schema).set("status", to: SQLBind(status.rawValue))
            .where("id", .equal, SQLBind(report.rawValue)).run()
    }
}

enum ReportMapping {
    /// The `reports` row of a new report (`RowTable.reports`), contact details sealed.
    static func cells(of report: Report, sealedContact contact: String?) -> [Cell] {
        let content = report.content
        return [
            .uuid(report.id.rawValue), .text(report.reference.description), .integer(Int64(report.reference.year)),
            .integer(Int64(report.reference.number)), .text(report.jurisdiction), .text(report.status.rawValue),
            .date(report.receivedAt), .date(content.occurrence.start), .date(content.occurrence.end),
            Cell(content.location.area), Cell(content.agents.agency), Cell(content.reporterRole?.rawValue),
            .text(CanonicalJSON.array(content.categories)), .text(report.canonicalContent), .text(report.contentHash),
            Cell(contact), .text(report.followUpCodeHash), .bool(content.consents.mayContact),
            .bool(content.consents.mayShareWithProsecutor), .bool(content.consents.mayCountInStatistics),
            .text(content.language), .bool(report.isSample), .blob(RelatedReports.Profile(content).encoded()),
        ]
    }

    /// The columns a related-report candidate needs, as select expressions of `dialect`: the stored profile, and
    /// the content only for a report whose profile is missing or of another version.
    static func candidateColumns(dialect: String) -> [any SQLExpression] {
        ["id", "reference", "status", "received_at", "occurred_start", "occurred_end", "area", "related_profile"].map {
            SQLIdentifier($0) as any SQLExpression
        } + [SQLAlias(SQLRaw(contentWithoutProfile(dialect: dialect)), as: SQLIdentifier("content_json"))]
    }

    /// Related-report candidates on SQLite, read through SQLiteNIO with positional binds and no `Decodable` row
    /// decoding (a third of the cost of a thousand-row time window). `condition` is a constant of this module.
    static func sqliteCandidates(
        _ sqlite: any SQLiteDatabase, where condition: String, _ binds: [SQLiteData], order: String = "", limit: Int
    ) async throws -> [RelatedReports.Candidate] {
        let columns = candidateColumns(dialect: "sqlite").map { expression -> String in
            var serializer = SQLSerializer(database: sqlite.sql())
            expression.serialize(to: &serializer)
            return serializer.sql
        }.joined(separator: ", ")
        final class Rows: @unchecked Sendable {
            let lock = NSLock()
            var rows: [SQLiteRow] = []
        }
        let collected = Rows()
        try await sqlite.query(
            "SELECT \(columns) FROM reports WHERE \(condition) \(order) LIMIT \(limit)", binds
        ) { row in collected.lock.withLock { collected.rows.append(row) } }
        return try collected.lock.withLock { collected.rows }.map { row in
            guard let id = row.column("id")?.string.flatMap(UUID.init(uuidString:)),
                let referenceText = row.column("reference")?.string, let reference = ReportReference(referenceText),
                let status = row.column("status")?.string.flatMap(TriageStatus.init(rawValue:)),
                let received = row.column("received_at")?.double, let start = row.column("occurred_start")?.double,
                let end = row.column("occurred_end")?.double
            else { throw PersistenceError.corruptRow("reports (candidate)") }
            let profile = try Self.profile(
                stored: row.column("related_profile")?.blob?.withUnsafeReadableBytes {
                    RelatedReports.Profile(encoded: $0)
                }, content: row.column("content_json")?.string, reference: referenceText)
            return RelatedReports.Candidate(
                id: Identifier(id), reference: reference, status: status,
                receivedAt: Date(timeIntervalSince1970: received), start: Date(timeIntervalSince1970: start),
                end: Date(timeIntervalSince1970: end), area: row.column("area")?.integer.map { Int($0) },
                profile: profile)
        }
    }

    /// Related-report candidates from a select of `candidateColumns`.
    static func candidates(_ query: SQLSelectBuilder) async throws -> [RelatedReports.Candidate] {
        struct Row: Decodable {
            var id: UUID
            var reference: String
            var status: String
            var received_at: Date
            var occurred_start: Date
            var occurred_end: Date
            var area: Int?
            var related_profile: Data?
            var content_json: String?
        }
        return try await query.all(decoding: Row.self).map { row in
            guard let reference = ReportReference(row.reference), let status = TriageStatus(rawValue: row.status)
            else { throw PersistenceError.corruptRow("reports \(row.reference)") }
            let profile = try Self.profile(
                stored: row.related_profile.flatMap { RelatedReports.Profile(encoded: $0) }, content: row.content_json,
                reference: row.reference)
            return RelatedReports.Candidate(
                id: Identifier(row.id), reference: reference, status: status, receivedAt: row.received_at,
                start: row.occurred_start, end: row.occurred_end, area: row.area, profile: profile)
        }
    }

    /// A report's content from its stored canonical JSON.
    static func decodeContent(_ json: String) throws -> ReportContent {
        let decoder = RFC3339.jsonDecoder()
        return try decoder.decode(ReportContent.self, from: Data(json.utf8))
    }

    static func report(from record: ReportRecord, cipher: ContactCipher) throws -> Report {
        guard let id = record.id, let reference = ReportReference(record.reference),
            let status = TriageStatus(rawValue: record.status)
        else { throw PersistenceError.corruptRow("reports \(record.reference)") }
        let content = try decodeContent(record.contentJSON)
        let contact = try record.contactCiphertext.map { try cipher.open($0, recordID: id.uuidString) }
        return Report(
            id: Identifier(id), reference: reference, jurisdiction: record.jurisdiction, status: status,
            receivedAt: record.receivedAt, content: content, contentHash: record.contentHash,
            canonicalContent: record.contentJSON, contact: contact,
            followUpCodeHash: record.followUpCodeHash, isSample: record.isSample
        )
    }

    static func message(from record: ThreadMessageRecord) throws -> ThreadMessage {
        guard let id = record.id, let author = ThreadMessage.Author(rawValue: record.author) else {
            throw PersistenceError.corruptRow("report_messages")
        }
        return ThreadMessage(
            id: Identifier(id), reportID: Identifier(record.reportID), author: author, body: record.body,
            createdAt: record.createdAt, contentHash: record.contentHash
        )
    }
}
