import AttestCore
import AttestLedger
import AttestPersistence
import Vapor

/// Errors of the public log endpoints.
enum LedgerRequestError: Error, Equatable {
    /// A query parameter is missing or not a whole number in range.
    case invalidParameter(String)
    /// The proof asks about a tree larger than the latest published checkpoint.
    case beyondCheckpoint(requested: UInt64, published: UInt64)
    /// The indexes are not ordered as the proof requires.
    case invalidRange(String)
    /// The tile path is malformed.
    case invalidTilePath
    /// Entry bundles describe case activity: staff and exports only.
    case entriesNotPublic
    /// No checkpoint of that size was published.
    case noSuchCheckpoint
    /// The tile is beyond the latest checkpoint.
    case tileNotPublished(published: UInt64)
}

/// `/log/…`: the custody log for verifiers (c2sp.org/tlog-tiles layout: checkpoint, hash tiles) plus
/// inclusion and consistency proofs, and `/integrity`, the plain-language page for auditors and journalists.
struct LogController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let log = routes.grouped("log")
        log.get("checkpoint", use: checkpoint)
        log.get("vkey", use: vkey)
        log.get("tile", "**", use: tile)
        log.get("proof", "inclusion", use: inclusionProof)
        log.get("proof", "consistency", use: consistencyProof)
        routes.get("integrity", use: integrity)
    }

    static func text(_ body: String, cache: String) -> Response {
        let response = Response(status: .ok, body: .init(string: body))
        response.headers.contentType = HTTPMediaType(type: "text", subType: "plain", parameters: ["charset": "utf-8"])
        response.headers.replaceOrAdd(name: .cacheControl, value: cache)
        return response
    }

    /// The latest checkpoint (or, with `?size=`, an earlier one), verbatim.
    func checkpoint(request: Request) async throws -> Response {
        let ledger = request.attest.ledger
        if request.query[String.self, at: "size"] != nil {
            let size = try Self.parameter("size", in: request, minimum: 1)
            guard let published = try await ledger.checkpoint(size: size) else {
                throw LedgerRequestError.noSuchCheckpoint
            }
            return Self.text(published.note, cache: "public, max-age=31536000, immutable")
        }
        guard let published = try await ledger.latestCheckpoint() else { throw LedgerRequestError.noSuchCheckpoint }
        return Self.text(published.note, cache: "public, max-age=5")
    }

    func vkey(request: Request) async throws -> Response {
        Self.text(request.attest.ledger.verifier.vkey + "\n", cache: "public, max-age=3600")
    }

    /// Hash tiles up to the latest checkpoint; entry bundles are refused.
    func tile(request: Request) async throws -> Response {
        let components = request.parameters.getCatchall().map { Substring($0) }
        guard let tile = Tile(components: components) else { throw LedgerRequestError.invalidTilePath }
        guard tile.level != nil else { throw LedgerRequestError.entriesNotPublic }
        let size = try await request.attest.ledger.latestCheckpoint()?.size ?? 0
        guard let data = try await request.attest.ledger.hashTile(tile, size: size) else {
            throw LedgerRequestError.tileNotPublished(published: size)
        }
        let response = Response(status: .ok, body: .init(data: data))
        response.headers.contentType = .binary
        response.headers.replaceOrAdd(
            name: .cacheControl,
            value: tile.width == Tile.fullWidth ? "public, max-age=31536000, immutable" : "public, max-age=5")
        return response
    }

    /// `?index=&size=` → the inclusion path, one base64 hash per line, leaf sibling first.
    func inclusionProof(request: Request) async throws -> Response {
        let index = try Self.parameter("index", in: request, minimum: 0)
        let size = try await Self.publishedSize(try Self.parameter("size", in: request, minimum: 1), request: request)
        guard index < size else { throw LedgerRequestError.invalidRange("index must be less than size") }
        let proof = try await request.attest.ledger.inclusionProof(index: index, size: size)
        return Self.text(proof.map { $0.base64 + "\n" }.joined(), cache: "public, max-age=31536000, immutable")
    }

    /// `?old=&new=` → the consistency proof, one base64 hash per line.
    func consistencyProof(request: Request) async throws -> Response {
        let old = try Self.parameter("old", in: request, minimum: 1)
        let new = try await Self.publishedSize(try Self.parameter("new", in: request, minimum: 1), request: request)
        guard old <= new else { throw LedgerRequestError.invalidRange("old must not be greater than new") }
        let proof = try await request.attest.ledger.consistencyProof(old: old, new: new)
        return Self.text(proof.map { $0.base64 + "\n" }.joined(), cache: "public, max-age=31536000, immutable")
    }

    static func parameter(_ name: String, in request: Request, minimum: UInt64) throws -> UInt64 {
        guard let text = request.query[String.self, at: name], let value = UInt64(text), String(value) == text,
            value >= minimum, value <= UInt64(Int64.max)
        else { throw LedgerRequestError.invalidParameter(name) }
        return value
    }

    /// Proofs are served only against published checkpoints.
    static func publishedSize(_ size: UInt64, request: Request) async throws -> UInt64 {
        let published = try await request.attest.ledger.latestCheckpoint()?.size ?? 0
        guard size <= published else {
            throw LedgerRequestError.beyondCheckpoint(requested: size, published: published)
        }
        return size
    }

    struct IntegrityContent: Encodable {
        var vkey: String
        var origin: String
        var size: String
        var root: String
        var checkpointPath: String
        var vkeyPath: String
        var tilesPath: String
    }

    func integrity(request: Request) async throws -> View {
        let ledger = request.attest.ledger
        let latest = try await ledger.latestCheckpoint()
        let base = request.attest.configuration.publicURL
        return try await Page.render(
            "ledger/integrity", title: request.attest.catalogs.text("title_integrity", language: request.language),
            content: IntegrityContent(
                vkey: ledger.verifier.vkey, origin: ledger.origin, size: latest.map { String($0.size) } ?? "0",
                root: latest?.root.base64 ?? "", checkpointPath: base + Paths.logCheckpoint,
                vkeyPath: base + Paths.logVerifierKey, tilesPath: base + "/log"
            ),
            for: request
        )
    }
}

/// Publishes checkpoints in the background: every `policy.entries` new entries or `policy.seconds` seconds,
/// checking once a second. Several processes may run it against one PostgreSQL database.
final class CheckpointPublisher: LifecycleHandler, @unchecked Sendable {
    private var task: Task<Void, Never>?
    let policy: CustodyLedger.Policy

    init(policy: CustodyLedger.Policy) {
        self.policy = policy
    }

    func didBootAsync(_ application: Application) async throws {
        let services = application.attest
        let logger = application.logger
        let policy = policy
        task = Task {
            let interval = max(0.05, min(1, policy.seconds))
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(interval))
                do {
                    try await services.ledger.publishIfDue(now: services.clock.now(), policy: policy)
                } catch {
                    logger.warning("checkpoint not published: \(String(reflecting: type(of: error)))")
                }
            }
        }
    }

    func shutdownAsync(_ application: Application) async {
        task?.cancel()
        await task?.value
    }
}
