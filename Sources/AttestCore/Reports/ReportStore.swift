import Foundation

/// Writing reports and their threads, within a unit of work.
public protocol ReportRepository: Sendable {
    /// Stores a new report (prepared by `ReportStore.prepare`).
    func insert(_ report: PreparedReport) async throws
    /// Stores a new thread message.
    func insert(_ message: ThreadMessage) async throws
    /// Changes a report's triage status.
    func setStatus(_ status: TriageStatus, of report: Identifier<Report>) async throws
}

/// Reports, their threads and their custody entries.
public protocol ReportStore: Transactional {
    /// Does, before the transaction, what storing a new report needs that its number does not change: sealing
    /// its contact details, deriving what search and suggestions index. Transactions may be serial (SQLite has
    /// one writer); this runs in each request, in parallel. `report`'s reference is replaced in the transaction
    /// (`PreparedReport.numbered`). The default prepares nothing.
    func prepare(_ report: Report) throws -> PreparedReport
    /// The report with `reference`, contact details decrypted, or nil.
    func report(reference: ReportReference) async throws -> Report?
    /// The thread of a report, oldest first.
    func messages(of report: Identifier<Report>) async throws -> [ThreadMessage]
    /// How many reports exist, sample or real.
    func countReports(samples: Bool) async throws -> Int
    /// The evidence attached to a report, oldest first.
    func evidence(of report: Identifier<Report>) async throws -> [EvidenceItem]
    /// One evidence item, or nil.
    func evidenceItem(id: Identifier<EvidenceItem>) async throws -> EvidenceItem?
    /// The incident with `reference`, or nil.
    func incident(reference: IncidentReference) async throws -> Incident?
    /// The incident a report belongs to, if any.
    func incident(of report: Identifier<Report>) async throws -> Incident?
    /// The reports of an incident, oldest first.
    func reports(of incident: Identifier<Incident>) async throws -> [Report]
    /// Real (not sample) reports whose time windows overlap `window`, at most `limit`: candidates for
    /// related-report suggestions.
    func reports(overlapping window: ClosedRange<Date>, limit: Int) async throws -> [RelatedReports.Candidate]
}

extension ReportStore {
    public func prepare(_ report: Report) throws -> PreparedReport { PreparedReport(report) }
}

/// A new report, with what its store worked out for it before the transaction (see `ReportStore.prepare`).
public struct PreparedReport: Sendable {
    public private(set) var report: Report
    /// The store's own form of the report, or nil.
    public let stored: (any Sendable)?

    public init(_ report: Report, stored: (any Sendable)? = nil) {
        self.report = report
        self.stored = stored
    }

    /// The same report under `reference` (numbers are taken inside the transaction).
    public func numbered(_ reference: ReportReference) -> PreparedReport {
        var numbered = self
        numbered.report.reference = reference
        return numbered
    }
}
