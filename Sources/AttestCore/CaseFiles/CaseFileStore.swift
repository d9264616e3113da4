import Foundation

/// Case files. Every change is written with its `record.changed` custody entry, in one transaction.
public protocol CaseFileStore: Sendable {
    /// Opens a case file for an incident: the next `CF-YYYY-NNNNNN`, status open.
    func openCaseFile(for incident: Incident, year: Int, id: Identifier<CaseFile>, at time: Date, actor: String)
        async throws -> CaseFile
    func caseFile(reference: CaseFileReference) async throws -> CaseFile?
    /// The case files an incident belongs to.
    func caseFiles(of incident: Identifier<Incident>) async throws -> [CaseFile]
    /// Saves a changed case file with its `record.changed` entry.
    func save(_ caseFile: CaseFile, at time: Date, actor: String) async throws
    /// The parts of a case file (subjects, persons, allegations, notes, tasks, timeline events), oldest first,
    /// with their sealed personal data opened.
    func parts(of caseFile: CaseFileReference) async throws -> [CaseFilePart]
    /// Adds a part with its `record.changed` entry; a subject gets the next `SA-` number.
    func add(_ part: CaseFilePart, at time: Date, actor: String) async throws -> CaseFilePart
    /// Saves a changed part with its `record.changed` entry.
    func save(_ part: CaseFilePart, at time: Date, actor: String) async throws
    /// Records that a staff member viewed a record (`record.viewed`).
    func recordView(of recordID: String, contentHash: String, at time: Date, actor: String) async throws
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
        guard var caseFile = try await store.caseFile(reference: reference) else {
            throw CaseFileStatus.Error.noSuchCaseFile
        }
        caseFile.status = try caseFile.status.moving(to: next, by: actor.role, outcome: outcome)
        caseFile.outcome = next == .closed ? outcome : nil
        try await store.save(caseFile, at: clock.now().wholeSeconds, actor: actor.actorID)
        return caseFile
    }
}
