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
        func similarity(_ a: String, _ b: String) -> Double {
            func profile(_ text: String) -> RelatedReports.Profile {
                .init(
                    coordinate: nil, words: RelatedReports.words(text).sorted(), plates: [], badges: [], vestTexts: [])
            }
            return profile(a).similarity(to: profile(b))
        }
        #expect(similarity("Agentes enmascarados detuvieron", "AGENTES ENMASCARADOS DETUVIERON") == 1)
        #expect(similarity("alpha beta gamma", "delta") == 0)
    }

    @Test("Word hashes are FNV-1a over the folded scalars, the same in every process (profiles are stored)")
    func stableHashes() {
        var hashes: [UInt64] = []
        TextFolding.forEachWord(in: "Niño AGENTS") { hash, _ in hashes.append(hash) }
        func fnv1a(_ text: String) -> UInt64 {
            text.unicodeScalars.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1.value)) &* 0x100_0000_01b3 }
        }
        #expect(hashes == [fnv1a("nino"), fnv1a("agents")])
        #expect(fnv1a("a") == 0xaf63_dc4c_8601_ec8c)
    }
}
