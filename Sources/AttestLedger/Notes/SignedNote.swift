import Foundation

/// A c2sp.org/signed-note: text, a blank line, and signature lines `— <name> <base64(keyID || signature)>`.
/// Opening follows Go's golang.org/x/mod/sumdb/note, the reference verifier.
public struct SignedNote: Sendable, Equatable {
    /// One signature line.
    public struct Signature: Sendable, Equatable {
        public var name: String
        public var keyID: UInt32
        public var signature: Data
    }

    /// The signed text, ending in a newline.
    public var text: String
    /// The signatures that verified under a known key.
    public var verified: [Signature]

    /// At most this many signature lines (x/mod's limit; C2SP requires accepting at least 16).
    public static let maxSignatures = 100

    /// Signs `text` (which must end in a newline) and returns the whole note.
    public static func sign(_ text: String, with signers: [NoteSigner]) throws -> String {
        guard text.hasSuffix("\n"), !text.isEmpty else { throw NoteError.malformedNote("text must end in a newline") }
        try checkCharacters(text)
        var note = text + "\n"
        for signer in signers {
            var payload = withUnsafeBytes(of: signer.verifier.keyID.bigEndian) { Data($0) }
            payload.append(try signer.signature(for: Data(text.utf8)))
            note += "— \(signer.name) \(payload.base64EncodedString())\n"
        }
        return note
    }

    /// Opens `note`, verifying its signatures against `verifiers`. Signatures by unknown keys are ignored;
    /// a known key whose signature fails rejects the note, and so does a note with no verified signature.
    public static func open(_ note: some DataProtocol, verifiers: [NoteVerifier]) throws(NoteError) -> SignedNote {
        guard let whole = String(bytes: note, encoding: .utf8), whole.utf8.elementsEqual(note) else {
            throw .malformedNote("not valid UTF-8")
        }
        try checkCharacters(whole)
        // The last blank line separates text from signatures (a literal search: "\n\n" is not a grapheme match).
        guard let separator = whole.range(of: "\n\n", options: [.backwards, .literal]) else {
            throw .malformedNote("no blank line before the signatures")
        }
        let textEnd = whole.utf8.index(after: separator.lowerBound)
        let text = String(whole[..<textEnd])
        let signatureBlock = whole[whole.utf8.index(textEnd, offsetBy: 1)...]
        guard signatureBlock.hasSuffix("\n") else { throw .malformedNote("signatures must end in a newline") }
        let lines = signatureBlock.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count <= maxSignatures else { throw .malformedNote("more than \(maxSignatures) signatures") }
        var verified: [Signature] = []
        let message = Data(text.utf8)
        for line in lines {
            guard line.hasPrefix("— ") else { throw .malformedNote("a signature line does not start with “— ”") }
            let fields = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2, NoteVerifier.isValidName(String(fields[0])),
                let payload = Data(base64Encoded: String(fields[1])), payload.count >= 5
            else { throw .malformedNote("a signature line is not “— name base64”") }
            let name = String(fields[0])
            let keyID = payload.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard let verifier = verifiers.first(where: { $0.name == name && $0.keyID == keyID }) else { continue }
            let signature = Data(payload.dropFirst(4))
            guard verifier.isValidSignature(signature, for: message) else { throw .invalidSignature(name: name) }
            if !verified.contains(where: { $0.name == name && $0.keyID == keyID }) {
                verified.append(Signature(name: name, keyID: keyID, signature: signature))
            }
        }
        guard !verified.isEmpty else { throw .unverified }
        return SignedNote(text: text, verified: verified)
    }

    /// Valid notes hold no control characters but newline (so no CR), and no U+FFFD.
    private static func checkCharacters(_ text: String) throws(NoteError) {
        for scalar in text.unicodeScalars where (scalar.value < 0x20 && scalar != "\n") || scalar.value == 0xfffd {
            throw .malformedNote("control character U+\(String(scalar.value, radix: 16).leftPadded(to: 4))")
        }
    }
}
