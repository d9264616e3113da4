import Foundation

/// Writing case files and their parts, within a unit of work. The use cases add the custody entries.
public protocol CaseFileRepository: Sendable {
    /// A case file, read so that it cannot change until this unit commits (a supervisor closing it waits for
    /// this unit, or this unit for them); nil when there is no such case file. Every change to a case file or
    /// its parts starts here, so that it is checked against the case file as it is, not as it was read before.
    func lock(_ reference: CaseFileReference) async throws -> CaseFile?
    /// Stores a new case file with its incidents.
    func insert(_ caseFile: CaseFile) async throws
    /// Saves a case file's status, outcome, assignee and checklist.
    func update(_ caseFile: CaseFile) async throws
    /// Stores a new part, after the case file's other parts.
    func insert(_ part: CaseFilePart) async throws
    /// Saves a part's body and sealed personal data.
    func update(_ part: CaseFilePart) async throws
}

/// Reading case files; writing goes through a unit of work (`CaseFileRepository`).
public protocol CaseFileStore: Transactional {
    func caseFile(reference: CaseFileReference) async throws -> CaseFile?
    /// The case files an incident belongs to.
    func caseFiles(of incident: Identifier<Incident>) async throws -> [CaseFile]
    /// The parts of a case file (subjects, persons, allegations, notes, tasks, timeline events), oldest first,
    /// with their sealed personal data opened.
    func parts(of caseFile: CaseFileReference) async throws -> [CaseFilePart]
    /// The incidents a case file investigates, oldest first (one query).
    func incidents(of caseFile: CaseFile) async throws -> [Incident]
    /// The evidence of every report of the case file's incidents, oldest first, each item with its custody
    /// history: a fixed number of queries, however many items.
    func evidence(of caseFile: CaseFile) async throws -> [CaseFileEvidence]
}

/// Everything a case file's page shows, read in a fixed number of queries however large the case file is.
public struct CaseFileRecord: Sendable {
    public var caseFile: CaseFile
    public var incidents: [Incident]
    public var parts: [CaseFilePart]
    public var evidence: [CaseFileEvidence]
}

/// Staff read a case file: its `record.viewed` entry is written before anything is returned. What the role may
/// not see of its parts is the page's to leave out (`CaseFilePart.visible(to:)`).
public struct ViewCaseFile: Sendable {
    public var store: any CaseFileStore
    public var views: RecordViews

    public init(store: any CaseFileStore, views: RecordViews) {
        self.store = store
        self.views = views
    }

    /// The case file and what its page shows, or nil when there is none.
    public func execute(_ reference: CaseFileReference, actor: StaffAccount) async throws -> CaseFileRecord? {
        guard StaffPolicy.allows(actor.role, .viewCaseFiles) else { throw StaffError.forbidden }
        guard let caseFile = try await store.caseFile(reference: reference) else { return nil }
        try await views.execute(recordID: caseFile.recordID, contentHash: caseFile.contentHash, actor: actor)
        async let incidents = store.incidents(of: caseFile)
        async let parts = store.parts(of: reference)
        async let evidence = store.evidence(of: caseFile)
        return CaseFileRecord(
            caseFile: caseFile, incidents: try await incidents, parts: try await parts, evidence: try await evidence)
    }
}

/// An evidence item as a case file shows it: the report it came with and every custody entry naming it.
public struct CaseFileEvidence: Equatable, Sendable {
    public var report: ReportReference
    public var item: EvidenceItem
    /// Oldest first.
    public var history: [CustodyHistoryEntry]

    public init(report: ReportReference, item: EvidenceItem, history: [CustodyHistoryEntry]) {
        self.report = report
        self.item = item
        self.history = history
    }
}

/// One custody entry naming a record, as staff see it in the record's history.
public struct CustodyHistoryEntry: Equatable, Sendable {
    public var index: Int64
    /// `evidence.ingested`, `record.viewed`, …
    public var kind: String
    /// RFC 3339, whole seconds.
    public var time: String
    public var actor: String

    public init(index: Int64, kind: String, time: String, actor: String) {
        self.index = index
        self.kind = kind
        self.time = time
        self.actor = actor
    }
}

extension CaseFile {
    /// The `record.changed` entry of this case file as it now is.
    func changedEvent(at time: Date, actor: String) -> CustodyEvent {
        CustodyEvent(kind: .recordChanged, occurredAt: time, actor: actor, recordID: recordID, contentHash: contentHash)
    }
}

extension CaseFilePart {
    /// The `record.changed` entry of this part as it now is.
    func changedEvent(at time: Date, actor: String) -> CustodyEvent {
        CustodyEvent(kind: .recordChanged, occurredAt: time, actor: actor, recordID: recordID, contentHash: contentHash)
    }
}

/// Opening a case file for an incident: the next `CF-YYYY-NNNNNN` of the jurisdiction's year, status open, with
/// its `record.changed` entry.
public struct OpenCaseFile: Sendable {
    public var store: any CaseFileStore
    public var jurisdiction: Jurisdiction
    public var clock: any Clock
    public var random: any RandomSource

    public init(store: any CaseFileStore, jurisdiction: Jurisdiction, clock: any Clock, random: any RandomSource) {
        self.store = store
        self.jurisdiction = jurisdiction
        self.clock = clock
        self.random = random
    }

    public func execute(for incident: Incident, actor: StaffAccount) async throws -> CaseFile {
        guard StaffPolicy.allows(actor.role, .manageCaseFiles) else { throw StaffError.forbidden }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = jurisdiction.timeZone
        let now = clock.now().wholeSeconds
        let year = calendar.component(.year, from: now)
        let id = Identifier<CaseFile>(random.uuid())
        let actorID = actor.actorID
        return try await store.transaction { unit in
            let number = try await unit.nextNumber(in: "case-file-\(year)")
            let caseFile = CaseFile(
                id: id, reference: CaseFileReference(year: year, number: number), incidents: [incident.id],
                openedAt: now)
            try await unit.caseFiles.insert(caseFile)
            _ = try await unit.custodyLog.append(caseFile.changedEvent(at: now, actor: actorID))
            return caseFile
        }
    }
}

/// Moving a case file through its workflow; closing, returning from review and reopening are a supervisor's.
public struct MoveCaseFile: Sendable {
    public var store: any CaseFileStore
    public var clock: any Clock

    public init(store: any CaseFileStore, clock: any Clock) {
        self.store = store
        self.clock = clock
    }

    public func execute(
        _ reference: CaseFileReference, to next: CaseFileStatus, outcome: CaseFileOutcome?, actor: StaffAccount
    ) async throws -> CaseFile {
        guard StaffPolicy.allows(actor.role, .manageCaseFiles) else { throw StaffError.forbidden }
        let role = actor.role
        let actorID = actor.actorID
        let now = clock.now().wholeSeconds
        return try await store.transaction { unit in
            guard var caseFile = try await unit.caseFiles.lock(reference) else {
                throw CaseFileStatus.Error.noSuchCaseFile
            }
            caseFile.status = try caseFile.status.moving(to: next, by: role, outcome: outcome)
            caseFile.outcome = next == .closed ? outcome : nil
            try await unit.caseFiles.update(caseFile)
            _ = try await unit.custodyLog.append(caseFile.changedEvent(at: now, actor: actorID))
            return caseFile
        }
    }
}
