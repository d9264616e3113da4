import Foundation

/// Rules for free text typed by residents. Text is stored verbatim; these rules only decide whether it is
/// acceptable.
public enum TextRules {
    /// Whether `text` has no visible content: only white space (any Unicode space, including no-break and
    /// ideographic spaces), format characters (zero-width spaces and joiners, bidirectional marks, the byte
    /// order mark) and other default-ignorable code points (the Hangul filler), or the Braille blank.
    public static func isBlank(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            scalar.properties.isWhitespace || scalar.properties.generalCategory == .format
                || scalar.properties.isDefaultIgnorableCodePoint || scalar == "\u{2800}"
        }
    }

    /// Whether `text` contains control characters: C0 (including NUL), DEL and C1. Multi-line fields may
    /// contain tab, line feed and carriage return.
    public static func hasControlCharacters(_ text: String, multiline: Bool) -> Bool {
        // Byte by byte: C0 and DEL are single bytes in UTF-8, and C1 (U+0080...U+009F) is 0xC2 then 0x80...0x9F,
        // where 0xC2 is always a lead byte.
        var previous: UInt8 = 0
        for byte in text.utf8 {
            switch byte {
            case 0x09, 0x0A, 0x0D: if !multiline { return true }
            case 0x00...0x1F, 0x7F: return true
            case 0x80...0x9F where previous == 0xC2: return true
            default: break
            }
            previous = byte
        }
        return false
    }

    /// Checks one free-text field and records its problems. Returns the text when it is acceptable and not
    /// blank, nil otherwise.
    public static func check(
        _ text: String?, field: String, maxCharacters: Int, multiline: Bool = false, required: Bool = false,
        into issues: inout [ValidationIssue]
    ) -> String? {
        guard let text, !text.isEmpty else {
            if required { issues.append(ValidationIssue(field, .required)) }
            return nil
        }
        if hasControlCharacters(text, multiline: multiline) {
            issues.append(ValidationIssue(field, .controlCharacters))
            return nil
        }
        if isBlank(text) {
            if required { issues.append(ValidationIssue(field, .blank)) }
            return nil
        }
        // Counting characters means finding grapheme breaks; a text with no more bytes than the limit is within it.
        if text.utf8.count > maxCharacters, text.count > maxCharacters {
            issues.append(ValidationIssue(field, .tooLong(max: maxCharacters)))
            return nil
        }
        return text
    }
}
