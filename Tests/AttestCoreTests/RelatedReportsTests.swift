import AttestCore
import AttestTestSupport
import Foundation
import Testing

@Suite("Related-report suggestions")
struct RelatedReportsTests {
    let clock = TestClock()

    func file(
        _ store: InMemoryReportStore, date: String = "2026-11-20", time: String? = "14:00", narrative: String,
        at coordinate: Coordinate? = nil, plate: String? = nil, badge: String? = nil, vest: String? = nil
    ) async throws -> Report {
        var submission = ReportSubmission()
        submission.occurrence = .local(date: date, time: time, endDate: nil, endTime: nil)
        submission.narrative = narrative
        if let coordinate {
            submission.latitude = "\(coordinate.latitude)"
            submission.longitude = "\(coordinate.longitude)"
        }
        if plate != nil || badge != nil || vest != nil {
            submission.agents = [.init(vestText: vest, badge: badge, plateNumber: plate)]
        }
        let receipt = try await SubmitReport(
            store: store, clock: clock, random: SeededRandom(seed: UInt64.random(in: 1...UInt64.max)),
            validator: ReportValidator(jurisdiction: try Fixtures.riverton(), limits: ReportLimits())
        ).execute(.init(submission: submission))
        return try #require(try await store.report(reference: receipt.reference))
    }

    @Test("Same time and place, shared identifiers and similar wording are found, each with its reason")
    func reasons() async throws {
        let store = InMemoryReportStore()
        let target = try await file(
            store, narrative: "Masked agents pushed a woman outside the bakery on Main Street and took her phone.",
            at: Fixtures.millbrook, plate: "IL 7K42X", badge: "4127", vest: "POLICE ICE")
        let samePlace = try await file(
            store, time: "15:30", narrative: "Three vans stopped near the school.",
            at: Coordinate(latitude: 45.021, longitude: -99.981))
        let similar = try await file(
            store, time: "13:00", narrative: "Masked agents pushed a woman outside the bakery and took her phone away.")
        let plateLater = try await file(
            store, date: "2026-10-02", narrative: "A grey SUV followed me home.", plate: "7k4")
        let unrelated = try await file(store, date: "2026-09-01", narrative: "Agents at the courthouse.")
        let sameTimeOnly = try await file(store, time: "14:30", narrative: "Helicopter overhead, nothing else seen.")

        let finder = RelatedReports(hours: 6, kilometres: 1.5, similarity: 0.3)
        let all = await store.state.reports
        let suggestions = finder.suggest(for: target, among: all)
        let byReference = Dictionary(uniqueKeysWithValues: suggestions.map { ($0.report.reference, $0.reasons) })
        #expect(byReference[samePlace.reference]?.contains(.sameTime) == true)
        #expect(byReference[samePlace.reference]?.contains { if case .nearby = $0 { true } else { false } } == true)
        #expect(
            byReference[similar.reference]?.contains { if case .similarWording = $0 { true } else { false } } == true)
        #expect(byReference[plateLater.reference] == [.sharedPlate("IL7K42X")], "a plate fragment matches across time")
        #expect(byReference[unrelated.reference] == nil)
        #expect(byReference[sameTimeOnly.reference] == nil, "time alone is not a reason")
        #expect(byReference[target.reference] == nil, "never itself")
        #expect(finder.window(of: target).contains(samePlace.content.occurrence.start))
    }

    @Test("Identifiers are compared normalised: case, spaces and accents do not matter; two letters are the minimum")
    func identifiers() async throws {
        let store = InMemoryReportStore()
        let a = try await file(store, narrative: "One.", badge: "b-41 27", vest: "Policía ICE")
        let b = try await file(store, date: "2026-06-01", narrative: "Two.", badge: "4127", vest: "POLICIA  ice")
        let c = try await file(store, date: "2026-06-01", narrative: "Three.", badge: "4")
        let suggestions = RelatedReports().suggest(for: a, among: [b, c])
        #expect(suggestions.map(\.report.reference) == [b.reference])
        #expect(suggestions.first?.reasons == [.sharedBadge("B4127"), .sharedVestText("POLICIAICE")])
    }
}

@Suite("Patterns across incidents")
struct PatternsTests {
    func content(plate: String? = nil, badge: String? = nil, vest: String? = nil) throws -> ReportContent {
        var submission = ReportSubmission.minimal()
        submission.agents = [.init(vestText: vest, badge: badge, plateNumber: plate)]
        return try ReportValidator(jurisdiction: try Fixtures.riverton(), limits: ReportLimits())
            .validate(submission, now: TestClock().now()).content
    }

    @Test("Identifiers in two or more incidents are listed with them; a fragment joins the full identifier")
    func recurring() throws {
        let one = IncidentReference(year: 2026, number: 1)
        let two = IncidentReference(year: 2026, number: 2)
        let three = IncidentReference(year: 2026, number: 3)
        let patterns = Patterns.recurring([
            (one, [try content(plate: "IL 7K42X", vest: "POLICE ICE")]),
            (two, [try content(plate: "7k4", badge: "4127"), try content(vest: "Police  ICE")]),
            (three, [try content(badge: "9999", vest: "ERO")]),
        ])
        #expect(patterns.contains(IdentifierPattern(kind: .plate, value: "7K4", incidents: [one, two])))
        #expect(patterns.contains(IdentifierPattern(kind: .vestText, value: "POLICEICE", incidents: [one, two])))
        #expect(!patterns.contains { $0.value == "ERO" || $0.value == "4127" || $0.value == "9999" })
        #expect(!patterns.contains { $0.value == "IL7K42X" }, "listed once, under the fragment")
    }
}
