import AttestCore
import AttestPersistence
import AttestTestSupport
import Crypto
import FluentKit
import FluentSQL
import Foundation
import NIOCore
import Testing
import Vapor
import VaporTesting

@testable import AttestWeb

/// A multipart/form-data body, as a browser sends it.
struct MultipartBody {
    static let boundary = "----AttestBoundary7MA4YWxkTrZu0gW"
    var bytes: [UInt8] = []

    mutating func field(_ name: String, _ value: String) {
        bytes += Array(
            "--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
    }

    mutating func file(_ name: String, filename: String, type: String = "image/jpeg", _ content: [UInt8]) {
        bytes += Array(
            "--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: \(type)\r\n\r\n"
                .utf8)
        bytes += content + Array("\r\n".utf8)
    }

    func finished() -> ByteBuffer { ByteBuffer(bytes: bytes + Array("--\(Self.boundary)--\r\n".utf8)) }
    static let contentType = "multipart/form-data; boundary=\(boundary)"
}

struct EvidenceReceiptBody: Decodable {
    struct Item: Decodable {
        struct Custody: Decodable {
            var index: Int64
            var entryHash: String
        }
        var sha256: String
        var sha512: String
        var size: Int64
        var mediaType: String
        var custody: Custody?
    }
    var reference: String?
    var followUpCode: String?
    var evidence: [Item]
}

@Suite("Evidence")
struct EvidenceTests {
    func reportJSON(uploads: [String]) -> String {
        let list = uploads.map { "\"\($0)\"" }.joined(separator: ",")
        return String(validReportJSON.dropLast()) + ",\"uploads\":[\(list)]}"
    }

    @Test("Uploads attach with the report: evidence.ingested entries in the same transaction, listed afterwards")
    func attachWithReport() async throws {
        try await withAttest { harness in
            let tus = TusClient(app: harness.app)
            let api = APIClient(app: harness.app)
            let photo = Samples.jpeg(size: 1_500_000)
            let video = Array("\0\0\0\u{20}ftypisom\0\0\u{2}\0isomiso2avc1mp41".utf8) + Samples.jpeg(size: 90_000)
            let first = try await tus.upload(photo, chunk: 400_000)
            let second = try await tus.upload(video)
            let entriesBefore = try await harness.custodyEntryCount()

            let created = try await api.post("/api/v1/reports", json: reportJSON(uploads: [first, second, first]))
            #expect(created.status == .created, "\(created.body.string)")
            let receipt = try created.decoded(EvidenceReceiptBody.self)
            #expect(receipt.evidence.map(\.sha256) == [Samples.sha256(photo), Samples.sha256(video)])
            #expect(receipt.evidence.map(\.sha512) == [Samples.sha512(photo), Samples.sha512(video)])
            #expect(receipt.evidence.map(\.mediaType) == ["image/jpeg", "video/mp4"])
            #expect(receipt.evidence.map(\.size) == [Int64(photo.count), Int64(video.count)])
            #expect(try await harness.custodyEntryCount() == entriesBefore + 3)

            // The entry carries the file's hash, size, type and source: nothing else about the file.
            let index = try #require(receipt.evidence.first?.custody?.index)
            let entry = try #require(
                try await harness.app.attest.ledger.entries(UInt64(index)..<UInt64(index + 1)).first?.entry)
            let parsed = try CustodyEntry(json: Data(entry.utf8))
            #expect(parsed.kind == "evidence.ingested")
            #expect(parsed.contentHash == Samples.sha256(photo))
            #expect(parsed.details == .init(size: Int64(photo.count), mediaType: "image/jpeg", source: "public-upload"))
            #expect(!entry.contains("jpg") && !entry.contains(Samples.sha512(photo)))

            // Listed at follow-up (API), with the custody history of each item.
            let code = try #require(receipt.followUpCode)
            let status = try await api.get(
                "/api/v1/reports/\(receipt.reference!)", headers: ["Authorization": "Bearer \(code)"])
            #expect(try status.decoded(EvidenceReceiptBody.self).evidence.count == 2)
            let items = try await harness.app.attest.store.evidence(
                of: try #require(
                    try await harness.app.attest.store.report(reference: ReportReference(receipt.reference!)!)
                ).id)
            let history = try await harness.app.attest.store.custodyHistory(of: items[0].recordID)
            #expect(history.map(\.index) == [index])
            let lines = try await EvidenceHistoryCommand.lines(harness.app.attest, id: "\(items[0].id)")
            #expect(lines.contains("  sha256    \(Samples.sha256(photo))"))
            #expect(lines.last?.hasPrefix("  \(index)  {") == true)
            await #expect(throws: EvidenceHistoryCommand.NotFound.self) {
                _ = try await EvidenceHistoryCommand.lines(harness.app.attest, id: UUID().uuidString)
            }

