import Foundation
import Testing

@testable import AttestLedger

@Suite("Tiles (C2SP tlog-tiles) and offline proofs (tlog-proof)")
struct TileTests {
    @Test(
        "Tile paths split the index into x-prefixed groups of three digits",
        arguments: [
            (Tile(level: 0, index: 1_234_067, width: 256), "tile/0/x001/x234/067"),
            (Tile(level: 0, index: 5, width: 256), "tile/0/005"),
            (Tile(level: 0, index: 273, width: 112), "tile/0/273.p/112"),
            (Tile(level: nil, index: 0, width: 8), "tile/entries/000.p/8"),
            (Tile(level: 2, index: 1_000, width: 1), "tile/2/x001/000.p/1"),
        ])
    func paths(tile: Tile, path: String) throws {
        #expect(tile.path == path)
        let components = path.split(separator: "/").dropFirst().map { $0 }
        #expect(Tile(components: components) == tile)
    }

    @Test(
        "Malformed tile paths are refused",
        arguments: [
            "0", "0/5", "0/0005", "64/000", "-1/000", "0/x000/005", "0/001.p/0", "0/001.p/256", "0/001.p/07",
            "0/001/x002",
            "0/x1000/000", "entries/abc", "0/001.p",
        ])
    func malformedPaths(path: String) {
        #expect(Tile(components: path.split(separator: "/", omittingEmptySubsequences: false)) == nil)
    }

    @Test("The tiles of a 70,000-entry log are the spec's, and of 256 and 8 entries too")
    func tilesForSizes() {
        let tiles70000 = Tile.all(forTreeOfSize: 70_000).filter { $0.level != nil }.map(\.path)
        #expect(tiles70000.count == 273 + 1 + 2 + 1)
        #expect(tiles70000.contains("tile/0/273.p/112"))
        #expect(tiles70000.contains("tile/1/000") && tiles70000.contains("tile/1/001.p/17"))
        #expect(tiles70000.contains("tile/2/000.p/1"))
        #expect(Tile.all(forTreeOfSize: 256).map(\.path) == ["tile/0/000", "tile/entries/000", "tile/1/000.p/1"])
        #expect(Tile.all(forTreeOfSize: 8).map(\.path) == ["tile/0/000.p/8", "tile/entries/000.p/8"])
    }

    @Test("A tile exists once the tree covers it; partial tiles of earlier sizes stay available")
    func existence() {
        #expect(Tile(level: 0, index: 0, width: 256).exists(inTreeOfSize: 256))
        #expect(!Tile(level: 0, index: 0, width: 256).exists(inTreeOfSize: 255))
        #expect(Tile(level: 0, index: 0, width: 8).exists(inTreeOfSize: 300))
        #expect(!Tile(level: 0, index: 1, width: 45).exists(inTreeOfSize: 300))
        #expect(Tile(level: 1, index: 0, width: 1).exists(inTreeOfSize: 300))
        #expect(!Tile(level: 1, index: 0, width: 2).exists(inTreeOfSize: 300))
        #expect(!Tile(level: 0, index: .max, width: 256).exists(inTreeOfSize: .max))
    }

    @Test("Entry bundles are length-prefixed entries")
    func bundle() {
        let data = Tile.bundle([Data("ab".utf8), Data(), Data(repeating: 1, count: 300)])
        #expect(Array(data.prefix(6)) == [0, 2, 0x61, 0x62, 0, 0])
        #expect(Array(data[6..<8]) == [1, 44])
        #expect(data.count == 4 + 2 + 302)
    }

    @Test("A tlog-proof file round-trips and verifies; a changed path element or leaf does not")
    func tlogProof() throws {
        let signer = try NoteSigner(name: "example.org/log", seed: Data(0..<32))
        let tree = ReferenceTree(size: 11)
        let checkpoint = try Checkpoint(origin: signer.name, size: 11, root: tree.root(size: 11)).signed(by: signer)
        let path = try storedInclusionProof(index: 6, size: 11, nodes: tree.storedNodes)
        let proof = TlogProof(index: 6, path: path, checkpoint: checkpoint)
        #expect(proof.text.hasPrefix("c2sp.org/tlog-proof@v1\nindex 6\n\(path[0].base64)\n"))
        #expect(proof.text.hasSuffix("\n\n" + checkpoint))
        let parsed = try TlogProof(text: proof.text)
        #expect(parsed == proof)
        #expect(try parsed.verify(leafHash: tree.leaves[6], verifier: signer.verifier).size == 11)
        #expect(throws: (any Error).self) { try parsed.verify(leafHash: tree.leaves[5], verifier: signer.verifier) }
        var changed = parsed
        changed.path[1] = changed.path[1].flippingBit(3)
        #expect(throws: (any Error).self) { try changed.verify(leafHash: tree.leaves[6], verifier: signer.verifier) }
    }
}
