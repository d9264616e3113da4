import AttestCore
import AttestPersistence
import Foundation
import Vapor

/// The tus 1.0.0 resumable upload protocol under `/uploads/`: core, creation, creation-with-upload,
/// termination, checksum (sha1, sha256) and expiration. Standard tus clients work; an upload's URL (128 random
/// bits) is what lets its sender continue it and attach it to a report. There is no download route.
struct UploadsController: RouteCollection {
    static let version = "1.0.0"
    static let extensions = "creation,creation-with-upload,termination,checksum,expiration"
    static let offsetStream = HTTPMediaType(type: "application", subType: "offset+octet-stream")
    /// Longest `Upload-Metadata` header accepted.
    static let maxMetadataBytes = 4_096

    func boot(routes: any RoutesBuilder) throws {
        let uploads = routes.grouped("uploads")
        uploads.on(.OPTIONS, use: options)
        uploads.on(.OPTIONS, ":id", use: options)
        uploads.on(.POST, body: .stream, use: create)
        uploads.on(.HEAD, ":id", use: head)
        uploads.on(.PATCH, ":id", body: .stream, use: patch)
        uploads.on(.DELETE, ":id", use: terminate)
    }

    /// Headers every tus response carries.
    static func tusHeaders(_ headers: inout HTTPHeaders) {
        headers.replaceOrAdd(name: "Tus-Resumable", value: version)
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
    }

    static func expires(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }

    func options(request: Request) async throws -> Response {
        let response = Response(status: .noContent)
        Self.tusHeaders(&response.headers)
        response.headers.replaceOrAdd(name: "Tus-Version", value: Self.version)
        response.headers.replaceOrAdd(name: "Tus-Extension", value: Self.extensions)
        response.headers.replaceOrAdd(
            name: "Tus-Max-Size", value: "\(request.attest.configuration.evidence.maxFileBytes)")
        response.headers.replaceOrAdd(
            name: "Tus-Checksum-Algorithm", value: ChunkHash.algorithms.joined(separator: ","))
        return response
    }

    private func checkVersion(_ request: Request) throws {
        guard request.headers.first(name: "Tus-Resumable") == Self.version else { throw UploadError.unsupportedVersion }
    }

    private func service(_ request: Request) -> UploadService { request.attest.uploads }

    func create(request: Request) async throws -> Response {
        try checkVersion(request)
        if request.headers.first(name: "Upload-Defer-Length") != nil {
            throw UploadError.invalidHeader("Upload-Length")
        }
        guard let lengthText = request.headers.first(name: "Upload-Length"), let length = Int64(lengthText),
            length >= 0, lengthText.utf8.allSatisfy({ (0x30...0x39).contains($0) })
        else { throw UploadError.invalidHeader("Upload-Length") }
        let metadataHeader = request.headers.first(name: "Upload-Metadata")
        let metadata = try Self.metadata(metadataHeader)
        var senderSHA256: String?
        if let value = metadata["sha256"] {
            guard let text = value.flatMap({ String(bytes: $0, encoding: .utf8) })?.lowercased(), text.utf8.count == 64,
                text.allSatisfy(\.isHexDigit)
            else { throw UploadError.invalidHeader("Upload-Metadata") }
            senderSHA256 = text
        }
        let services = request.attest
        let now = services.clock.now()
        let upload = try await service(request).create(
            length: length, senderSHA256: senderSHA256, metadata: metadataHeader.flatMap { $0.isEmpty ? nil : $0 },
            source: .publicUpload, now: now, random: services.random, client: request.clientKey)
        let response = Response(status: .created)
        Self.tusHeaders(&response.headers)
        response.headers.replaceOrAdd(name: .location, value: "\(Paths.uploads)/\(upload.id)")
        response.headers.replaceOrAdd(name: "Upload-Expires", value: Self.expires(upload.expiresAt))
        if request.headers.contentType == Self.offsetStream {
            let offset = try await service(request).append(
                to: upload, offset: 0, body: ChargedBody(base: StreamedBody(request), request: request),
                checksum: try Self.checksum(request), now: now)
            response.headers.replaceOrAdd(name: "Upload-Offset", value: "\(offset)")
        }
        return response
    }

