import Foundation

/// The one way to write. A use case asks its store for a unit of work (`Transactional.transaction`) and makes
/// every change through the unit's repositories, one per feature, custody entries included: all of them are
/// committed together or none is. How the changes reach the database (batches, locks, the row writer) is the
/// store's business; Core never sees it.
public protocol UnitOfWork: Sendable {
    /// The next number in the named sequence (1, 2, 3, …), e.g. `report-2026` for references.
    func nextNumber(in sequence: String) async throws -> Int
    var reports: any ReportRepository { get }
    var evidence: any EvidenceRepository { get }
    var incidents: any IncidentRepository { get }
    var caseFiles: any CaseFileRepository { get }
    var staff: any StaffRepository { get }
    var uploads: any UploadRepository { get }
    /// The custody log, appending within this unit of work.
    var custodyLog: any CustodyLog { get }
}

/// A store that runs units of work.
public protocol Transactional: Sendable {
    /// Runs `work` in one transaction: committed when it returns, rolled back when it throws. An
    /// implementation may run `work` again after rolling it back (a batch retried unit by unit), so `work`
    /// must act only through the unit of work it is given.
    func transaction<Result: Sendable>(_ work: @escaping @Sendable (any UnitOfWork) async throws -> Result)
        async throws -> Result
}

/// Records that staff read records: one `record.viewed` entry per record, all in one unit of work, before the
/// records are shown. Pages, search results and exports all go through it.
public struct RecordViews: Sendable {
    public var store: any Transactional
    public var clock: any Clock

    public init(store: any Transactional, clock: any Clock) {
        self.store = store
        self.clock = clock
    }

    /// Records that `actor` viewed `records` (nothing when there are none).
    public func execute(_ records: [ViewedRecord], actor: StaffAccount) async throws {
        var seen = Set<ViewedRecord>()
        let unique = records.filter { seen.insert($0).inserted }
        guard !unique.isEmpty else { return }
        let time = clock.now().wholeSeconds
        let actor = actor.actorID
        _ = try await store.transaction { unit in
            for record in unique {
                _ = try await unit.custodyLog.append(
                    CustodyEvent(
                        kind: .recordViewed, occurredAt: time, actor: actor, recordID: record.recordID,
                        contentHash: record.contentHash))
            }
        }
    }

    /// Records that `actor` viewed one record.
    public func execute(recordID: String, contentHash: String, actor: StaffAccount) async throws {
        try await execute([ViewedRecord(recordID: recordID, contentHash: contentHash)], actor: actor)
    }
}
