import Foundation
import Leaf
import Vapor

/// The context every template receives: the page's own content under `page`, plus what the layout needs
/// (translations as `t`, language, direction, the language switcher).
struct Page<Content: Encodable>: Encodable {
    struct LanguageLink: Encodable {
        var code: String
        var name: String
        var href: String
        var isCurrent: Bool
    }

    var t: [String: String]
    var lang: String
    var dir: String
    var title: String
    var jurisdictionName: String
    var languages: [LanguageLink]
    var page: Content

    /// Renders `template` with `content` for `request`.
    static func render(
        _ template: String, title: String, content: Content, for request: Request, switcherPath: String? = nil
    ) async throws -> View {
        let services = request.attest
        let language = request.language
        let path = switcherPath ?? request.url.path
        let links = services.languages.map { code in
            LanguageLink(
                code: code, name: services.catalogs.catalogs[code]?.name ?? code,
                href: "\(path)?lang=\(code)", isCurrent: code == language
            )
        }
        let page = Page(
            t: services.catalogs.messages(for: language), lang: language,
            dir: services.catalogs.catalogs[language]?.isRightToLeft == true ? "rtl" : "ltr", title: title,
            jurisdictionName: services.jurisdiction.name.text(
                in: language, fallback: services.jurisdiction.defaultLanguage),
            languages: links, page: content
        )
        return try await request.view.render(template, page)
    }
}

/// Links, in one place.
enum Paths {
    static let home = "/"
    static let report = "/report"
    static let followUp = "/follow-up"
    static let followUpReport = "/follow-up/report"
    static let followUpSupplements = "/follow-up/supplements"
    static let followUpSignOut = "/follow-up/sign-out"
    static let apiReports = "/api/v1/reports"
    static let openAPI = "/api/v1/openapi.json"
    static let followUpProof = "/follow-up/proof"
    static let integrity = "/integrity"
    static let logCheckpoint = "/log/checkpoint"
    static let logVerifierKey = "/log/vkey"
    static let uploads = "/uploads"
    static let staffSignIn = "/staff/sign-in"
    static let staffVerify = "/staff/sign-in/verify"
    static let staffSetup = "/staff/setup"
    static let staffHome = "/staff/home"
    static let staffSignOut = "/staff/sign-out"
    static let staffSignOutEverywhere = "/staff/sign-out-everywhere"
    static let staffAccounts = "/staff/accounts"
    static let staffAccountActivity = "/staff/account-activity"
    static let staffTriage = "/staff/triage"
    static let staffReports = "/staff/reports"
    static let staffIncidents = "/staff/incidents"
    static let staffSearch = "/staff/search"
    static let staffCaseFiles = "/staff/case-files"
    static let staffPatterns = "/staff/patterns"
    static let staffEvidence = "/staff/evidence"
    static let followUpEvidence = "/follow-up/evidence"
}
