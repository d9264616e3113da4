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
        let services = context.application.attest
        var ring = services.store.cipher.ring
        if ring.fileURL != nil {
            try ring.addKey(random: services.random, now: services.clock.now())
        } else if ring.keys.count < 2 {
            throw ContactKeyRing.Error.rotationNeedsKeyFile
        }
        let rewritten = try await services.store.reencryptContacts(
            with: ContactCipher(ring: ring), now: services.clock.now()
        )
        context.console.print("Active contact key: \(ring.activeID). Re-encrypted \(rewritten) contact record(s).")
    }
}
