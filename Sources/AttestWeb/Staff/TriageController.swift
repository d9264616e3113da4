import AttestCore
import AttestPersistence
import Vapor

/// The triage queue and one report as staff see it. Every view of a report is a `record.viewed` entry; every
/// triage move a `record.changed` entry.
struct TriageController: RouteCollection {
    /// Reports shown in the queue at once.
    static let queueLimit = 200

    func boot(routes: any RoutesBuilder) throws {
        let staff = routes.grouped("staff")
        staff.staff(.GET, "triage", permission: .viewTriage, use: queue)
        staff.staff(.GET, "reports", ":reference", permission: .viewReport, use: show)
        staff.staff(.POST, "reports", ":reference", "status", permission: .triageReports, use: move)
        staff.staff(.POST, "reports", ":reference", "accept", permission: .triageReports, use: accept)
    }

    /// Candidates read for suggestions at most (the time window narrows them first).
    static let candidateLimit = 2_000
    /// Suggestions shown.
    static let suggestionLimit = 10

    struct QueueContent: Encodable {
        struct Row: Encodable {
            var reference: String
            var href: String
            var receivedAt: String
            var status: String
            var categories: String
            var area: String
        }
        var rows: [Row]
    }

    func queue(request: Request, staff: SignedInStaff) async throws -> Response {
        let services = request.attest
        let mapping = ErrorMapping(catalogs: services.catalogs, language: request.language)
        let jurisdiction = services.jurisdiction
        let reports = try await services.reports.reports(
            in: [.received, .screening, .needsInfo], limit: Self.queueLimit)
        let rows = reports.map { report in
            QueueContent.Row(
                reference: report.reference.description, href: "\(Paths.staffReports)/\(report.reference)",
                receivedAt: DisplayFormat.dateTime(
                    report.receivedAt, language: request.language, zone: jurisdiction.timeZone),
                status: mapping.text("status_\(report.status.rawValue)"),
                categories: report.content.categories.compactMap { code in
                    jurisdiction.categories.first { $0.code == code }?.labels.text(
                        in: request.language, fallback: jurisdiction.defaultLanguage)
                }.joined(separator: ", "),
                area: report.content.location.area.flatMap { number in
                    jurisdiction.geography.areas.first { $0.number == number }?.name
                } ?? "")
        }
        return try await Page.render(
            "staff/triage", title: mapping.text("staff_triage_title"), content: QueueContent(rows: rows), for: request
        ).encodeResponse(status: .ok, for: request)
    }

    struct ReportContentView: Encodable {
        struct Message: Encodable {
            var author: String
            var body: String
            var createdAt: String
        }
        struct Move: Encodable {
            var value: String
            var label: String
        }
        struct Related: Encodable {
            var reference: String
            var href: String
            var status: String
            var reasons: [String]
            var incident: String
        }
        var reference: String
        var status: String
        var receivedAt: String
        var narrative: String
        var location: String
        var categories: String
        var canonicalJSON: String
        var contentHash: String
        var contact: String
        var showsContact: Bool
        var messages: [Message]
        var evidence: [EvidenceView]
        var moves: [Move]
        var related: [Related]
        var incident: String
        var incidentHref: String
        var canAccept: Bool
        var acceptAction: String
        var canTriage: Bool
        var canDownload: Bool
        var action: String
        var csrf: String
        var error: String
        var hasError: Bool
    }

    private func reference(_ request: Request) throws -> ReportReference {
        guard let text = request.parameters.get("reference"), let reference = ReportReference(text) else {
            throw Abort(.notFound)
        }
        return reference
    }

    func show(request: Request, staff: SignedInStaff) async throws -> Response {
        try await render(request, staff: staff, reference: try reference(request), error: nil, status: .ok)
    }

    private func render(
        _ request: Request, staff: SignedInStaff, reference: ReportReference, error: String?, status: HTTPStatus
    ) async throws -> Response {
        let services = request.attest
        guard let report = try await services.reports.report(reference: reference) else { throw Abort(.notFound) }
        // The view is recorded before anything is shown.
        try await services.recordViews.execute(
            recordID: "report:\(reference)", contentHash: report.contentHash, actor: staff.account)
        let mapping = ErrorMapping(catalogs: services.catalogs, language: request.language)
        let jurisdiction = services.jurisdiction
        let zone = jurisdiction.timeZone
        let showsContact = StaffPolicy.allows(staff.account.role, .viewContact)
        let contact = report.contact.map { contact in
            [contact.name, contact.phone, contact.email, contact.preferredLanguage].compactMap { $0 }
                .joined(separator: " · ")
        }
        let evidence = try await services.reports.evidence(of: report.id)
        let related = try await Self.related(to: report, services: services, mapping: mapping)
        let incident = try await services.reports.incident(of: report.id)
        let csrf = CSRF.token(for: request)
        let content = ReportContentView(
            reference: reference.description, status: mapping.text("status_\(report.status.rawValue)"),
            receivedAt: DisplayFormat.dateTime(report.receivedAt, language: request.language, zone: zone),
            narrative: report.content.narrative, location: report.content.location.description ?? "",
            categories: report.content.categories.joined(separator: ", "), canonicalJSON: report.canonicalContent,
            contentHash: report.contentHash,
            contact: showsContact ? (contact ?? mapping.text("staff_contact_none")) : "", showsContact: showsContact,
            messages: try await services.reports.messages(of: report.id).map {
                .init(
                    author: mapping.text("author_\($0.author.rawValue)"), body: $0.body,
                    createdAt: DisplayFormat.dateTime($0.createdAt, language: request.language, zone: zone))
            },
            evidence: try await evidence.asyncMap { item in
                EvidenceView(
                    item,
                    custodyIndex: try await services.ledger.entryIndex(kind: .evidenceIngested, recordID: item.recordID)
                        .map(Int64.init), request: request)
            },
            moves: report.status.allowedNextStatuses.sorted { $0.rawValue < $1.rawValue }.map {
                .init(value: $0.rawValue, label: mapping.text("status_\($0.rawValue)"))
            },
            related: related, incident: incident?.reference.description ?? "",
            incidentHref: incident.map { "\(Paths.staffIncidents)/\($0.reference)" } ?? "",
            canAccept: StaffPolicy.allows(staff.account.role, .triageReports) && report.status.canMove(to: .accepted),
            acceptAction: "\(Paths.staffReports)/\(reference)/accept",
            canTriage: StaffPolicy.allows(staff.account.role, .triageReports),
            canDownload: StaffPolicy.allows(staff.account.role, .downloadEvidence),
            action: "\(Paths.staffReports)/\(reference)/status", csrf: csrf, error: error ?? "", hasError: error != nil)
        let response = try await Page.render(
            "staff/report", title: "\(reference)", content: content, for: request
        ).encodeResponse(status: status, for: request)
        CSRF.attach(csrf, to: response, for: request)
        return response
    }

