import AttestCore
import AttestPersistence
import Vapor

/// `GET /staff/search?q=…&kind=…`: full-text search over what the signed-in role may read (reports, incidents,
/// case files), newest first. A query that is a reference goes straight to the record. Every record a result
/// shows an excerpt of is `record.viewed` (`SearchRecords`). Search terms are never logged: the request log names
/// the route, not its query string, the query runs on an unlogged handle, and custody entries name records only.
struct SearchController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.grouped("staff").staff(.GET, "search", permission: .search, use: search)
    }

    struct SearchContent: Encodable {
        struct Hit: Encodable {
            var href: String
            var kind: String
            var reference: String
            var excerpt: String
        }
        struct Option: Encodable {
            var value: String
            var label: String
            var isSelected: Bool
        }
        var query: String
        var kinds: [Option]
        var hits: [Hit]
        var searched: Bool
        var error: String
        var hasError: Bool
    }

    func search(request: Request, staff: SignedInStaff) async throws -> Response {
        let services = request.attest
        let mapping = ErrorMapping(catalogs: services.catalogs, language: request.language)
        let allowed = Set(SearchKind.allCases.filter { StaffPolicy.allows(staff.account.role, $0.permission) })
        let text = (try? request.query.get(String.self, at: "q")) ?? ""
        let kindText = (try? request.query.get(String.self, at: "kind")) ?? ""
        var content = SearchContent(
            query: text,
            kinds: allowed.sorted { $0.rawValue > $1.rawValue }.map {
                .init(
                    value: $0.rawValue, label: mapping.text("search_kind_\($0.rawValue)"),
                    isSelected: kindText == $0.rawValue)
            }, hits: [], searched: false, error: "", hasError: false)
        var status = HTTPStatus.ok
        var kinds = allowed
        if !kindText.isEmpty {
            if let kind = SearchKind(rawValue: kindText), allowed.contains(kind) {
                kinds = [kind]
            } else {
                content.error = mapping.text("error_search_kind")
                status = .unprocessableEntity
            }
        }
        if status == .ok, !text.isEmpty {
            do {
                let query = try SearchQuery(
                    text, limits: .init(maximumLength: services.configuration.searchMaxCharacters))
                let hits = try await SearchRecords(index: services.search, views: services.recordViews)
                    .execute(query, kinds: kinds, limit: services.configuration.searchResults, actor: staff.account)
                content.searched = true
                content.hits = hits.map { hit in
                    let base =
                        switch hit.kind {
                        case .report: Paths.staffReports
                        case .incident: Paths.staffIncidents
                        case .caseFile: Paths.staffCaseFiles
                        }
                    return .init(
                        href: "\(base)/\(hit.reference)", kind: mapping.text("search_kind_\(hit.kind.rawValue)"),
                        reference: hit.reference, excerpt: hit.excerpt)
                }
            } catch let problem as SearchQuery.Problem {
                status = .unprocessableEntity
                content.error =
                    switch problem {
                    case .noTerms(let minimum): mapping.text("error_search_no_terms", ["min": "\(minimum)"])
                    case .tooLong(let max): mapping.text("error_search_too_long", ["max": "\(max)"])
                    case .tooManyTerms(let max): mapping.text("error_search_too_many", ["max": "\(max)"])
                    case .controlCharacters: mapping.text("problem_control_characters")
                    }
            }
        }
        content.hasError = !content.error.isEmpty
        // A search page is never cached: its address carries the terms.
        let response = try await Page.render(
            "staff/search", title: mapping.text("staff_nav_search"), content: content, for: request
        ).encodeResponse(status: status, for: request)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }
}
