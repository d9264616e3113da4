import AttestCore
import Crypto
import Foundation

/// The keys that encrypt contact details: one active key for new ciphertexts and every earlier key, so
/// that ciphertexts written before a rotation still open until `attest keys rotate` re-encrypts them.
public struct ContactKeyRing: Sendable {
    /// One AES-256 key and the id written into each ciphertext it makes.
    public struct Key: Sendable {
        public var id: String
        public var key: SymmetricKey
        public var createdAt: Date
    }

    public private(set) var keys: [Key]
    public private(set) var activeID: String

    /// Where the ring came from: a key file in the data directory, or the configuration.
    public let fileURL: URL?

    public var active: Key { keys.first { $0.id == activeID }! }

    struct File: Codable {
        struct Entry: Codable {
            var id: String
            var key: String
            var createdAt: Date
        }
        var active: String
        var keys: [Entry]
    }

    /// Errors reading or changing the key ring.
    public enum Error: Swift.Error, CustomStringConvertible {
        case invalidConfiguredKey
        case unreadableKeyFile(String)
        case rotationNeedsKeyFile

        public var description: String {
            switch self {
            case .invalidConfiguredKey:
                "ATTEST_CONTACT_KEY must be 32 bytes encoded in base64 (e.g. `openssl rand -base64 32`)"
            case .unreadableKeyFile(let reason): "cannot read the contact key file: \(reason)"
            case .rotationNeedsKeyFile:
                "the contact key comes from ATTEST_CONTACT_KEY: to rotate, set ATTEST_CONTACT_KEY to the new key"
                    + " and ATTEST_CONTACT_KEY_PREVIOUS to the old one, then run `attest keys rotate`"
            }
        }
    }

    /// A ring holding one configured key (base64), plus an optional previous key during a rotation.
    public static func configured(base64 key: String, previous: String? = nil) throws -> ContactKeyRing {
        func decode(_ text: String) throws -> Key {
            guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
                data.count == 32
            else { throw Error.invalidConfiguredKey }
            let id = "cfg-" + ContentHash.sha256Hex(data).prefix(12)
            return Key(id: id, key: SymmetricKey(data: data), createdAt: Date(timeIntervalSince1970: 0))
        }
        let active = try decode(key)
        var keys = [active]
        if let previous, !previous.isEmpty { keys.insert(try decode(previous), at: 0) }
        return ContactKeyRing(keys: keys, activeID: active.id, fileURL: nil)
    }

    /// The ring in `fileURL`, created with one new key (file mode 0600) when the file does not exist.
    public static func file(at fileURL: URL, random: any RandomSource, now: Date) throws -> ContactKeyRing {
        if FileManager.default.fileExists(atPath: fileURL.path) {
            do {
                let decoder = JSONDecoder()
                decoder.dateDecodingStrategy = .iso8601
                let file = try decoder.decode(File.self, from: Data(contentsOf: fileURL))
                let keys = try file.keys.map { entry in
                    guard let data = Data(base64Encoded: entry.key), data.count == 32 else {
                        throw Error.unreadableKeyFile("key \(entry.id) is not 32 bytes of base64")
                    }
                    return Key(id: entry.id, key: SymmetricKey(data: data), createdAt: entry.createdAt)
                }
                guard keys.contains(where: { $0.id == file.active }) else {
                    throw Error.unreadableKeyFile("active key \(file.active) is missing")
                }
                return ContactKeyRing(keys: keys, activeID: file.active, fileURL: fileURL)
            } catch let error as Error {
                throw error
            } catch {
                throw Error.unreadableKeyFile("\(error)")
            }
        }
        var ring = ContactKeyRing(keys: [], activeID: "", fileURL: fileURL)
        try ring.addKey(random: random, now: now)
        return ring
    }

