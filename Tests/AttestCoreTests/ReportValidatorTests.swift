import AttestCore
import AttestTestSupport
import Foundation
import Testing

@Suite("Report validation")
struct ReportValidatorTests {
    let jurisdiction: Jurisdiction
    let validator: ReportValidator
    let now = TestClock.defaultNow  // 2026-11-25T18:00:00Z = 11:00 in Riverton (UTC-7)

    init() throws {
        jurisdiction = try Fixtures.riverton()
        validator = ReportValidator(jurisdiction: jurisdiction, limits: ReportLimits())
    }

    func issues(_ submission: ReportSubmission) -> [ValidationIssue] {
        do {
            _ = try validator.validate(submission, now: now)
            return []
        } catch {
            return error.issues
        }
    }

    func expectIssue(
        _ submission: ReportSubmission, _ field: String, _ problem: ValidationIssue.Problem,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let found = issues(submission)
        #expect(found.contains(ValidationIssue(field, problem)), "got \(found)", sourceLocation: sourceLocation)
    }

    @Test("A date and a narrative are enough; a date alone means that whole day")
    func minimalReport() throws {
        let output = try validator.validate(.minimal(), now: now)
        #expect(output.contact == nil)
        #expect(output.content.language == "es", "Riverton's default language")
        let occurrence = output.content.occurrence
        #expect(RFC3339.string(from: occurrence.start) == "2026-11-20T07:00:00Z", "midnight in America/Denver")
        #expect(occurrence.end.timeIntervalSince(occurrence.start) == 86_399)
    }

