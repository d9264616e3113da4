import AttestCore
import AttestPersistence
import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Vapor

/// Why an upload request was refused (tus protocol errors; evidence rules are `EvidenceError`).
enum UploadError: Error, Equatable {
    /// `Tus-Resumable` is missing or names a version other than 1.0.0 (412).
    case unsupportedVersion
    /// No such upload, or it was terminated (404).
    case notFound
    /// The upload expired, or its content was refused and removed (410).
    case gone
    /// `Upload-Offset` is not where the upload stands (409).
    case offsetMismatch(current: Int64)
    /// Another request is writing this upload (409).
    case busy
    /// A header is missing or malformed (400); names it.
    case invalidHeader(String)
    /// The PATCH body is not `application/offset+octet-stream` (415).
    case wrongContentType
    /// `Upload-Checksum` did not match the chunk; the chunk was discarded (460).
    case checksumMismatch
    /// The chunk would go past `Upload-Length` (413); discarded.
    case beyondLength(length: Int64)
}

/// Receives uploads: part files in `<data>/uploads`, digests on the fly, checks on completion, sealing into the
/// evidence store, expiry and the orphan sweep.
final class UploadService: Sendable {
    let store: any UploadStore
    let blobs: any EvidenceBlobStore
    let limits: EvidenceLimits
    let directory: URL
    let pool: NIOThreadPool
    let metadata: MetadataQueue
    let logger: Logger
    private let registry: UploadRegistry
    /// Bytes handed to the thread pool at once: large enough that the two hashes and the write amortise their
    /// dispatch, small enough that memory stays flat.
    static let blockSize = 1 << 20

