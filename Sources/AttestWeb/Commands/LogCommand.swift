import AttestCore
import AttestLedger
import AttestPersistence
import Foundation
import Vapor

/// `attest log verify` and `attest log export DIR`.
struct LogCommand: AsyncCommandGroup {
    var help: String { "Verify or export the custody log." }
    var commands: [String: any AnyAsyncCommand] { ["verify": VerifyLogCommand(), "export": ExportLogCommand()] }
    var defaultCommand: (any AnyAsyncCommand)? { nil }
}

/// The verification found discrepancies (already printed).
struct LogVerificationFailed: Error, CustomStringConvertible {
    var count: Int
    var description: String { "the custody log does not verify: \(count) discrepanc\(count == 1 ? "y" : "ies")" }
}

struct VerifyLogCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Flag(name: "evidence-files", help: "Also read back and re-hash every stored evidence file (reads every byte).")
        var evidenceFiles: Bool
    }

    var help: String {
        "Recompute the custody log from its entries; check every checkpoint, stored hash and covered record."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let console = context.console
        let outcome = try await Self.verify(context.application.attest, evidenceFiles: signature.evidenceFiles) {
            done, total in
            console.output("Verified \(done) of \(total) entries…".consoleText(.plain))
        }
        guard outcome.isClean else {
            for discrepancy in outcome.discrepancies { console.error("✗ \(discrepancy)") }
            throw LogVerificationFailed(count: outcome.discrepancies.count)
        }
        console.success(
            "✓ The custody log verifies: \(outcome.entries) entries, \(outcome.checkpoints) checkpoint(s), "
                + "\(outcome.recordsChecked) record(s) re-hashed.")
    }

    static func verify(
        _ services: AttestServices, evidenceFiles: Bool = false,
        progress: @escaping @Sendable (UInt64, UInt64) -> Void = { _, _ in }
    ) async throws -> LogVerifier.Outcome {
        // Progress every ~5% (and at the end) on long logs; silence on short ones.
        try await LogVerifier(ledger: services.ledger, evidenceFiles: evidenceFiles ? services.uploads.blobs : nil)
            .verify { done, total in
                let step = max(total / 20, 50_000)
                if total >= 50_000, done % step < 8_192 || done == total { progress(done, total) }
            }
    }
}

struct ExportLogCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "directory", help: "Where to write the tile directory (created if absent).")
        var directory: String
    }

    var help: String {
        "Write the custody log as a static c2sp.org/tlog-tiles directory (tiles, entry bundles, checkpoint, vkey)."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let directory = URL(fileURLWithPath: signature.directory, isDirectory: true)
        let (checkpoint, files) = try await Self.export(context.application.attest, to: directory)
        context.console.success(
            "✓ Exported \(checkpoint.size) entries (\(files) files) to \(directory.path); verifier key in vkey.")
    }

    /// Publishes a checkpoint of everything appended so far, then exports the log at it.
    static func export(_ services: AttestServices, to directory: URL) async throws -> (PublishedCheckpoint, Int) {
        guard let checkpoint = try await services.ledger.publishIfDue(now: services.clock.now(), policy: .always)
        else { throw CustodyLedger.Error.noCheckpoint }
        let files = try await LogExporter(ledger: services.ledger).export(checkpoint: checkpoint, to: directory)
        return (checkpoint, files)
    }
}
