import AttestCore
import AttestTestSupport
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

    @Test("Members sort by UTF-16 code units, also where UTF-8 byte order would differ")
    func utf16Order() {
        // U+1F600 is a surrogate pair (0xD83D…) and sorts before U+FF61 in UTF-16, after it in UTF-8.
        let object = CanonicalJSON.object([("\u{FF61}", "a"), ("\u{1F600}", "b"), ("b", "c"), ("a", "d")])
        #expect(object == "{\"a\":\"d\",\"b\":\"c\",\"\u{1F600}\":\"b\",\"\u{FF61}\":\"a\"}")
        let value = JSONValue.object([("\u{FF61}", .integer(1)), ("\u{1F600}", .integer(2)), ("z", .integer(3))])
        #expect(value.serialized() == "{\"z\":3,\"\u{1F600}\":2,\"\u{FF61}\":1}")
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

@Suite("RFC 3339 formatting")
struct RFC3339FormattingTests {
    @Test("The stored-JSON decoder reads RFC 3339 timestamps with an offset and refuses any other date")
    func jsonDecoder() throws {
        struct Stamped: Decodable { var at: Date }
        let decoded = try RFC3339.jsonDecoder().decode(
            Stamped.self, from: Data(#"{"at":"2026-11-20T14:30:00-06:00"}"#.utf8))
        #expect(decoded.at == Date(timeIntervalSince1970: 1_795_206_600))
        for text in ["2026-11-20T14:30:00", "2026-02-30T14:30:00Z", "1795725000", "yesterday"] {
            #expect(throws: DecodingError.self, "\(text)") {
                try RFC3339.jsonDecoder().decode(Stamped.self, from: Data(#"{"at":"\#(text)"}"#.utf8))
            }
        }
    }

    @Test("Formatting by arithmetic agrees with Foundation's calendar across eras, leap days and negative times")
    func agreesWithCalendar() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var generator = SystemRandomNumberGenerator()
        let fixed: [TimeInterval] = [0, -1, 951_782_400, 4_107_542_399, -2_208_988_800, 1_795_629_600.75]
        let random = (0..<2_000).map { _ in
            TimeInterval(Int64.random(in: -5_000_000_000...10_000_000_000, using: &generator))
        }
        for seconds in fixed + random {
            let date = Date(timeIntervalSince1970: seconds)
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let expected = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02dZ", parts.year!, parts.month!, parts.day!, parts.hour!,
                parts.minute!, parts.second!
            )
            #expect(RFC3339.string(from: date) == expected, "\(seconds)")
        }
    }

    @Test("Parsing with an offset by arithmetic agrees with Foundation's calendar, and round-trips the formatting")
    func parsingAgreesWithCalendar() throws {
        var generator = SystemRandomNumberGenerator()
        let offsets = [0, -6 * 3_600, 5 * 3_600 + 30 * 60, -(9 * 3_600 + 30 * 60), 14 * 3_600, -(18 * 3_600)]
        let fixed: [TimeInterval] = [0, -1, 951_782_400, 4_107_542_399, -2_208_988_800]
        // From 1700 on: before the Gregorian reform Foundation's calendar is Julian, the arithmetic proleptic.
        let random = (0..<2_000).map { _ in
            TimeInterval(Int64.random(in: -8_500_000_000...10_000_000_000, using: &generator))
        }
        for (index, seconds) in (fixed + random).enumerated() {
            let offset = offsets[index % offsets.count]
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(secondsFromGMT: offset)!
            let date = Date(timeIntervalSince1970: seconds)
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let sign = offset < 0 ? "-" : "+"
            let text = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d%@%02d:%02d", parts.year!, parts.month!, parts.day!,
                parts.hour!, parts.minute!, parts.second!, sign, abs(offset) / 3_600, abs(offset) / 60 % 60
            )
            guard case .value(let parsed) = RFC3339.parseTimestamp(text) else {
                Issue.record("\(text) did not parse")
                continue
            }
            #expect(parsed == date, "\(text)")
            guard case .value(let again) = RFC3339.parseTimestamp(RFC3339.string(from: date)) else {
                Issue.record("\(RFC3339.string(from: date)) did not parse")
                continue
            }
            #expect(again == date)
        }
        guard case .value(let fraction) = RFC3339.parseTimestamp("2026-11-20T14:30:00.123456789-06:00") else {
            Issue.record("a timestamp with nine fraction digits did not parse")
            return
        }
        #expect(fraction == Date(timeIntervalSince1970: 1_795_206_600), "fractions of a second are dropped")
        for impossible in ["2026-11-20T14:30:00+18:01", "2026-11-20T14:30:00-23:59", "2026-02-29T14:30:00Z"] {
            guard case .impossible = RFC3339.parseTimestamp(impossible) else {
                Issue.record("\(impossible) was not refused as impossible")
                continue
            }
        }
    }
}

@Suite("Report content canonical JSON")
struct ReportContentCanonicalJSONTests {
    static func contents() throws -> [ReportContent] {
        let jurisdiction = try Fixtures.riverton()
        let validator = ReportValidator(jurisdiction: jurisdiction, limits: ReportLimits())
        var rich = ReportSubmission.minimal(narrative: "Línea 1\n\"quoted\" \\ back tab\t 💥 \u{202E}")
        rich.occurrence = .local(date: "2026-11-20", time: "14:30", endDate: nil, endTime: "15:10")
        rich.isApproximate = true
        rich.locationDescription = "Main & 5th </script>"
        rich.latitude = "45.07"
        rich.longitude = "-99.94"
        rich.categories = ["records_tampering", "excessive_force"]
        rich.agentCount = "3"
        rich.agency = "river_patrol"
        rich.agents = [.init(vestText: "POLICE", badge: "12", masked: "fully", bodyCamera: "no"), .init(nameTape: "Ñ")]
        rich.injuries = "yes"
        rich.reporterRole = "legal_observer"
        rich.consentsToPublicStatistics = true
        var nearby = ReportSubmission.minimal()
        nearby.latitude = "45"
        nearby.longitude = "-100.02"
        return try [.minimal(), rich, nearby].map { try validator.validate($0, now: TestClock.defaultNow).content }
    }

    @Test("The hand-written canonical JSON is byte for byte what the sorted JSONEncoder writes, and decodes back")
    func matchesEncoder() throws {
        for content in try Self.contents() {
            let handWritten = content.canonicalJSON()
            let encoded = String(decoding: try CanonicalJSON.encode(content), as: UTF8.self)
            #expect(handWritten == encoded)
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .custom { decoder in
                let text = try decoder.singleValueContainer().decode(String.self)
                guard case .value(let date) = RFC3339.parseTimestamp(text) else { throw CancellationError() }
                return date
            }
            let decoded = try decoder.decode(ReportContent.self, from: Data(handWritten.utf8))
            #expect(decoded == content)
        }
    }

    @Test("Contact details written by hand are what the sorted JSONEncoder writes, and decode back")
    func contactMatchesEncoder() throws {
        let contacts = [
            ContactDetails(),
            ContactDetails(name: "Ana \"Nena\" Pérez\\ \u{1F600}", phone: "+1 312 555 0142"),
            ContactDetails(name: "李\n明", email: "li@example.org", preferredLanguage: "zh"),
        ]
        for contact in contacts {
            let handWritten = contact.canonicalJSON()
            #expect(handWritten == String(decoding: try CanonicalJSON.encode(contact), as: UTF8.self))
            #expect(try JSONDecoder().decode(ContactDetails.self, from: Data(handWritten.utf8)) == contact)
        }
    }
}

@Suite("Custody entries")
struct CustodyEntryTests {
    /// The entry through the general canonical writer, which the hand-ordered `canonicalJSON()` must equal.
    func viaJSONValue(_ entry: CustodyEntry) -> String {
        var members: [(String, JSONValue?)] = [
            ("actor", .string(entry.actor)), ("nonce", .string(entry.nonce)), ("record", .string(entry.recordID)),
            ("sha256", .string(entry.contentHash)), ("time", .string(entry.time)), ("type", .string(entry.kind)),
            ("v", .integer(CustodyEntry.version)),
        ]
        if let details = entry.details {
            members += [
                ("media", .string(details.mediaType)), ("size", .integer(Int(details.size))),
                ("source", .string(details.source)),
            ]
        }
        return JSONValue.object(members.shuffled()).serialized()
    }

    @Test("An evidence.ingested entry carries the file's hash, size, type and source, in canonical order")
    func evidenceEntry() throws {
        let item = EvidenceItem(
            id: Identifier(UUID(uuidString: "00000000-0000-4000-8000-000000000001")!),
            reportID: Identifier(UUID()), uploadID: "u1", sha256: String(repeating: "0f", count: 32),
            sha512: String(repeating: "1e", count: 64), size: 4_294_967_296, mediaType: "video/mp4",
            source: .publicUpload, receivedAt: Date(timeIntervalSince1970: 1_795_000_000))
        let entry = CustodyEntry(event: item.ingestedEvent(actor: "public"), nonce: Array(repeating: 1, count: 32))
        let json = try entry.canonicalJSON()
        #expect(json == viaJSONValue(entry))
        #expect(json.contains(#""media":"video/mp4","nonce""#))
        #expect(json.contains(#""sha256":"\#(item.sha256)","size":4294967296,"source":"public-upload","time""#))
        #expect(try CustodyEntry(json: Data(json.utf8)) == entry)
        #expect(!json.contains(item.sha512), "the entry names the file by its SHA-256 only")
    }

    @Test("An entry is canonical JSON that parses back, and one over 65,535 bytes is refused")
    func entries() throws {
        let event = CustodyEvent(
            kind: .reportReceived, occurredAt: Date(timeIntervalSince1970: 1_795_000_000), actor: "public",
            recordID: "report:R-2026-000001", contentHash: String(repeating: "ab", count: 32))
        let entry = CustodyEntry(event: event, nonce: Array(repeating: 7, count: 32))
        let json = try entry.canonicalJSON()
        #expect(json.hasPrefix(#"{"actor":"public","nonce":"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=","record""#))
        #expect(json.hasSuffix(#""type":"report.received","v":1}"#))
        #expect(try CustodyEntry(json: Data(json.utf8)) == entry)
        #expect(json == viaJSONValue(entry))
        var unusual = entry
        unusual.actor = "staff:\u{1F}\"ñ💥\\"
        #expect(try unusual.canonicalJSON() == viaJSONValue(unusual))
        var huge = event
        huge.recordID = String(repeating: "x", count: 70_000)
        let expectedBytes = json.utf8.count - "report:R-2026-000001".utf8.count + 70_000
        #expect(throws: CustodyEntry.Error.tooLarge(bytes: expectedBytes)) {
            try CustodyEntry(event: huge, nonce: Array(repeating: 7, count: 32)).canonicalJSON()
        }
        #expect(throws: CustodyEntry.Error.self) { try CustodyEntry(json: Data("[]".utf8)) }
        let essentials = try #require(CustodyEntry.essentials(of: json))
        #expect(essentials.kind == "report.received" && essentials.recordID == "report:R-2026-000001")
        #expect(essentials.contentHash == event.contentHash)
        // A value holding a quoted key: the escapes send it through the full parser, which is not fooled.
        var tricky = event
        tricky.actor = #"x","record":"report:FAKE"#
        let trickyJSON = try CustodyEntry(event: tricky, nonce: Array(repeating: 7, count: 32)).canonicalJSON()
        #expect(CustodyEntry.essentials(of: trickyJSON)?.recordID == "report:R-2026-000001")
        #expect(CustodyEntry.essentials(of: "{}") == nil)
        // The one-pass reader: numbers skipped, and anything not flat and escape-free left to the full parser.
        func ranges(_ text: String) -> (String, String, String)? {
            let bytes = Array(text.utf8)
            return bytes.withUnsafeBytes { raw in
                CustodyEntry.essentialRanges(in: raw).map {
                    (
                        String(decoding: bytes[$0.kind], as: UTF8.self),
                        String(decoding: bytes[$0.recordID], as: UTF8.self),
                        String(decoding: bytes[$0.contentHash], as: UTF8.self)
                    )
                }
            }
        }
        #expect(ranges(json).map { [$0.0, $0.1, $0.2] } == [essentials.kind, essentials.recordID, event.contentHash])
        let withNumbers = #"{"a":1,"record":"r:1","sha256":"ab","size":2048,"type":"evidence.ingested","v":1}"#
        #expect(ranges(withNumbers).map { [$0.0, $0.1, $0.2] } == ["evidence.ingested", "r:1", "ab"])
        for refused in [
            trickyJSON, #"{"a":{"record":"x"},"record":"r","sha256":"h","type":"t"}"#,
            #"{"record":"r", "sha256":"h","type":"t"}"#, #"{"record":"r","sha256":"h"}"#,
            #"{"record":"r","sha256":"h","type":"t""#, #"["record"]"#, "",
        ] {
            #expect(ranges(refused) == nil, "\(refused)")
        }
    }
}
