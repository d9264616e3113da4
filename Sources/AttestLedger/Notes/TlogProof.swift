import Foundation

/// An offline proof that one entry is in the log (c2sp.org/tlog-proof@v1): its index, the inclusion path and
/// the signed checkpoint it leads to. Saved as a `.tlog-proof` file; verifying it needs the entry's bytes
/// (or its leaf hash) and the log's verifier key.
public struct TlogProof: Sendable, Equatable {
    public var index: UInt64
    /// Optional extra data (Attest leaves it out).
    public var extra: Data?
    /// Inclusion path, leaf sibling first.
    public var path: [TreeHash]
    /// The signed checkpoint note, verbatim.
    public var checkpoint: String

    public static let header = "c2sp.org/tlog-proof@v1"

    public init(index: UInt64, extra: Data? = nil, path: [TreeHash], checkpoint: String) {
        self.index = index
        self.extra = extra
        self.path = path
        self.checkpoint = checkpoint
    }

    /// The file's text.
    public var text: String {
        var lines = [Self.header]
        if let extra { lines.append("extra \(extra.base64EncodedString())") }
        lines.append("index \(index)")
        lines += path.map(\.base64)
        return lines.joined(separator: "\n") + "\n\n" + checkpoint
    }

    /// Parses a proof file.
    public init(text: String) throws(NoteError) {
        guard let split = text.range(of: "\n\n") else { throw .malformedNote("no blank line before the checkpoint") }
        var lines = text[..<split.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)[...]
        guard lines.popFirst() == Substring(Self.header) else { throw .malformedNote("not a c2sp.org/tlog-proof@v1") }
        if let line = lines.first, line.hasPrefix("extra ") {
            guard let extra = Data(base64Encoded: String(line.dropFirst(6))) else { throw .malformedNote("extra") }
            self.extra = extra
            lines.removeFirst()
        }
        guard let line = lines.popFirst(), line.hasPrefix("index "), let index = UInt64(line.dropFirst(6)),
            String(index) == line.dropFirst(6)
        else { throw .malformedNote("no index line") }
        self.index = index
        var path: [TreeHash] = []
        for line in lines {
            guard let hash = TreeHash(base64: String(line)) else { throw .malformedNote("a path hash is not 32 bytes") }
            path.append(hash)
        }
        self.path = path
        checkpoint = String(text[split.upperBound...])
    }

    /// Verifies that the entry with `leafHash` is at `index` in the checkpoint, signed by `verifier`.
    public func verify(leafHash: TreeHash, verifier: NoteVerifier) throws -> Checkpoint {
        let checkpoint = try Checkpoint.open(Data(self.checkpoint.utf8), verifier: verifier)
        try Merkle.verifyInclusion(
            index: index, size: checkpoint.size, leafHash: leafHash, proof: path, root: checkpoint.root
        )
        return checkpoint
    }
}
