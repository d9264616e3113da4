import Foundation

/// Staff take a copy of an evidence file: the `export.made` entry is written before a byte leaves.
public struct DownloadEvidence: Sendable {
    public var store: any ReportStore
    public var clock: any Clock

    public init(store: any ReportStore, clock: any Clock) {
        self.store = store
        self.clock = clock
    }

    /// The item and what `open` made of it (its stored file), once the export is recorded; nil when there is no
    /// such item. When `open` throws, nothing is recorded.
    public func execute<Source>(
        _ id: Identifier<EvidenceItem>, actor: StaffAccount, open: (EvidenceItem) throws -> Source
    ) async throws -> (item: EvidenceItem, source: Source)? {
        guard StaffPolicy.allows(actor.role, .downloadEvidence) else { throw StaffError.forbidden }
        guard let item = try await store.evidenceItem(id: id) else { return nil }
        let source = try open(item)
        let now = clock.now().wholeSeconds
        let actorID = actor.actorID
        _ = try await store.transaction { unit in
            try await unit.custodyLog.append(
                CustodyEvent(
                    kind: .exportMade, occurredAt: now, actor: actorID, recordID: item.recordID,
                    contentHash: item.sha256))
        }
        return (item, source)
    }
}
