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
        var output = ""
        write(to: &output)
        return output
    }

    private func write(to output: inout String) {
        switch self {
        case .string(let value): output += CanonicalJSON.quoted(value)
        case .integer(let value): output += String(value)
        case .number(let value):
            output += value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
        case .bool(let value): output += value ? "true" : "false"
        case .array(let values):
            output += "["
            for (index, value) in values.enumerated() {
                if index > 0 { output += "," }
                value.write(to: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            let present = members.compactMap { key, value in value.map { (key, $0) } }
                .sorted { RFC8785.precedes($0.0, $1.0) }
            for (index, (key, value)) in present.enumerated() {
                if index > 0 { output += "," }
                output += CanonicalJSON.quoted(key) + ":"
                value.write(to: &output)
            }
            output += "}"
        }
    }
}

extension ReportContent {
    /// The canonical JSON of this content: what `contentHash` covers and what is stored. It decodes with
    /// `JSONDecoder` into an equal `ReportContent` (tested).
    public func canonicalJSON() -> String {
        func text(_ value: String?) -> JSONValue? { value.map(JSONValue.string) }
        let agents: JSONValue = .object([
            ("count", agents.count.map(JSONValue.integer)),
            ("agency", text(agents.agency)),
            (
                "descriptions",
                .array(
                    agents.descriptions.map { agent in
                        .object([
                            ("vestText", text(agent.vestText)), ("nameTape", text(agent.nameTape)),
                            ("badge", text(agent.badge)), ("plateState", text(agent.plateState)),
                            ("plateNumber", text(agent.plateNumber)), ("masked", text(agent.masked?.rawValue)),
                            ("plainClothes", .string(agent.plainClothes.rawValue)),
                            ("bodyCamera", .string(agent.bodyCamera.rawValue)),
                        ])
                    }
                )
            ),
        ])
        let location: JSONValue = .object([
            ("description", text(location.description)),
            ("area", location.area.map(JSONValue.integer)),
            (
                "coordinate",
                location.coordinate.map {
                    .object([("latitude", .number($0.latitude)), ("longitude", .number($0.longitude))])
                }
            ),
        ])
        let value: JSONValue = .object([
            (
                "occurrence",
                .object([
                    ("start", .string(RFC3339.string(from: occurrence.start))),
                    ("end", .string(RFC3339.string(from: occurrence.end))),
                    ("isApproximate", .bool(occurrence.isApproximate)),
                ])
            ),
            ("location", location),
            ("narrative", .string(narrative)),
            ("categories", .array(categories.map(JSONValue.string))),
            ("agents", agents),
            (
                "harm",
                .object([
                    ("injuries", .string(harm.injuries.rawValue)),
                    ("medicalCareNeeded", .string(harm.medicalCareNeeded.rawValue)),
                    ("medicalCareDeniedOrDelayed", .string(harm.medicalCareDeniedOrDelayed.rawValue)),
                ])
            ),
            ("reporterRole", text(reporterRole?.rawValue)),
            (
                "consents",
                .object([
                    ("mayContact", .bool(consents.mayContact)),
                    ("mayShareWithProsecutor", .bool(consents.mayShareWithProsecutor)),
                    ("mayCountInStatistics", .bool(consents.mayCountInStatistics)),
                ])
            ),
            ("language", .string(language)),
        ])
        return value.serialized()
    }
}
