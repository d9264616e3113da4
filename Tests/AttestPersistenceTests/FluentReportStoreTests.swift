import AttestCore
import AttestLedger
import AttestPersistence
import AttestTestSupport
import FluentKit
import FluentSQL
import Foundation
import Testing

@testable import AttestWeb

/// Persistence on SQLite always, and on PostgreSQL too when `ATTEST_TEST_DATABASE_URL` is set.
@Suite("Fluent report store")
struct FluentReportStoreTests {
    static let databases: [Bool] = {
        if TestDatabase.postgresURL == nil {
            print("FluentReportStoreTests: PostgreSQL cases skipped: ATTEST_TEST_DATABASE_URL is not set")
            return [false]
        }
        return [false, true]
    }()

    static func withContact() -> ReportSubmission {
        var submission = ReportSubmission.minimal(narrative: "Agentes me empujaron. <b>ñ</b> 💥")
        submission.wantsContact = true
        submission.contactName = "Ana Ejemplo"
        submission.contactPhone = "+1 312 555 0188"
        submission.contactEmail = "ana.ejemplo@example.org"
        submission.consentsToContact = true
        submission.categories = ["physical_force", "vehicle"]
        submission.agents = [.init(vestText: "POLICE ICE", plateState: "IL", plateNumber: "AB 12", masked: "fully")]
        return submission
    }

    struct RawRow: Decodable {
        var contact_ciphertext: String?
        var content_json: String
        var follow_up_code_hash: String
    }