    /// Related-report suggestions with their reasons, in the reader's language.
    static func related(to report: Report, services: AttestServices, mapping: ErrorMapping) async throws
        -> [ReportContentView.Related]
    {
        let areas = Dictionary(uniqueKeysWithValues: services.jurisdiction.geography.areas.map { ($0.number, $0.name) })
        var rows: [ReportContentView.Related] = []
        let suggestions = try await services.suggestRelatedReports(candidateLimit: candidateLimit).execute(for: report)
            .prefix(suggestionLimit)
        let incidents = try await services.reports.incidents(of: suggestions.map(\.report.id))
        for suggestion in suggestions {
            let reasons = suggestion.reasons.map { reason -> String in
                switch reason {
                case .sameTime: mapping.text("related_same_time")
                case .sameArea(let area): mapping.text("related_same_area", ["area": areas[area] ?? "\(area)"])
                case .nearby(let kilometres): mapping.text("related_nearby", ["km": "\(kilometres)"])
                case .sharedPlate(let plate): mapping.text("related_plate", ["value": plate])
                case .sharedBadge(let badge): mapping.text("related_badge", ["value": badge])
                case .sharedVestText(let vest): mapping.text("related_vest", ["value": vest])
                case .similarWording(let percent): mapping.text("related_wording", ["percent": "\(percent)"])
                }
            }
            rows.append(
                .init(
                    reference: suggestion.report.reference.description,
                    href: "\(Paths.staffReports)/\(suggestion.report.reference)",
                    status: mapping.text("status_\(suggestion.report.status.rawValue)"), reasons: reasons,
                    incident: incidents[suggestion.report.id]?.description ?? ""))
        }
        return rows
    }

    func accept(request: Request, staff: SignedInStaff) async throws -> Response {
        let form = try StaffController.form(request)
        let reference = try reference(request)
        let services = request.attest
        let mapping = ErrorMapping(catalogs: services.catalogs, language: request.language)
        let choice = form["incident"] ?? "new"
        let target: AcceptReport.Target
        if choice == "new" {
            target = .newIncident
        } else if let existing = IncidentReference(choice) {
            target = .existing(existing)
        } else {
            return try await render(
                request, staff: staff, reference: reference, error: mapping.text("error_incident_unknown"),
                status: .unprocessableEntity)
        }
        do {
            let incident = try await services.acceptReport.execute(
                reference: reference, into: target, actor: staff.account)
            return request.redirect(to: "\(Paths.staffIncidents)/\(incident.reference)", redirectType: .normal)
        } catch AcceptReport.Error.noSuchIncident {
            return try await render(
                request, staff: staff, reference: reference, error: mapping.text("error_incident_unknown"),
                status: .unprocessableEntity)
        } catch let error as TriageStatus.Error {
            let description = mapping.describe(error)
            return try await render(
                request, staff: staff, reference: reference, error: description.message, status: description.status)
        }
    }

    func move(request: Request, staff: SignedInStaff) async throws -> Response {
        let form = try StaffController.form(request)
        let reference = try reference(request)
        let services = request.attest
        let mapping = ErrorMapping(catalogs: services.catalogs, language: request.language)
        guard let target = TriageStatus(rawValue: form["status"] ?? "") else {
            return try await render(
                request, staff: staff, reference: reference, error: mapping.text("error_bad_request"),
                status: .unprocessableEntity)
        }
        do {
            try await services.triageReport.execute(
                .init(reference: reference, to: target, question: form["question"], actor: staff.account))
        } catch let failure as ValidationFailure {
            return try await render(
                request, staff: staff, reference: reference,
                error: failure.issues.first.map { mapping.problemMessage($0.problem) }
                    ?? mapping.text("error_validation"),
                status: .unprocessableEntity)
        } catch let error as TriageStatus.Error {
            let description = mapping.describe(error)
            return try await render(
                request, staff: staff, reference: reference, error: description.message, status: description.status)
        }
        return request.redirect(to: "\(Paths.staffReports)/\(reference)", redirectType: .normal)
    }
}
