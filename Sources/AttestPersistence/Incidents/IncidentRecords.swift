import AttestCore
import FluentKit
import FluentSQL
import FluentSQLiteDriver
import Foundation

/// Incidents and which reports describe them; indexes for the triage queue (status) and related-report
/// suggestions (time windows).
struct CreateIncidents: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("incidents")
            .field("id", .uuid, .identifier(auto: false))
            .field("reference", .string, .required)
            .field("jurisdiction", .string, .required)
            .field("window_start", .datetime, .required)
            .field("window_end", .datetime, .required)
            .field("place", .string)
            .field("community_area", .int64)
            .field("operation", .string)
            .field("summary", .string)
            .field("opened_at", .datetime, .required)
            .unique(on: "reference")
            .create()
        try await database.schema("incident_reports")
            .field("report_id", .uuid, .identifier(auto: false))
            .field("incident_id", .uuid, .required)
            .create()
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        try await sql.raw("CREATE INDEX incident_reports_incident_id ON incident_reports (incident_id)").run()
        try await sql.raw("CREATE INDEX reports_occurred_start ON reports (occurred_start)").run()
        try await sql.raw("CREATE INDEX reports_status_received_at ON reports (status, received_at)").run()
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        try await sql.raw("DROP INDEX reports_status_received_at").run()
        try await sql.raw("DROP INDEX IF EXISTS reports_occurred_start").run()
        try await database.schema("incident_reports").delete()
        try await database.schema("incidents").delete()
    }
}

struct IncidentRow: Codable {
    var id: UUID
    var reference: String
    var jurisdiction: String
    var window_start: Date
    var window_end: Date
    var place: String?
    var community_area: Int64?
    var operation: String?
    var summary: String?
    var opened_at: Date

    init(_ incident: Incident) {
        id = incident.id.rawValue
        reference = incident.reference.description
        jurisdiction = incident.jurisdiction
        window_start = incident.windowStart
        window_end = incident.windowEnd
        place = incident.place
        community_area = incident.communityArea.map(Int64.init)
        operation = incident.operation
        summary = incident.summary
        opened_at = incident.openedAt
    }

    func incident() throws -> Incident {
        guard let reference = IncidentReference(reference) else { throw PersistenceError.corruptRow("incidents \(id)") }
        return Incident(
            id: Identifier(id), reference: reference, jurisdiction: jurisdiction, windowStart: window_start,
            windowEnd: window_end, place: place, communityArea: community_area.map(Int.init), operation: operation,
            summary: summary, openedAt: opened_at)
    }
}

extension FluentReportStore {

    public func incident(reference: IncidentReference) async throws -> Incident? {
        try await sql.select().column("*").from("incidents").where("reference", .equal, SQLBind(reference.description))
            .first(decoding: IncidentRow.self)?.incident()
    }

    public func incident(of report: Identifier<Report>) async throws -> Incident? {
        try await sql.select().column(SQLColumn(SQLLiteral.all, table: SQLIdentifier("i")))
            .from(SQLAlias(SQLIdentifier("incidents"), as: SQLIdentifier("i")))
            .join(
                SQLAlias(SQLIdentifier("incident_reports"), as: SQLIdentifier("l")), method: SQLJoinMethod.inner,
                on: SQLColumn("incident_id", table: "l"), .equal, SQLColumn("id", table: "i")
            )
            .where(SQLColumn("report_id", table: "l"), .equal, SQLBind(report.rawValue))
            .first(decoding: IncidentRow.self)?.incident()
    }

    public func reports(of incident: Identifier<Incident>) async throws -> [Report] {
        struct Link: Decodable { var report_id: UUID }
        let ids = try await sql.select().column("report_id").from("incident_reports")
            .where("incident_id", .equal, SQLBind(incident.rawValue)).all(decoding: Link.self).map(\.report_id)
        guard !ids.isEmpty else { return [] }
        return try await ReportRecord.query(on: database()).filter(\.$id ~~ ids).sort(\.$receivedAt).all()
            .map { try ReportMapping.report(from: $0, cipher: cipher) }
    }

