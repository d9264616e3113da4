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
    /// Seals a report's contact details for storage at rest, bound to the report (see `PreparedReport`).
    func seal(_ contact: ContactDetails, of report: Identifier<Report>) throws -> String
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
    /// Real (not sample) reports in `statuses`, newest first, at most `limit`: the triage queue.
    func reports(in statuses: [TriageStatus], limit: Int) async throws -> [Report]
    /// The incident with `reference`, or nil.
    func incident(reference: IncidentReference) async throws -> Incident?
    /// The incident with `id`, or nil.
    func incident(id: Identifier<Incident>) async throws -> Incident?
    /// The incidents `reports` belong to, in one query (reports in none are left out).
    func incidents(of reports: [Identifier<Report>]) async throws -> [Identifier<Report>: IncidentReference]
    /// The incident a report belongs to, if any.
    func incident(of report: Identifier<Report>) async throws -> Incident?
    /// The reports of an incident, oldest first.
    func reports(of incident: Identifier<Incident>) async throws -> [Report]
    /// Real (not sample) reports whose time windows overlap `window`, at most `limit`: candidates for
    /// related-report suggestions.
    func reports(overlapping window: ClosedRange<Date>, limit: Int) async throws -> [RelatedReports.Candidate]
    /// Real reports that may share an observed identifier (plate, badge) with `content`, at most `limit`:
    /// candidates at any time; `RelatedReports` decides which really share one.
    func reports(sharingIdentifiersWith content: ReportContent, limit: Int) async throws
        -> [RelatedReports.Candidate]
    /// Identifiers that recur across incidents (`Patterns.recurring` over the incidents' reports).
    func recurringIdentifiers() async throws -> [IdentifierPattern]
}

/// Reports that may be related to a report, strongest first, each with its reasons: candidates are the reports
/// in its time window and those sharing an observed identifier at any time (at most `candidateLimit` of each).
public struct SuggestRelatedReports: Sendable {
    public var store: any ReportStore
    public var finder: RelatedReports
    public var candidateLimit: Int

    public init(store: any ReportStore, finder: RelatedReports, candidateLimit: Int) {
        self.store = store
        self.finder = finder
        self.candidateLimit = candidateLimit
    }

    public func execute(for report: Report) async throws -> [RelatedReports.Suggestion] {
        async let window = store.reports(overlapping: finder.window(of: report), limit: candidateLimit)
        async let sharing = store.reports(sharingIdentifiersWith: report.content, limit: candidateLimit)
        var candidates = try await window
        let inWindow = Set(candidates.map(\.id))
        candidates += try await sharing.filter { !inWindow.contains($0.id) }
        return finder.suggest(for: report, among: candidates)
    }
}

/// A new report with what storing it needs that its number does not change: its contact details sealed, what
/// search and related-report suggestions index. Transactions may be serial (SQLite has one writer); this is
/// worked out in each request, in parallel, and the report is numbered in the transaction (`numbered`).
public struct PreparedReport: Sendable {
    public private(set) var report: Report
    /// The contact details as `ReportStore.seal` sealed them, or nil when none were given.
    public let sealedContact: String?
    /// What related-report suggestions look identifiers up by (`RelatedReports.indexKeys`).
    public let indexKeys: [RelatedReports.IndexKey]
    /// What search indexes (`ReportContent.searchableText`).
    public let searchableText: String

    /// Prepares `report`, sealing its contact details with `store`.
    public init(_ report: Report, sealingWith store: any ReportStore) throws {
        self.report = report
        sealedContact = try report.contact.map { try store.seal($0, of: report.id) }
        indexKeys = RelatedReports.indexKeys(of: report.content)
        searchableText = report.content.searchableText
    }

    /// The same report under `reference` (numbers are taken inside the transaction).
    public func numbered(_ reference: ReportReference) -> PreparedReport {
        var numbered = self
        numbered.report.reference = reference
        return numbered
    }
}
