import AttestCore
import Foundation
import Vapor

/// One attached file as residents see it: type, size, fingerprint and custody entry. Never a download link.
struct EvidenceView: Encodable {
    var id: String
    var mediaType: String
    var size: String
    var sha256: String
    var receivedAt: String
    var custodyIndex: String
    /// The sender's device computed the same SHA-256 before sending.
    var deviceChecked: Bool

    init(_ item: EvidenceItem, custodyIndex: Int64?, request: Request) {
        let services = request.attest
        id = item.id.description
        mediaType = item.mediaType
        size = ErrorMapping.byteCount(item.size, language: request.language)
        sha256 = item.sha256
        receivedAt = DisplayFormat.dateTime(
            item.receivedAt, language: request.language, zone: services.jurisdiction.timeZone)
        self.custodyIndex = custodyIndex.map(String.init) ?? ""
        deviceChecked = item.senderSHA256 == item.sha256
    }
}

/// The file field of the report form and the follow-up page, and what its JavaScript enhancement needs.
struct UploadFieldContent: Encodable {
    var hint: String
    var accept: String
    var uploadsPath: String
    var browserHashMaxBytes: Int64
    var maxFileBytes: Int64

    init(request: Request) {
        let services = request.attest
        let limits = services.configuration.evidence
        let mapping = ErrorMapping(catalogs: services.catalogs, language: request.language)
        hint = mapping.text(
            "evidence_hint",
            [
                "files": "\(limits.filesPerReportMax)",
                "size": ErrorMapping.byteCount(limits.maxFileBytes, language: request.language),
            ])
        let categories = Set(
            ContentSniffer.known.filter { limits.allowList.allows($0) }.map { media -> String in
                media.category == .document ? media.mediaType : "\(media.category.rawValue)/*"
            })
        accept = categories.sorted().joined(separator: ",")
        uploadsPath = Paths.uploads
        browserHashMaxBytes = limits.browserHashMaxBytes
        maxFileBytes = limits.maxFileBytes
    }
}
