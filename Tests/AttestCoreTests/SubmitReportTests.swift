import AttestCore
import AttestTestSupport
import Foundation
import Testing

@Suite("Filing reports and following up (in memory)")
struct SubmitReportTests {
    let jurisdiction: Jurisdiction
    let clock = TestClock()

    init() throws {
        jurisdiction = try Fixtures.riverton()
    }

    func submitReport(_ store: any ReportStore) -> SubmitReport {
        SubmitReport(
            store: store, clock: clock, random: SeededRandom(),
            validator: ReportValidator(jurisdiction: jurisdiction, limits: ReportLimits())
        )
    }

    @Test("Report ids are version 7 UUIDs: the time received in milliseconds first, so later reports sort after")
    func timeOrderedIDs() async throws {
        let store = InMemoryReportStore()
        for _ in 0..<3 {
            _ = try await submitReport(store).execute(.init(submission: .minimal()))
            clock.advance(by: 0.002)
        }
        let reports = await store.state.reports
        for report in reports {
            let bytes = withUnsafeBytes(of: report.id.rawValue.uuid) { Array($0) }
            #expect(bytes[6] >> 4 == 7, "version")
            #expect(bytes[8] >> 6 == 0b10, "variant")
            let milliseconds = bytes[0..<6].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            #expect(milliseconds == UInt64((report.receivedAt.timeIntervalSince1970 * 1_000).rounded(.down)))
        }
        let texts = reports.map(\.id.description)
        #expect(texts == texts.sorted() && Set(texts).count == 3)
        // Within one millisecond the random part still tells them apart.
        let now = Date()
        let sameInstant = (0..<1_000).map { _ in UUID.version7(at: now, random: SystemRandomSource()) }
        #expect(Set(sameInstant).count == 1_000)
    }

    @Test("A report is stored with its reference, code hash and a report.received custody event")
    func submit() async throws {
        let store = InMemoryReportStore()
        let receipt = try await submitReport(store).execute(.init(submission: .minimal()))
        #expect(receipt.reference == ReportReference(year: 2026, number: 1))
        let state = await store.state
        #expect(state.reports.count == 1)
        #expect(state.reports[0].followUpCodeHash == receipt.followUpCode.hash)
        #expect(state.reports[0].status == .received)
        #expect(
            state.custody == [
                CustodyEvent(
                    kind: .reportReceived, occurredAt: clock.now(), actor: "public", recordID: "report:R-2026-000001",
                    contentHash: receipt.contentHash
                )
            ])
        #expect(receipt.contentHash == (try state.reports[0].content.contentHash()))
    }

    @Test("References count up within the year and start again in a new year")
    func referencesCount() async throws {
        let store = InMemoryReportStore()
        let submit = submitReport(store)
        _ = try await submit.execute(.init(submission: .minimal()))
        let second = try await submit.execute(.init(submission: .minimal()))
        #expect(second.reference.description == "R-2026-000002")
        clock.advance(by: 40 * 86_400)
        let nextYear = try await submit.execute(.init(submission: .minimal(date: "2026-12-30")))
        #expect(nextYear.reference.description == "R-2027-000001")
    }

    @Test("An invalid report stores nothing and records no custody event")
    func invalidStoresNothing() async throws {
        let store = InMemoryReportStore()
        await #expect(throws: ValidationFailure.self) {
            try await submitReport(store).execute(.init(submission: .minimal(narrative: " ")))
        }
        let state = await store.state
        #expect(state.reports.isEmpty && state.custody.isEmpty && state.sequences.isEmpty)
    }

    @Test("When the custody log cannot record the event, the report is not stored either")
    func atomicWithCustody() async throws {
        let store = InMemoryReportStore(custodyFailsAfter: 0)
        await #expect(throws: InMemoryReportStore.CustodyFailure.self) {
            try await submitReport(store).execute(.init(submission: .minimal()))
        }
        #expect(await store.state.reports.isEmpty)
    }

    @Test("Follow-up needs the right code; a wrong code and an unknown reference get the same answer")
    func followUp() async throws {
        let store = InMemoryReportStore()
        let receipt = try await submitReport(store).execute(.init(submission: .minimal()))
        let view = try await ViewReportStatus(store: store).execute(
            reference: receipt.reference, code: receipt.followUpCode)
        #expect(view.status == .received && view.messages.isEmpty)
        let wrong = FollowUpCode(random: SystemRandomSource())
        await #expect(throws: FollowUpError.denied) {
            try await ViewReportStatus(store: store).execute(reference: receipt.reference, code: wrong)
        }
        await #expect(throws: FollowUpError.denied) {
            try await ViewReportStatus(store: store).execute(
                reference: ReportReference(year: 2026, number: 99), code: receipt.followUpCode
            )
        }
    }

    @Test("A supplement joins the thread, is logged, and returns a needs_info report to screening")
    func supplement() async throws {
        let store = InMemoryReportStore()
        let receipt = try await submitReport(store).execute(.init(submission: .minimal()))
        let id = await store.state.reports[0].id
        try await store.transaction { unit in
            try await unit.reports.setStatus(.screening, of: id)
            try await unit.reports.setStatus(.needsInfo, of: id)
        }
        let add = AddSupplement(store: store, clock: clock, random: SeededRandom(seed: 2), limits: ReportLimits())
        let (message, custody) = try await add.execute(
            reference: receipt.reference, code: receipt.followUpCode, text: "It was a grey SUV."
        )
        let state = await store.state
        #expect(state.messages == [message])
        #expect(state.reports[0].status == .screening)
        #expect(custody.index == 1)
        #expect(state.custody.last?.kind == .reportSupplemented)
        #expect(state.custody.last?.contentHash == message.contentHash)
        let canonical =
            #"{"author":"reporter","body":"It was a grey SUV.","createdAt":""# + RFC3339.string(from: clock.now())
            + #"","report":"R-2026-000001"}"#
        #expect(message.contentHash == ContentHash.sha256Hex(canonical))
    }

    @Test("Supplements are validated and limited in number")
    func supplementLimits() async throws {
        let store = InMemoryReportStore()
        let receipt = try await submitReport(store).execute(.init(submission: .minimal()))
        var limits = ReportLimits()
        limits.supplementsPerReportMax = 2
        let add = AddSupplement(store: store, clock: clock, random: SeededRandom(), limits: limits)
        await #expect(throws: FollowUpError.invalidSupplement(ValidationIssue("text", .blank))) {
            try await add.execute(reference: receipt.reference, code: receipt.followUpCode, text: "\u{200B} ")
        }
        _ = try await add.execute(reference: receipt.reference, code: receipt.followUpCode, text: "one")
        _ = try await add.execute(reference: receipt.reference, code: receipt.followUpCode, text: "two")
        await #expect(throws: FollowUpError.tooManySupplements(max: 2)) {
            try await add.execute(reference: receipt.reference, code: receipt.followUpCode, text: "three")
        }
    }
}
