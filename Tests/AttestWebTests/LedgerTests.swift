import AttestCore
import AttestLedger
import AttestPersistence
import AttestTestSupport
import FluentSQL
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import AttestWeb

@Suite("Custody log endpoints, Integrity page and commands")
struct LedgerTests {
    /// Files `count` reports through the API and publishes a checkpoint.
    func filed(_ harness: TestHarness, count: Int) async throws -> [APIReceiptBody] {
        let api = APIClient(app: harness.app)
        var receipts: [APIReceiptBody] = []
        for _ in 0..<count {
            receipts.append(try await api.post("/api/v1/reports", json: validReportJSON).decoded(APIReceiptBody.self))
        }
        try await harness.app.attest.ledger.publishIfDue(now: harness.clock.now(), policy: .always)
        return receipts
    }

    func lines(_ response: TestingHTTPResponse) -> [TreeHash] {
        response.body.string.split(separator: "\n").compactMap { TreeHash(base64: String($0)) }
    }

    @Test("The checkpoint verifies under the published key; proofs from the endpoints verify against it")
    func proofsVerify() async throws {
        try await withAttest { harness in
            _ = try await filed(harness, count: 6)
            let api = APIClient(app: harness.app)
            let vkey = try await api.get("/log/vkey")
            #expect(vkey.headers.contentType?.description == "text/plain; charset=utf-8")
            let verifier = try NoteVerifier(vkey: vkey.body.string.trimmingCharacters(in: .newlines))
            #expect(verifier.name == "attest.test/log")
            let note = try await api.get("/log/checkpoint")
            let checkpoint = try Checkpoint.open(Data(note.body.string.utf8), verifier: verifier)
            #expect(checkpoint.size == 7 && checkpoint.origin == "attest.test/log")

            // Leaf hashes from the public level-0 tile (partial, width 7).
            let tile = try await api.get("/log/tile/0/000.p/7")
            #expect(tile.status == .ok && tile.body.readableBytes == 7 * 32)
            let leaves = Array(tile.body.readableBytesView).chunked(32).map { TreeHash($0)! }
            for index in 0..<7 {
                let proof = try await api.get("/log/proof/inclusion?index=\(index)&size=7")
                #expect(proof.status == .ok)
                try Merkle.verifyInclusion(
                    index: UInt64(index), size: 7, leafHash: leaves[index], proof: lines(proof), root: checkpoint.root)
            }
            let first = try Checkpoint.open(
                Data(try await api.get("/log/checkpoint?size=1").body.string.utf8), verifier: verifier)
            #expect(first.size == 1 && first.root == leaves[0])
            let consistency = try await api.get("/log/proof/consistency?old=1&new=7")
            try Merkle.verifyConsistency(
                old: 1, new: 7, oldRoot: first.root, newRoot: checkpoint.root, proof: lines(consistency))
        }
    }

    @Test(
        "Bad proof and tile requests get a clear plain-text 4xx",
        arguments: [
            ("/log/proof/inclusion?index=abc&size=2", 400, "“index”"),
            ("/log/proof/inclusion?size=2", 400, "“index”"),
            ("/log/proof/inclusion?index=-1&size=2", 400, "“index”"),
            ("/log/proof/inclusion?index=1&size=0", 400, "“size”"),
            ("/log/proof/inclusion?index=01&size=2", 400, "“index”"),
            ("/log/proof/inclusion?index=5&size=2", 400, "index must be less than size"),
            ("/log/proof/inclusion?index=0&size=99", 400, "larger than the latest published checkpoint"),
            ("/log/proof/inclusion?index=0&size=99999999999999999999999", 400, "“size”"),
            ("/log/proof/consistency?old=2&new=1", 400, "old must not be greater than new"),
            ("/log/proof/consistency?old=0&new=2", 400, "“old”"),
            ("/log/proof/consistency?old=1", 400, "“new”"),
            ("/log/tile/entries/000.p/2", 403, "not public"),
            ("/log/tile/0/0000", 404, "Not a tile path"),
            ("/log/tile/0/x000/000", 404, "Not a tile path"),
            ("/log/tile/0/001", 404, "latest checkpoint covers 2 entries"),
            ("/log/tile/0/000.p/3", 404, "latest checkpoint covers 2 entries"),
            ("/log/tile/1/000.p/1", 404, "latest checkpoint covers 2 entries"),
            ("/log/checkpoint?size=7", 404, "No checkpoint of that size"),
            ("/log/checkpoint?size=x", 400, "“size”"),
        ])
    func badRequests(path: String, status: Int, message: String) async throws {
        try await withAttest { harness in
            _ = try await filed(harness, count: 1)
            let response = try await APIClient(app: harness.app).get(path)
            #expect(Int(response.status.code) == status, "\(path)")
            #expect(response.body.string.contains(message), "\(path): \(response.body.string)")
            #expect(response.headers.contentType?.subType == "plain")
        }
    }