    func rawReport(_ harness: TestHarness, _ reference: ReportReference) async throws -> RawRow {
        let sql = try #require(harness.app.db as? any SQLDatabase)
        return try #require(
            try await sql.raw(
                "SELECT contact_ciphertext, content_json, follow_up_code_hash FROM reports WHERE reference = \(bind: reference.description)"
            ).first(decoding: RawRow.self)
        )
    }

    @Test(
        "A report round-trips, with contact details encrypted at rest and only the code's hash stored",
        arguments: databases)
    func roundTrip(postgres: Bool) async throws {
        try await withAttest(postgres: postgres) { harness in
            let services = harness.app.attest
            let receipt = try await services.submitReport.execute(.init(submission: Self.withContact()))
            let stored = try #require(try await services.store.report(reference: receipt.reference))
            #expect(stored.contact?.phone == "+1 312 555 0188")
            #expect(stored.content.narrative == "Agentes me empujaron. <b>ñ</b> 💥")
            #expect(stored.content.agents.descriptions.first?.plateNumber == "AB 12")
            #expect(try stored.content.contentHash() == receipt.contentHash)
            let raw = try await rawReport(harness, receipt.reference)
            let ciphertext = try #require(raw.contact_ciphertext)
            #expect(ciphertext.hasPrefix("v1.k"))
            for secret in ["Ana Ejemplo", "555 0188", "ana.ejemplo", "example.org"] {
                #expect(!ciphertext.contains(secret))
                #expect(!raw.content_json.contains(secret))
            }
            #expect(raw.follow_up_code_hash == receipt.followUpCode.hash)
            #expect(!raw.follow_up_code_hash.contains(receipt.followUpCode.normalized))
        }
    }

    @Test(
        "Concurrent submissions get distinct references and a gapless custody log that verifies", arguments: databases)
    func concurrency(postgres: Bool) async throws {
        try await withAttest(postgres: postgres) { harness in
            let services = harness.app.attest
            let references = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        try await services.submitReport.execute(
                            .init(submission: .minimal(narrative: "Report \(index)"))
                        )
                        .reference.description
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(Set(references).count == 40)
            #expect(Set(references) == Set((1...40).map { ReportReference(year: 2026, number: $0).description }))
            let entries = try await services.ledger.entries(0..<100)
            #expect(entries.map(\.index) == Array(0...40))
            #expect(entries.first?.entry.contains("\"type\":\"log.created\"") == true)
            // The stored tree is the tree of the stored entries.
            var frontier = MerkleFrontier()
            for entry in entries { frontier.append(TreeHash.leaf(Data(entry.entry.utf8))) }
            #expect(try await services.ledger.root(size: 41) == frontier.root)
            let outcome = try await LogVerifier(ledger: services.ledger).verify()
            #expect(outcome.discrepancies == [])
            #expect(outcome.recordsChecked == 40)
        }
    }

    @Test("A unit of work that fails leaves no report, no number and no custody entry behind", arguments: databases)
    func rollback(postgres: Bool) async throws {
        struct Boom: Error {}
        try await withAttest(postgres: postgres) { harness in
            let services = harness.app.attest
            let before = try await harness.custodyEntryCount()
            let report = try services.validator.validate(.minimal(), now: harness.clock.now())
            await #expect(throws: Boom.self) {
                try await services.store.transaction { unit in
                    let number = try await unit.nextNumber(in: "report-2026")
                    try await unit.reports.insert(
                        PreparedReport(
                            Report(
                                id: Identifier(UUID()), reference: ReportReference(year: 2026, number: number),
                                jurisdiction: "chicago", status: .received, receivedAt: harness.clock.now(),
                                content: report.content, contentHash: try report.content.contentHash(), contact: nil,
                                followUpCodeHash: "x", isSample: false
                            ), sealingWith: services.store))
                    _ = try await unit.custodyLog.append(
                        CustodyEvent(
                            kind: .reportReceived, occurredAt: harness.clock.now(), actor: "public",
                            recordID: "report:x", contentHash: "00")
                    )
                    throw Boom()
                }
            }
            #expect(try await harness.reportCount() == 0)
            #expect(try await harness.custodyEntryCount() == before)
            let receipt = try await services.submitReport.execute(.init(submission: .minimal()))
            #expect(receipt.reference.number == 1, "the failed transaction's number was rolled back too")
        }
    }

    @Test(
        "Units of work committed together stay independent: a failing one leaves nothing, the others commit",
        arguments: databases)
    func groupCommit(postgres: Bool) async throws {
        struct Boom: Error {}
        try await withAttest(postgres: postgres) { harness in
            let store = harness.app.attest.store
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<30 {
                    group.addTask {
                        do {
                            try await store.transaction { unit in
                                _ = try await unit.nextNumber(in: "group-test")
                                _ = try await unit.custodyLog.append(
                                    CustodyEvent(
                                        kind: .recordChanged, occurredAt: Date(), actor: "system",
                                        recordID: "test:\(index)", contentHash: "00")
                                )
                                if index % 3 == 0 { throw Boom() }
                            }
                            return true
                        } catch is Boom {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 20)
            struct Row: Decodable { var record_id: String }
            let sql = try #require(harness.app.db as? any SQLDatabase)
            let rows = try await sql.raw("SELECT record_id FROM custody_entries WHERE kind = 'record.changed'")
                .all(decoding: Row.self)
            #expect(rows.count == 20)
            #expect(rows.allSatisfy { Int($0.record_id.dropFirst(5))! % 3 != 0 })
            let next = try await store.transaction { unit in try await unit.nextNumber(in: "group-test") }
            #expect(next == 21, "failed units' numbers were rolled back")
        }
    }

    @Test(
        "SQLite: the committer's own connection notices other connections' commits and hands units that need one to Fluent"
    )
    func writerConnection() async throws {
        try await withAttest(postgres: false) { harness in
            let services = harness.app.attest
            try #require(services.configuration.database.sqliteFile != nil)
            // A second store on the same file: its own committer and connection, as another process would have.
            let other = FluentReportStore(
                database: { harness.app.quietDatabase }, cipher: services.store.cipher, random: SystemRandomSource(),
                kind: services.configuration.database)
            let submitElsewhere = SubmitReport(
                store: other, clock: harness.clock, random: SystemRandomSource(), validator: services.validator)
            let first = try await services.submitReport.execute(.init(submission: .minimal()))
            let firstID = try #require(try await services.store.report(reference: first.reference)).id
            let before = try #require(await services.store.groupCommitStatistics())
            var references = [first.reference.description]
            for round in 0..<6 {
                references += try await withThrowingTaskGroup(of: String?.self) { group in
                    for index in 0..<8 {
                        group.addTask {
                            let submit = index % 3 == 2 ? submitElsewhere : services.submitReport
                            return try await submit.execute(.init(submission: .minimal(narrative: "\(round).\(index)")))
                                .reference.description
                        }
                    }
                    // A status change needs a Fluent connection (`setStatus` flushes the batch).
                    group.addTask {
                        try await services.store.transaction { unit in
                            _ = try await unit.custodyLog.append(
                                CustodyEvent(
                                    kind: .recordChanged, occurredAt: Date(), actor: "system",
                                    recordID: "status:\(round)", contentHash: "00"))
                            try await unit.reports.setStatus(.screening, of: firstID)
                        }
                        return nil
                    }
                    return try await group.reduce(into: [String]()) { if let reference = $1 { $0.append(reference) } }
                }
            }
            #expect(Set(references) == Set((1...49).map { ReportReference(year: 2026, number: $0).description }))
            let outcome = try await LogVerifier(ledger: services.ledger).verify()
            #expect(outcome.discrepancies == [])
            #expect(outcome.recordsChecked == 49)
            #expect(try await services.ledger.entries(0..<200).count == 1 + 49 + 6)
            let statistics = try #require(await services.store.groupCommitStatistics())
            let elsewhere = try #require(await other.groupCommitStatistics())
            // Had either connection reused counters or a frontier another one had moved on from, its batch would have
            // been refused (a duplicate reference or custody index) and retried on Fluent: counted here.
            #expect(statistics.failedBatches == before.failedBatches && elsewhere.failedBatches == 0)
            #expect(statistics.unitsOnConnection - before.unitsOnConnection == 6, "the status changes, and only they")
            #expect(statistics.units - before.units == 6 * 6 && elsewhere.units == 6 * 2)
            // synchronous = FULL (the default): batches were acknowledged by syncs of the log off the committer.
            #expect(statistics.syncs > before.syncs && elsewhere.syncs > 0)
        }
    }

    @Test("Key rotation re-encrypts every contact under a new key and logs key.rotated", arguments: databases)
    func keyRotation(postgres: Bool) async throws {
        try await withAttest(postgres: postgres) { harness in
            let services = harness.app.attest
            let receipt = try await services.submitReport.execute(.init(submission: Self.withContact()))
            let oldKey = ContactCipher.keyID(
                of: try #require(try await rawReport(harness, receipt.reference).contact_ciphertext))
            let keyFile = harness.dataDirectory.appendingPathComponent("keys/contact-keys.json")
            // A second process that loaded the keys before the rotation.
            let stale = FluentReportStore(
                database: { harness.app.quietDatabase },
                cipher: ContactCipher(
                    ring: try ContactKeyRing.file(at: keyFile, random: SystemRandomSource(), now: Date())),
                random: SystemRandomSource(), kind: harness.app.attest.configuration.database
            )
            let (newKey, rewritten) = try await RotateKeysCommand.rotate(services)
            #expect(rewritten == 1)
            #expect(newKey != oldKey)
            let ciphertext = try #require(try await rawReport(harness, receipt.reference).contact_ciphertext)
            #expect(ContactCipher.keyID(of: ciphertext) == newKey)
            #expect(
                try await services.store.report(reference: receipt.reference)?.contact?.email
                    == "ana.ejemplo@example.org")
            let attributes = try FileManager.default.attributesOfItem(atPath: keyFile.path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            // It reloads the key file when it meets the new key, instead of failing.
            #expect(try await stale.report(reference: receipt.reference)?.contact?.phone == "+1 312 555 0188")
            let sql = try #require(harness.app.db as? any SQLDatabase)
            struct Row: Decodable { var kind: String }
            let kinds = try await sql.raw("SELECT kind FROM custody_entries ORDER BY entry_index").all(
                decoding: Row.self)
            #expect(kinds.last?.kind == "key.rotated")
        }
    }

    @Test("A ciphertext copied onto another report does not open")
    func ciphertextBoundToRecord() throws {
        let ring = try ContactKeyRing.configured(base64: Data(repeating: 1, count: 32).base64EncodedString())
        let cipher = ContactCipher(ring: ring)
        let sealed = try cipher.seal(ContactDetails(phone: "+1 312 555 0100"), recordID: "A")
        #expect(try cipher.open(sealed, recordID: "A").phone == "+1 312 555 0100")
        #expect(throws: ContactCipher.Error.authenticationFailed) { try cipher.open(sealed, recordID: "B") }
        let parts = sealed.split(separator: ".")
        var bytes = try #require(Data(base64Encoded: String(parts[2])))
        bytes[bytes.count / 2] ^= 0x01
        let tampered = "\(parts[0]).\(parts[1]).\(bytes.base64EncodedString())"
        #expect(throws: ContactCipher.Error.authenticationFailed) { try cipher.open(tampered, recordID: "A") }
    }

    @Test("A configured key must be 32 bytes of base64")
    func configuredKey() {
        #expect(throws: ContactKeyRing.Error.self) { try ContactKeyRing.configured(base64: "short") }
        #expect(throws: ContactKeyRing.Error.self) {
            try ContactKeyRing.configured(base64: Data(repeating: 1, count: 16).base64EncodedString())
        }
    }

    @Test("The data directory and its secrets are readable by the owner only")
    func secretsModes() async throws {
        try await withAttest(postgres: false) { harness in
            for (path, mode) in [("", 0o700), ("keys/contact-keys.json", 0o600), ("keys/cookie.key", 0o600)] {
                let attributes = try FileManager.default.attributesOfItem(
                    atPath: harness.dataDirectory.appendingPathComponent(path).path
                )
                #expect((attributes[.posixPermissions] as? Int) == mode, "\(path)")
            }
        }
    }
}
