import AttestCore
import AttestPersistence
import Vapor

/// `attest keys rotate`: a new contact-encryption key becomes active and every stored contact is
/// re-encrypted under it in one transaction, recorded as `key.rotated` in the custody log.
struct KeysCommand: AsyncCommandGroup {
    var help: String { "Manage encryption keys." }
    var commands: [String: any AnyAsyncCommand] { ["rotate": RotateKeysCommand()] }
    var defaultCommand: (any AnyAsyncCommand)? { nil }
}

struct RotateKeysCommand: AsyncCommand {
    struct Signature: CommandSignature {}

    var help: String {
        "Make a new contact-encryption key active and re-encrypt every stored contact under it."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let (activeID, rewritten) = try await Self.rotate(context.application.attest)
        context.console.print("Active contact key: \(activeID). Re-encrypted \(rewritten) contact record(s).")
    }

    /// With a key file: adds a new key and makes it active. With a configured key: the configured key is
    /// already the new one and `ATTEST_CONTACT_KEY_PREVIOUS` opens the old ciphertexts. Either way every
    /// contact is then re-encrypted under the active key. Returns the active key id and the count rewritten.
    static func rotate(_ services: AttestServices) async throws -> (String, Int) {
        var ring = services.store.cipher.ring
        if ring.fileURL != nil {
            try ring.addKey(random: services.random, now: services.clock.now())
        } else if ring.keys.count < 2 {
            throw ContactKeyRing.Error.rotationNeedsKeyFile
        }
        let rewritten = try await services.store.reencryptContacts(
            with: ContactCipher(ring: ring), now: services.clock.now()
        )
        return (ring.activeID, rewritten)
    }
}
