import AttestTestSupport
import Foundation
import NIOCore
import Testing
import Vapor
import VaporTesting

@testable import AttestWeb

/// Capture metadata extraction is bounded: time, memory, output, concurrency and queue, off the request path.
@Suite("Metadata extraction limits")
struct MetadataQueueTests {
    /// A stand-in for exiftool: a shell script, so each hostile behaviour is exact and needs no exiftool.
    static func script(_ body: String, in directory: URL) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("exiftool-\(UUID().uuidString).sh")
        try Data("#!/bin/sh\n\(body)\n".utf8).write(to: url)
        _ = chmod(url.path, 0o755)
        return url
    }

    static func outcome(_ extractor: MetadataExtractor) throws -> (String, Duration) {
        let clock = ContinuousClock()
        let start = clock.now
        let document = extractor.extractBlocking(from: URL(fileURLWithPath: "/dev/null")).document
        let elapsed = clock.now - start
        let object = try #require(try JSONSerialization.jsonObject(with: document) as? [String: Any])
        return (try #require(object[MetadataExtractor.outcomeKey] as? String), elapsed)
    }

    @Test("A child that ignores SIGTERM is killed with SIGKILL at its deadline")
    func deadline() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("attest-md-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        var limits = MetadataLimits()
        limits.seconds = 1
        let stubborn = MetadataExtractor(
            executable: try Self.script("trap '' TERM\nwhile :; do :; done", in: directory), limits: limits)
        let (text, elapsed) = try Self.outcome(stubborn)
        #expect(text == "cut off: ran past 1 s")
        #expect(elapsed < .seconds(5))
    }

    @Test("Output past the limit is cut off; memory past the limit fails; errors and garbage say so")
    func outputAndMemory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("attest-md-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        var limits = MetadataLimits()
        limits.outputBytes = 65_536
        limits.memoryBytes = 64 << 20
        let chatty = MetadataExtractor(
            executable: try Self.script("exec yes '[{\"a\":1}]'", in: directory), limits: limits)
        #expect(try Self.outcome(chatty).0 == "cut off: printed more than 65536 bytes")
        // A string doubled until it cannot be: past a 64 MiB address space awk runs out of memory.
        let greedy = MetadataExtractor(
            executable: try Self.script(#"awk 'BEGIN { s = "a"; while (1) s = s s }'"#, in: directory),
            limits: limits)
        #expect(try Self.outcome(greedy).0.hasPrefix("failed:"))
        let broken = MetadataExtractor(executable: try Self.script("exit 3", in: directory), limits: limits)
        #expect(try Self.outcome(broken).0 == "failed: exiftool exited with status 3")
        let garbage = MetadataExtractor(executable: try Self.script("echo nonsense", in: directory), limits: limits)
        #expect(try Self.outcome(garbage).0 == "failed: exiftool printed no readable metadata")
        let fine = MetadataExtractor(
            executable: try Self.script("echo '[{\"SourceFile\":\"/x\",\"EXIF:Make\":\"Pixel\"}]'", in: directory),
            limits: limits)
        let document = fine.extractBlocking(from: URL(fileURLWithPath: "/dev/null")).document
        let object = try #require(try JSONSerialization.jsonObject(with: document) as? [String: Any])
        #expect(object["EXIF:Make"] as? String == "Pixel")
        #expect(object["SourceFile"] == nil)
        #expect(object[MetadataExtractor.outcomeKey] as? String == "complete")
    }

    @Test("Five slow extractions at once: uploads are answered at once, pages keep answering, the queue is bounded")
    func offTheRequestPath() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("attest-md-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let slow = try Self.script("trap '' TERM\nsleep 3\necho '[{\"EXIF:Make\":\"Slow\"}]'", in: directory)
        try await withAttest(configure: {
            $0.exiftool = slow.path
            $0.metadata.seconds = 2
            $0.metadata.queue = 3
        }) { harness in
            let files = (1...5).map { Samples.jpeg(size: 20_000, seed: UInt8($0)) }
            try await withThrowingTaskGroup(of: String.self) { group in
                for file in files { group.addTask { try await TusClient(app: harness.app).upload(file) } }
                for try await _ in group {}
            }
            // Five extractions of 2 s each, one at a time: the uploads were answered long before they end.
            #expect(harness.app.attest.uploads.metadata.pending > 0, "no upload waited for its extraction")
            let response = try await harness.app.testing().sendRequest(.GET, "/report")
            #expect(response.status == .ok)
            #expect(harness.app.attest.uploads.metadata.pending > 0, "a page answered while exiftool runs")
            await harness.app.attest.uploads.metadata.drained()
            var outcomes: [String] = []
            for file in files {
                let document = try #require(
                    try await harness.app.attest.uploads.blobs.metadata(sha256: Samples.sha256(file)))
                let object = try #require(try JSONSerialization.jsonObject(with: document) as? [String: Any])
                outcomes.append(try #require(object[MetadataExtractor.outcomeKey] as? String))
            }
            // One runs at once and three may wait: the fourth or fifth upload may find the queue full.
            let cut = outcomes.filter { $0 == "cut off: ran past 2 s" }.count
            let skipped = outcomes.filter { $0 == "skipped: 3 extractions were waiting" }.count
            #expect(cut + skipped == 5, "\(outcomes)")
            #expect(cut >= 3 && skipped <= 2, "\(outcomes)")
        }
    }

    /// An 8 MB JPEG of empty comment segments (exiftool ran 115 s at 1.4 GB on it), varied by `seed`.
    static func commentBomb(seed: Int) -> [UInt8] {
        var bytes: [UInt8] = [0xFF, 0xD8]
        bytes.reserveCapacity(8 << 20)
        for _ in 0..<(2_000_000 + seed) { bytes += [0xFF, 0xFE, 0x00, 0x02] }
        return bytes + [0xFF, 0xD9]
    }

    /// A PNG whose compressed text chunk (zTXt) inflates to `megabytes` MiB of text: deflate's fixed Huffman
    /// codes, one literal then runs of 258 at distance 1, 13 bits per run.
    static func textBomb(megabytes: Int, seed: UInt8) -> [UInt8] {
        var bits = BitWriter()
        bits.write(1, count: 1)  // the final block
        bits.write(1, count: 2)  // fixed Huffman codes
        bits.writeCode(0x30 + 0x41, count: 8)  // 'A'
        let runs = (megabytes << 20) / 258
        for _ in 0..<runs {
            bits.writeCode(0b1100_0101, count: 8)  // length 258
            bits.writeCode(0, count: 5)  // distance 1
        }
        bits.writeCode(0, count: 7)  // end of block
        let length = 1 + 258 * runs
        let a = (1 + 65 * length) % 65_521
        let b = (length + 65 * (length * (length + 1) / 2)) % 65_521
        let adler = UInt32(b) << 16 | UInt32(a)
        let zlib: [UInt8] = [0x78, 0x01] + bits.bytes + withUnsafeBytes(of: adler.bigEndian, Array.init)
        let png: [UInt8] = [
            0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1,
            8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xDE, 0, 0, 0, 12, 0x49, 0x44, 0x41, 0x54, 0x08, 0xD7, 0x63, 0xF8, 0xCF,
            0xC0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xDD, 0x8D, 0xB0,
        ]
        let iend: [UInt8] = [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]
        return png + chunk("zTXt", Array("Comment".utf8) + [0, 0] + zlib)
            + chunk("tEXt", Array("Seed".utf8) + [0, seed])
            + iend
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in body {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return withUnsafeBytes(of: UInt32(data.count).bigEndian, Array.init) + body
            + withUnsafeBytes(of: (~crc).bigEndian, Array.init)
    }

    struct BitWriter {
        var bytes: [UInt8] = []
        var used = 8

        /// Writes `value`'s low `count` bits, least significant first (deflate's header fields and extra bits).
        mutating func write(_ value: UInt32, count: Int) {
            for index in 0..<count { push(value >> index & 1) }
        }

        /// Writes a Huffman code, most significant bit first.
        mutating func writeCode(_ code: UInt32, count: Int) {
            for index in stride(from: count - 1, through: 0, by: -1) { push(code >> index & 1) }
        }

        private mutating func push(_ bit: UInt32) {
            if used == 8 {
                bytes.append(0)
                used = 0
            }
            bytes[bytes.count - 1] |= UInt8(bit) << used
            used += 1
        }
    }

    @Test(
        "exiftool on five hostile files at once (a comment-segment JPEG, a text-bomb PNG): each is cut off or fails, pages keep answering",
        .enabled(
            if: CaptureMetadataTests.exiftool != nil,
            "exiftool is not installed (apt-get install libimage-exiftool-perl; CI has it)"))
    func hostileFiles() async throws {
        try await withAttest(configure: {
            $0.metadata.seconds = 3
            $0.evidence.maxFileBytes = 16 << 20
        }) { harness in
            let files = [
                Self.commentBomb(seed: 0), Self.textBomb(megabytes: 10, seed: 1), Self.commentBomb(seed: 1),
                Self.textBomb(megabytes: 10, seed: 2), Self.commentBomb(seed: 2),
            ]
            let clock = ContinuousClock()
            try await withThrowingTaskGroup(of: String.self) { group in
                for file in files { group.addTask { try await TusClient(app: harness.app).upload(file) } }
                for try await _ in group {}
            }
            for _ in 0..<3 {
                #expect(harness.app.attest.uploads.metadata.pending > 0)
                #expect(try await harness.app.testing().sendRequest(.GET, "/report").status == .ok)
                try await Task.sleep(for: .milliseconds(500))
            }
            let start = clock.now
            await harness.app.attest.uploads.metadata.drained()
            #expect(clock.now - start < .seconds(60), "five runs of at most 3 s each, one at a time")
            for file in files {
                let document = try #require(
                    try await harness.app.attest.uploads.blobs.metadata(sha256: Samples.sha256(file)))
                #expect(document.count < 4_096, "nothing of the bomb is stored")
                let object = try #require(try JSONSerialization.jsonObject(with: document) as? [String: Any])
                let outcome = try #require(object[MetadataExtractor.outcomeKey] as? String)
                #expect(outcome.hasPrefix("cut off:") || outcome.hasPrefix("failed:"), "\(outcome)")
            }
        }
    }
}
