import Foundation

/// Reads a jurisdiction from a directory holding `jurisdiction.json` and the geography file it names.
public enum JurisdictionLoader {
    /// Why a jurisdiction could not be loaded.
    public enum Error: Swift.Error, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case invalid(String)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
            case .invalid(let reason): "invalid jurisdiction: \(reason)"
            }
        }
    }

    struct File: Decodable {
        struct GeographyFile: Decodable {
            var file: String
            var numberProperty: String
            var nameProperty: String
            var unitName: LocalizedLabel
            var attribution: String
            var marginKilometres: Double
        }

        var code: String
        var name: LocalizedLabel
        var timeZone: String
        var defaultLanguage: String
        var languages: [String]
        var categories: [Jurisdiction.Category]
        var agencies: [Jurisdiction.Agency]
        var geography: GeographyFile
        var receivingOffices: [Jurisdiction.ReceivingOffice]
        var publication: Jurisdiction.PublicationRules
    }

    /// Loads the jurisdiction in `directory`.
    public static func load(directory: URL) throws -> Jurisdiction {
        let configURL = directory.appendingPathComponent("jurisdiction.json")
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: Data(contentsOf: configURL))
        } catch {
            throw Error.unreadable(path: configURL.path, reason: "\(error)")
        }
        guard let zone = TimeZone(identifier: file.timeZone) else {
            throw Error.invalid("unknown time zone \(file.timeZone)")
        }
        guard file.languages.contains(file.defaultLanguage) else {
            throw Error.invalid("default language \(file.defaultLanguage) is not among the languages")
        }
        guard Set(file.categories.map(\.code)).count == file.categories.count, !file.categories.isEmpty else {
            throw Error.invalid("category codes must be present and unique")
        }
        guard Set(file.agencies.map(\.code)).count == file.agencies.count, !file.agencies.isEmpty else {
            throw Error.invalid("agency codes must be present and unique")
        }
        let geographyURL = directory.appendingPathComponent(file.geography.file)
        let geography: Geography
        do {
            geography = try Geography(
                geoJSON: Data(contentsOf: geographyURL), numberProperty: file.geography.numberProperty,
                nameProperty: file.geography.nameProperty, unitName: file.geography.unitName,
                attribution: file.geography.attribution, marginKilometres: file.geography.marginKilometres
            )
        } catch {
            throw Error.unreadable(path: geographyURL.path, reason: "\(error)")
        }
        return Jurisdiction(
            code: file.code, name: file.name, timeZone: zone, defaultLanguage: file.defaultLanguage,
            languages: file.languages, categories: file.categories, agencies: file.agencies, geography: geography,
            receivingOffices: file.receivingOffices, publication: file.publication
        )
    }
}