    @Test("The Integrity page explains the log in the reader's language and shows the verifier key")
    func integrityPage() async throws {
        try await withAttest { harness in
            let api = APIClient(app: harness.app)
            let vkey = harness.app.attest.ledger.verifier.vkey
            let english = try await api.get("/integrity")
            #expect(english.status == .ok)
            #expect(english.body.string.contains(vkey))
            #expect(english.body.string.contains("What the log proves"))
            let spanish = try await api.get("/integrity", headers: ["Accept-Language": "es"])
            #expect(spanish.body.string.contains("Lo que el registro demuestra") && spanish.body.string.contains(vkey))
        }
    }

    @Test("At /follow-up a reporter downloads a tlog-proof of their report that verifies offline")
    func followUpProof() async throws {
        try await withAttest { harness in
            let receipt = try await harness.app.attest.submitReport.execute(.init(submission: .minimal()))
            var browser = Browser(harness.app)
            let status = try await browser.followUp(receipt)
            #expect(status.body.string.contains("id=\"status-custody-index\">\(receipt.custody.index)<"))
            // No checkpoint covers the report yet: the download publishes one.
            #expect(try await harness.app.attest.ledger.latestCheckpoint()?.size == 1)
            let download = try await browser.get("/follow-up/proof")
            #expect(download.status == .ok)
            #expect(
                download.headers.first(name: .contentDisposition)
                    == "attachment; filename=\"\(receipt.reference).tlog-proof\"")
            let proof = try TlogProof(text: download.body.string)
            #expect(proof.index == UInt64(receipt.custody.index))
            let leaf = try #require(TreeHash(hex: receipt.custody.entryHash))
            let checkpoint = try proof.verify(leafHash: leaf, verifier: harness.app.attest.ledger.verifier)
            #expect(checkpoint.size == 2)
            #expect(throws: (any Error).self) {
                try proof.verify(leafHash: leaf.flippingBit(1), verifier: harness.app.attest.ledger.verifier)
            }
            var stranger = Browser(harness.app)
            let refused = try await stranger.get("/follow-up/proof")
            #expect(refused.status == .seeOther, "no session, no proof")
        }
    }

    @Test("attest log verify passes on a clean log and fails, naming the record, on a tampered one")
    func verifyCommand() async throws {
        try await withAttest { harness in
            _ = try await filed(harness, count: 2)
            var context = CommandContext(console: harness.app.console, input: CommandInput(arguments: ["attest"]))
            context.application = harness.app
            var arguments = CommandInput(arguments: ["attest", "--evidence-files"])
            let signature = try VerifyLogCommand.Signature(from: &arguments)
            try await VerifyLogCommand().run(using: context, signature: signature)
            let sql = try #require(harness.app.db as? any SQLDatabase)
            try await sql.raw("UPDATE reports SET content_json = REPLACE(content_json, 'pushed', 'touched')").run()
            await #expect(throws: LogVerificationFailed.self) {
                try await VerifyLogCommand().run(using: context, signature: signature)
            }
            let outcome = try await VerifyLogCommand.verify(harness.app.attest)
            #expect(outcome.discrepancies.count == 2)
            #expect(outcome.discrepancies.allSatisfy { $0.contains("report:R-2026-00000") })
        }
    }

    @Test("attest log export writes a tile directory whose tiles rebuild the signed root")
    func exportCommand() async throws {
        try await withAttest { harness in
            _ = try await filed(harness, count: 3)
            let directory = harness.dataDirectory.appendingPathComponent("export")
            let (checkpoint, files) = try await ExportLogCommand.export(harness.app.attest, to: directory)
            #expect(checkpoint.size == 4 && files == 4)
            let vkey = try String(contentsOf: directory.appendingPathComponent("vkey"), encoding: .utf8)
            let verifier = try NoteVerifier(vkey: vkey.trimmingCharacters(in: .newlines))
            let note = try Data(contentsOf: directory.appendingPathComponent("checkpoint"))
            let opened = try Checkpoint.open(note, verifier: verifier)
            let tile = try Data(contentsOf: directory.appendingPathComponent("tile/0/000.p/4"))
            var frontier = MerkleFrontier()
            for chunk in Array(tile).chunked(32) { frontier.append(TreeHash(chunk)!) }
            #expect(frontier.root == opened.root)
            let bundle = try Data(contentsOf: directory.appendingPathComponent("tile/entries/000.p/4"))
            var entries: [Data] = []
            var offset = 0
            while offset < bundle.count {
                let length = Int(bundle[offset]) << 8 | Int(bundle[offset + 1])
                entries.append(bundle[(offset + 2)..<(offset + 2 + length)])
                offset += 2 + length
            }
            #expect(entries.map { TreeHash.leaf($0) } == Array(tile).chunked(32).map { TreeHash($0)! })
        }
    }
}

extension Array {
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