            // An upload attaches once.
            let again = try await api.post("/api/v1/reports", json: reportJSON(uploads: [first]))
            #expect(again.status == .conflict)
            #expect(try again.decoded(APIErrorBody.self).error.code == "evidence_upload_attached")
            #expect(try await harness.reportCount() == 1, "the refused report was not stored either")
        }
    }

    @Test("Attaching refuses unknown, incomplete and over-limit uploads, storing nothing")
    func attachLimits() async throws {
        try await withAttest(configure: {
            $0.evidence.filesPerReportMax = 2
            $0.evidence.totalBytesPerReportMax = 50_000
        }) { harness in
            let tus = TusClient(app: harness.app)
            let api = APIClient(app: harness.app)
            let incomplete = try await tus.create(length: 100)
            let cases: [([String], HTTPStatus, String)] = [
                (["0123456789abcdef0123456789abcdef"], .unprocessableEntity, "evidence_upload_not_found"),
                ([String(incomplete.split(separator: "/").last!)], .unprocessableEntity, "evidence_upload_incomplete"),
            ]
            for (uploads, status, code) in cases {
                let response = try await api.post("/api/v1/reports", json: reportJSON(uploads: uploads))
                #expect(response.status == status)
                #expect(try response.decoded(APIErrorBody.self).error.code == code)
            }
            let a = try await tus.upload(Samples.jpeg(size: 20_000, seed: 1))
            let b = try await tus.upload(Samples.jpeg(size: 20_000, seed: 2))
            let c = try await tus.upload(Samples.jpeg(size: 20_000, seed: 3))
            let tooMany = try await api.post("/api/v1/reports", json: reportJSON(uploads: [a, b, c]))
            #expect(tooMany.status == .unprocessableEntity)
            #expect(try tooMany.decoded(APIErrorBody.self).error.message.contains("at most 2 files"))
            let big = try await tus.upload(Samples.jpeg(size: 40_000, seed: 4))
            let tooLarge = try await api.post("/api/v1/reports", json: reportJSON(uploads: [a, big]))
            #expect(tooLarge.status == .unprocessableEntity)
            #expect(try tooLarge.decoded(APIErrorBody.self).error.code == "evidence_report_too_large")
            #expect(try await harness.reportCount() == 0)
            // Nothing was consumed: the same uploads still attach within the limits.
            let fine = try await api.post("/api/v1/reports", json: reportJSON(uploads: [a, b]))
            #expect(fine.status == .created)
        }
    }

    @Test("Without JavaScript, files in the form's file field stream to disk and attach with the report")
    func multipartForm() async throws {
        try await withAttest { harness in
            var browser = Browser(harness.app)
            let page = try await browser.get("/report")
            #expect(page.body.string.contains(#"enctype="multipart/form-data""#))
            #expect(page.body.string.contains(#"<input type="file" id="evidence" name="evidence" multiple"#))
            let token = try #require(Browser.csrfToken(in: page.body.string))
            let photo = Samples.jpeg(size: 2_500_000)
            var body = MultipartBody()
            body.field("csrf", token)
            body.field("lang", "es")
            body.field("date", "2026-11-20")
            body.field("time", "10:30")
            body.field("narrative", "Agentes detuvieron a mi vecino frente a la tienda. «Sin orden»")
            body.file("evidence", filename: "IMG_0001.jpg", photo)
            body.file("evidence", filename: "", type: "application/octet-stream", [])  // an empty second file field
            let response = try await browser.post(
                "/report", body: body.finished(), contentType: MultipartBody.contentType)
            #expect(response.status == .created, "\(response.body.string.prefix(2000))")
            let html = response.body.string
            #expect(html.contains("Archivos recibidos"))
            #expect(html.contains(Samples.sha256(photo)))
            #expect(harness.storedFiles() == [Samples.sha256(photo)])
            let report = try #require(
                try await harness.app.attest.store.report(reference: ReportReference("R-2026-000001")!))
            #expect(report.content.narrative.contains("«Sin orden»"))
            #expect(try await harness.app.attest.store.evidence(of: report.id).first?.source == .publicForm)
        }
    }

    @Test("A form file without a valid CSRF token, or of a refused type, keeps nothing")
    func multipartRefusals() async throws {
        try await withAttest { harness in
            var browser = Browser(harness.app)
            _ = try await browser.get("/report")
            var forged = MultipartBody()
            forged.field("csrf", "forged")
            forged.field("narrative", "x")
            forged.file("evidence", filename: "a.jpg", Samples.jpeg(size: 10_000))
            let refused = try await browser.post(
                "/report", body: forged.finished(), contentType: MultipartBody.contentType)
            #expect(refused.status == .forbidden)

            let page = try await browser.get("/report")
            let token = try #require(Browser.csrfToken(in: page.body.string))
            var script = MultipartBody()
            script.field("csrf", token)
            script.field("date", "2026-11-20")
            script.field("narrative", "Agents detained a man.")
            script.file("evidence", filename: "photo.jpg", Array("#!/bin/sh\nrm -rf ~\n".utf8))
            let response = try await browser.post(
                "/report", body: script.finished(), contentType: MultipartBody.contentType)
            #expect(response.status == .unsupportedMediaType)
            #expect(response.body.string.contains("This file type cannot be accepted"))
            #expect(response.body.string.contains("Agents detained a man."), "the form keeps what was typed")
            #expect(try await harness.reportCount() == 0)
            #expect(harness.storedFiles().isEmpty)
            #expect(harness.partFiles().isEmpty)
            var broken = MultipartBody()
            broken.bytes = Array("--nope\r\nContent-Disposition: form-data\r\n\r\n".utf8)
            let garbled = try await browser.post(
                "/report", body: broken.finished(), contentType: MultipartBody.contentType)
            #expect(garbled.status == .badRequest || garbled.status == .forbidden)
        }
    }

    @Test("Form files over the size or count limit are refused with a clear error; what was typed is kept")
    func multipartLimits() async throws {
        try await withAttest(configure: {
            $0.evidence.maxFileBytes = 100_000
            $0.evidence.filesPerReportMax = 1
        }) { harness in
            var browser = Browser(harness.app)
            for (files, expected) in [
                ([Samples.jpeg(size: 100_001)], "files can be at most"),
                ([Samples.jpeg(size: 1_000, seed: 1), Samples.jpeg(size: 1_000, seed: 2)], "at most 1 files"),
            ] {
                let page = try await browser.get("/report")
                let token = try #require(Browser.csrfToken(in: page.body.string))
                var body = MultipartBody()
                body.field("csrf", token)
                body.field("date", "2026-11-20")
                for (number, file) in files.enumerated() { body.file("evidence", filename: "\(number).jpg", file) }
                body.field("narrative", "Typed after the files: agents blocked the school entrance.")
                let response = try await browser.post(
                    "/report", body: body.finished(), contentType: MultipartBody.contentType)
                #expect(response.status == .payloadTooLarge || response.status == .unprocessableEntity)
                #expect(response.body.string.contains(expected), "\(expected)")
                #expect(response.body.string.contains("agents blocked the school entrance"))
                #expect(harness.partFiles().isEmpty)
            }
            #expect(try await harness.reportCount() == 0)
        }
    }

    @Test("Reporters add files later at /follow-up, by the file field or by finished uploads")
    func followUp() async throws {
        try await withAttest { harness in
            let receipt = try await harness.app.attest.submitReport.execute(.init(submission: .minimal()))
            var browser = Browser(harness.app)
            let status = try await browser.followUp(receipt)
            #expect(status.body.string.contains("No files yet."))
            let token = try #require(Browser.csrfToken(in: status.body.string))
            let audio = Array("ID3".utf8) + [4, 0, 0, 0, 0, 0] + Samples.jpeg(size: 30_000)
            let resumable = try await TusClient(app: harness.app).upload(Samples.jpeg(size: 5_000, seed: 7))
            var body = MultipartBody()
            body.field("csrf", token)
            body.field("uploads", resumable)
            body.file("evidence", filename: "memo.mp3", type: "audio/mpeg", audio)
            let added = try await browser.post(
                "/follow-up/evidence", body: body.finished(), contentType: MultipartBody.contentType)
            #expect(added.status == .seeOther)
            let after = try await browser.get("/follow-up/report?evidence=1")
            #expect(after.body.string.contains("Your files were added"))
            #expect(after.body.string.contains(Samples.sha256(audio)))
            #expect(after.body.string.contains("audio/mpeg"))
            #expect(
                try await harness.app.attest.store.evidence(
                    of: try #require(
                        try await harness.app.attest.store.report(reference: receipt.reference)
                    ).id
                ).count == 2)

            var empty = MultipartBody()
            empty.field("csrf", token)
            let nothing = try await browser.post(
                "/follow-up/evidence", body: empty.finished(), contentType: MultipartBody.contentType)
            #expect(nothing.status == .unprocessableEntity)
            #expect(nothing.body.string.contains("Choose at least one file"))
            // Without the follow-up session there is nothing to attach to.
            var stranger = Browser(harness.app)
            let denied = try await stranger.post(
                "/follow-up/evidence", body: body.finished(), contentType: MultipartBody.contentType)
            #expect(denied.status == .seeOther)
            #expect(denied.headers.first(name: .location) == "/follow-up")
        }
    }

    @Test("Start-up completes uploads whose last byte arrived before a crash and removes orphans")
    func recovery() async throws {
        try await withAttest { harness in
            let tus = TusClient(app: harness.app)
            let file = Samples.jpeg(size: 50_000)
            let path = try await tus.create(length: file.count)
            let id = String(path.split(separator: "/").last!)
            // As if the server died after writing the last byte, before completing the upload.
            try Data(file).write(to: harness.uploadsURL.appendingPathComponent("\(id).part"))
            try Data([1, 2, 3]).write(
                to: harness.uploadsURL.appendingPathComponent("0123456789abcdef0123456789abcdef.part"))
            let orphan = Samples.jpeg(size: 100, seed: 3)
            let blobs = harness.app.attest.uploads.blobs
            let temporary = harness.dataDirectory.appendingPathComponent("orphan")
            try Data(orphan).write(to: temporary)
            _ = try await blobs.seal(file: temporary, sha256: Samples.sha256(orphan))

            // Recent leftovers may belong to another process at work; only old ones are removed.
            try await harness.app.attest.uploads.recover(now: harness.clock.now())
            #expect(harness.partFiles() == ["0123456789abcdef0123456789abcdef.part"])
            #expect(harness.storedFiles() == [Samples.sha256(file), Samples.sha256(orphan)].sorted())
            let old = Date().addingTimeInterval(-UploadService.orphanGrace - 60)
            let orphanPart = harness.uploadsURL.appendingPathComponent("0123456789abcdef0123456789abcdef.part")
            let orphanBlob = try #require(try (blobs as? FileEvidenceStore)?.url(sha256: Samples.sha256(orphan)))
            for url in [orphanPart, orphanBlob] {
                try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: url.path)
            }
            try await harness.app.attest.uploads.recover(now: harness.clock.now())
            #expect(harness.partFiles().isEmpty)
            #expect(harness.storedFiles() == [Samples.sha256(file)])
            let head = try await tus.send(.HEAD, path)
            #expect(head.headers.first(name: "Upload-Offset") == "50000")
            let attached = try await APIClient(app: harness.app).post(
                "/api/v1/reports", json: reportJSON(uploads: [id]))
            #expect(attached.status == .created)
        }
    }

    @Test("attest log verify covers evidence: a changed record or file is named")
    func verification() async throws {
        try await withAttest { harness in
            let tus = TusClient(app: harness.app)
            let file = Samples.jpeg(size: 10_000)
            let id = try await tus.upload(file)
            _ = try await APIClient(app: harness.app).post("/api/v1/reports", json: reportJSON(uploads: [id]))
            let services = harness.app.attest
            #expect(try await VerifyLogCommand.verify(services, evidenceFiles: true).isClean)

            let stored = harness.storeURL.appendingPathComponent(
                "\(Samples.sha256(file).prefix(2))/\(Samples.sha256(file).dropFirst(2).prefix(2))/\(Samples.sha256(file))"
            )
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: stored.path)
            var changed = file
            changed[5_000] ^= 1
            try Data(changed).write(to: stored)
            let byFile = try await VerifyLogCommand.verify(services, evidenceFiles: true)
            #expect(byFile.discrepancies.contains { $0.contains("stored file does not match") })
            #expect(
                try await VerifyLogCommand.verify(services).isClean, "without --evidence-files the rows still match")

            let sql = harness.app.db as! any SQLDatabase
            try await sql.raw("UPDATE evidence SET sha256 = \(bind: String(repeating: "0", count: 64))").run()
            let byRow = try await VerifyLogCommand.verify(services)
            #expect(
                byRow.discrepancies.contains {
                    $0.hasPrefix("evidence:") && $0.contains("does not match custody entry")
                })
            try await sql.raw("DELETE FROM evidence").run()
            let deleted = try await VerifyLogCommand.verify(services)
            #expect(deleted.discrepancies.contains { $0.hasPrefix("evidence:") && $0.contains("does not exist") })
        }
    }
}

