import AttestTestSupport
import Foundation
import NIOCore
import Testing
import Vapor
import VaporTesting

@testable import AttestWeb

@Suite("Multipart reader: bounded whatever arrives")
struct MultipartReaderTests {
    static let boundary = "----AttestBoundary7MA4YWxkTrZu0gW"
    static let limits = MultipartLimits()

    /// Feeds `bytes` in pieces of `size` and returns the fields and files read (content joined per part).
    static func read(_ bytes: [UInt8], pieces size: Int, maxText: Int = 262_144) throws -> [(String, String?, [UInt8])]
    {
        var reader = MultipartReader(boundary: boundary, limits: limits, maxTextBytes: maxText)
        var parts: [(String, String?, [UInt8])] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + size)
            for event in try reader.read(ByteBuffer(bytes: bytes[offset..<end])) {
                switch event {
                case .part(let name, let filename): parts.append((name, filename, []))
                case .content(let buffer): parts[parts.count - 1].2 += buffer.readableBytesView
                case .end: break
                }
            }
            offset = end
        }
        try reader.finish()
        return parts
    }

    @Test("Fields and files read the same however the body is cut into buffers")
    func anySplit() throws {
        var body = MultipartBody()
        body.field("csrf", "token")
        body.field("narrative", "Agentes de ICE detuvieron a un hombre.\r\n--not a delimiter\r\n-")
        var file = Array(repeating: UInt8(0x0D), count: 300)
        file += Array("\r\n--\(Self.boundary.dropLast())x".utf8) + (0..<2_000).map { UInt8($0 % 251) }
        body.file("evidence", filename: "IMG_0001.jpg", file)
        body.field("empty", "")
        let bytes = Array(body.finished().readableBytesView)
        let whole = try Self.read(bytes, pieces: bytes.count)
        #expect(whole.map(\.0) == ["csrf", "narrative", "evidence", "empty"])
        #expect(whole[2].1 == "IMG_0001.jpg")
        #expect(whole[2].2 == file)
        #expect(String(decoding: whole[1].2, as: UTF8.self).hasSuffix("not a delimiter\r\n-"))
        for size in [1, 2, 3, 7, 64, 73, 74, 75, 1_000] {
            let split = try Self.read(bytes, pieces: size)
            #expect(split.map(\.0) == whole.map(\.0), "pieces of \(size)")
            #expect(split.map(\.2) == whole.map(\.2), "pieces of \(size)")
        }
    }

    @Test("A header line that never ends is refused within the header limit, holding no more than it")
    func endlessHeader() throws {
        var reader = MultipartReader(boundary: Self.boundary, limits: Self.limits, maxTextBytes: 1 << 30)
        _ = try reader.read(ByteBuffer(string: "--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"a"))
        let chunk = ByteBuffer(repeating: UInt8(ascii: "a"), count: 1_024)
        var fed = 0
        #expect(throws: MultipartReader.Failure.headerTooLarge) {
            while fed < 300 << 20 {
                _ = try reader.read(chunk)
                fed += chunk.readableBytes
            }
        }
        #expect(fed <= Self.limits.headerBytes)
    }

    @Test("Too many parts, even empty ones, are refused; so is text past the limit")
    func emptyParts() throws {
        let part = Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n".utf8)
        let many = Array([[UInt8]](repeating: part, count: 100_000).joined())
        #expect(throws: MultipartReader.Failure.tooManyParts) {
            _ = try Self.read(many, pieces: 65_536, maxText: 1 << 30)
        }
        #expect(throws: MultipartReader.Failure.tooMuchText) {
            _ = try Self.read(many, pieces: 65_536, maxText: 10_000)
        }
        let few = Array([[UInt8]](repeating: part, count: 10).joined()) + Array("--\(Self.boundary)--".utf8)
        #expect(try Self.read(few, pieces: 100).count == 10)
    }

    @Test("Part names and file names over the limit are refused")
    func longNames() throws {
        var body = MultipartBody()
        body.field(String(repeating: "n", count: 201), "x")
        #expect(throws: MultipartReader.Failure.nameTooLong) {
            _ = try Self.read(Array(body.finished().readableBytesView), pieces: 4_096)
        }
        var huge = MultipartBody()
        huge.field(String(repeating: "n", count: 8_192), "x")
        #expect(throws: MultipartReader.Failure.headerTooLarge, "an 8 KB name does not fit in a header section") {
            _ = try Self.read(Array(huge.finished().readableBytesView), pieces: 4_096)
        }
        var file = MultipartBody()
        file.file("evidence", filename: String(repeating: "f", count: 201), [1, 2, 3])
        #expect(throws: MultipartReader.Failure.nameTooLong) {
            _ = try Self.read(Array(file.finished().readableBytesView), pieces: 4_096)
        }
    }

    @Test("A file part under a name that is not a file field counts as text, so it cannot stream without limit")
    func unexpectedFilePart() throws {
        var body = MultipartBody()
        body.file("other", filename: "a.bin", [UInt8](repeating: 7, count: 20_000))
        let bytes = Array(body.finished().readableBytesView)
        var reader = MultipartReader(
            boundary: Self.boundary, limits: Self.limits, maxTextBytes: 10_000, fileFields: ["evidence"])
        #expect(throws: MultipartReader.Failure.tooMuchText) { _ = try reader.read(ByteBuffer(bytes: bytes)) }
        var files = MultipartBody()
        files.file("evidence", filename: "a.jpg", [UInt8](repeating: 7, count: 20_000))
        var accepting = MultipartReader(
            boundary: Self.boundary, limits: Self.limits, maxTextBytes: 10_000, fileFields: ["evidence"])
        _ = try accepting.read(files.finished())
        try accepting.finish()
    }

    @Test("Header lines beyond the count, lines without a colon, parts without a name and cut-off bodies are refused")
    func malformed() throws {
        let start = "--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"a\"\r\n"
        let extra = String(repeating: "X-A: 1\r\n", count: Self.limits.headers)
        #expect(throws: MultipartReader.Failure.headerTooLarge) {
            _ = try Self.read(Array((start + extra + "\r\nv\r\n--\(Self.boundary)--").utf8), pieces: 100)
        }
        for body in [
            "--\(Self.boundary)\r\nContent-Disposition: form-dataX; name=\"a\"\r\n\r\nv\r\n--\(Self.boundary)--",
            "--\(Self.boundary)\r\nno colon here\r\n\r\nv\r\n--\(Self.boundary)--",
            "--\(Self.boundary)\r\nContent-Type: text/plain\r\n\r\nv\r\n--\(Self.boundary)--",
            "--\(Self.boundary)junk\r\n" + start.dropFirst(Self.boundary.count + 4) + "\r\nv\r\n--\(Self.boundary)--",
            start + "\r\nvalue without its closing delimiter",
        ] {
            #expect(throws: MultipartReader.Failure.malformed, "\(body)") {
                _ = try Self.read(Array(body.utf8), pieces: 5)
            }
        }
    }

    @Test("POST /report and /follow-up/evidence refuse hostile multipart bodies with 413 or 400, storing nothing")
    func refusedOverHTTP() async throws {
        try await withAttest { harness in
            let receipt = try await harness.app.attest.submitReport.execute(.init(submission: .minimal()))
            var browser = Browser(harness.app)
            _ = try await browser.followUp(receipt)
            let header = Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"".utf8)
            let cases: [([UInt8], HTTPStatus, String)] = [
                (header + [UInt8](repeating: 0x61, count: 1 << 20), .payloadTooLarge, "headers that are too long"),
                (
                    header + [UInt8](repeating: 0x6E, count: 300) + Array("\"\r\n\r\nx\r\n".utf8), .payloadTooLarge,
                    "name in the form is too long"
                ),
                (Array("--\(Self.boundary)\r\nBroken\r\n\r\n".utf8), .badRequest, "arrived damaged"),
            ]
            for path in ["/report", "/follow-up/evidence"] {
                for (bytes, status, message) in cases {
                    let response = try await browser.post(
                        path, body: ByteBuffer(bytes: bytes), contentType: MultipartBody.contentType)
                    #expect(response.status == status, "\(path) \(message)")
                    #expect(response.body.string.contains(message), "\(path) \(message)")
                }
            }
            #expect(try await harness.reportCount() == 1, "only the report made to sign in")
            #expect(harness.partFiles().isEmpty)
        }
    }

    @Test("The media type and the boundary parameter's name are matched without regard to case")
    func mediaTypeCase() async throws {
        try await withAttest { harness in
            var browser = Browser(harness.app)
            let page = try await browser.get("/report")
            let token = try #require(Browser.csrfToken(in: page.body.string))
            var body = MultipartBody()
            body.field("csrf", token)
            body.field("date", "2026-11-20")
            body.field("narrative", "Agents blocked the street.")
            let response = try await browser.post(
                "/report", body: body.finished(), contentType: "Multipart/Form-Data; BOUNDARY=\(Self.boundary)")
            #expect(response.status != .unsupportedMediaType, "\(response.status)")
            #expect(try await harness.reportCount() == 1)
        }
    }
}
