import Crypto
import Foundation
import Vapor

/// Serves the bundled public files (the stylesheet and the script: a few kilobytes, fixed at build time) from
/// memory, read once at start, with an ETag for revalidation.
///
/// Instead of Vapor's `FileMiddleware`, which asks the file system — on a thread pool, two thread hops — whether
/// each request's path is a file, before every route, report submissions included (docs/benchmarks.md).
struct StaticFilesMiddleware: Middleware {
    struct File {
        var body: ByteBuffer
        var contentType: HTTPMediaType
        var etag: String
    }

    /// By URL path, e.g. `/css/attest.css`.
    let files: [String: File]

    /// Loads every regular file under `directory`.
    init(directory: URL) throws {
        var files: [String: File] = [:]
        let root = directory.standardizedFileURL.resolvingSymlinksInPath()
        let enumerator = FileManager.default.enumerator(
            at: root, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
        while let url = enumerator?.nextObject() as? URL {
            guard try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true else { continue }
            let path = url.standardizedFileURL.resolvingSymlinksInPath().path
            guard path.hasPrefix(root.path + "/") else { continue }
            let data = try Data(contentsOf: url)
            let digest = SHA256.hash(data: data).prefix(16).map { String(format: "%02x", $0) }.joined()
            files[String(path.dropFirst(root.path.count))] = File(
                body: ByteBuffer(bytes: data),
                contentType: HTTPMediaType.fileExtension(url.pathExtension) ?? .binary,
                etag: "\"\(digest)\""
            )
        }
        self.files = files
    }

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        guard request.method == .GET || request.method == .HEAD, let file = files[request.url.path] else {
            return next.respond(to: request)
        }
        var headers = HTTPHeaders()
        headers.contentType = file.contentType
        headers.replaceOrAdd(name: .eTag, value: file.etag)
        if request.headers[.ifNoneMatch].contains(file.etag) {
            return request.eventLoop.makeSucceededFuture(Response(status: .notModified, headers: headers))
        }
        return request.eventLoop.makeSucceededFuture(
            Response(status: .ok, headers: headers, body: .init(buffer: file.body)))
    }
}
