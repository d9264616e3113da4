import Foundation

/// The translations: one JSON file per language in `Resources/Locales` (`en.json`, `es.json`, …), each a flat
/// object of message keys to text plus `_name` (the language's own name) and `_direction` (`ltr` or `rtl`).
/// A language is added by adding a file and listing it in the jurisdiction; no code changes.
public struct MessageCatalogs: Sendable {
    /// One language's messages.
    public struct Catalog: Sendable {
        public var language: String
        public var name: String
        public var isRightToLeft: Bool
        public var messages: [String: String]
    }

    public private(set) var catalogs: [String: Catalog]
    /// The language whose text fills in keys a translation lacks.
    public let fallbackLanguage: String

    /// Loads every `*.json` file in `directory`.
    public init(directory: URL, fallbackLanguage: String = "en") throws {
        var catalogs: [String: Catalog] = [:]
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        for file in files where file.pathExtension == "json" {
            let messages = try JSONDecoder().decode([String: String].self, from: Data(contentsOf: file))
            let language = file.deletingPathExtension().lastPathComponent
            catalogs[language] = Catalog(
                language: language, name: messages["_name"] ?? language,
                isRightToLeft: messages["_direction"] == "rtl", messages: messages
            )
        }
        self.catalogs = catalogs
        self.fallbackLanguage = fallbackLanguage
    }

    /// The bundled catalogs.
    public static func bundled() throws -> MessageCatalogs {
        try MessageCatalogs(directory: AttestResources.directory.appendingPathComponent("Locales"))
    }

    /// All messages for `language`, with the fallback language filling any gaps.
    public func messages(for language: String) -> [String: String] {
        let fallback = catalogs[fallbackLanguage]?.messages ?? [:]
        guard let own = catalogs[language]?.messages else { return fallback }
        return fallback.merging(own) { _, translated in translated }
    }

    /// One message in `language`, with `{name}` placeholders replaced from `arguments`.
    public func text(_ key: String, language: String, _ arguments: [String: String] = [:]) -> String {
        var text = catalogs[language]?.messages[key] ?? catalogs[fallbackLanguage]?.messages[key] ?? key
        for (name, value) in arguments {
            text = text.replacingOccurrences(of: "{\(name)}", with: value)
        }
        return text
    }

    /// The best of `offered` languages for an `Accept-Language` header, or nil when none matches.
    public static func negotiate(acceptLanguage header: String, offered: [String]) -> String? {
        let ranges: [(tag: String, quality: Double, order: Int)] = header.split(separator: ",").prefix(32)
            .enumerated().compactMap { order, item in
                let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                guard let tag = parts.first?.lowercased(), !tag.isEmpty, tag.count <= 35 else { return nil }
                var quality = 1.0
                for parameter in parts.dropFirst() where parameter.hasPrefix("q=") {
                    quality = Double(parameter.dropFirst(2)) ?? 0
                }
                return quality > 0 ? (tag, quality, order) : nil
            }
        let ordered = ranges.sorted { $0.quality != $1.quality ? $0.quality > $1.quality : $0.order < $1.order }
        for range in ordered {
            if range.tag == "*" { return offered.first }
            let primary = range.tag.split(separator: "-").first.map(String.init) ?? range.tag
            if let match = offered.first(where: { $0.lowercased() == range.tag })
                ?? offered.first(where: { $0.lowercased() == primary })
            {
                return match
            }
        }
        return nil
    }
}
