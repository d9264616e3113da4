import Crypto
import Foundation

/// Why a key, note or checkpoint was rejected.
public enum NoteError: Error, Equatable, Sendable {
    /// A key string is not `name+hexid+base64`, or its parts are invalid.
    case malformedKey(String)
    /// The key's algorithm byte is not Ed25519 (0x01).
    case unsupportedAlgorithm(UInt8)
    /// A key name is empty or holds a space or '+'.
    case invalidName(String)
    /// The note is not well formed (the reason says where).
    case malformedNote(String)
    /// No signature on the note is by a known key.
    case unverified
    /// A signature by a known key does not verify.
    case invalidSignature(name: String)
    /// A checkpoint body is not exactly origin, size and root.
    case malformedCheckpoint(String)
}

/// A c2sp.org/signed-note verifier key: the name, the 4-byte key id and the Ed25519 public key.
public struct NoteVerifier: Sendable, Equatable {
    public let name: String
    public let keyID: UInt32
    public let publicKey: Curve25519.Signing.PublicKey

    public static func == (lhs: NoteVerifier, rhs: NoteVerifier) -> Bool {
        lhs.name == rhs.name && lhs.keyID == rhs.keyID
            && lhs.publicKey.rawRepresentation == rhs.publicKey.rawRepresentation
    }

    public init(name: String, publicKey: Curve25519.Signing.PublicKey) throws(NoteError) {
        guard NoteVerifier.isValidName(name) else { throw .invalidName(name) }
        self.name = name
        self.publicKey = publicKey
        keyID = Self.keyID(name: name, publicKey: publicKey.rawRepresentation)
    }

    /// Parses a verifier key string `<name>+<keyid hex>+<base64(0x01 || pub32)>`; the key id must match.
    public init(vkey: String) throws(NoteError) {
        let parts = vkey.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].count == 8, let keyID = UInt32(parts[1], radix: 16),
            parts[1] == String(keyID, radix: 16).leftPadded(to: 8),
            let key = Data(base64Encoded: String(parts[2]))
        else { throw .malformedKey(vkey) }
        guard let algorithm = key.first else { throw .malformedKey(vkey) }
        guard algorithm == 0x01 else { throw .unsupportedAlgorithm(algorithm) }
        guard key.count == 33, let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: key.dropFirst())
        else { throw .malformedKey(vkey) }
        try self.init(name: String(parts[0]), publicKey: publicKey)
        guard self.keyID == keyID else { throw .malformedKey(vkey) }
    }

    /// The verifier key string.
    public var vkey: String {
        "\(name)+\(keyIDHex)+\(Data([0x01] + publicKey.rawRepresentation).base64EncodedString())"
    }

    /// The key id as 8 lower-case hexadecimal digits.
    public var keyIDHex: String { String(keyID, radix: 16).leftPadded(to: 8) }

    /// Whether `signature` is this key's Ed25519 signature of `message`.
    public func isValidSignature(_ signature: some DataProtocol, for message: some DataProtocol) -> Bool {
        publicKey.isValidSignature(signature, for: message)
    }

    /// `SHA-256(name || 0x0A || 0x01 || pub32)[:4]`, big-endian.
    static func keyID(name: String, publicKey: some DataProtocol) -> UInt32 {
        var hasher = SHA256()
        hasher.update(data: Data(name.utf8) + [0x0a, 0x01])
        hasher.update(data: publicKey)
        return hasher.finalize().prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// A key name: non-empty, no Unicode white space, no '+'.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("+")
            && !name.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7f }
    }
}

/// A signed-note signer: an Ed25519 private key under a name.
public struct NoteSigner: Sendable {
    public let verifier: NoteVerifier
    private let privateKey: Curve25519.Signing.PrivateKey

    /// A signer from a 32-byte Ed25519 seed.
    public init(name: String, seed: some ContiguousBytes) throws(NoteError) {
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed) else {
            throw .malformedKey("seed")
        }
        privateKey = key
        verifier = try NoteVerifier(name: name, publicKey: key.publicKey)
    }

    /// Parses the x/mod signer-key string `PRIVATE+KEY+<name>+<keyid hex>+<base64(0x01 || seed32)>`.
    public init(signerKey: String) throws(NoteError) {
        let parts = signerKey.split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        // Never echo a private key into an error message.
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY", let keyID = UInt32(parts[3], radix: 16),
            let key = Data(base64Encoded: String(parts[4])), key.count == 33
        else { throw .malformedKey("PRIVATE+KEY+…") }
        guard key[key.startIndex] == 0x01 else { throw .unsupportedAlgorithm(key[key.startIndex]) }
        try self.init(name: String(parts[2]), seed: Data(key.dropFirst()))
        guard verifier.keyID == keyID else { throw .malformedKey("PRIVATE+KEY+…") }
    }

    /// The signer-key string (a secret).
    public var signerKey: String {
        "PRIVATE+KEY+\(verifier.name)+\(verifier.keyIDHex)+"
            + Data([0x01] + privateKey.rawRepresentation).base64EncodedString()
    }

    public var name: String { verifier.name }

    /// The Ed25519 signature of `message` (deterministic on Linux, where swift-crypto uses BoringSSL).
    public func signature(for message: some DataProtocol) throws -> Data {
        try privateKey.signature(for: message)
    }
}

extension String {
    func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