    @Test(
        "The narrative is required and may not be blank",
        arguments: [
            "", " ", "   \n\t ", "\u{00A0}\u{2003}\u{3000}", "\u{200B}\u{200C}\u{200D}\u{FEFF}",
            "\u{2060}\u{200E}\u{3164}",
            "\u{2800}",
        ])
    func blankNarrative(text: String) {
        let submission = ReportSubmission.minimal(narrative: text)
        let found = issues(submission)
        #expect(
            found.contains(ValidationIssue("narrative", .blank))
                || found.contains(ValidationIssue("narrative", .required)),
            "got \(found)"
        )
    }

    @Test("A missing narrative and a missing date are both reported at once")
    func missingEverything() {
        var submission = ReportSubmission()
        submission.occurrence = .local(date: nil, time: nil, endDate: nil, endTime: nil)
        #expect(issues(submission) == [ValidationIssue("date", .required), ValidationIssue("narrative", .required)])
    }

    @Test("Text is limited in length, counted in characters, not bytes")
    func lengthLimits() throws {
        expectIssue(.minimal(narrative: String(repeating: "a", count: 20_001)), "narrative", .tooLong(max: 20_000))
        // 20,000 characters of four UTF-8 bytes each are accepted.
        _ = try validator.validate(.minimal(narrative: String(repeating: "😀", count: 20_000)), now: now)
        var submission = ReportSubmission.minimal()
        submission.locationDescription = String(repeating: "x", count: 501)
        expectIssue(submission, "location.description", .tooLong(max: 500))
    }

    @Test(
        "Control characters and NUL are rejected; tabs and line breaks are fine in the narrative",
        arguments: ["a\u{0000}b", "bell\u{0007}", "esc\u{001B}[31m", "del\u{007F}", "c1\u{0085}"])
    func controlCharacters(text: String) throws {
        expectIssue(.minimal(narrative: text), "narrative", .controlCharacters)
        _ = try validator.validate(.minimal(narrative: "line one\r\nline two\tindented"), now: now)
        var submission = ReportSubmission.minimal()
        submission.locationDescription = "Main St\nand 5th"
        expectIssue(submission, "location.description", .controlCharacters)
    }

    @Test("Script- and SQL-looking text is accepted verbatim")
    func hostileLookingText() throws {
        let text = "<script>alert(1)</script> '; DROP TABLE reports; -- \u{202E}evil"
        let output = try validator.validate(.minimal(narrative: text), now: now)
        #expect(output.content.narrative == text)
    }

    @Test(
        "Impossible and malformed dates are rejected",
        arguments: [
            ("2026-02-30", ValidationIssue.Problem.impossibleDate), ("2025-02-29", .impossibleDate),
            ("2026-13-01", .impossibleDate), ("2026-00-10", .impossibleDate), ("20-11-2026", .malformed),
            ("2026/11/20", .malformed), ("yesterday", .malformed), ("2026-1-5", .malformed),
        ])
    func impossibleDates(date: String, problem: ValidationIssue.Problem) {
        expectIssue(.minimal(date: date), "date", problem)
    }

    @Test("29 February exists in leap years")
    func leapDay() throws {
        _ = try validator.validate(.minimal(date: "2024-02-29"), now: now)
    }

    @Test("Impossible times, including the hour skipped when clocks go forward, are rejected")
    func impossibleTimes() {
        var submission = ReportSubmission.minimal()
        submission.occurrence = .local(date: "2026-11-20", time: "25:10", endDate: nil, endTime: nil)
        expectIssue(submission, "time", .impossibleDate)
        submission.occurrence = .local(date: "2026-03-08", time: "02:30", endDate: nil, endTime: nil)
        expectIssue(submission, "time", .impossibleDate)
    }

    @Test("Times in the future are rejected beyond the clock-skew tolerance")
    func futureTimes() throws {
        var submission = ReportSubmission.minimal()
        // now is 11:00 local; 11:10 is within the 15-minute tolerance, 11:30 is not.
        submission.occurrence = .local(date: "2026-11-25", time: "11:10", endDate: nil, endTime: nil)
        _ = try validator.validate(submission, now: now)
        submission.occurrence = .local(date: "2026-11-25", time: "11:30", endDate: nil, endTime: nil)
        expectIssue(submission, "date", .inFuture)
        expectIssue(.minimal(date: "2026-11-26"), "date", .inFuture)
        submission.occurrence = .instants(from: "2027-01-01T00:00:00Z", until: nil)
        expectIssue(submission, "occurredAt.from", .inFuture)
    }

    @Test("Today's date without a time is accepted and its window ends now")
    func todayWithoutTime() throws {
        let output = try validator.validate(.minimal(date: "2026-11-25"), now: now)
        #expect(output.content.occurrence.end == now)
    }

    @Test("Windows must not be reversed nor longer than allowed")
    func windows() throws {
        var submission = ReportSubmission.minimal()
        submission.occurrence = .local(date: "2026-11-20", time: "14:00", endDate: nil, endTime: "13:00")
        expectIssue(submission, "endTime", .reversedWindow)
        submission.occurrence = .local(date: "2026-11-20", time: nil, endDate: "2026-11-19", endTime: nil)
        expectIssue(submission, "endDate", .reversedWindow)
        submission.occurrence = .local(date: "2026-09-01", time: nil, endDate: "2026-11-20", endTime: nil)
        expectIssue(submission, "endDate", .windowTooLong(maxDays: 31))
        submission.occurrence = .instants(from: "2026-11-20T14:00:00-06:00", until: "2026-11-20T13:00:00-06:00")
        expectIssue(submission, "occurredAt.until", .reversedWindow)
        submission.occurrence = .local(date: "2026-11-20", time: "14:00", endDate: "2026-11-21", endTime: "02:00")
        let output = try validator.validate(submission, now: now)
        #expect(output.content.occurrence.end.timeIntervalSince(output.content.occurrence.start) == 12 * 3600)
    }

    @Test("Events before the earliest year are rejected")
    func tooOld() {
        expectIssue(.minimal(date: "1999-12-31"), "date", .tooOld(earliestYear: 2000))
    }

    @Test(
        "RFC 3339 timestamps are parsed strictly",
        arguments: [
            ("2026-11-20T14:30:00-06:00", true), ("2026-11-20T20:30:00Z", true), ("2026-11-20T20:30:00.123Z", true),
            ("2026-11-20 20:30:00Z", false), ("2026-11-20T20:30Z", false), ("2026-11-20T20:30:00", false),
            ("2026-02-30T10:00:00Z", false), ("2026-11-20T24:00:00Z", false), ("2026-11-20T20:30:00+25:00", false),
        ])
    func timestamps(text: String, isValid: Bool) {
        var submission = ReportSubmission.minimal()
        submission.occurrence = .instants(from: text, until: nil)
        #expect(issues(submission).isEmpty == isValid, "\(issues(submission))")
    }

    @Test("Coordinates inside an area give that area; far outside the jurisdiction they are rejected")
    func coordinates() throws {
        var submission = ReportSubmission.minimal()
        submission.latitude = "\(Fixtures.harborFlatsNorth.latitude)"
        submission.longitude = "\(Fixtures.harborFlatsNorth.longitude)"
        #expect(try validator.validate(submission, now: now).content.location.area == 9)
        submission.latitude = "41.8781"
        submission.longitude = "-87.6298"  // Chicago, far from Riverton
        expectIssue(submission, "location.latitude", .outsideJurisdiction)
        // Just outside the districts but within the 5 km margin: kept, with no area.
        submission.latitude = "45.02"
        submission.longitude = "-100.02"
        let nearby = try validator.validate(submission, now: now).content.location
        #expect(nearby.area == nil && nearby.coordinate != nil)
    }

    @Test("Coordinates out of range, not numbers, or only one of the pair are rejected")
    func badCoordinates() {
        var submission = ReportSubmission.minimal()
        submission.latitude = "91"
        submission.longitude = "-99.98"
        expectIssue(submission, "location.latitude", .outOfRange(min: -90, max: 90))
        submission.latitude = "45.02"
        submission.longitude = "-181"
        expectIssue(submission, "location.longitude", .outOfRange(min: -180, max: 180))
        for bad in ["NaN", "inf", "0x1p3", "45,02", "forty"] {
            submission.latitude = bad
            submission.longitude = "-99.98"
            expectIssue(submission, "location.latitude", .malformed)
        }
        submission.latitude = "45.02"
        submission.longitude = nil
        expectIssue(submission, "location.longitude", .required)
    }

    @Test("The chosen area must exist in the jurisdiction and wins over coordinates")
    func chosenArea() throws {
        var submission = ReportSubmission.minimal()
        submission.communityArea = "32"  // a Chicago area; Riverton has 7 and 9
        expectIssue(submission, "location.communityArea", .unknownValue("32"))
        submission.communityArea = "7"
        submission.latitude = "\(Fixtures.harborFlatsNorth.latitude)"
        submission.longitude = "\(Fixtures.harborFlatsNorth.longitude)"
        #expect(try validator.validate(submission, now: now).content.location.area == 7)
    }

    @Test("Categories and agencies come from the jurisdiction; unknown and repeated values are rejected")
    func taxonomy() throws {
        var submission = ReportSubmission.minimal()
        submission.categories = ["physical_force"]  // Chicago's code, not Riverton's
        expectIssue(submission, "categories", .unknownValue("physical_force"))
        submission.categories = ["excessive_force", "excessive_force"]
        expectIssue(submission, "categories", .duplicate("excessive_force"))
        submission.categories = ["records_tampering", "excessive_force"]
        submission.agency = "ice"
        expectIssue(submission, "agents.agency", .unknownValue("ice"))
        submission.agency = "river_patrol"
        let output = try validator.validate(submission, now: now)
        #expect(output.content.categories == ["excessive_force", "records_tampering"], "taxonomy order")
    }

    @Test("Enumerated answers accept only their values")
    func enumerations() {
        var submission = ReportSubmission.minimal()
        submission.reporterRole = "citizen"
        submission.injuries = "true"
        submission.agents = [.init(masked: "half", plainClothes: "maybe")]
        submission.language = "de"
        let found = issues(submission)
        #expect(found.contains(ValidationIssue("reporterRole", .unknownValue("citizen"))))
        #expect(found.contains(ValidationIssue("harm.injuries", .unknownValue("true"))))
        #expect(found.contains(ValidationIssue("agents.descriptions[0].masked", .unknownValue("half"))))
        #expect(found.contains(ValidationIssue("agents.descriptions[0].plainClothes", .unknownValue("maybe"))))
        #expect(found.contains(ValidationIssue("language", .unknownValue("de"))))
    }

    @Test("Agent counts and descriptions are limited; empty description blocks are ignored")
    func agents() throws {
        var submission = ReportSubmission.minimal()
        submission.agentCount = "501"
        expectIssue(submission, "agents.count", .outOfRange(min: 0, max: 500))
        submission.agentCount = "-3"
        expectIssue(submission, "agents.count", .malformed)
        submission.agentCount = "4"
        submission.agents = Array(repeating: .init(badge: "12"), count: 21)
        expectIssue(submission, "agents.descriptions", .tooMany(max: 20))
        submission.agents = [.init(), .init(vestText: "POLICE ICE", masked: "fully"), .init(plainClothes: "unknown")]
        let output = try validator.validate(submission, now: now)
        #expect(output.content.agents.descriptions.count == 1)
        #expect(output.content.agents.descriptions[0].masked == .fully)
        #expect(output.content.agents.count == 4)
        submission.agents = [.init(badge: String(repeating: "9", count: 201))]
        expectIssue(submission, "agents.descriptions[0].badge", .tooLong(max: 200))
    }

    @Test("Anonymous is the default: contact text is discarded unless contact was chosen")
    func anonymousByDefault() throws {
        var submission = ReportSubmission.minimal()
        submission.contactPhone = "+1 312 555 0100"
        submission.consentsToContact = true
        let output = try validator.validate(submission, now: now)
        #expect(output.contact == nil)
        #expect(output.content.consents.mayContact == false)
    }

    @Test("Choosing contact needs a plausible phone or e-mail")
    func contact() throws {
        var submission = ReportSubmission.minimal()
        submission.wantsContact = true
        expectIssue(submission, "contact", .missingContactMethod)
        submission.contactPhone = "call me"
        expectIssue(submission, "contact.phone", .malformed)
        submission.contactPhone = nil
        submission.contactEmail = "not-an-email"
        expectIssue(submission, "contact.email", .malformed)
        submission.contactEmail = "ana@example.org"
        submission.contactName = "Ana"
        submission.consentsToContact = true
        let output = try validator.validate(submission, now: now)
        #expect(output.contact == ContactDetails(name: "Ana", email: "ana@example.org"))
        #expect(output.content.consents.mayContact)
    }

    @Test("Content hashes are stable and change with any content")
    func contentHash() throws {
        let first = try validator.validate(.minimal(), now: now).content
        let again = try validator.validate(.minimal(), now: now).content
        let other = try validator.validate(.minimal(narrative: "Agents pushed a man to the ground!"), now: now).content
        #expect(try first.contentHash() == again.contentHash())
        #expect(try first.contentHash() != other.contentHash())
        #expect(try first.contentHash().count == 64)
    }
}

