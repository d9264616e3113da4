import Foundation

/// Staff accept a screened report into a new incident, or into an existing one: the report's status, the
/// incident and the link are written with their `record.changed` entries in one transaction.
public struct AcceptReport: Sendable {
    public var store: any ReportStore
    public var clock: any Clock
    public var random: any RandomSource
    public var jurisdiction: Jurisdiction

    public init(store: any ReportStore, clock: any Clock, random: any RandomSource, jurisdiction: Jurisdiction) {
        self.store = store
        self.clock = clock
        self.random = random
        self.jurisdiction = jurisdiction
    }

    public enum Target: Sendable, Equatable {
        case newIncident
        case existing(IncidentReference)
    }

    public enum Error: Swift.Error, Equatable {
        case noSuchIncident
    }

    /// Accepts the report; returns the incident it now belongs to.
    public func execute(reference: ReportReference, into target: Target, actor: StaffAccount) async throws
        -> Incident
    {
        guard StaffPolicy.allows(actor.role, .triageReports) else { throw StaffError.forbidden }
        guard let report = try await store.report(reference: reference) else { throw FollowUpError.denied }
        let next = try report.status.moving(to: .accepted)
        let now = clock.now().wholeSeconds
        var existing: Incident?
        if case .existing(let incidentReference) = target {
            guard let found = try await store.incident(reference: incidentReference) else {
                throw Error.noSuchIncident
            }
            existing = found
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = jurisdiction.timeZone
        let year = calendar.component(.year, from: now)
        let id = Identifier<Incident>(random.uuid())
        let code = jurisdiction.code
        let actorID = actor.actorID
        let chosen = existing
        return try await store.transaction { unit in
            var incident: Incident
            if let chosen {
                incident = chosen
            } else {
                let number = try await unit.nextNumber(in: "incident-\(year)")
                incident = Incident(
                    id: id, reference: IncidentReference(year: year, number: number), jurisdiction: code,
                    windowStart: report.content.occurrence.start, windowEnd: report.content.occurrence.end,
                    place: report.content.location.description, communityArea: report.content.location.area,
                    operation: nil, summary: nil, openedAt: now)
                try await unit.incidents.insert(incident)
                _ = try await unit.custodyLog.append(
                    CustodyEvent(
                        kind: .recordChanged, occurredAt: now, actor: actorID, recordID: incident.recordID,
                        contentHash: incident.contentHash))
            }
            try await unit.reports.setStatus(next, of: report.id)
            try await unit.incidents.link(report.id, to: incident.id)
            _ = try await unit.custodyLog.append(
                CustodyEvent(
                    kind: .recordChanged, occurredAt: now, actor: actorID, recordID: "report:\(reference)",
                    contentHash: ContentHash.sha256Hex("accepted:\(incident.reference)|\(report.contentHash)")))
            return incident
        }
    }
}
