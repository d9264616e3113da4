import AttestCore
import AttestPersistence
import Vapor

/// Authorised evidence download (every download is an `export.made` entry) and patterns: observed identifiers
/// (plates, badge fragments, vest text or unit patches) that recur across incidents.
struct PatternsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let staff = routes.grouped("staff")
        staff.staff(.GET, "evidence", ":id", permission: .downloadEvidence, use: download)
        staff.staff(.GET, "patterns", permission: .viewPatterns, use: patterns)
    }

    func download(request: Request, staff: SignedInStaff) async throws -> Response {
        let services = request.attest
        guard let id = request.parameters.get("id").flatMap(UUID.init(uuidString:)),
            let store = services.uploads.blobs as? FileEvidenceStore,
            let (item, url) = try await services.downloadEvidence.execute(
                Identifier(id), actor: staff.account, open: { try store.url(sha256: $0.sha256) })
        else { throw Abort(.notFound) }
        let response = try await request.fileio.asyncStreamFile(at: url.path)
        let parts = item.mediaType.split(separator: "/", maxSplits: 1)
        response.headers.contentType =
            parts.count == 2 ? HTTPMediaType(type: String(parts[0]), subType: String(parts[1])) : .binary
        response.headers.replaceOrAdd(
            name: .contentDisposition, value: "attachment; filename=\"evidence-\(item.sha256.prefix(16))\"")
        response.headers.replaceOrAdd(
            name: "Digest", value: "sha-256=\(Data(hex: item.sha256)?.base64EncodedString() ?? "")")
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    struct PatternsContent: Encodable {
        struct Row: Encodable {
            var kind: String
            var value: String
            var incidents: [Link]
        }
        struct Link: Encodable {
            var reference: String
            var href: String
        }
        var rows: [Row]
    }

    func patterns(request: Request, staff: SignedInStaff) async throws -> Response {
        let services = request.attest
        let mapping = ErrorMapping(catalogs: services.catalogs, language: request.language)
        let rows = try await services.reports.recurringIdentifiers().map { pattern in
            PatternsContent.Row(
                kind: mapping.text("pattern_\(pattern.kind.rawValue)"), value: pattern.value,
                incidents: pattern.incidents.map {
                    .init(reference: $0.description, href: "\(Paths.staffIncidents)/\($0)")
                })
        }
        return try await Page.render(
            "staff/patterns", title: mapping.text("staff_patterns_title"), content: PatternsContent(rows: rows),
            for: request
        ).encodeResponse(status: .ok, for: request)
    }
}

extension Data {
    /// Bytes from lower-case hexadecimal.
    init?(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) ?? hex.endIndex
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }
}