    func head(request: Request) async throws -> Response {
        try checkVersion(request)
        let service = service(request)
        let now = request.attest.clock.now()
        var upload = try await service.live(request.parameters.get("id") ?? "", now: now)
        var offset = service.offset(of: upload)
        if upload.state == .open, offset == upload.length {
            // The last byte arrived but the server stopped before completing it: complete it now, under the
            // upload's lock (a PATCH still completing it, or another HEAD, holds it and finishes the work).
            try await service.completeIfFinished(upload, now: now)
            upload = try await service.live(upload.id, now: now)
            offset = service.offset(of: upload)
        }
        let response = Response(status: .ok)
        Self.tusHeaders(&response.headers)
        response.headers.replaceOrAdd(name: "Upload-Offset", value: "\(offset)")
        response.headers.replaceOrAdd(name: "Upload-Length", value: "\(upload.length)")
        response.headers.replaceOrAdd(name: "Upload-Expires", value: Self.expires(upload.expiresAt))
        if let metadata = upload.metadata { response.headers.replaceOrAdd(name: "Upload-Metadata", value: metadata) }
        return response
    }

    func patch(request: Request) async throws -> Response {
        try checkVersion(request)
        guard request.headers.contentType == Self.offsetStream else { throw UploadError.wrongContentType }
        guard let offsetText = request.headers.first(name: "Upload-Offset"), let offset = Int64(offsetText),
            offset >= 0, offsetText.utf8.allSatisfy({ (0x30...0x39).contains($0) })
        else { throw UploadError.invalidHeader("Upload-Offset") }
        let checksum = try Self.checksum(request)
        let service = service(request)
        let now = request.attest.clock.now()
        let upload = try await service.live(request.parameters.get("id") ?? "", now: now)
        let newOffset = try await service.append(
            to: upload, offset: offset, body: ChargedBody(base: StreamedBody(request), request: request),
            checksum: checksum, now: now)
        let response = Response(status: .noContent)
        Self.tusHeaders(&response.headers)
        response.headers.replaceOrAdd(name: "Upload-Offset", value: "\(newOffset)")
        response.headers.replaceOrAdd(name: "Upload-Expires", value: Self.expires(upload.expiresAt))
        return response
    }

    func terminate(request: Request) async throws -> Response {
        try checkVersion(request)
        let service = service(request)
        let upload = try await service.live(request.parameters.get("id") ?? "", now: request.attest.clock.now())
        try await service.terminate(upload)
        let response = Response(status: .noContent)
        Self.tusHeaders(&response.headers)
        return response
    }

    /// `Upload-Metadata`: comma-separated `key base64value` (or bare `key`) pairs, keys unique.
    static func metadata(_ header: String?) throws -> [String: [UInt8]?] {
        guard let header, !header.isEmpty else { return [:] }
        guard header.utf8.count <= maxMetadataBytes else { throw UploadError.invalidHeader("Upload-Metadata") }
        var result: [String: [UInt8]?] = [:]
        for pair in header.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = pair.trimmingCharacters(in: .whitespaces).split(
                separator: " ", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let key = parts.first, !key.isEmpty, result[String(key)] == nil,
                key.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "," })
            else { throw UploadError.invalidHeader("Upload-Metadata") }
            if parts.count == 2 {
                guard let decoded = Data(base64Encoded: String(parts[1])) else {
                    throw UploadError.invalidHeader("Upload-Metadata")
                }
                result[String(key)] = Array(decoded)
            } else {
                result[String(key)] = .some(nil)
            }
        }
        return result
    }

    /// `Upload-Checksum: <algorithm> <base64 digest>`.
    static func checksum(_ request: Request) throws -> (algorithm: String, digest: [UInt8])? {
        guard let header = request.headers.first(name: "Upload-Checksum") else { return nil }
        let parts = header.split(separator: " ")
        guard parts.count == 2, let length = ChunkHash.digestLength(String(parts[0])),
            let digest = Data(base64Encoded: String(parts[1])), digest.count == length
        else { throw UploadError.invalidHeader("Upload-Checksum") }
        return (String(parts[0]), Array(digest))
    }
}
