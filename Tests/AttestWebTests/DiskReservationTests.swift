import AttestCore
import AttestTestSupport
import Foundation
import NIOCore
import Testing
import Vapor
import VaporTesting

@testable import AttestWeb

@Suite("Disk space is promised, not just checked")
struct DiskReservationTests {
    @Test(
        "Declared lengths of open uploads count against the floor: two creations that each fit alone do not both pass")
    func declaredLengths() async throws {
        // 100 MiB above the floor: one 60 MiB upload fits, a second does not, although nothing is written yet.
        try await withAttest(configure: { $0.evidence.freeDiskFloorBytes = 1 << 30 }) { harness in
            harness.app.attest.uploads.freeBytesOverride.withLockedValue { $0 = (1 << 30) + (100 << 20) }
            let tus = TusClient(app: harness.app)
            let first = try await tus.send(.POST, "/uploads", headers: ["Upload-Length": "\(60 << 20)"])
            #expect(first.status == .created)
            let second = try await tus.send(.POST, "/uploads", headers: ["Upload-Length": "\(60 << 20)"])
            #expect(second.status == .insufficientStorage)
            #expect(second.body.string.contains("low on storage"), "\(second.body.string)")
            // Terminating the first gives its promise back.
            let location = try #require(first.headers.first(name: .location))
            #expect(try await tus.send(.DELETE, location).status == .noContent)
            #expect(try await tus.send(.POST, "/uploads", headers: ["Upload-Length": "\(60 << 20)"]).status == .created)
        }
    }

    @Test("An open upload that receives nothing lets its promise lapse, so declared lengths cannot hold the disk")
    func idlePromisesLapse() async throws {
        try await withAttest(configure: {
            $0.evidence.freeDiskFloorBytes = 1 << 30
            $0.evidence.openPromiseSeconds = 1
        }) { harness in
            harness.app.attest.uploads.freeBytesOverride.withLockedValue { $0 = (1 << 30) + (100 << 20) }
            let tus = TusClient(app: harness.app)
            let idle = try await tus.send(.POST, "/uploads", headers: ["Upload-Length": "\(60 << 20)"])
            #expect(idle.status == .created)
            #expect(
                try await tus.send(.POST, "/uploads", headers: ["Upload-Length": "\(60 << 20)"]).status
                    == .insufficientStorage)
            harness.clock.advance(by: 2)
            #expect(
                try await tus.send(.POST, "/uploads", headers: ["Upload-Length": "\(60 << 20)"]).status == .created,
                "the idle upload's promise lapsed")
            // The idle upload moves again only if there is room for the rest of it: there is not.
            let location = try #require(idle.headers.first(name: .location))
            #expect(try await tus.patch(location, offset: 0, [1, 2, 3]).status == .insufficientStorage)
        }
    }

    @Test("One client's open uploads may declare at most the configured bytes")
    func perClient() async throws {
        try await withAttest(configure: { $0.evidence.openBytesPerClientMax = 10_000 }) { harness in
            let tus = TusClient(app: harness.app)
            #expect(try await tus.send(.POST, "/uploads", headers: ["Upload-Length": "6000"]).status == .created)
            let refused = try await tus.send(.POST, "/uploads", headers: ["Upload-Length": "6000"])
            #expect(refused.status == .tooManyRequests)
            #expect(refused.body.string.contains("unfinished uploads"))
            // A finished upload no longer counts.
            _ = try await tus.upload(Samples.jpeg(size: 3_000))
            #expect(try await tus.send(.POST, "/uploads", headers: ["Upload-Length": "4000"]).status == .created)
        }
    }

    @Test("A completed upload nobody attaches expires after the unattached time, its file removed")
    func unattached() async throws {
        try await withAttest(configure: { $0.evidence.unattachedExpirySeconds = 600 }) { harness in
            let photo = Samples.jpeg(size: 4_000, seed: 9)
            let id = try await TusClient(app: harness.app).upload(photo)
            let upload = try #require(try await harness.app.attest.store.upload(id: id))
            #expect(upload.expiresAt <= harness.clock.now().addingTimeInterval(601))
            #expect(harness.storedFiles() == [Samples.sha256(photo)])
            let swept = try await harness.app.attest.uploads.sweep(now: harness.clock.now().addingTimeInterval(601))
            #expect(swept == 1)
            #expect(harness.storedFiles().isEmpty)
        }
    }

    @Test("A form file is refused when the disk reaches its floor, leaving no part file")
    func formFile() async throws {
        try await withAttest(configure: { $0.evidence.freeDiskFloorBytes = 1 << 60 }) { harness in
            var browser = Browser(harness.app)
            let page = try await browser.get("/report")
            let token = try #require(Browser.csrfToken(in: page.body.string))
            var body = MultipartBody()
            body.field("csrf", token)
            body.file("evidence", filename: "a.jpg", Samples.jpeg(size: 10_000))
            body.field("narrative", "Agents stopped a car.")
            let response = try await browser.post(
                "/report", body: body.finished(), contentType: MultipartBody.contentType)
            #expect(response.status == .insufficientStorage)
            #expect(harness.partFiles().isEmpty)
        }
    }
}
