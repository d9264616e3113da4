import AttestCore
import AttestPersistence
import Vapor

/// Case files: opened from an incident, moved through `open → active → pending_evidence → supervisor_review →
/// closed` (closing, returning and reopening are a supervisor's), with the executive order's checklist. Every view
/// is `record.viewed`, every change `record.changed`.
struct CaseFilesController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let staff = routes.grouped("staff")
        staff.staff(.POST, "incidents", ":reference", "case-file", permission: .manageCaseFiles, use: open)
        staff.staff(.GET, "case-files", ":reference", permission: .viewCaseFiles, use: show)
        staff.staff(.POST, "case-files", ":reference", "status", permission: .manageCaseFiles, use: move)
        staff.staff(.POST, "case-files", ":reference", "checklist", permission: .manageCaseFiles, use: checklist)
    }

    func open(request: Request, staff: SignedInStaff) async throws -> Response {
        _ = try StaffController.form(request)
        let services = request.attest
        guard let text = request.parameters.get("reference"), let reference = IncidentReference(text),
            let incident = try await services.reports.incident(reference: reference)
        else { throw Abort(.notFound) }
        let caseFile = try await services.openCaseFile.execute(for: incident, actor: staff.account)
        return request.redirect(to: "\(Paths.staffCaseFiles)/\(caseFile.reference)", redirectType: .normal)
    }

    struct CaseFileContent: Encodable {
        struct Option: Encodable {
            var value: String
            var label: String
        }
        var reference: String
        var status: String
        var statusCode: String
        var outcome: String
        var incidents: [Option]
        var moves: [Option]
        var outcomes: [Option]
        var checklist: ExecutiveOrderChecklist
        var canManage: Bool
        /// Closed: nothing in it changes until a supervisor reopens it.
        var isClosed: Bool
        /// Whether the edit forms show: the role manages case files and this one accepts edits.
        var canEdit: Bool
        var isSupervisor: Bool
        var statusAction: String
        var checklistAction: String
        var csrf: String
        var error: String
        var hasError: Bool
        var parts: CaseFilePartsView
    }

    private func reference(_ request: Request) throws -> CaseFileReference {
        guard let text = request.parameters.get("reference"), let reference = CaseFileReference(text) else {
            throw Abort(.notFound)
        }
        return reference
    }

    func show(request: Request, staff: SignedInStaff) async throws -> Response {
        try await render(request, staff: staff, error: nil, status: .ok)
    }

    func render(_ request: Request, staff: SignedInStaff, error: String?, status: HTTPStatus) async throws
        -> Response
    {
        let services = request.attest
        guard let record = try await services.viewCaseFile.execute(try reference(request), actor: staff.account)
        else { throw Abort(.notFound) }
        let caseFile = record.caseFile
        let mapping = ErrorMapping(catalogs: services.catalogs, language: request.language)
        let incidents = record.incidents.map {
            CaseFileContent.Option(value: "\(Paths.staffIncidents)/\($0.reference)", label: $0.reference.description)
        }
        let csrf = CSRF.token(for: request)
        let content = CaseFileContent(
            reference: caseFile.reference.description,
            status: mapping.text("case_status_\(caseFile.status.rawValue)"), statusCode: caseFile.status.rawValue,
            outcome: caseFile.outcome.map { mapping.text("case_outcome_\($0.rawValue)") } ?? "", incidents: incidents,
            moves: caseFile.status.allowedNextStatuses.sorted { $0.rawValue < $1.rawValue }.map {
                .init(value: $0.rawValue, label: mapping.text("case_status_\($0.rawValue)"))
            },
            outcomes: CaseFileOutcome.allCases.map {
                .init(value: $0.rawValue, label: mapping.text("case_outcome_\($0.rawValue)"))
            },
            checklist: caseFile.checklist, canManage: StaffPolicy.allows(staff.account.role, .manageCaseFiles),
            isClosed: !caseFile.status.acceptsEdits,
            canEdit: StaffPolicy.allows(staff.account.role, .manageCaseFiles) && caseFile.status.acceptsEdits,
            isSupervisor: staff.account.role == .supervisor,
            statusAction: "\(Paths.staffCaseFiles)/\(caseFile.reference)/status",
            checklistAction: "\(Paths.staffCaseFiles)/\(caseFile.reference)/checklist", csrf: csrf, error: error ?? "",
            hasError: error != nil,
            parts: CaseFilePartsView.make(
                record, accounts: try await services.staff.accounts(), staff: staff, request: request))
        let response = try await Page.render(
            "staff/case-file", title: caseFile.reference.description, content: content, for: request
        ).encodeResponse(status: status, for: request)
        CSRF.attach(csrf, to: response, for: request)
        return response
    }

    func move(request: Request, staff: SignedInStaff) async throws -> Response {
        let form = try StaffController.form(request)
        let services = request.attest
        let mapping = ErrorMapping(catalogs: services.catalogs, language: request.language)
        let reference = try reference(request)
        let move: (next: CaseFileStatus, outcome: CaseFileOutcome?)
        do {
            move = try CaseFileInput(jurisdiction: services.jurisdiction).move(form)
        } catch is ValidationFailure {
            return try await render(
                request, staff: staff, error: mapping.text("error_bad_request"), status: .unprocessableEntity)
        }
        do {
            _ = try await services.moveCaseFile.execute(
                reference, to: move.next, outcome: move.outcome, actor: staff.account)
        } catch let error as CaseFileStatus.Error {
            let description = mapping.describe(error)
            return try await render(request, staff: staff, error: description.message, status: description.status)
        }
        return request.redirect(to: "\(Paths.staffCaseFiles)/\(reference)", redirectType: .normal)
    }

    func checklist(request: Request, staff: SignedInStaff) async throws -> Response {
        let form = try StaffController.form(request)
        let services = request.attest
        let reference = try reference(request)
        let checklist = try CaseFileInput(jurisdiction: services.jurisdiction).checklist(form)
        do {
            try await services.editCaseFile.fill(checklist, of: reference, actor: staff.account)
        } catch let error as CaseFileEditError {
            let description = ErrorMapping(catalogs: services.catalogs, language: request.language).describe(error)
            return try await render(request, staff: staff, error: description.message, status: description.status)
        }
        return request.redirect(to: "\(Paths.staffCaseFiles)/\(reference)", redirectType: .normal)
    }
}
