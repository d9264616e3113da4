import AttestCore
import AttestTestSupport
import Foundation
import Testing

/// Form fields from a dictionary, as a form would send them.
struct Fields: FormFields {
    var values: [String: [String]]

    init(_ values: [String: String], many: [String: [String]] = [:]) {
        self.values = values.mapValues { [$0] }.merging(many) { $1 }
    }

    subscript(_ name: String) -> String? { values[name]?.first }
    func all(_ name: String) -> [String] { values[name] ?? [] }
}

/// Case files, incidents, record views and downloads through units of work, on the in-memory store: every
/// change adds its own custody entry, and a refused change stores nothing and records nothing.
@Suite("Case files and incidents (in memory)")
struct CaseFileUseCaseTests {
    let jurisdiction: Jurisdiction
    let clock = TestClock()
    let store = InMemoryReportStore()
    let supervisor: StaffAccount
    let investigator: StaffAccount
    let intake: StaffAccount
    let prosecutor: StaffAccount

    init() throws {
        jurisdiction = try Fixtures.riverton()
        func account(_ role: StaffRole, _ n: UInt8) -> StaffAccount {
            StaffAccount(
                id: Identifier(UUID(uuid: (n, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, n))),
                email: "\(role.rawValue)@city.example", displayName: role.rawValue.capitalized, role: role,
                receivingOffice: nil, createdAt: TestClock.defaultNow)
        }
        supervisor = account(.supervisor, 1)
        investigator = account(.investigator, 2)
        intake = account(.intake, 3)
        prosecutor = account(.prosecutor, 4)
        editor = EditCaseFile(
            store: store, staff: store, jurisdiction: jurisdiction, clock: clock, random: SeededRandom(seed: 7))
    }

    /// One editor, so that its random ids never repeat.
    let editor: EditCaseFile

    /// An accepted report's incident and a case file opened for it; the store's custody log holds their entries.
    func openCaseFile() async throws -> CaseFile {
        for account in [supervisor, investigator, intake] { await store.add(account) }
        let receipt = try await SubmitReport(
            store: store, clock: clock, random: SeededRandom(),
            validator: ReportValidator(jurisdiction: jurisdiction, limits: ReportLimits())
        ).execute(.init(submission: .minimal()))
        _ = try await TriageReport(store: store, clock: clock, random: SeededRandom(), limits: ReportLimits())
            .execute(.init(reference: receipt.reference, to: .screening, actor: supervisor))
        let incident = try await AcceptReport(
            store: store, clock: clock, random: SeededRandom(), jurisdiction: jurisdiction
        ).execute(reference: receipt.reference, into: .newIncident, actor: supervisor)
        return try await OpenCaseFile(store: store, jurisdiction: jurisdiction, clock: clock, random: SeededRandom())
            .execute(for: incident, actor: investigator)
    }

