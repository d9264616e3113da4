import AttestCore
import AttestPersistence
import Foundation
import Vapor

/// `attest evidence history ID`: an evidence item, its fingerprints and its custody history, for operators and
/// auditors (staff see the same in the case file).
struct EvidenceCommand: AsyncCommandGroup {
    var help: String { "Inspect stored evidence." }
    var commands: [String: any AnyAsyncCommand] { ["history": EvidenceHistoryCommand()] }
    var defaultCommand: (any AnyAsyncCommand)? { nil }
}

struct EvidenceHistoryCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "id", help: "The evidence item's id (the UUID after `evidence:` in its custody entries).")
        var id: String
    }

    struct NotFound: Error, CustomStringConvertible {
        var id: String
        var description: String { "no evidence item \(id)" }
    }

    var help: String { "Show an evidence item's SHA-256, SHA-512, size, type and every custody entry naming it." }

    func run(using context: CommandContext, signature: Signature) async throws {
        for line in try await Self.lines(context.application.attest, id: signature.id) {
            context.console.output(line.consoleText(.plain))
        }
    }

    static func lines(_ services: AttestServices, id: String) async throws -> [String] {
        guard let uuid = UUID(uuidString: id),
            let item = try await services.store.evidenceItem(id: Identifier(uuid))
        else { throw NotFound(id: id) }
        var lines = [
            "evidence:\(item.id)", "  sha256    \(item.sha256)", "  sha512    \(item.sha512)",
            "  size      \(item.size) bytes", "  type      \(item.mediaType) (detected from content)",
            "  source    \(item.source.rawValue)", "  received  \(RFC3339.string(from: item.receivedAt))",
            "custody history:",
        ]
        for (index, entry) in try await services.store.custodyHistory(of: item.recordID) {
            lines.append("  \(index)  \(entry)")
        }
        return lines
    }
}
