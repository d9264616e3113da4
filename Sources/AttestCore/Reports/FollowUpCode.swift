import Foundation

/// The secret a reporter uses to return to their report: 140 random bits written as 28 Crockford base-32
/// characters in seven groups of four (`7K3M-QX2P-…`). Only its SHA-256 is stored; with this much entropy a
/// slow password hash adds nothing.
public struct FollowUpCode: Equatable, Sendable, CustomStringConvertible {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    static let length = 28

    /// The 28 characters without separators.
    public let normalized: String

    /// A new random code.
    public init(random: any RandomSource) {
        let bytes = random.bytes(count: 18)
        var bits = 0
        var bitCount = 0
        var characters: [Character] = []
        for byte in bytes {
            bits = (bits << 8) | Int(byte)
            bitCount += 8
            while bitCount >= 5, characters.count < Self.length {
                bitCount -= 5
                characters.append(Self.alphabet[(bits >> bitCount) & 0x1F])
            }
            bits &= (1 << bitCount) - 1
        }
        normalized = String(characters)
    }

    /// Reads a code as a person typed it: any case, with or without hyphens or spaces, and with the letters
    /// O, I and L read as the digits they resemble. Nil when it cannot be a code.
    public init?(typed text: String) {
        guard text.count <= 64 else { return nil }
        var characters: [Character] = []
        for character in text.uppercased() {
            switch character {
            case "-", " ", "\u{00A0}": continue
            case "O": characters.append("0")
            case "I", "L": characters.append("1")
            default:
                guard Self.alphabet.contains(character) else { return nil }
                characters.append(character)
            }
        }
        guard characters.count == Self.length else { return nil }
        normalized = String(characters)
    }

    /// The code grouped in fours for reading and typing.
    public var grouped: String {
        stride(from: 0, to: normalized.count, by: 4).map { offset in
            let start = normalized.index(normalized.startIndex, offsetBy: offset)
            return String(normalized[start..<normalized.index(start, offsetBy: 4)])
        }.joined(separator: "-")
    }

    /// Lower-case hex SHA-256 of the normalized code: the only form that is stored.
    public var hash: String { ContentHash.sha256Hex(normalized) }

    public var description: String { "FollowUpCode(redacted)" }
}
