import AttestLedger
import Foundation

/// Writes the custody log as a static c2sp.org/tlog-tiles directory that a third party can verify offline:
/// `tile/<L>/…` hash tiles, `tile/entries/…` entry bundles, `checkpoint` and `vkey`. Tiles and bundles are
/// written first and the checkpoint last, as the spec orders it, each file via a temporary name and a rename.
public struct LogExporter: Sendable {
    let ledger: CustodyLedger

    public init(ledger: CustodyLedger) {
        self.ledger = ledger
    }

    /// Exports the log at `checkpoint` into `directory`; returns the number of files written.
    @discardableResult
    public func export(
        checkpoint: PublishedCheckpoint, to directory: URL, progress: @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> Int {
        let tiles = Tile.all(forTreeOfSize: checkpoint.size)
        for (offset, tile) in tiles.enumerated() {
            let data =
                if tile.level == nil {
                    try await ledger.entryBundle(tile, size: checkpoint.size)
                } else {
                    try await ledger.hashTile(tile, size: checkpoint.size)
                }
            guard let data else { throw CustodyLedger.Error.beyondCheckpoint(requested: 0, published: checkpoint.size) }
            try Self.write(data, to: directory.appendingPathComponent(tile.path))
            if offset % 256 == 255 { progress(offset + 1, tiles.count) }
        }
        try Self.write(Data((ledger.verifier.vkey + "\n").utf8), to: directory.appendingPathComponent("vkey"))
        try Self.write(Data(checkpoint.note.utf8), to: directory.appendingPathComponent("checkpoint"))
        progress(tiles.count, tiles.count)
        return tiles.count + 2
    }

    private static func write(_ data: Data, to url: URL) throws {
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    }
}
