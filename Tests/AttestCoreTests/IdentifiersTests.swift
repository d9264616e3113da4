import AttestCore
import AttestTestSupport
import Foundation
import Testing

@Suite("Follow-up codes and references")
struct IdentifiersTests {
    @Test("A follow-up code has 28 base-32 characters (140 bits) in seven groups of four")
    func codeShape() {
        let code = FollowUpCode(random: SystemRandomSource())
        #expect(code.normalized.count == 28)
        #expect(code.grouped.split(separator: "-").map(\.count) == Array(repeating: 4, count: 7))
        #expect(code.normalized.allSatisfy { "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains($0) })
        #expect(code.description == "FollowUpCode(redacted)")
    }

    @Test("Codes use all their entropy: 1,000 codes are distinct and every character position varies")
    func codeEntropy() {
        let codes = (0..<1_000).map { _ in FollowUpCode(random: SystemRandomSource()).normalized }
        #expect(Set(codes).count == 1_000)
        for position in 0..<28 {
            let characters = Set(codes.map { Array($0)[position] })
            #expect(characters.count > 16, "position \(position) varies")
        }
    }

    @Test("A typed code is read forgivingly: case, spaces, hyphens, O for 0 and I or L for 1")
    func typedCodes() throws {
        let code = FollowUpCode(random: SeededRandom())
        let sloppy = code.grouped.lowercased().replacingOccurrences(of: "-", with: " ")
            .replacingOccurrences(of: "0", with: "o").replacingOccurrences(of: "1", with: "l")
        let typed = try #require(FollowUpCode(typed: sloppy))
        #expect(typed == code)
        #expect(typed.hash == code.hash)
        #expect(FollowUpCode(typed: String(code.normalized.dropLast())) == nil)
        #expect(FollowUpCode(typed: code.normalized + "U") == nil)
        #expect(FollowUpCode(typed: String(repeating: "A", count: 10_000)) == nil)
    }

    @Test("Only the SHA-256 of the code is kept: 64 hex characters, not the code")
    func codeHash() {
        let code = FollowUpCode(random: SeededRandom())
        #expect(code.hash == ContentHash.sha256Hex(code.normalized))
        #expect(!code.hash.contains(code.normalized))
    }

    @Test(
        "References read and print as R-YYYY-NNNNNN",
        arguments: [
            ("R-2026-000123", true), ("r-2026-000123", true), (" R-2026-000001 ", true), ("R-2026-123", false),
            ("R-26-000123", false), ("X-2026-000123", false), ("R-2026-000000", false), ("R-2026-00012a", false),
            ("R-2026-000123-1", false), ("", false),
        ])
    func references(text: String, isValid: Bool) {
        let reference = ReportReference(text)
        #expect((reference != nil) == isValid)
        if let reference { #expect(reference.description == text.trimmingCharacters(in: .whitespaces).uppercased()) }
    }

    @Test("Each kind of reference reads only its own prefix, and codes as its text")
    func referenceKinds() throws {
        #expect(IncidentReference("inc-2026-000045")?.description == "INC-2026-000045")
        #expect(CaseFileReference("CF-2026-000012")?.number == 12)
        for text in ["R-2026-000045", "INC-2026-000045", "CF-2026-000045"] {
            let kinds = [
                ReportReference(text) != nil, IncidentReference(text) != nil, CaseFileReference(text) != nil,
            ]
            #expect(kinds.filter { $0 }.count == 1, "\(text) is one kind of reference")
        }
        let encoded = try JSONEncoder().encode([IncidentReference(year: 2026, number: 7)])
        #expect(String(decoding: encoded, as: UTF8.self) == #"["INC-2026-000007"]"#)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([IncidentReference].self, from: Data(#"["R-2026-000007"]"#.utf8))
        }
    }
}

@Suite("System randomness")
struct SystemRandomSourceTests {
    @Test(
        "Random bytes come in the length asked for, and differ from draw to draw", arguments: [0, 1, 7, 8, 9, 32, 33])
    func lengths(count: Int) {
        let random = SystemRandomSource()
        let draws = (0..<20).map { _ in random.bytes(count: count) }
        #expect(draws.allSatisfy { $0.count == count })
        if count >= 8 { #expect(Set(draws).count == 20) }
    }
}
