import Foundation
import Testing

@testable import AttestCore

@Suite("Text folding")
struct TextFoldingTests {
    @Test("Words are lower case without Latin diacritics, split on anything but letters and digits")
    func words() {
        #expect(
            TextFolding.words("Pérez PÉREZ, niño—Ñandú 7K-42x") == ["perez", "perez", "nino", "nandu", "7k", "42x"])
        #expect(TextFolding.words("Łódź Ørsted İstanbul") == ["lodz", "orsted", "istanbul"])
        // Decomposed accents (a combining mark after the letter) fold the same as precomposed ones.
        #expect(TextFolding.words("Pe\u{0301}rez") == ["perez"])
        #expect(TextFolding.words("警察 来了") == ["警察", "来了"])
        #expect(TextFolding.words("  \u{200B} ").isEmpty)
    }

    @Test("Word hashes see the same words as the strings, so wording similarity ignores case and accents")
    func hashes() {
        for text in ["Pérez PÉREZ niño", "Agents pushed a man at 26th & Pulaski", "警察 来了 ölçü"] {
            var hashes: [UInt64] = []
            TextFolding.forEachWord(in: text) { hash, _ in hashes.append(hash) }
            let again = TextFolding.words(text).map { word in
                var hashed: [UInt64] = []
                TextFolding.forEachWord(in: word) { hash, _ in hashed.append(hash) }
                return hashed.first!
            }
            #expect(hashes == again, "\(text)")
        }
        #expect(
            RelatedReports.jaccard(
                RelatedReports.words("Agentes enmascarados detuvieron"),
                RelatedReports.words("AGENTES ENMASCARADOS DETUVIERON")) == 1)
        #expect(RelatedReports.jaccard(RelatedReports.words("alpha beta gamma"), RelatedReports.words("delta")) == 0)
    }
}
