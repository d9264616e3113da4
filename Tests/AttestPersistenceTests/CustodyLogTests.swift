import AttestCore
import AttestLedger
import AttestTestSupport
import FluentSQL
import Foundation
import Testing

@testable import AttestPersistence
@testable import AttestWeb

/// The Merkle custody log in the database: appends, checkpoints, and verification catching tampering done
/// directly in the database, on SQLite and (when configured) PostgreSQL.
@Suite("Custody log")
struct CustodyLogTests {
    /// Three reports (entries 1–3) and a supplement to the first (entry 4) after the genesis entry, and a
    /// checkpoint covering them.
    func populated(_ harness: TestHarness) async throws -> [SubmitReport.Receipt] {
        let services = harness.app.attest
        var receipts: [SubmitReport.Receipt] = []
        for index in 1...3 {
            receipts.append(
                try await services.submitReport.execute(
                    .init(submission: .minimal(narrative: "Report number \(index)"))))
        }
        _ = try await services.addSupplement.execute(
            reference: receipts[0].reference, code: receipts[0].followUpCode, text: "One more thing.")
        try await services.ledger.publishIfDue(now: harness.clock.now(), policy: .always)
        return receipts
    }

    func verify(_ harness: TestHarness) async throws -> [String] {
        try await LogVerifier(ledger: harness.app.attest.ledger).verify().discrepancies
    }

    func sql(_ harness: TestHarness) throws -> any SQLDatabase {
        try #require(harness.app.db as? any SQLDatabase)
    }

    @Test(
        "An untouched log verifies: every entry, stored hash, checkpoint and record",
        arguments: FluentReportStoreTests.databases)
    func clean(postgres: Bool) async throws {
        try await withAttest(postgres: postgres) { harness in
            _ = try await populated(harness)
            let outcome = try await LogVerifier(ledger: harness.app.attest.ledger).verify()
            #expect(outcome.discrepancies == [])
            #expect(outcome.entries == 5)
            #expect(outcome.recordsChecked == 4)
            #expect(outcome.checkpoints == 2, "the start-up checkpoint at size 1 and the one at size 5")
        }
    }