    public func reports(overlapping window: ClosedRange<Date>, limit: Int) async throws -> [RelatedReports.Candidate] {
        // Windows are at most ATTEST_LIMIT_WINDOW_DAYS (31) long, so an overlapping report starts no earlier than
        // that before the window. Nearly all windows are under a day: those are read from the occurrence index
        // over one day of look-back, and the rare longer ones from a partial index of their own.
        let day: TimeInterval = 86_400
        let longest = TimeInterval(31) * day
        func query(from earliest: Date, before latest: Date?, longWindows: Bool) -> SQLSelectBuilder {
            let query = sql.select().columns(ReportMapping.candidateColumns(dialect: sql.dialect.name))
                .from(ReportRecord.schema)
                .where("occurred_start", .greaterThanOrEqual, SQLBind(earliest))
                .where("occurred_start", .lessThanOrEqual, SQLBind(window.upperBound))
                .where("occurred_end", .greaterThanOrEqual, SQLBind(window.lowerBound))
                .where("is_sample", .equal, SQLBind(false))
            if let latest { query.where("occurred_start", .lessThan, SQLBind(latest)) }
            if longWindows { query.where(SQLRaw(CreateOccurrenceWindowIndex.longWindow(dialect: sql.dialect.name))) }
            return query.limit(limit)
        }
        let recent = window.lowerBound.addingTimeInterval(-day)
        if let sqlite = sql as? any SQLiteDatabase {
            let ordinary = "occurred_start >= ? AND occurred_start <= ? AND occurred_end >= ? AND is_sample = 0"
            let bounds: [SQLiteData] = [
                .float(window.upperBound.timeIntervalSince1970), .float(window.lowerBound.timeIntervalSince1970),
            ]
            var candidates = try await ReportMapping.sqliteCandidates(
                sqlite, where: ordinary, [.float(recent.timeIntervalSince1970)] + bounds, limit: limit)
            if candidates.count < limit {
                candidates += try await ReportMapping.sqliteCandidates(
                    sqlite,
                    where: ordinary + " AND occurred_start < ? AND "
                        + CreateOccurrenceWindowIndex.longWindow(dialect: "sqlite"),
                    [.float(window.lowerBound.addingTimeInterval(-longest).timeIntervalSince1970)] + bounds
                        + [.float(recent.timeIntervalSince1970)], limit: limit)
            }
            return Array(candidates.prefix(limit))
        }
        var candidates = try await ReportMapping.candidates(query(from: recent, before: nil, longWindows: false))
        if candidates.count < limit {
            candidates += try await ReportMapping.candidates(
                query(from: window.lowerBound.addingTimeInterval(-longest), before: recent, longWindows: true))
        }
        return Array(candidates.prefix(limit))
    }
}

/// Incidents and their reports, written in a unit of work.
struct FluentIncidentRepository: IncidentRepository {
    let unit: FluentUnitOfWork

    func insert(_ incident: Incident) async throws {
        try await unit.connection().insert(into: "incidents").model(IncidentRow(incident)).run()
    }

    func update(_ incident: Incident) async throws {
        let row = IncidentRow(incident)
        try await unit.connection().update("incidents").set(model: row).where("id", .equal, SQLBind(row.id)).run()
    }

    func link(_ report: Identifier<Report>, to incident: Identifier<Incident>) async throws {
        try await unit.connection().insert(into: "incident_reports").columns("report_id", "incident_id")
            .values(SQLBind(report.rawValue), SQLBind(incident.rawValue)).run()
    }
}

extension FluentReportStore {
    public func incidents(of reports: [Identifier<Report>]) async throws -> [Identifier<Report>: IncidentReference] {
        guard !reports.isEmpty else { return [:] }
        struct Row: Decodable {
            var report_id: UUID
            var reference: String
        }
        let rows = try await sql.raw(
            """
            SELECT l.report_id AS report_id, i.reference AS reference FROM incident_reports l
            JOIN incidents i ON i.id = l.incident_id WHERE l.report_id IN (\(binds: reports.map(\.rawValue)))
            """
        ).all(decoding: Row.self)
        var result: [Identifier<Report>: IncidentReference] = [:]
        for row in rows {
            guard let reference = IncidentReference(row.reference) else {
                throw PersistenceError.corruptRow("incidents \(row.reference)")
            }
            result[Identifier(row.report_id)] = reference
        }
        return result
    }

    /// The incident with `id`, or nil.
    public func incident(id: Identifier<Incident>) async throws -> Incident? {
        try await sql.select().column("*").from("incidents")
            .where("id", .equal, SQLBind(id.rawValue)).first(decoding: IncidentRow.self)?.incident()
    }
}

extension FluentReportStore {
    /// Identifiers that recur across incidents, from the reports linked to them. Reads every linked report; an
    /// identifier index replaces this scan when incidents number in the hundreds of thousands.
    public func recurringIdentifiers() async throws -> [IdentifierPattern] {
        struct Row: Decodable {
            var reference: String
            var content_json: String
        }
        let rows = try await sql.raw(
            """
            SELECT i.reference AS reference, r.content_json AS content_json FROM incident_reports l
            JOIN incidents i ON i.id = l.incident_id JOIN reports r ON r.id = l.report_id
            """
        ).all(decoding: Row.self)
        let decoder = RFC3339.jsonDecoder()
        var grouped: [IncidentReference: [ReportContent]] = [:]
        for row in rows {
            guard let reference = IncidentReference(row.reference) else { continue }
            grouped[reference, default: []].append(
                try decoder.decode(ReportContent.self, from: Data(row.content_json.utf8)))
        }
        return Patterns.recurring(grouped.map { ($0.key, $0.value) })
    }
}