@Suite("Capture metadata")
struct CaptureMetadataTests {
    static let exiftool = MetadataExtractor.locate(configured: nil, path: ProcessInfo.processInfo.environment["PATH"])
        .executable

    /// A 1×1 PNG, then GPS, time and device written into it by exiftool.
    static func photoWithLocation(in directory: URL) throws -> [UInt8] {
        let png: [UInt8] = [
            0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1,
            8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xDE, 0, 0, 0, 12, 0x49, 0x44, 0x41, 0x54, 0x08, 0xD7, 0x63, 0xF8, 0xCF,
            0xC0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xDD, 0x8D, 0xB0, 0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE,
            0x42, 0x60, 0x82,
        ]
        let url = directory.appendingPathComponent("capture.png")
        try Data(png).write(to: url)
        let process = Process()
        process.executableURL = exiftool
        process.arguments = [
            "-q", "-overwrite_original", "-GPSLatitude=41.8445", "-GPSLatitudeRef=N", "-GPSLongitude=87.7249",
            "-GPSLongitudeRef=W", "-DateTimeOriginal=2026:11:20 14:30:00", "-Make=Pixel", url.path,
        ]
        try MetadataExtractor.launch(process)
        process.waitUntilExit()
        return Array(try Data(contentsOf: url))
    }

