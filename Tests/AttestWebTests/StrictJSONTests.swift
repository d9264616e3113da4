import Foundation
import Testing

@testable import AttestWeb

@Suite("Strict JSON request bodies")
struct StrictJSONTests {
    /// What reading a body came to.
    enum Outcome: Equatable, CustomStringConvertible {
        case value(APIReportInput)
        case invalidType(String)
        case malformed

        var description: String {
            switch self {
            case .value(let input): "value \(input)"
            case .invalidType(let field): "invalid type at \(field)"
            case .malformed: "malformed"
            }
        }
    }

    static func strict(_ bytes: [UInt8]) -> Outcome {
        do {
            return .value(try APIBody.decode(APIReportInput.self, from: bytes))
        } catch AttestHTTPError.invalidType(let field) {
            return .invalidType(field)
        } catch {
            return .malformed
        }
    }

    /// `JSONDecoder`'s reading, with the error mapping the API used before `StrictJSON`.
    static func foundation(_ bytes: [UInt8]) -> Outcome {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.reduce(into: "") { result, key in
                if let index = key.intValue {
                    result += "[\(index)]"
                } else {
                    result += (result.isEmpty ? "" : ".") + key.stringValue
                }
            }
        }
        do {
            return .value(try JSONDecoder().decode(APIReportInput.self, from: Data(bytes)))
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.dataCorrupted(let context)
        {
            return context.codingPath.isEmpty ? .malformed : .invalidType(path(context.codingPath))
        } catch {
            return .malformed
        }
    }

    /// A random JSON document shaped like a report, written by hand with random white space: every known member
    /// absent, null, of its type or of another, unknown members, duplicates, escapes, numbers in several forms.
    struct Generator {
        var random = SystemRandomNumberGenerator()

        mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }

        mutating func space() -> String { ["", "", " ", "\n", "\t ", "\r\n  "].randomElement(using: &random)! }

        mutating func string() -> String {
            let pieces = [
                "Agents", "near", "26th St", "Pérez", "李明", "💥", #"\""#, #"\\"#, #"\/"#, #"\n"#, #"\t"#, #"\u00e9"#,
                #"\u0041"#, #"\ud83d\udca5"#, "<script>", "'; DROP TABLE reports; --", "\u{202E}", " ",
            ]
            let count = Int.random(in: 0...4, using: &random)
            return "\"" + (0..<count).map { _ in pieces.randomElement(using: &random)! }.joined() + "\""
        }

        mutating func number() -> String {
            [
                "0", "-0", "3", "12", "2.5", "-87.7249", "41.8445", "1E5", "4.1e1", "2.5e-3",
                "123456789012345678901234567890",
            ]
            .randomElement(using: &random)!
        }

        /// A value of any JSON type; nested at most `depth` more levels.
        mutating func anyValue(depth: Int = 2) -> String {
            switch Int.random(in: 0..<(depth > 0 ? 7 : 5), using: &random) {
            case 0: return "null"
            case 1: return chance(50) ? "true" : "false"
            case 2: return number()
            case 3, 4: return string()
            case 5:
                return array(of: (0..<Int.random(in: 0...3, using: &random)).map { _ in anyValue(depth: depth - 1) })
            default:
                return object(
                    (0..<Int.random(in: 0...3, using: &random)).map { _ in
                        (string(), anyValue(depth: depth - 1))
                    })
            }
        }

        mutating func array(of elements: [String]) -> String {
            "[" + space() + elements.joined(separator: space() + "," + space()) + space() + "]"
        }

        mutating func object(_ members: [(String, String)]) -> String {
            "{" + space() + members.map { $0 + space() + ":" + space() + $1 }.joined(separator: "," + space()) + space()
                + "}"
        }

        enum Kind { case string, bool, number, strings, object([(String, Kind)]), objects([(String, Kind)]) }

        /// Mostly a value of `kind`, sometimes null or a value of another type.
        mutating func value(_ kind: Kind) -> String {
            if chance(6) { return "null" }
            if chance(8) { return anyValue() }
            switch kind {
            case .string: return string()
            case .bool: return chance(50) ? "true" : "false"
            case .number: return number()
            case .strings:
                return array(
                    of: (0..<Int.random(in: 0...3, using: &random)).map { _ in
                        chance(5) ? anyValue(depth: 0) : string()
                    })
            case .object(let fields): return members(fields)
            case .objects(let fields):
                return array(
                    of: (0..<Int.random(in: 0...2, using: &random)).map { _ in
                        chance(5) ? anyValue(depth: 0) : members(fields)
                    })
            }
        }

        mutating func members(_ fields: [(String, Kind)]) -> String {
            var members: [(String, String)] = []
            for (name, kind) in fields.shuffled(using: &random) where chance(70) {
                members.append(("\"\(name)\"", value(kind)))
                if chance(3) { members.append(("\"\(name)\"", value(kind))) }
            }
            if chance(20) { members.append((string(), anyValue())) }
            return object(members.shuffled(using: &random))
        }

