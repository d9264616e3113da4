import Foundation

/// A JSON value built by hand and written canonically (members sorted by UTF-16 code units, no whitespace,
/// strings escaped as RFC 8785 does). Used where `JSONEncoder` is too slow: a report's content is serialised
/// on every submission.
public indirect enum JSONValue: Equatable, Sendable {
    case string(String)
    case integer(Int)
    case number(Double)
    case bool(Bool)
    case array([JSONValue])
    /// Members whose value is nil are left out, as `JSONEncoder` leaves out nil optionals.
    case object([(String, JSONValue?)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        lhs.serialized() == rhs.serialized()
    }

    /// The canonical text.
    public func serialized() -> String {
        // Written as UTF-8 bytes: appending to a `String` piece by piece cost 5 % of a submission.
        var output: [UInt8] = []
        output.reserveCapacity(1024)
        write(to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    private func write(to output: inout [UInt8]) {
        switch self {
        case .string(let value): CanonicalJSON.appendQuoted(value, to: &output)
        case .integer(let value): output += String(value).utf8
        case .number(let value):
            output += (value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)").utf8
        case .bool(let value): output += (value ? "true" : "false").utf8
        case .array(let values):
            output.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                value.write(to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            // Members built in canonical order (as `canonicalJSON()` builds them) are written without sorting.
            var ordered = true
            for index in members.indices.dropFirst() where !RFC8785.precedes(members[index - 1].0, members[index].0) {
                ordered = false
                break
            }
            let sorted = ordered ? members : members.sorted { RFC8785.precedes($0.0, $1.0) }
            var first = true
            for (key, value) in sorted {
                guard let value else { continue }
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                CanonicalJSON.appendQuoted(key, to: &output)
                output.append(UInt8(ascii: ":"))
                value.write(to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }
}

extension ReportContent {
    /// The canonical JSON of this content: what `contentHash` covers and what is stored. It decodes with
    /// `JSONDecoder` into an equal `ReportContent` (tested). Members are listed in canonical order, so
    /// writing them sorts nothing.
    public func canonicalJSON() -> String {
        func text(_ value: String?) -> JSONValue? { value.map(JSONValue.string) }
        let agents: JSONValue = .object([
            ("agency", text(agents.agency)),
            ("count", agents.count.map(JSONValue.integer)),
            (
                "descriptions",
                .array(
                    agents.descriptions.map { agent in
                        .object([
                            ("badge", text(agent.badge)), ("bodyCamera", .string(agent.bodyCamera.rawValue)),
                            ("masked", text(agent.masked?.rawValue)), ("nameTape", text(agent.nameTape)),
                            ("plainClothes", .string(agent.plainClothes.rawValue)),
                            ("plateNumber", text(agent.plateNumber)), ("plateState", text(agent.plateState)),
                            ("vestText", text(agent.vestText)),
                        ])
                    }
                )
            ),
        ])
        let location: JSONValue = .object([
            ("area", location.area.map(JSONValue.integer)),
            (
                "coordinate",
                location.coordinate.map {
                    .object([("latitude", .number($0.latitude)), ("longitude", .number($0.longitude))])
                }
            ),
            ("description", text(location.description)),
        ])
        let value: JSONValue = .object([
            ("agents", agents),
            ("categories", .array(categories.map(JSONValue.string))),
            (
                "consents",
                .object([
                    ("mayContact", .bool(consents.mayContact)),
                    ("mayCountInStatistics", .bool(consents.mayCountInStatistics)),
                    ("mayShareWithProsecutor", .bool(consents.mayShareWithProsecutor)),
                ])
            ),
            (
                "harm",
                .object([
                    ("injuries", .string(harm.injuries.rawValue)),
                    ("medicalCareDeniedOrDelayed", .string(harm.medicalCareDeniedOrDelayed.rawValue)),
                    ("medicalCareNeeded", .string(harm.medicalCareNeeded.rawValue)),
                ])
            ),
            ("language", .string(language)),
            ("location", location),
            ("narrative", .string(narrative)),
            (
                "occurrence",
                .object([
                    ("end", .string(RFC3339.string(from: occurrence.end))),
                    ("isApproximate", .bool(occurrence.isApproximate)),
                    ("start", .string(RFC3339.string(from: occurrence.start))),
                ])
            ),
            ("reporterRole", text(reporterRole?.rawValue)),
        ])
        return value.serialized()
    }
}

extension ContactDetails {
    /// The JSON that is encrypted at rest (`JSONDecoder` reads it back; `JSONEncoder` cost 1 % of a submission).
    public func canonicalJSON() -> String {
        JSONValue.object([
            ("email", email.map(JSONValue.string)), ("name", name.map(JSONValue.string)),
            ("phone", phone.map(JSONValue.string)), ("preferredLanguage", preferredLanguage.map(JSONValue.string)),
        ]).serialized()
    }
}
