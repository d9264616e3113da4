import AttestCore
import Foundation

extension FluentReportStore: RecordViewLog {
    public func recordViews(of records: [ViewedRecord], at time: Date, actor: String) async throws {
        guard !records.isEmpty else { return }
        _ = try await transaction { unit in
            for record in records {
                _ = try await unit.custodyLog.append(
                    CustodyEvent(
                        kind: .recordViewed, occurredAt: time, actor: actor, recordID: record.recordID,
                        contentHash: record.contentHash))
            }
        }
    }
}
