import AttestCore
import Foundation
import Testing

@Suite("Canonical JSON")
struct CanonicalJSONTests {
    @Test(
        "Strings are escaped as RFC 8785 requires, and parse back to themselves",
        arguments: [
            "plain", "quote \" and backslash \\", "line\nbreak\ttab\r\u{08}\u{0C}", "nul \u{00} unit \u{1F}",
            "slash / stays", "ñ 💥 עברית \u{202E}", "",
        ])
    func quoted(text: String) throws {
        let literal = CanonicalJSON.quoted(text)
        let parsed = try JSONDecoder().decode(String.self, from: Data(literal.utf8))
        #expect(parsed == text)
        #expect(!literal.contains("\\/"))
        #expect(!literal.unicodeScalars.contains { $0.value < 0x20 })
    }

    @Test("Control characters use the short escapes or lower-case \\u00xx")
    func escapes() {
        #expect(CanonicalJSON.quoted("\u{1F}\n\u{00}") == #""\u001f\n\u0000""#)
    }

    @Test("Object keys are sorted by UTF-16 code units and the output matches the sorted JSONEncoder's")
    func objects() throws {
        let members = [("time", "2026-11-25T18:00:00Z"), ("actor", "public"), ("sha256", "ab"), ("kind", "x")]
        let object = CanonicalJSON.object(members)
        #expect(object == #"{"actor":"public","kind":"x","sha256":"ab","time":"2026-11-25T18:00:00Z"}"#)
        let viaEncoder = try CanonicalJSON.encode(Dictionary(uniqueKeysWithValues: members))
        #expect(object == String(decoding: viaEncoder, as: UTF8.self))
        #expect(CanonicalJSON.array(["a", "b\""]) == #"["a","b\""]"#)
    }
}
