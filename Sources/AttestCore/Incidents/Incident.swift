import Foundation

/// An incident's reference, `INC-2026-000045`: the year it was opened and a number counting that year.
public typealias IncidentReference = YearlyReference<IncidentReferenceKind>

public enum IncidentReferenceKind: YearlyReferenceKind {
    public static let prefix = "INC"
}

/// One real-world event; several reports may describe it.
public struct Incident: Equatable, Sendable {
    public var id: Identifier<Incident>
    public var reference: IncidentReference
    public var jurisdiction: String
    /// The time window the incident happened in (the union of its reports' windows when opened).
    public var windowStart: Date
    public var windowEnd: Date
    /// Where, in staff's words.
    public var place: String?
    public var communityArea: Int?
    /// The enforcement operation it belongs to, if known (e.g. "Midway Blitz").
    public var operation: String?
    /// Staff's summary.
    public var summary: String?
    public var openedAt: Date

    public init(
        id: Identifier<Incident>, reference: IncidentReference, jurisdiction: String, windowStart: Date,
        windowEnd: Date,
        place: String?, communityArea: Int?, operation: String?, summary: String?, openedAt: Date
    ) {
        self.id = id
        self.reference = reference
        self.jurisdiction = jurisdiction
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.place = place
        self.communityArea = communityArea
        self.operation = operation
        self.summary = summary
        self.openedAt = openedAt
    }

    public var recordID: String { "incident:\(reference)" }

    /// SHA-256 of the incident's canonical content, for its custody entries.
    public var contentHash: String {
        ContentHash.sha256Hex(
            CanonicalJSON.object([
                ("area", communityArea.map(String.init) ?? ""), ("operation", operation ?? ""), ("place", place ?? ""),
                ("reference", reference.description), ("summary", summary ?? ""),
                ("windowEnd", RFC3339.string(from: windowEnd)), ("windowStart", RFC3339.string(from: windowStart)),
            ]))
    }
}

/// Writing incidents, within a unit of work.
public protocol IncidentRepository: Sendable {
    /// Stores a new incident.
    func insert(_ incident: Incident) async throws
    /// Saves an incident's place, operation and summary.
    func update(_ incident: Incident) async throws
    /// Links a report to an incident (a report belongs to at most one).
    func link(_ report: Identifier<Report>, to incident: Identifier<Incident>) async throws
}

/// Staff describe an incident: its place, the operation it belongs to and a summary, checked against the
/// report limits, saved with a `record.changed` entry.
public struct EditIncident: Sendable {
    /// Longest operation name, in characters.
    public static let operationMaxCharacters = 200

    public var store: any ReportStore
    public var limits: ReportLimits
    public var clock: any Clock

    public init(store: any ReportStore, limits: ReportLimits, clock: any Clock) {
        self.store = store
        self.limits = limits
        self.clock = clock
    }

    /// Changes `incident` as the form says.
    public func execute(_ incident: Incident, form: some FormFields, actor: StaffAccount) async throws -> Incident {
        guard StaffPolicy.allows(actor.role, .manageIncidents) else { throw StaffError.forbidden }
        var incident = incident
        var issues: [ValidationIssue] = []
        incident.place = TextRules.check(
            form["place"], field: "place", maxCharacters: limits.locationMaxCharacters, into: &issues)
        incident.operation = TextRules.check(
            form["operation"], field: "operation", maxCharacters: Self.operationMaxCharacters, into: &issues)
        incident.summary = TextRules.check(
            form["summary"], field: "summary", maxCharacters: limits.narrativeMaxCharacters, multiline: true,
            into: &issues)
        guard issues.isEmpty else { throw ValidationFailure(issues: issues) }
        let now = clock.now().wholeSeconds
        let actorID = actor.actorID
        return try await store.transaction { [incident] unit in
            try await unit.incidents.update(incident)
            _ = try await unit.custodyLog.append(
                CustodyEvent(
                    kind: .recordChanged, occurredAt: now, actor: actorID, recordID: incident.recordID,
                    contentHash: incident.contentHash))
            return incident
        }
    }
}
