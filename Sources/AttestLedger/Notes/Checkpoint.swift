import Foundation

/// A c2sp.org/tlog-checkpoint body: exactly three lines, origin, tree size and root hash (base64). Attest
/// writes no extension lines and accepts none.
public struct Checkpoint: Sendable, Equatable {
    public var origin: String
    public var size: UInt64
    public var root: TreeHash

    public init(origin: String, size: UInt64, root: TreeHash) {
        self.origin = origin
        self.size = size
        self.root = root
    }

    /// Parses a checkpoint body (the text of a signed note).
    public init(text: String) throws(NoteError) {
        guard text.hasSuffix("\n") else { throw .malformedCheckpoint("the body must end in a newline") }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 3 else { throw .malformedCheckpoint("expected 3 lines, found \(lines.count)") }
        guard !lines[0].isEmpty else { throw .malformedCheckpoint("empty origin") }
        guard let size = UInt64(lines[1]), String(size) == lines[1] else {
            throw .malformedCheckpoint("the size is not a decimal number without leading zeros")
        }
        guard let root = TreeHash(base64: String(lines[2])) else {
            throw .malformedCheckpoint("the root is not the base64 of 32 bytes")
        }
        self.init(origin: String(lines[0]), size: size, root: root)
    }

    /// The note text: `origin\nsize\nroot\n`.
    public var text: String { "\(origin)\n\(size)\n\(root.base64)\n" }

    /// Signs the body as a signed note.
    public func signed(by signer: NoteSigner) throws -> String {
        try SignedNote.sign(text, with: [signer])
    }

    /// Opens a signed checkpoint note, verifying it under `verifier`, and parses its body.
    public static func open(_ note: some DataProtocol, verifier: NoteVerifier) throws(NoteError) -> Checkpoint {
        let opened = try SignedNote.open(note, verifiers: [verifier])
        let checkpoint = try Checkpoint(text: opened.text)
        return checkpoint
    }
}