    init(
        store: any UploadStore, blobs: any EvidenceBlobStore, limits: EvidenceLimits, directory: URL,
        pool: NIOThreadPool, metadata: MetadataExtractor, logger: Logger, clock: any Clock = SystemClock()
    ) throws {
        self.store = store
        self.blobs = blobs
        self.limits = limits
        self.directory = directory
        self.pool = pool
        self.metadata = MetadataQueue(extractor: metadata)
        registry = UploadRegistry(promiseLapseSeconds: limits.openPromiseSeconds, clock: clock)
        self.logger = logger
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    func partURL(_ id: String) -> URL { directory.appendingPathComponent("\(id).part") }

    /// A fresh upload id: 128 random bits, hex.
    static func newID(random: any RandomSource) -> String { ContentHash.hex(random.bytes(count: 16)) }

    /// Whether `id` could be an upload id (checked before it names a file).
    static func isWellFormed(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Free bytes to assume instead of asking the filesystem (tests: the disk's real free space moves with
    /// everything else running on it).
    let freeBytesOverride = NIOLockedValueBox<Int64?>(nil)

    /// Free bytes on the data directory's filesystem.
    func freeBytes() -> Int64? {
        if let override = freeBytesOverride.withLockedValue({ $0 }) { return override }
        var info = statvfs()
        guard statvfs(directory.path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// Registers a new upload of `length` bytes.
    /// Registers a new upload of `length` bytes for `client` (the rate limiter's key). The length is promised
    /// against the free-space floor together with every open upload's unwritten bytes, and the client's open
    /// uploads may declare at most `openBytesPerClientMax`.
    func create(
        length: Int64, senderSHA256: String?, metadata: String? = nil, source: EvidenceSource, now: Date,
        random: any RandomSource, client: [UInt8]? = nil
    ) async throws -> StoredUpload {
        guard length <= limits.maxFileBytes else { throw EvidenceError.tooLarge(limit: limits.maxFileBytes) }
        var upload = StoredUpload(
            id: Self.newID(random: random), length: length, source: source, senderSHA256: senderSHA256,
            createdAt: now, expiresAt: now.addingTimeInterval(TimeInterval(limits.uploadExpirySeconds)))
        upload.metadata = metadata
        try await registry.reserve(
            upload.id, length: length, client: client, free: freeBytes(), floor: limits.freeDiskFloorBytes,
            perClient: limits.openBytesPerClientMax)
        do {
            try await store.transaction { [upload] in try await $0.uploads.insert(upload) }
            _ = try PartFile.create(at: partURL(upload.id))
        } catch {
            await registry.releaseReservation(upload.id)
            throw error
        }
        return upload
    }

    /// Whether `count` more bytes may be written now: free space minus every promise still stays above the
    /// floor (other writers, the database among them, may have used space promised to uploads).
    func hasRoom(for count: Int64, promised: Bool) async -> Bool {
        guard let free = freeBytes() else { return true }
        let outstanding = await registry.outstanding
        return free - outstanding - (promised ? 0 : count) >= limits.freeDiskFloorBytes
    }

    /// The upload with `id` as a client may see it: 404 when unknown, 410 when expired or refused.
    func live(_ id: String, now: Date) async throws -> StoredUpload {
        guard Self.isWellFormed(id), let upload = try await store.upload(id: id) else { throw UploadError.notFound }
        switch upload.state {
        case .expired, .rejected: throw UploadError.gone
        case .open where upload.expiresAt <= now: throw UploadError.gone
        default: return upload
        }
    }

    /// The upload's current offset: the part file's size while open, its length once complete.
    func offset(of upload: StoredUpload) -> Int64 {
        upload.state == .open ? (PartFile.size(at: partURL(upload.id)) ?? 0) : upload.length
    }

    /// Appends one PATCH body at `offset`; returns the new offset. Everything written is fsynced before this
    /// returns, so an acknowledged offset survives a crash. A chunk that fails its checksum or would exceed the
    /// length is cut off again. When the last byte arrives the upload is completed (see `complete`).
    func append<Body: AsyncSequence & Sendable>(
        to upload: StoredUpload, offset: Int64, body: Body, checksum: (algorithm: String, digest: [UInt8])?,
        now: Date
    ) async throws -> Int64 where Body.Element == ByteBuffer {
        guard upload.state == .open else {
            // Already complete: an empty retry at the end is answered, anything else is a conflict.
            guard offset == upload.length else { throw UploadError.offsetMismatch(current: upload.length) }
            return upload.length
        }
        guard await registry.acquire(upload.id) else { throw UploadError.busy }
        defer { Task { await registry.release(upload.id) } }
        let url = partURL(upload.id)
        if PartFile.size(at: url) == nil, offset == 0 { _ = try PartFile.create(at: url) }
        let file = try PartFile.openExisting(at: url)
        let start = try file.size()
        guard offset == start else { throw UploadError.offsetMismatch(current: start) }
        await registry.touch(upload.id)
        if start < upload.length, await !hasRoom(for: upload.length - start, promised: true) {
            throw EvidenceError.diskFull
        }
        var digests = await registry.digests(upload.id)
        if digests?.count != start { digests = try await UploadDigests.rebuild(from: url, pool: pool) }
        let running = digests!
        let before = running.snapshot()
        let writer = BlockWriter(
            file: file, digests: running, pool: pool, position: start,
            chunkHash: checksum.map { ChunkHash(algorithm: $0.algorithm) })
        do {
            for try await var buffer in body {
                guard writer.end + Int64(buffer.readableBytes) <= upload.length else {
                    throw UploadError.beyondLength(length: upload.length)
                }
                try await writer.add(&buffer)
            }
            try await writer.flush()
            if let checksum, writer.chunkHash?.finalize() != checksum.digest { throw UploadError.checksumMismatch }
        } catch let error as UploadError {
            // A refused chunk leaves no trace: cut the file back and forget its bytes.
            try? await writer.settle()
            try file.truncate(to: start)
            try file.sync()
            running.restore(before)
            await registry.setDigests(running, for: upload.id)
            throw error
        } catch {
            // The connection dropped mid-chunk: keep what arrived (tus lets the client resume from there),
            // unless the chunk carried a checksum, which the partial bytes cannot satisfy.
            try? await writer.settle()
            if checksum != nil {
                try file.truncate(to: start)
                running.restore(before)
            }
            try file.sync()
            await registry.setDigests(try file.size() == running.count ? running : nil, for: upload.id)
            throw error
        }
        let position = writer.position
        try await pool.runIfActive { try file.sync() }
        await registry.consume(upload.id, count: position - start)
        await registry.setDigests(running, for: upload.id)
        if position == upload.length {
            try await complete(upload, digests: running, now: now)
        }
        return position
    }

    /// The last byte arrived: check the content's type against the allow-list and the sender's hash, then seal
    /// the file in the evidence store (an atomic rename; identical content stored once) and mark the upload
    /// complete; capture metadata is extracted afterwards, off the request path (`MetadataQueue`). Refused content
    /// is deleted and the upload marked rejected. Safe to run again after a crash at any point.
    func complete(_ upload: StoredUpload, digests: UploadDigests?, now: Date) async throws {
        let url = partURL(upload.id)
        let running: UploadDigests
        if let digests, digests.count == upload.length {
            running = digests
        } else {
            running = try await UploadDigests.rebuild(from: url, pool: pool)
        }
        let (sha256, sha512) = running.finalize()
        await registry.setDigests(nil, for: upload.id)
        await registry.releaseReservation(upload.id)
        let prefix = try PartFile.prefix(of: url, count: ContentSniffer.prefixLength)
        let detected = ContentSniffer.detect(prefix: prefix)
        guard let detected, limits.allowList.allows(detected) else {
            try await reject(upload)
            throw EvidenceError.typeNotAllowed(detected: detected?.mediaType)
        }
        if let sender = upload.senderSHA256, sender != sha256 {
            try await reject(upload)
            throw EvidenceError.senderHashMismatch
        }
        let isNew = try await registry.withBlobLock {
            let isNew = try await blobs.seal(file: url, sha256: sha256)
            let expiresAt = min(
                upload.expiresAt, now.addingTimeInterval(TimeInterval(limits.unattachedExpirySeconds)))
            let mediaType = detected.mediaType
            try await store.transaction { unit in
                try await unit.uploads.complete(
                    id: upload.id, sha256: sha256, sha512: sha512, mediaType: mediaType,
                    completedAt: now.wholeSeconds, expiresAt: expiresAt)
            }
            return isNew
        }
        if isNew { extractMetadata(sha256: sha256) }
    }

    /// Queues capture metadata extraction for a sealed file; the outcome (metadata, or why there is none) is
    /// stored beside it unless the disk is at its floor or the file is gone by then.
    func extractMetadata(sha256: String) {
        guard let file = blobs.localFile(sha256: sha256) else { return }
        metadata.enqueue(file: file, sha256: sha256) { [blobs, limits] document in
            guard (try? await blobs.size(sha256: sha256)) != nil else { return }
            if let free = self.freeBytes(), free - Int64(document.count) < limits.freeDiskFloorBytes { return }
            try? await blobs.setMetadata(document, sha256: sha256)
        }
    }

    /// Completes an open upload whose bytes have all arrived (a crash came between the last byte and its
    /// completion), unless another request holds the upload: that one is completing it.
    func completeIfFinished(_ upload: StoredUpload, now: Date) async throws {
        guard await registry.acquire(upload.id) else { return }
        defer { Task { await registry.release(upload.id) } }
        guard let current = try await store.upload(id: upload.id), current.state == .open,
            PartFile.size(at: partURL(upload.id)) == current.length
        else { return }
        try await complete(current, digests: nil, now: now)
    }

    private func reject(_ upload: StoredUpload) async throws {
        await registry.releaseReservation(upload.id)
        try? FileManager.default.removeItem(at: partURL(upload.id))
        try await store.transaction { try await $0.uploads.mark(id: upload.id, as: .rejected) }
    }

    /// Starts receiving one whole file of unknown length (a multipart form field) as an upload from `source`.
    func beginWhole(source: EvidenceSource, random: any RandomSource) async throws -> WholeFileReceiver {
        guard await hasRoom(for: Int64(Self.blockSize), promised: false) else { throw EvidenceError.diskFull }
        let id = Self.newID(random: random)
        let file = try PartFile.create(at: partURL(id))
        return WholeFileReceiver(id: id, source: source, service: self, file: file)
    }

    /// tus termination: the upload and its bytes are gone. An attached upload is evidence and stays.
    func terminate(_ upload: StoredUpload) async throws {
        guard upload.state != .attached else { throw EvidenceError.uploadAlreadyAttached }
        guard await registry.acquire(upload.id) else { throw UploadError.busy }
        defer { Task { await registry.release(upload.id) } }
        try? FileManager.default.removeItem(at: partURL(upload.id))
        await registry.setDigests(nil, for: upload.id)
        await registry.releaseReservation(upload.id)
        try await store.transaction { try await $0.uploads.delete(id: upload.id) }
        if upload.state == .complete, let sha256 = upload.sha256 { try await removeIfUnreferenced(sha256) }
    }

    /// Expires what ran out of time, removing bytes nobody needs.
    func sweep(now: Date) async throws -> Int {
        let expired = try await store.transaction { try await $0.uploads.expire(now: now) }
        for upload in expired {
            try? FileManager.default.removeItem(at: partURL(upload.id))
            await registry.setDigests(nil, for: upload.id)
            await registry.releaseReservation(upload.id)
            if let sha256 = upload.sha256 { try await removeIfUnreferenced(sha256) }
        }
        return expired.count
    }

    private func removeIfUnreferenced(_ sha256: String) async throws {
        try await registry.withBlobLock {
            if try await !store.isReferenced(sha256: sha256) { try await blobs.remove(sha256: sha256) }
        }
    }

    /// Part files and stored files younger than this are left alone by recovery: another Attest process sharing the
    /// data directory may be writing or sealing them right now.
    static let orphanGrace: TimeInterval = 3600

    /// When a server starts: finish uploads whose last byte arrived just before a crash, delete part files no
    /// upload owns, and stored files nothing refers to (left by a crash between sealing and recording), once they
    /// are older than `orphanGrace` by the file system's clock.
    func recover(now: Date) async throws {
        _ = try await sweep(now: now)
        var owned = Set<String>()
        for upload in try await store.openUploads() {
            owned.insert("\(upload.id).part")
            let written = PartFile.size(at: partURL(upload.id)) ?? 0
            try? await registry.reserve(
                upload.id, length: max(0, upload.length - written), client: nil, free: nil, floor: 0, perClient: 0)
            if PartFile.size(at: partURL(upload.id)) == upload.length {
                do {
                    try await complete(upload, digests: nil, now: now)
                } catch {
                    logger.info("upload \(upload.id) refused on recovery: \(error)")
                }
            }
        }
        let cutoff = Date().addingTimeInterval(-Self.orphanGrace)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        where !owned.contains(name) {
            let url = directory.appendingPathComponent(name)
            guard
                let modified = try? FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date,
                modified < cutoff
            else { continue }
            try? FileManager.default.removeItem(at: url)
        }
        let referenced = try await store.referencedSHA256s()
        for sha256 in try await blobs.all(storedBefore: cutoff) where !referenced.contains(sha256) {
            try await removeIfUnreferenced(sha256)
        }
        // Files sealed while extraction waited, or skipped for a full queue, are queued again.
        guard metadata.extractor.executable != nil else { return }
        for sha256 in referenced.sorted() {
            let document = try await blobs.metadata(sha256: sha256)
            let outcome =
                document.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }?[
                    MetadataExtractor.outcomeKey] as? String
            if document == nil || outcome?.hasPrefix("skipped") == true { extractMetadata(sha256: sha256) }
        }
    }
}

/// One file of unknown length arriving in a form: written and hashed as it streams, then recorded as an
/// upload and completed. Until `finish`, it is a part file without an upload, which start-up removes.
final class WholeFileReceiver: @unchecked Sendable {
    let id: String
    let source: EvidenceSource
    let service: UploadService
    let file: PartFile
    let writer: BlockWriter

    init(id: String, source: EvidenceSource, service: UploadService, file: PartFile) {
        self.id = id
        self.source = source
        self.service = service
        self.file = file
        writer = BlockWriter(file: file, digests: UploadDigests(), pool: service.pool, position: 0, chunkHash: nil)
    }

    func add(_ buffer: inout ByteBuffer) async throws {
        guard writer.end + Int64(buffer.readableBytes) <= service.limits.maxFileBytes else {
            throw EvidenceError.tooLarge(limit: service.limits.maxFileBytes)
        }
        // A file of unknown length: the disk is asked again before each block is written.
        let block = Int64(UploadService.blockSize)
        if (writer.end + Int64(buffer.readableBytes)) / block > writer.end / block || writer.end == 0 {
            guard await service.hasRoom(for: block, promised: false) else { throw EvidenceError.diskFull }
        }
        try await writer.add(&buffer)
    }

    /// Completes the upload (type check, sealing, metadata) and returns its id.
    func finish(now: Date) async throws -> String {
        do {
            try await writer.flush()
            let file = self.file
            try await service.pool.runIfActive { try file.sync() }
        } catch {
            abort()
            throw error
        }
        let limits = service.limits
        let upload = StoredUpload(
            id: id, length: writer.position, source: source, senderSHA256: nil, createdAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(limits.uploadExpirySeconds)))
        try await service.store.transaction { try await $0.uploads.insert(upload) }
        try await service.complete(upload, digests: writer.digests, now: now)
        return id
    }

    /// Removes what was written of an unfinished file.
    func abort() {
        try? FileManager.default.removeItem(at: service.partURL(id))
    }
}

/// Writes a stream of buffers to a part file in blocks of `UploadService.blockSize`, hashing as it goes. Two
/// lanes run on NIO's thread pool, each in block order: the SHA-512 (the slowest step) in one, the write, the
/// SHA-256 and the request's checksum in the other, while the next blocks are being received. At most
/// `maxInFlight` blocks are outstanding, so memory stays flat whatever the file size.
final class BlockWriter: @unchecked Sendable {
    static let maxInFlight = 4

    let file: PartFile
    let digests: UploadDigests
    let pool: NIOThreadPool
    /// Everything before this offset is written and hashed.
    private(set) var position: Int64
    /// The checksum of this request's bytes, when the client sent one (up to `position`).
    private(set) var chunkHash: ChunkHash?
    private var pending = ByteBufferAllocator().buffer(capacity: UploadService.blockSize)
    private struct Block {
        var bytes: Int
        var wide: Task<Void, any Error>
        var write: Task<ChunkHash?, any Error>
    }
    private var inFlight: [Block] = []
    private var inFlightBytes = 0

    init(file: PartFile, digests: UploadDigests, pool: NIOThreadPool, position: Int64, chunkHash: ChunkHash?) {
        self.file = file
        self.digests = digests
        self.pool = pool
        self.position = position
        self.chunkHash = chunkHash
    }

    /// Bytes received so far, written, being written or pending.
    var end: Int64 { position + Int64(inFlightBytes) + Int64(pending.readableBytes) }

    func add(_ buffer: inout ByteBuffer) async throws {
        pending.writeBuffer(&buffer)
        if pending.readableBytes >= UploadService.blockSize { try await submit() }
    }

    /// Writes and hashes everything received so far, and waits for it.
    func flush() async throws {
        try await submit()
        try await settle()
    }

    /// Waits for every block in flight (call before cutting the file back after an error). Throws the first
    /// failure, after waiting for all.
    func settle() async throws {
        var failure: (any Error)?
        while !inFlight.isEmpty {
            do { try await retireOldest() } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
    }

    private func retireOldest() async throws {
        let block = inFlight.removeFirst()
        inFlightBytes -= block.bytes
        let wide = await block.wide.result
        chunkHash = try await block.write.value
        try wide.get()
        digests.count += Int64(block.bytes)
        position += Int64(block.bytes)
    }

    private func submit() async throws {
        guard pending.readableBytes > 0 else { return }
        if inFlight.count >= Self.maxInFlight { try await retireOldest() }
        let block = pending
        pending = ByteBufferAllocator().buffer(capacity: UploadService.blockSize)
        let at = position + Int64(inFlightBytes)
        let (file, digests, pool, initialHash) = (self.file, self.digests, self.pool, self.chunkHash)
        let previousWide = inFlight.last?.wide
        let previousWrite = inFlight.last?.write
        let wide = Task {
            _ = await previousWide?.result
            try await pool.runIfActive {
                block.withUnsafeReadableBytes { digests.sha512.hash.update(bufferPointer: $0) }
            }
        }
        let write = Task { () -> ChunkHash? in
            var chunkHash = initialHash
            if let previousWrite { chunkHash = try await previousWrite.value }
            return try await pool.runIfActive { [chunkHash] in
                var chunkHash = chunkHash
                try block.withUnsafeReadableBytes { bytes in
                    try file.write(bytes, at: at)
                    file.startWriteback(offset: at, count: bytes.count)
                    digests.sha256.hash.update(bufferPointer: bytes)
                    chunkHash?.update(bytes)
                }
                return chunkHash
            }
        }
        inFlight.append(Block(bytes: block.readableBytes, wide: wide, write: write))
        inFlightBytes += block.readableBytes
    }
}

/// The checksum of one PATCH body (tus checksum extension).
struct ChunkHash: Sendable {
    private var sha1: Insecure.SHA1?
    private var sha256: SHA256?

    static let algorithms = ["sha1", "sha256"]
    static func digestLength(_ algorithm: String) -> Int? {
        switch algorithm {
        case "sha1": 20
        case "sha256": 32
        default: nil
        }
    }

    init(algorithm: String) {
        if algorithm == "sha1" { sha1 = Insecure.SHA1() } else { sha256 = SHA256() }
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        sha1?.update(bufferPointer: bytes)
        sha256?.update(bufferPointer: bytes)
    }

    func finalize() -> [UInt8] {
        if let sha1 { return Array(sha1.finalize()) }
        return Array(sha256!.finalize())
    }
}

/// In-process coordination: one writer per upload, the running digests between requests, and one lock
/// around sealing and removing stored files (so a removal never races a seal of identical content).
actor UploadRegistry {
    private var busy = Set<String>()
    private var running: [String: UploadDigests] = [:]
    private var blobLockHeld = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// Disk space promised to open uploads: declared length not yet written, the client that declared it (an
    /// HMAC under a key that lives as long as the process, never the address), and when the upload last moved.
    /// A promise lapses after `promiseLapse` without progress, so uploads declared and never sent cannot hold the
    /// disk for a day; the next PATCH promises the rest again, if there is room.
    private var reservations: [String: (client: Data?, remaining: Int64, touched: Date)] = [:]
    private let clientKey = SymmetricKey(size: .bits256)
    private let promiseLapse: TimeInterval
    private let clock: any Clock

    init(promiseLapseSeconds: Int = 600, clock: any Clock) {
        promiseLapse = TimeInterval(promiseLapseSeconds)
        self.clock = clock
    }

    private func isActive(_ touched: Date, now: Date) -> Bool { now.timeIntervalSince(touched) < promiseLapse }

    /// Bytes promised to open uploads that moved recently and not yet written.
    var outstanding: Int64 {
        let now = clock.now()
        return reservations.values.filter { isActive($0.touched, now: now) }.reduce(0) { $0 + $1.remaining }
    }

    /// Promises `length` bytes to upload `id` when the disk can hold them above `floor` besides everything
    /// already promised, and the client's active open uploads stay within `perClient`.
    func reserve(
        _ id: String, length: Int64, client: [UInt8]?, free: Int64?, floor: Int64, perClient: Int64
    ) throws {
        let now = clock.now()
        let owner = client.map { Data(HMAC<SHA256>.authenticationCode(for: $0, using: clientKey)) }
        if let owner {
            let open = reservations.values.filter { $0.client == owner && isActive($0.touched, now: now) }
                .reduce(0) { $0 + $1.remaining }
            guard open + length <= perClient else { throw EvidenceError.tooMuchOpen(limit: perClient) }
        }
        if let free, free - outstanding - length < floor { throw EvidenceError.diskFull }
        reservations[id] = (owner, length, now)
    }

    /// The upload is receiving bytes again: its promise counts from now.
    func touch(_ id: String) {
        reservations[id]?.touched = clock.now()
    }

    /// `count` promised bytes of `id` were written.
    func consume(_ id: String, count: Int64) {
        guard let reservation = reservations[id] else { return }
        reservations[id] = (
            reservation.client, max(0, reservation.remaining - count), clock.now()
        )
    }

    /// The upload is complete, refused, terminated or expired: nothing more is promised to it.
    func releaseReservation(_ id: String) { reservations[id] = nil }

    func acquire(_ id: String) -> Bool { busy.insert(id).inserted }
    func release(_ id: String) { busy.remove(id) }
    func digests(_ id: String) -> UploadDigests? { running[id] }
    func setDigests(_ digests: UploadDigests?, for id: String) { running[id] = digests }

    func withBlobLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        while blobLockHeld { await withCheckedContinuation { waiters.append($0) } }
        blobLockHeld = true
        defer {
            blobLockHeld = false
            if !waiters.isEmpty { waiters.removeFirst().resume() }
        }
        return try await body()
    }
}

/// When serving: recovers uploads at start, then expires uploads left incomplete or unattached past their time,
/// every `interval` seconds.
final class UploadSweeper: LifecycleHandler, @unchecked Sendable {
    private var task: Task<Void, Never>?
    let interval: TimeInterval

    init(interval: TimeInterval) {
        self.interval = interval
    }

    func didBootAsync(_ application: Application) async throws {
        let services = application.attest
        let logger = application.logger
        let interval = interval
        if application.environment != .testing, FirstStartSetupLink.isServing {
            try await services.uploads.recover(now: services.clock.now())
        }
        task = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(interval))
                guard !Task.isCancelled else { return }
                do {
                    let expired = try await services.uploads.sweep(now: services.clock.now())
                    if expired > 0 { logger.info("expired \(expired) uploads") }
                } catch {
                    logger.warning("upload sweep failed: \(String(reflecting: type(of: error)))")
                }
            }
        }
    }

    func shutdownAsync(_ application: Application) async {
        task?.cancel()
        await task?.value
    }
}
