import AttestTestSupport
import Foundation
import Testing

@testable import AttestCore

@Suite("Related-report profiles")
struct RelatedProfileTests {
    func content(
        narrative: String, coordinate: Coordinate? = nil, agents: [ReportSubmission.AgentDescription] = []
    ) throws -> ReportContent {
        var submission = ReportSubmission.minimal(narrative: narrative)
        if let coordinate {
            submission.latitude = "\(coordinate.latitude)"
            submission.longitude = "\(coordinate.longitude)"
        }
        submission.agents = agents
        let validator = ReportValidator(jurisdiction: try Fixtures.riverton(), limits: ReportLimits())
        return try validator.validate(submission, now: Date()).content
    }

    @Test("A profile holds the words, coordinates and normalised identifiers, and survives its stored form")
    func roundTrip() throws {
        let profile = RelatedReports.Profile(
            try content(
                narrative: "Agentes enmascarados detuvieron a Pérez; agentes, otra vez.",
                coordinate: Fixtures.millbrook,
                agents: [
                    .init(vestText: "Police ICE", badge: "41 27", plateNumber: "il 7k-42x"), .init(badge: "4127"),
                ]))
        // "agentes" twice, "a" and "vez" too short: five distinct words (agentes, enmascarados, detuvieron,
        // perez, otra).
        #expect(profile.words.count == 5 && profile.words == profile.words.sorted())
        #expect(Set(profile.words).count == profile.words.count)
        #expect(profile.plates == ["IL7K42X"] && profile.badges == ["4127"] && profile.vestTexts == ["POLICEICE"])
        #expect(profile.coordinate == Fixtures.millbrook)
        #expect(RelatedReports.Profile(encoded: profile.encoded()) == profile)

        let bare = RelatedReports.Profile(try content(narrative: "x"))
        #expect(bare.words.isEmpty && bare.coordinate == nil && bare.plates.isEmpty)
        #expect(bare.encoded() == [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(RelatedReports.Profile(encoded: bare.encoded()) == bare)
    }

    @Test("A damaged or foreign stored form is refused, never read past its end")
    func refusesDamage() throws {
        let encoded = RelatedReports.Profile(
            try content(narrative: "Three vans blocked the street", agents: [.init(plateNumber: "7K42X")])
        ).encoded()
        #expect(RelatedReports.Profile(encoded: [UInt8]()) == nil)
        for length in 0..<encoded.count {
            #expect(RelatedReports.Profile(encoded: encoded.prefix(length)) == nil, "truncated to \(length)")
        }
        #expect(RelatedReports.Profile(encoded: encoded + [0]) == nil)
        var otherVersion = encoded
        otherVersion[0] = 2
        #expect(RelatedReports.Profile(encoded: otherVersion) == nil)
        var badFlags = encoded
        badFlags[1] = 3
        #expect(RelatedReports.Profile(encoded: badFlags) == nil)
        // A word count larger than the bytes that follow.
        var hugeCount = encoded
        hugeCount.replaceSubrange(2..<6, with: [0xFF, 0xFF, 0xFF, 0x7F])
        #expect(RelatedReports.Profile(encoded: hugeCount) == nil)
    }

    @Test("Similarity by merging sorted words equals the Jaccard index of the word sets")
    func similarity() {
        var generator = SplitMix64(state: 42)
        for _ in 0..<200 {
            let a = Set(
                (0..<Int.random(in: 0...30, using: &generator)).map { _ in
                    UInt64.random(in: 0...60, using: &generator)
                })
            let b = Set(
                (0..<Int.random(in: 0...30, using: &generator)).map { _ in
                    UInt64.random(in: 0...60, using: &generator)
                })
            let expected = a.isEmpty && b.isEmpty ? 0 : Double(a.intersection(b).count) / Double(a.union(b).count)
            let profileA = RelatedReports.Profile(
                coordinate: nil, words: a.sorted(), plates: [], badges: [], vestTexts: [])
            let profileB = RelatedReports.Profile(
                coordinate: nil, words: b.sorted(), plates: [], badges: [], vestTexts: [])
            #expect(profileA.similarity(to: profileB) == expected)
            #expect(profileB.similarity(to: profileA) == expected)
        }
    }
}