    @Test(
        "A report's narrative changed in the database is caught and the report named",
        arguments: FluentReportStoreTests.databases)
    func changedNarrative(postgres: Bool) async throws {
        try await withAttest(postgres: postgres) { harness in
            _ = try await populated(harness)
            try await sql(harness).raw(
                "UPDATE reports SET content_json = REPLACE(content_json, 'Report number 2', 'Report number 9')"
            ).run()
            let found = try await verify(harness)
            #expect(found.count == 1)
            #expect(
                found.first?.contains("report:R-2026-000002: its stored content does not match custody entry 2") == true
            )
        }
    }

    @Test("A changed supplement is caught", arguments: FluentReportStoreTests.databases)
    func changedSupplement(postgres: Bool) async throws {
        try await withAttest(postgres: postgres) { harness in
            _ = try await populated(harness)
            try await sql(harness).raw("UPDATE report_messages SET body = 'Never mind.'").run()
            let found = try await verify(harness)
            #expect(found.count == 1)
            #expect(found.first?.contains("report:R-2026-000001/message:") == true)
            #expect(found.first?.contains("does not match custody entry 4") == true)
        }
    }

    @Test("A deleted report row is caught and named", arguments: FluentReportStoreTests.databases)
    func deletedReport(postgres: Bool) async throws {
        try await withAttest(postgres: postgres) { harness in
            _ = try await populated(harness)
            try await sql(harness).raw("DELETE FROM reports WHERE reference = 'R-2026-000003'").run()
            #expect(
                try await verify(harness) == [
                    "report:R-2026-000003, named by custody entry 3, does not exist (deleted?)"
                ])
        }
    }

    @Test("A deleted entry is caught, and so is the record it covered", arguments: FluentReportStoreTests.databases)
    func deletedEntry(postgres: Bool) async throws {
        try await withAttest(postgres: postgres) { harness in
            _ = try await populated(harness)
            try await sql(harness).raw("DELETE FROM custody_entries WHERE entry_index = 2").run()
            let found = try await verify(harness)
            #expect(found.contains("entry 2 is missing (deleted?)"))
            #expect(found.contains { $0.hasPrefix("report:R-2026-000002 has no report.received entry") })
        }
    }

    @Test("Reordered entries are caught", arguments: FluentReportStoreTests.databases)
    func reordered(postgres: Bool) async throws {
        try await withAttest(postgres: postgres) { harness in
            _ = try await populated(harness)
            let database = try sql(harness)
            struct Row: Decodable { var entry: String }
            let first = try #require(
                try await database.raw("SELECT entry FROM custody_entries WHERE entry_index = 1").first(
                    decoding: Row.self))
            let second = try #require(
                try await database.raw("SELECT entry FROM custody_entries WHERE entry_index = 2").first(
                    decoding: Row.self))
            try await database.raw("UPDATE custody_entries SET entry = \(bind: second.entry) WHERE entry_index = 1")
                .run()
            try await database.raw("UPDATE custody_entries SET entry = \(bind: first.entry) WHERE entry_index = 2")
                .run()
            let found = try await verify(harness)
            #expect(
                found.contains {
                    $0.hasPrefix("entry 1 (report:R-2026-000001): its bytes do not match its stored leaf hash")
                })
            #expect(found.contains { $0.hasPrefix("entry 2 (report:R-2026-000002): its bytes do not match") })
        }
    }

    @Test("A truncated log is caught, even with its hashes removed too", arguments: FluentReportStoreTests.databases)
    func truncated(postgres: Bool) async throws {
        try await withAttest(postgres: postgres) { harness in
            _ = try await populated(harness)
            let database = try sql(harness)
            try await database.raw("DELETE FROM custody_entries WHERE entry_index >= 3").run()
            try await database.raw("DELETE FROM custody_hashes WHERE position >= 1 AND level > 0").run()
            try await database.raw("DELETE FROM custody_hashes WHERE position >= 3").run()
            let found = try await verify(harness)
            #expect(
                found.contains {
                    $0.hasPrefix("the log is truncated: checkpoint 5 covers 5 entries, only 3 are stored")
                })
            #expect(
                found.contains { $0.hasPrefix("report:R-2026-000003, named by custody entry 3, does not exist") }
                    == false)
            #expect(found.contains { $0.hasPrefix("report:R-2026-000003 has no report.received entry") })
        }
    }

    @Test("A forged or altered checkpoint is caught", arguments: FluentReportStoreTests.databases)
    func forgedCheckpoint(postgres: Bool) async throws {
        try await withAttest(postgres: postgres) { harness in
            _ = try await populated(harness)
            try await sql(harness).raw(
                "UPDATE custody_checkpoints SET note = REPLACE(note, '\n5\n', '\n4\n') WHERE size = 5"
            ).run()
            let found = try await verify(harness)
            #expect(found.contains { $0.hasPrefix("checkpoint 5: the signature does not verify") })
        }
    }

    @Test("Logs of every size up to 40 verify, with supplements, whatever the verifier's page size")
    func everySize() async throws {
        try await withAttest(postgres: false) { harness in
            let services = harness.app.attest
            var receipts: [SubmitReport.Receipt] = []
            for round in 1...30 {
                receipts.append(
                    try await services.submitReport.execute(.init(submission: .minimal(narrative: "Report \(round)"))))
                if round % 4 == 0 {
                    _ = try await services.addSupplement.execute(
                        reference: receipts[round / 2].reference, code: receipts[round / 2].followUpCode,
                        text: "More, round \(round).")
                }
                if round % 3 == 0 { try await services.ledger.publishIfDue(now: harness.clock.now(), policy: .always) }
                let size = try await services.ledger.size()
                for pageSize: UInt64 in [1, 3, 8, 8_192] {
                    var verifier = LogVerifier(ledger: services.ledger)
                    verifier.pageSize = pageSize
                    let outcome = try await verifier.verify()
                    #expect(outcome.discrepancies == [], "size \(size), page \(pageSize)")
                    #expect(outcome.entries == size)
                    #expect(outcome.recordsChecked == round + round / 4)
                }
            }
            #expect(try await services.ledger.size() == 1 + 30 + 7)
        }
    }

    @Test("Checkpoints follow the policy: after N entries or T seconds, never empty, never repeated")
    func publicationPolicy() async throws {
        try await withAttest { harness in
            let ledger = harness.app.attest.ledger
            let policy = CustodyLedger.Policy(entries: 3, seconds: 60)
            #expect(try await ledger.latestCheckpoint()?.size == 1, "start-up publishes the genesis entry")
            _ = try await harness.app.attest.submitReport.execute(.init(submission: .minimal()))
            #expect(try await ledger.publishIfDue(now: harness.clock.now(), policy: policy)?.size == 1, "1 new < 3")
            harness.clock.advance(by: 61)
            #expect(try await ledger.publishIfDue(now: harness.clock.now(), policy: policy)?.size == 2, "60 s passed")
            for _ in 0..<3 { _ = try await harness.app.attest.submitReport.execute(.init(submission: .minimal())) }
            #expect(try await ledger.publishIfDue(now: harness.clock.now(), policy: policy)?.size == 5, "3 new")
            #expect(try await ledger.checkpoints().map(\.size) == [1, 2, 5])
            harness.clock.advance(by: 600)
            #expect(try await ledger.publishIfDue(now: harness.clock.now(), policy: policy)?.size == 5, "nothing new")
            #expect(try await ledger.checkpoints().count == 3)
        }
    }

    @Test("The signing key is created once, mode 0600, and the same key signs after a restart")
    func signingKeyPersists() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("attest-key-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("keys/log-signing.seed")
        let first = try LogSigningKey.load(
            configured: nil, fileURL: file, name: "example.org/log", random: SeededRandom())
        let again = try LogSigningKey.load(
            configured: nil, fileURL: file, name: "example.org/log", random: SeededRandom(seed: 99))
        #expect(first.verifier == again.verifier)
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try Data([1, 2, 3]).write(to: file)
        #expect(throws: LogSigningKey.Error.self) {
            try LogSigningKey.load(configured: nil, fileURL: file, name: "example.org/log", random: SeededRandom())
        }
        let configured = try LogSigningKey.load(
            configured: first.signerKey, fileURL: file, name: "ignored", random: SeededRandom())
        #expect(configured.verifier == first.verifier)
    }

    @Test("Entries are canonical JSON with a 32-byte nonce and no personal data")
    func entryFormat() async throws {
        try await withAttest { harness in
            var submission = FluentReportStoreTests.withContact()
            submission.narrative = "Ana Ejemplo was pushed."
            let receipt = try await harness.app.attest.submitReport.execute(.init(submission: submission))
            let entry = try #require(try await harness.app.attest.ledger.entries(1..<2).first)
            let object = try JSONSerialization.jsonObject(with: Data(entry.entry.utf8)) as? [String: Any]
            #expect(object?.keys.sorted() == ["actor", "nonce", "record", "sha256", "time", "type", "v"])
            #expect(object?["record"] as? String == "report:\(receipt.reference)")
            #expect(object?["sha256"] as? String == receipt.contentHash)
            #expect(Data(base64Encoded: object?["nonce"] as? String ?? "")?.count == 32)
            #expect(!entry.entry.contains("Ana") && !entry.entry.contains("pushed"))
            #expect(receipt.custody.entryHash == TreeHash.leaf(Data(entry.entry.utf8)).hex)
        }
    }

    @Test("On an SQLite file, verification reads through SQLite's C API exactly the pages SQLKit reads")
    func directReads() async throws {
        try await withAttest(postgres: false) { harness in
            _ = try await populated(harness)
            // An entry changed behind the application's back, so the pages also carry a finding.
            try await sql(harness).raw(
                "UPDATE custody_entries SET entry = REPLACE(entry, '\"v\":1', '\"v\":2') WHERE entry_index = 2"
            ).run()
            let ledger = harness.app.attest.ledger
            let direct = try await LogVerifier.PageReader(sql: sql(harness), ledger: ledger)
            let portable = try await LogVerifier.PageReader(sql: sql(harness), ledger: ledger, direct: false)
            #expect(direct.scan != nil && portable.scan == nil)
            let size = try await ledger.size()
            for range in [0..<size, 0..<2, 2..<size, 1..<(size + 3)] {
                let a = try await direct.page(range)
                let b = try await portable.page(range)
                #expect(a.leaves == b.leaves && a.levels == b.levels, "\(range)")
                #expect(a.leaves.compactMap { $0 }.count == Int(min(range.upperBound, size) - range.lowerBound))
                #expect(a.recordIDBytes == b.recordIDBytes && a.recordIDs == b.recordIDs)
                #expect(a.discrepancies == b.discrepancies)
                #expect(a.coverage.received.count == b.coverage.received.count)
            }
            let findings = try await verify(harness)
            #expect(findings.contains { $0.hasPrefix("entry 2") }, "\(findings)")
        }
    }
}