        static let report: [(String, Kind)] = [
            ("occurredAt", .object([("from", .string), ("until", .string), ("approximate", .bool)])),
            (
                "location",
                .object([
                    ("description", .string), ("communityArea", .number), ("latitude", .number), ("longitude", .number),
                ])
            ),
            ("narrative", .string), ("categories", .strings),
            (
                "agents",
                .object([
                    ("count", .number), ("agency", .string),
                    (
                        "descriptions",
                        .objects([
                            ("vestText", .string), ("nameTape", .string), ("badge", .string), ("plateState", .string),
                            ("plateNumber", .string), ("masked", .string), ("plainClothes", .bool),
                            ("bodyCamera", .bool),
                        ])
                    ),
                ])
            ),
            (
                "harm",
                .object([("injuries", .bool), ("medicalCareNeeded", .bool), ("medicalCareDeniedOrDelayed", .bool)])
            ),
            ("reporterRole", .string),
            (
                "contact",
                .object([("name", .string), ("phone", .string), ("email", .string), ("preferredLanguage", .string)])
            ),
            ("consents", .object([("contact", .bool), ("shareWithProsecutor", .bool), ("publicStatistics", .bool)])),
            ("language", .string), ("uploads", .strings),
        ]

        mutating func report() -> String { space() + members(Self.report) + space() }
    }

    @Test("On valid JSON the strict reader and JSONDecoder agree: the same input, or the same field named")
    func agreesWithFoundation() {
        var generator = Generator()
        var counts: [String: Int] = [:]
        for _ in 0..<3_000 {
            let document = Array(generator.report().utf8)
            let expected = Self.foundation(document)
            #expect(Self.strict(document) == expected, "\(String(decoding: document, as: UTF8.self))")
            switch expected {
            case .value: counts["value", default: 0] += 1
            case .invalidType: counts["invalidType", default: 0] += 1
            case .malformed: counts["malformed", default: 0] += 1
            }
        }
        // The generator reaches both outcomes often (wrong types at the top level are malformed for both).
        #expect(counts["value", default: 0] > 300 && counts["invalidType", default: 0] > 300, "\(counts)")
    }

    @Test(
        "Malformed JSON anywhere in the body is refused, also where JSONDecoder is lenient",
        arguments: [
            #"{"narrative":"x",}"#, #"{"zzz":[1,2,]}"#, #"{"zzz":01}"#, #"{"zzz":"\ud800"}"#, #"{"zzz":"\udc00"}"#,
            #"{"zzz":"\x"}"#, #"{"zzz":1e400}"#, #"{"narrative":1e-400}"#, "{\"zzz\":\"tab\there\"}", #"{"zzz":tru}"#,
            #"{"zzz":nul}"#, #"{"a":1} x"#, #"{"a":1}{"#, #"{"a" 1}"#, #"{a:1}"#, #"{'a':1}"#, #"{"a":.5}"#,
            #"{"a":1.}"#, #"{"a":-}"#, #"{"a":+1}"#, #"{"a":1e}"#, #"{"a":0x10}"#, #"{"a":NaN}"#, #"{"a":"\u12"}"#,
            #"{"a":"unterminated}"#, "{", "", " ", "[]", "null", "\"text\"", "42", "{\"a\":1}\u{0}",
            "{\"a\":" + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}",
            "{\"a\":\u{00A0}1}",
        ]
    )
    func malformed(document: String) {
        #expect(Self.strict(Array(document.utf8)) == .malformed)
    }

    @Test("Escapes, a byte order mark and nesting up to the limit are read; the first of duplicate members counts")
    func valid() throws {
        let document =
            "\u{FEFF} {\"narrative\" : \"caf\\u00e9 \\ud83d\\udca5 \\/ \\\"q\\\" \\\\ \\b\\f\\n\\r\\t\", "
            + "\"narrative\": 7, \"language\": \"es\", \"zzz\": "
            + String(repeating: "[", count: 500) + String(repeating: "]", count: 500) + "}\r\n"
        guard case .value(let input) = Self.strict(Array(document.utf8)) else {
            Issue.record("not read")
            return
        }
        #expect(input.narrative == "café 💥 / \"q\" \\ \u{08}\u{0C}\n\r\t")
        #expect(input.language == "es")
    }

    @Test("Wrong types name their field, down to array elements in nested objects")
    func wrongTypes() {
        let cases: [(String, String)] = [
            (#"{"narrative":true}"#, "narrative"), (#"{"categories":["a",null]}"#, "categories[1]"),
            (
                #"{"agents":{"descriptions":[{"masked":"no"},{"plainClothes":"false"}]}}"#,
                "agents.descriptions[1].plainClothes"
            ),
            (#"{"location":{"latitude":"41.8"}}"#, "location.latitude"), (#"{"harm":[]}"#, "harm"),
            (#"{"consents":{"contact":1}}"#, "consents.contact"),
        ]
        for (document, field) in cases {
            #expect(Self.strict(Array(document.utf8)) == .invalidType(field), "\(document)")
        }
    }
}
