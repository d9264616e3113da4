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