    /// Adds a new random key, makes it active and saves the ring (mode 0600, replaced atomically).
    public mutating func addKey(random: any RandomSource, now: Date) throws {
        guard let fileURL else { throw Error.rotationNeedsKeyFile }
        let bytes = random.bytes(count: 32)
        let id = "k" + ContentHash.sha256Hex(Data(bytes)).prefix(12)
        keys.append(Key(id: id, key: SymmetricKey(data: bytes), createdAt: now))
        activeID = id
        let file = File(
            active: id,
            keys: keys.map { key in
                File.Entry(
                    id: key.id, key: key.key.withUnsafeBytes { Data($0).base64EncodedString() },
                    createdAt: key.createdAt
                )
            }
        )
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try SecretFiles.write(try encoder.encode(file), to: fileURL)
    }
}

/// Writes secrets: owner-only permissions from the first byte, replaced atomically.
public enum SecretFiles {
    /// Writes `data` to `url` with mode 0600 via a temporary file and a rename.
    public static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]
        )
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        guard
            FileManager.default.createFile(
                atPath: temporary.path, contents: nil, attributes: [.posixPermissions: 0o600])
        else { throw CocoaError(.fileWriteUnknown) }
        let handle = try FileHandle(forWritingTo: temporary)
        try handle.write(contentsOf: data)
        try handle.synchronize()
        try handle.close()
        guard rename(temporary.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
    }

    /// The secret in `url`, or a new one of `count` random bytes written there with mode 0600.
    public static func loadOrCreate(at url: URL, count: Int, random: any RandomSource) throws -> Data {
        if let data = try? Data(contentsOf: url), data.count == count { return data }
        let data = Data(random.bytes(count: count))
        try write(data, to: url)
        return data
    }
}

/// Encrypts and decrypts contact details with AES-256-GCM. A ciphertext reads `v1.<key id>.<base64>`; the
/// record's id is bound as associated data, so a ciphertext copied onto another row does not open.
public struct ContactCipher: Sendable {
    public let ring: ContactKeyRing

    public init(ring: ContactKeyRing) {
        self.ring = ring
    }

    /// Why a ciphertext could not be opened.
    public enum Error: Swift.Error, Equatable {
        case malformed
        case unknownKey(String)
        case authenticationFailed
    }

    /// Encrypts `contact` under the active key, bound to `recordID`.
    public func seal(_ contact: ContactDetails, recordID: String) throws -> String {
        try seal(bytes: Data(contact.canonicalJSON().utf8), recordID: recordID)
    }

    /// Encrypts other personal or secret data (a staff member's TOTP secret) the same way.
    public func seal(bytes plaintext: Data, recordID: String) throws -> String {
        let key = ring.active
        let box = try AES.GCM.seal(plaintext, using: key.key, authenticating: Data(recordID.utf8))
        return "v1.\(key.id).\(box.combined!.base64EncodedString())"
    }

    /// The id of the key that made `ciphertext`.
    public static func keyID(of ciphertext: String) -> String? {
        let parts = ciphertext.split(separator: ".", maxSplits: 2)
        return parts.count == 3 && parts[0] == "v1" ? String(parts[1]) : nil
    }

    /// Decrypts a ciphertext made by `seal` for `recordID`.
    public func open(_ ciphertext: String, recordID: String) throws -> ContactDetails {
        let plaintext = try openBytes(ciphertext, recordID: recordID)
        do {
            return try JSONDecoder().decode(ContactDetails.self, from: plaintext)
        } catch {
            throw Error.authenticationFailed
        }
    }

    /// Decrypts a ciphertext made by `seal(bytes:recordID:)`.
    public func openBytes(_ ciphertext: String, recordID: String) throws -> Data {
        let parts = ciphertext.split(separator: ".", maxSplits: 2)
        guard parts.count == 3, parts[0] == "v1", let combined = Data(base64Encoded: String(parts[2])) else {
            throw Error.malformed
        }
        guard let key = ring.keys.first(where: { $0.id == parts[1] }) else { throw Error.unknownKey(String(parts[1])) }
        do {
            let box = try AES.GCM.SealedBox(combined: combined)
            return try AES.GCM.open(box, using: key.key, authenticating: Data(recordID.utf8))
        } catch {
            throw Error.authenticationFailed
        }
    }
}