    @Test("Opening a case file numbers it in the jurisdiction's year and records it; intake may not")
    func open() async throws {
        let caseFile = try await openCaseFile()
        #expect(caseFile.reference.description == "CF-2026-000001" && caseFile.status == .open)
        let state = await store.state
        #expect(state.caseFiles == [caseFile])
        #expect(
            state.custody.last
                == CustodyEvent(
                    kind: .recordChanged, occurredAt: clock.now().wholeSeconds, actor: investigator.actorID,
                    recordID: caseFile.recordID, contentHash: caseFile.contentHash))
        let incident = try #require(state.incidents.first)
        await #expect(throws: StaffError.forbidden) {
            _ = try await OpenCaseFile(store: store, jurisdiction: jurisdiction, clock: clock, random: SeededRandom())
                .execute(for: incident, actor: intake)
        }
        #expect(await store.state.caseFiles.count == 1)
    }

    @Test("Each part added or changed is one record.changed entry with the part's hash; subjects are numbered")
    func parts() async throws {
        let caseFile = try await openCaseFile()
        let before = await store.state.custody.count
        let input = CaseFileInput(jurisdiction: jurisdiction)
        let first = try await editor.add(
            .subject(try input.subject(Fields(["badge": "4471", "agency": "river_patrol"]))), to: caseFile.reference,
            actor: investigator)
        let second = try await editor.add(.subject(SubjectAgent()), to: caseFile.reference, actor: investigator)
        #expect(first.number == 1 && second.number == 2)
        let allegation = try await editor.add(
            .allegation(
                try input.allegation(
                    Fields(["category": "excessive_force"], many: ["subjects": ["SA-0001", "sa-0002"]]))),
            to: caseFile.reference, actor: investigator)
        try await editor.decide(
            .substantiatedReferred, standard: .clearAndConvincing, on: allegation.id, of: caseFile.reference,
            actor: supervisor)
        let state = await store.state
        let decided = try #require(state.parts.last)
        guard case .allegation(let final) = decided.body else { throw CaseFileEditError.noSuchPart }
        #expect(final.finalFinding == .substantiatedReferred && final.decidedBy == supervisor.actorID)
        #expect(state.parts.map(\.id) == [first.id, second.id, allegation.id])
        let entries = Array(state.custody.dropFirst(before))
        #expect(entries.map(\.recordID) == [first, second, allegation, decided].map(\.recordID))
        #expect(entries.map(\.contentHash) == [first, second, allegation, decided].map(\.contentHash))
        #expect(entries.map(\.actor) == [investigator, investigator, investigator, supervisor].map(\.actorID))
        #expect(entries.allSatisfy { $0.kind == .recordChanged })
    }

    @Test("Refused edits store nothing and record nothing")
    func refusals() async throws {
        let caseFile = try await openCaseFile()
        let before = await store.state
        let reference = caseFile.reference
        await #expect(throws: CaseFileEditError.unknownCategory("kidnapping")) {
            try await editor.add(
                .allegation(Allegation(category: "kidnapping")), to: reference, actor: investigator)
        }
        var allegation = Allegation(category: "excessive_force")
        allegation.subjects = [9]
        await #expect(throws: CaseFileEditError.unknownSubjectOrPerson) {
            try await editor.add(.allegation(allegation), to: reference, actor: investigator)
        }
        await #expect(throws: CaseFileEditError.unknownAssignee) {
            try await editor.assign(reference, to: intake.id, actor: investigator)
        }
        await #expect(throws: StaffError.forbidden) {
            try await editor.add(.note(CaseNote(text: "x")), to: reference, actor: intake)
        }
        let subject = try await editor.add(.subject(SubjectAgent()), to: reference, actor: investigator)
        await #expect(throws: CaseFileEditError.supervisorRequired) {
            try await editor.attachIdentity(
                "Agent Name", reason: "Photo", to: subject.id, of: reference, actor: investigator)
        }
        await #expect(throws: CaseFileStatus.Error.supervisorRequired) {
            for next in [CaseFileStatus.active, .supervisorReview, .closed] {
                _ = try await MoveCaseFile(store: store, clock: clock).execute(
                    reference, to: next, outcome: next == .closed ? .referred : nil, actor: investigator)
            }
        }
        let after = await store.state
        #expect(after.parts == [subject])
        // The subject's entry and the two moves the investigator may make.
        #expect(after.custody.count == before.custody.count + 3)
        #expect(after.caseFiles.first?.status == .supervisorReview)
    }

    @Test("Assignment and the checklist are written once each, and not at all when nothing changes")
    func assignment() async throws {
        let caseFile = try await openCaseFile()
        let before = await store.state.custody.count
        try await editor.assign(caseFile.reference, to: investigator.id, actor: supervisor)
        try await editor.assign(caseFile.reference, to: investigator.id, actor: supervisor)
        let checklist = try CaseFileInput(jurisdiction: jurisdiction).checklist(
            Fields(["body_camera_preserved": "yes", "police_report_number": "RP-118"]))
        try await editor.fill(checklist, of: caseFile.reference, actor: investigator)
        let state = await store.state
        let stored = try #require(state.caseFiles.first)
        #expect(stored.assignee == investigator.id && stored.checklist.bodyCameraPreserved == true)
        #expect(stored.checklist.policeReportNumber == "RP-118")
        #expect(state.custody.count == before + 2)
        #expect(state.custody.last?.contentHash == stored.contentHash)
    }

    @Test("An edit checked before a supervisor closed the case file is refused by the unit of work that writes it")
    func closedAfterTheCheck() async throws {
        let caseFile = try await openCaseFile()
        // The edit's first check reads the case file still open; the unit of work finds it closed.
        await store.change { $0.caseFiles[0].status = .closed }
        var stale = editor
        stale.store = StaleCaseFileReads(store: store, stale: caseFile)
        let before = await store.state
        await #expect(throws: CaseFileEditError.caseFileClosed) {
            try await stale.add(.note(CaseNote(text: "late")), to: caseFile.reference, actor: supervisor)
        }
        await #expect(throws: CaseFileEditError.caseFileClosed) {
            try await stale.assign(caseFile.reference, to: supervisor.id, actor: supervisor)
        }
        let after = await store.state
        #expect(after.parts.isEmpty && after.custody == before.custody && after.caseFiles == before.caseFiles)
        // A supervisor may reopen it; the move is checked against the status in the unit, not the stale read.
        let reopened = try await MoveCaseFile(store: StaleCaseFileReads(store: store, stale: caseFile), clock: clock)
            .execute(caseFile.reference, to: .active, outcome: nil, actor: supervisor)
        #expect(reopened.status == .active)
    }

    @Test("Case file input: every field's problem is named at once; choices, dates and lengths are checked")
    func input() throws {
        let input = CaseFileInput(jurisdiction: jurisdiction)
        let long = String(repeating: "x", count: CaseFileInput.shortText + 1)
        #expect(
            throws: ValidationFailure(issues: [
                ValidationIssue("agency", .unknownValue("ice")), ValidationIssue("badge", .tooLong(max: 200)),
                ValidationIssue("masked", .unknownValue("sometimes")),
            ])
        ) { try input.subject(Fields(["agency": "ice", "badge": long, "masked": "sometimes"])) }
        #expect(throws: ValidationFailure(issues: [ValidationIssue("label", .required)])) {
            try input.person(Fields(["role": "witness"]))
        }
        let person = try input.person(Fields(["label": "Neighbour", "role": "witness", "contact_phone": "312"]))
        #expect(person.person.hasContact && person.sealed?.contains("312") == true)
        #expect(try input.person(Fields(["label": "Driver"])).sealed == nil)
        #expect(throws: ValidationFailure(issues: [ValidationIssue("report", .malformed)])) {
            try input.person(Fields(["label": "Driver", "report": "R-12"]))
        }
        #expect(throws: ValidationFailure(issues: [ValidationIssue("due", .impossibleDate)])) {
            try input.task(Fields(["title": "Call", "due": "2026-02-30"]))
        }
        #expect(throws: ValidationFailure(issues: [ValidationIssue("subjects", .unknownValue("SA-1"))])) {
            try input.allegation(Fields(["category": "excessive_force"], many: ["subjects": ["SA-1"]]))
        }
        // Local time in the jurisdiction's zone (Denver), and not in the future.
        let event = try input.event(
            Fields(["event_text": "Van left", "event_date": "2026-11-25", "event_time": "10:30"]), now: clock.now())
        #expect(event.occurredAt == ISO8601DateFormatter().date(from: "2026-11-25T17:30:00Z"))
        #expect(throws: ValidationFailure(issues: [ValidationIssue("event_date", .inFuture)])) {
            try input.event(
                Fields(["event_text": "Later", "event_date": "2026-11-26", "event_time": "10:30"]), now: clock.now())
        }
        #expect(throws: ValidationFailure(issues: [ValidationIssue("note", .controlCharacters)])) {
            try input.note(Fields(["note": "a\u{0}b"]))
        }
        #expect(try input.move(Fields(["status": "closed", "outcome": "referred"])) == (.closed, .referred))
        #expect(throws: ValidationFailure(issues: [ValidationIssue("status", .unknownValue("done"))])) {
            try input.move(Fields(["status": "done"]))
        }
    }

    @Test("An incident's edit is checked in Core and recorded; a refused one changes nothing")
    func incident() async throws {
        _ = try await openCaseFile()
        let incident = try #require(await store.state.incidents.first)
        let edit = EditIncident(store: store, limits: ReportLimits(), clock: clock)
        let before = await store.state.custody.count
        await #expect(throws: ValidationFailure.self) {
            _ = try await edit.execute(
                incident, form: Fields(["operation": String(repeating: "o", count: 201)]), actor: supervisor)
        }
        await #expect(throws: StaffError.forbidden) {
            _ = try await edit.execute(incident, form: Fields(["operation": "Midway"]), actor: intake)
        }
        #expect(await store.state.custody.count == before)
        let changed = try await edit.execute(
            incident, form: Fields(["operation": "Midway Blitz", "place": "Halsted and 47th"]), actor: supervisor)
        let state = await store.state
        #expect(state.incidents == [changed] && changed.operation == "Midway Blitz")
        #expect(state.custody.count == before + 1 && state.custody.last?.contentHash == changed.contentHash)
    }

    @Test("Record views: one entry per record shown, repeats collapsed, none for nothing shown")
    func views() async throws {
        let views = RecordViews(store: store, clock: clock)
        try await views.execute([], actor: supervisor)
        let a = ViewedRecord(recordID: "report:R-2026-000001", contentHash: "aa")
        let b = ViewedRecord(recordID: "incident:INC-2026-000001", contentHash: "bb")
        try await views.execute([a, b, a], actor: investigator)
        let custody = await store.state.custody
        #expect(custody.map(\.recordID) == [a.recordID, b.recordID])
        #expect(custody.allSatisfy { $0.kind == .recordViewed && $0.actor == investigator.actorID })
    }

    @Test("A download is recorded as export.made before it is sent, and not when the file cannot be opened")
    func download() async throws {
        let download = DownloadEvidence(store: store, clock: clock)
        struct Missing: Error {}
        let report = try await SubmitReport(
            store: store, clock: clock, random: SeededRandom(),
            validator: ReportValidator(jurisdiction: jurisdiction, limits: ReportLimits())
        ).execute(.init(submission: .minimal()))
        let stored = try #require(await store.state.reports.first)
        await store.complete(
            CompletedUpload(
                id: "u1", sha256: String(repeating: "a", count: 64), sha512: String(repeating: "b", count: 128),
                size: 10, mediaType: "image/png", source: .publicUpload, completedAt: clock.now()))
        _ = try await store.transaction { unit in
            try await EvidenceAttachment.attach(
                ["u1"], to: stored.id, actor: "public", limits: EvidenceLimits(), random: SeededRandom(), in: unit)
        }
        _ = report
        let item = try #require(await store.state.evidence.first)
        let before = await store.state.custody.count
        await #expect(throws: Missing.self) {
            _ = try await download.execute(item.id, actor: supervisor) { _ in throw Missing() }
        }
        #expect(await store.state.custody.count == before)
        let sent = try await download.execute(item.id, actor: supervisor) { $0.sha256 }
        #expect(sent?.source == item.sha256)
        #expect(await store.state.custody.last?.kind == .exportMade)
        #expect(try await download.execute(Identifier(UUID()), actor: supervisor) { _ in 0 } == nil)
        await #expect(throws: StaffError.forbidden) {
            _ = try await download.execute(item.id, actor: prosecutor) { _ in 0 }
        }
    }

    @Test("Uploads: recorded, completed, claimed once by a report, and expired only while unattached")
    func uploads() async throws {
        let now = clock.now()
        @Sendable func upload(_ id: String, expiresIn seconds: TimeInterval) -> StoredUpload {
            StoredUpload(
                id: id, length: 4, source: .publicUpload, senderSHA256: nil, createdAt: now,
                expiresAt: now.addingTimeInterval(seconds))
        }
        try await store.transaction { unit in
            try await unit.uploads.insert(upload("kept", expiresIn: 60))
            try await unit.uploads.insert(upload("late", expiresIn: 60))
            try await unit.uploads.insert(upload("open", expiresIn: 60))
            for id in ["kept", "late"] {
                try await unit.uploads.complete(
                    id: id, sha256: String(repeating: "c", count: 64), sha512: String(repeating: "d", count: 128),
                    mediaType: "image/jpeg", completedAt: now, expiresAt: nil)
            }
        }
        let receipt = try await SubmitReport(
            store: store, clock: clock, random: SeededRandom(seed: 3),
            validator: ReportValidator(jurisdiction: jurisdiction, limits: ReportLimits())
        ).execute(.init(submission: .minimal(), uploads: ["kept"]))
        #expect(receipt.evidence.map(\.item.uploadID) == ["kept"])
        await #expect(throws: EvidenceError.uploadAlreadyAttached) {
            _ = try await SubmitReport(
                store: store, clock: clock, random: SeededRandom(seed: 4),
                validator: ReportValidator(jurisdiction: jurisdiction, limits: ReportLimits())
            ).execute(.init(submission: .minimal(), uploads: ["kept"]))
        }
        let expired = try await store.transaction { try await $0.uploads.expire(now: now.addingTimeInterval(61)) }
        #expect(Set(expired.map(\.id)) == ["late", "open"])
        let state = await store.state
        #expect(state.storedUploads["kept"]?.state == .attached && state.storedUploads["late"]?.state == .expired)
        #expect(state.reports.count == 1, "the refused report was not stored")
    }
}
