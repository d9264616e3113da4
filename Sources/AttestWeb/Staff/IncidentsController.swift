import AttestCore
import AttestPersistence
import Vapor

/// An incident as staff see it: its reports, time window and place, and (for investigators and supervisors) its
/// operation and summary. Viewing is a `record.viewed` entry; every change a `record.changed` entry.
struct IncidentsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let staff = routes.grouped("staff")
        staff.staff(.GET, "incidents", ":reference", permission: .viewIncidents, use: show)
        staff.staff(.POST, "incidents", ":reference", permission: .manageIncidents, use: update)
    }

    struct CaseFileRow: Encodable {
        var reference: String
        var href: String
        var status: String
    }

    struct IncidentContent: Encodable {
        struct Row: Encodable {
            var reference: String
            var href: String
            var receivedAt: String
            var status: String
        }
        var reference: String
        var window: String
        var place: String
        var area: String
        var operation: String
        var summary: String
        var reports: [Row]
        var caseFiles: [CaseFileRow]
        var canOpenCaseFile: Bool
        var caseFileAction: String
        var canEdit: Bool
        var action: String
        var csrf: String
    }

    private func incident(_ request: Request) async throws -> Incident {
        guard let text = request.parameters.get("reference"), let reference = IncidentReference(text),
            let incident = try await request.attest.reports.incident(reference: reference)
        else { throw Abort(.notFound) }
        return incident
    }

    func show(request: Request, staff: SignedInStaff) async throws -> Response {
        let services = request.attest
        let incident = try await incident(request)
        try await services.recordViews.execute(
            recordID: incident.recordID, contentHash: incident.contentHash, actor: staff.account)
        let mapping = ErrorMapping(catalogs: services.catalogs, language: request.language)
        let zone = services.jurisdiction.timeZone
        let language = request.language
        let csrf = CSRF.token(for: request)
        let content = IncidentContent(
            reference: incident.reference.description,
            window: DisplayFormat.dateTime(incident.windowStart, language: language, zone: zone) + " – "
                + DisplayFormat.dateTime(incident.windowEnd, language: language, zone: zone),
            place: incident.place ?? "",
            area: incident.communityArea.flatMap { number in
                services.jurisdiction.geography.areas.first { $0.number == number }?.name
            } ?? "", operation: incident.operation ?? "", summary: incident.summary ?? "",
            reports: try await services.reports.reports(of: incident.id).map {
                .init(
                    reference: $0.reference.description, href: "\(Paths.staffReports)/\($0.reference)",
                    receivedAt: DisplayFormat.dateTime($0.receivedAt, language: language, zone: zone),
                    status: mapping.text("status_\($0.status.rawValue)"))
            },
            caseFiles: try await services.caseFiles.caseFiles(of: incident.id).map {
                .init(
                    reference: $0.reference.description, href: "\(Paths.staffCaseFiles)/\($0.reference)",
                    status: mapping.text("case_status_\($0.status.rawValue)"))
            }, canOpenCaseFile: StaffPolicy.allows(staff.account.role, .manageCaseFiles),
            caseFileAction: "\(Paths.staffIncidents)/\(incident.reference)/case-file",
            canEdit: StaffPolicy.allows(staff.account.role, .manageIncidents),
            action: "\(Paths.staffIncidents)/\(incident.reference)", csrf: csrf)
        let response = try await Page.render(
            "staff/incident", title: incident.reference.description, content: content, for: request
        ).encodeResponse(status: .ok, for: request)
        CSRF.attach(csrf, to: response, for: request)
        return response
    }

    func update(request: Request, staff: SignedInStaff) async throws -> Response {
        let form = try StaffController.form(request)
        let services = request.attest
        let incident = try await services.editIncident.execute(
            try await incident(request), form: form, actor: staff.account)
        return request.redirect(to: "\(Paths.staffIncidents)/\(incident.reference)", redirectType: .normal)
    }
}