    @Test(
        "exiftool's capture metadata (time, GPS, device) is stored beside the original and never published",
        .enabled(if: exiftool != nil, "exiftool is not installed (apt-get install libimage-exiftool-perl; CI has it)"))
    func extracted() async throws {
        try await withAttest { harness in
            let photo = try Self.photoWithLocation(in: harness.dataDirectory)
            let id = try await TusClient(app: harness.app).upload(photo)
            await harness.app.attest.uploads.metadata.drained()
            let metadata = try #require(
                try await harness.app.attest.uploads.blobs.metadata(sha256: Samples.sha256(photo)))
            let tags = try #require(try JSONSerialization.jsonObject(with: metadata) as? [String: Any])
            #expect(tags["EXIF:GPSLatitude"] as? Double == 41.8445)
            #expect(tags["EXIF:DateTimeOriginal"] as? String == "2026:11:20 14:30:00")
            #expect(tags["EXIF:Make"] as? String == "Pixel")
            #expect(tags[MetadataExtractor.outcomeKey] as? String == "complete")
            #expect(!tags.keys.contains { $0.hasPrefix("File:") || $0 == "SourceFile" }, "nothing about this server")
            let created = try await APIClient(app: harness.app).post(
                "/api/v1/reports", json: EvidenceTests().reportJSON(uploads: [id]))
            #expect(created.status == .created)
            #expect(!created.body.string.contains("41.84") && !created.body.string.contains("Pixel"))
        }
    }

    @Test("With metadata extraction off, uploads work and nothing is extracted")
    func off() async throws {
        try await withAttest(configure: { $0.exiftool = "off" }) { harness in
            #expect(harness.app.attest.uploads.metadata.extractor.executable == nil)
            let photo = Samples.jpeg(size: 5_000)
            _ = try await TusClient(app: harness.app).upload(photo)
            #expect(harness.storedFiles() == [Samples.sha256(photo)])
            #expect(try await harness.app.attest.uploads.blobs.metadata(sha256: Samples.sha256(photo)) == nil)
        }
    }
}
