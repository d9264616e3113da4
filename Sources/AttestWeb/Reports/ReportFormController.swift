import AttestCore
import Vapor

/// The public report form (`GET /report`) and its submission (`POST /report`), which answers with the
/// receipt. Works without JavaScript; JavaScript only adds "use my location".
struct ReportFormController: RouteCollection {
    static let honeypotField = "website"

    struct FormContent: Encodable {
        var action: String
        var csrf: String
        var honeypotField: String
        var form: ReportForm
        var noStatusQuestion: String
        var upload: UploadFieldContent
    }

    func boot(routes: any RoutesBuilder) throws {
        routes.get("report", use: show)
        // Streamed: file fields go to disk as they arrive (see `FormInput`).
        routes.on(.POST, "report", body: .stream, use: submit)
    }

    func show(request: Request) async throws -> Response {
        try await render(request: request, form: nil, issues: [], generalError: nil, status: .ok)
    }

    func submit(request: Request) async throws -> Response {
        let input: FormInput
        do {
            input = try await FormInput.read(request, source: .publicForm)
        } catch FormInput.Error.invalidEncoding {
            return try await render(
                request: request, form: nil, issues: [], generalError: "error_invalid_form_encoding",
                status: .badRequest
            )
        } catch FormInput.Error.csrf {
            return try await render(
                request: request, form: nil, issues: [], generalError: "error_csrf", status: .forbidden)
        } catch let error as EvidenceError {
            let description = ErrorMapping(catalogs: request.attest.catalogs, language: request.language).describe(
                error)
            return try await render(
                request: request, form: nil, issues: [], generalError: description.message, status: description.status,
                localized: true)
        }
        let form = input.form
        if let error = input.fileError {
            if let language = form["lang"] { request.setLanguage(language) }
            let description = ErrorMapping(catalogs: request.attest.catalogs, language: request.language).describe(
                error)
            return try await render(
                request: request, form: form, issues: [], generalError: description.message,
                status: description.status, localized: true)
        }
        if let language = form["lang"] { request.setLanguage(language) }
        guard CSRF.isValid(form[CSRF.fieldName], for: request) else {
            return try await render(
                request: request, form: form, issues: [], generalError: "error_csrf", status: .forbidden
            )
        }
        guard (form[Self.honeypotField] ?? "").isEmpty else {
            return try await render(
                request: request, form: form, issues: [], generalError: "error_honeypot", status: .unprocessableEntity
            )
        }
        let submission = ReportSubmission(form: form, language: request.language)
        let receipt: SubmitReport.Receipt
        do {
            receipt = try await request.attest.submitReport.execute(
                .init(submission: submission, uploads: form.all("uploads") + input.uploads))
        } catch let failure as ValidationFailure {
            return try await render(
                request: request, form: form, issues: failure.issues, generalError: nil, status: .unprocessableEntity
            )
        } catch let error as EvidenceError {
            let description = ErrorMapping(catalogs: request.attest.catalogs, language: request.language).describe(
                error)
            return try await render(
                request: request, form: form, issues: [], generalError: description.message,
                status: description.status, localized: true)
        }
        return try await ReceiptContent.render(receipt, for: request)
    }

    private func render(
        request: Request, form: FormBody?, issues: [ValidationIssue], generalError: String?, status: HTTPStatus,
        localized: Bool = false
    ) async throws -> Response {
        let services = request.attest
        let mapping = ErrorMapping(catalogs: services.catalogs, language: request.language)
        let builder = ReportFormBuilder(
            jurisdiction: services.jurisdiction, language: request.language, limits: services.configuration.limits,
            mapping: mapping, form: form, issues: issues
        )
        let token = CSRF.token(for: request)
        let content = FormContent(
            action: Paths.report, csrf: token, honeypotField: Self.honeypotField,
            form: builder.build(generalError: generalError.map { localized ? $0 : mapping.text($0) }),
            noStatusQuestion: mapping.text("form_no_status_question"), upload: UploadFieldContent(request: request)
        )
        let title =
            (issues.isEmpty && generalError == nil ? "" : mapping.text("title_error_prefix") + " ")
            + mapping.text("title_report")
        let response = try await Page.render(
            "reports/form", title: title, content: content, for: request, switcherPath: Paths.report
        )
        .encodeResponse(status: status, for: request)
        CSRF.attach(token, to: response, for: request)
        return response
    }
}

/// The receipt page: shown once, right after submission, because it is the only place the follow-up code
/// ever appears.
struct ReceiptContent: Encodable {
    var reference: String
    var followUpCode: String
    var receivedAt: String
    var contentHash: String
    var custodyIndex: Int64
    var status: String
    var followUpPath: String
    var evidence: [EvidenceView]

    static func render(_ receipt: SubmitReport.Receipt, for request: Request) async throws -> Response {
        let services = request.attest
        let mapping = ErrorMapping(catalogs: services.catalogs, language: request.language)
        let content = ReceiptContent(
            reference: receipt.reference.description, followUpCode: receipt.followUpCode.grouped,
            receivedAt: DisplayFormat.dateTime(
                receipt.receivedAt, language: request.language, zone: services.jurisdiction.timeZone),
            contentHash: receipt.contentHash, custodyIndex: receipt.custody.index,
            status: mapping.text("status_\(receipt.status.rawValue)"), followUpPath: Paths.followUp,
            evidence: receipt.evidence.map { EvidenceView($0.item, custodyIndex: $0.custody.index, request: request) }
        )
        return try await Page.render(
            "reports/receipt", title: mapping.text("title_receipt"), content: content, for: request,
            switcherPath: Paths.report
        ).encodeResponse(status: .created, for: request)
    }
}

/// Dates and times as residents read them: in the jurisdiction's time zone and the page's language.
enum DisplayFormat {
    static func dateTime(_ date: Date, language: String, zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: language)
        formatter.timeZone = zone
        formatter.dateStyle = .long
        formatter.timeStyle = .short
        return formatter.string(from: date) + " (" + (zone.abbreviation(for: date) ?? zone.identifier) + ")"
    }
}

/// The landing page.
struct HomeController: RouteCollection {
    struct HomeContent: Encodable {
        var reportPath: String
        var followUpPath: String
    }

    func boot(routes: any RoutesBuilder) throws {
        routes.get(use: show)
    }

    func show(request: Request) async throws -> View {
        try await Page.render(
            "home", title: request.attest.catalogs.text("title_home", language: request.language),
            content: HomeContent(reportPath: Paths.report, followUpPath: Paths.followUp), for: request
        )
    }
}
