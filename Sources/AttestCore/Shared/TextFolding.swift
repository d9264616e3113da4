import Foundation

/// Lower case without diacritics for the Latin letters residents type ("Pérez" → "perez"), without Foundation's
/// `folding(options:)` (which goes through NSString and costs tens of microseconds per narrative on Linux). The
/// same table folds search text in PostgreSQL (`CreateSearchIndex.foldFrom`/`foldTo`).
public enum TextFolding {
    public static let from =
        "àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżžơưǎǐǒǔǖǘǚǜǟǡǧǩǫǭǰǵǹǻȁȃȅȇȉȋȍȏȑȓȕȗșțȟȧȩȫȭȯȱȳøđłħŧı"
    public static let to =
        "aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzzouaiouuuuuaagkoojgnaaaeeiioorruusthaeooooyodlhti"

    static let table: [Unicode.Scalar: Unicode.Scalar] = Dictionary(
        uniqueKeysWithValues: zip(from.unicodeScalars, to.unicodeScalars).map { ($0, $1) })

    /// Calls `body` with the FNV-1a hash and length (in scalars) of each folded word of `text`, in order — the
    /// same words as `words(_:)`, without building strings.
    public static func forEachWord(in text: String, _ body: (UInt64, Int) -> Void) {
        let offset: UInt64 = 0xcbf2_9ce4_8422_2325
        let prime: UInt64 = 0x100_0000_01b3
        var hash = offset
        var length = 0
        fold(
            text,
            scalar: {
                hash = (hash ^ UInt64($0.value)) &* prime
                length += 1
            },
            wordEnd: {
                if length > 0 { body(hash, length) }
                hash = offset
                length = 0
            })
    }

    /// Words of letters and digits, folded, in order.
    public static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        fold(
            text, scalar: { current.append($0) },
            wordEnd: {
                if !current.isEmpty {
                    words.append(String(current))
                    current = String.UnicodeScalarView()
                }
            })
        return words
    }

    /// The folding itself, shared by `words` and `forEachWord`: `scalar` gets each folded scalar of a word (lower
    /// case, accents dropped or folded by the table), `wordEnd` each boundary (anything but a letter or digit, and
    /// the end of the text; it may come with no word before it).
    private static func fold(_ text: String, scalar add: (Unicode.Scalar) -> Void, wordEnd: () -> Void) {
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                switch scalar.value {
                case 0x41...0x5A: add(Unicode.Scalar(scalar.value + 0x20)!)
                case 0x61...0x7A, 0x30...0x39: add(scalar)
                default: wordEnd()
                }
                continue
            }
            let properties = scalar.properties
            if properties.generalCategory == .nonspacingMark { continue }  // a combining accent: dropped
            guard properties.isAlphabetic || properties.numericType == .decimal else {
                wordEnd()
                continue
            }
            for lower in properties.lowercaseMapping.unicodeScalars
            where lower.properties.generalCategory != .nonspacingMark {
                add(table[lower] ?? lower)
            }
        }
        wordEnd()
    }
}