@Suite("Text rules")
struct TextRulesTests {
    @Test("Control characters are found byte by byte exactly as scalar by scalar: C0, DEL and C1, not their neighbours")
    func controlCharactersByScalar() {
        func reference(_ text: String, multiline: Bool) -> Bool {
            text.unicodeScalars.contains { scalar in
                switch scalar.value {
                case 0x09, 0x0A, 0x0D: !multiline
                case 0x00...0x1F, 0x7F...0x9F: true
                default: false
                }
            }
        }
        let scalars = (0...0x3FF).compactMap(Unicode.Scalar.init) + ["\u{2028}", "\u{FEFF}", "\u{1F4A5}", "\u{10FFFF}"]
        for scalar in scalars {
            for text in ["a\(scalar)b", "\(scalar)", "é\(scalar)", "\u{0100}\(scalar)"] {
                for multiline in [false, true] {
                    #expect(
                        TextRules.hasControlCharacters(text, multiline: multiline)
                            == reference(text, multiline: multiline), "U+\(String(scalar.value, radix: 16))")
                }
            }
        }
    }

    @Test("A text over the limit in characters is refused; one within it is kept, however many bytes it takes")
    func characterLimit() {
        var issues: [ValidationIssue] = []
        let wide = String(repeating: "💥", count: 10) + String(repeating: "e\u{301}", count: 10)
        #expect(TextRules.check(wide, field: "f", maxCharacters: 20, into: &issues) == wide)
        #expect(issues.isEmpty)
        #expect(TextRules.check(wide + "x", field: "f", maxCharacters: 20, into: &issues) == nil)
        #expect(issues == [ValidationIssue("f", .tooLong(max: 20))])
    }
}
