import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// The bounds of one metadata extraction (`ATTEST_EXIFTOOL_*`): a hostile file can make exiftool run for minutes,
/// take gigabytes of memory or print hundreds of megabytes, so each of those is capped.
struct MetadataLimits: Sendable, Equatable {
    /// Extractions running at once (`ATTEST_EXIFTOOL_CONCURRENCY`, default 1).
    var concurrency = 1
    /// Extractions waiting at most; past this a sealed file gets no metadata and says so
    /// (`ATTEST_EXIFTOOL_QUEUE`, default 1000).
    var queue = 1_000
    /// Longest run, in seconds; then the process is killed with SIGKILL (`ATTEST_EXIFTOOL_SECONDS`, default 30).
    var seconds = 30
    /// Address space of the process (`ATTEST_EXIFTOOL_MEMORY_BYTES`, default 512 MiB).
    var memoryBytes: Int64 = 512 << 20
    /// Most output read; past this the process is killed (`ATTEST_EXIFTOOL_OUTPUT_BYTES`, default 1 MiB).
    var outputBytes = 1 << 20
}

/// Capture metadata (time, GPS, device, duration…) read with exiftool when it is installed, stored beside the
/// original and never published. Without exiftool, nothing is extracted and uploads work as before.
///
/// exiftool runs as a child of `/bin/sh` that sets its memory limit and lowest priority and then becomes it; the
/// parent reads its output with `poll` up to the output limit and kills it with SIGKILL at the deadline (exiftool
/// starts with SIGTERM blocked, so SIGTERM would not stop it). All of this blocks, so it runs on threads of its own
/// (`MetadataQueue`), never on Swift's cooperative pool.
struct MetadataExtractor: Sendable {
    /// The exiftool executable, or nil when metadata extraction is off or exiftool is not installed.
    let executable: URL?
    var limits = MetadataLimits()

    /// Groups that describe the file on this server (name, permissions, paths), not the capture.
    static let droppedGroups = ["SourceFile", "File:", "System:", "ExifTool:"]
    /// The member of every stored metadata document that says how extraction went: `complete`, or why not.
    static let outcomeKey = "Attest:Extraction"

    /// How an extraction ended.
    enum Outcome: Equatable {
        /// The stored document: exiftool's tags, less those about this server, and the outcome member.
        case complete(Data)
        /// exiftool could not start, exited with an error or printed something unreadable.
        case failed(String)
        /// Stopped at a limit: the deadline or the output size.
        case cutOff(String)
        /// Never started: too many extractions were waiting.
        case skipped(String)

        /// The document stored beside the original.
        var document: Data {
            let outcome: String
            switch self {
            case .complete(let document): return document
            case .failed(let reason): outcome = "failed: \(reason)"
            case .cutOff(let reason): outcome = "cut off: \(reason)"
            case .skipped(let reason): outcome = "skipped: \(reason)"
            }
            return (try? JSONSerialization.data(withJSONObject: [MetadataExtractor.outcomeKey: outcome])) ?? Data()
        }
    }

    /// Finds exiftool: `configured` ("off" disables it), or the first `exiftool` on `PATH`.
    static func locate(configured: String?, path: String?, limits: MetadataLimits = MetadataLimits())
        -> MetadataExtractor
    {
        if let configured, !configured.isEmpty {
            if configured == "off" { return MetadataExtractor(executable: nil, limits: limits) }
            return MetadataExtractor(executable: URL(fileURLWithPath: configured), limits: limits)
        }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("exiftool")
            if FileManager.default.isExecutableFile(atPath: candidate.path) {
                return MetadataExtractor(executable: candidate, limits: limits)
            }
        }
        return MetadataExtractor(executable: nil, limits: limits)
    }

    /// Serialises `Process.run` across the process: Foundation's launch on Linux crashed once (in `memmove`, under
    /// a test run starting several processes at once from different threads).
    static let launchLock = NSLock()

    /// Starts `process`, one launch at a time (see `launchLock`).
    static func launch(_ process: Process) throws {
        launchLock.lock()
        defer { launchLock.unlock() }
        try process.run()
    }

    /// Runs exiftool on `file` within the limits. Blocks the calling thread: call it on a thread of its own.
    func extractBlocking(from file: URL) -> Outcome {
        guard let executable else { return .failed("exiftool is not configured") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        let kilobytes = max(1, limits.memoryBytes / 1024)
        process.arguments = [
            "-c", "ulimit -v \(kilobytes) && exec \"$0\" \"$@\"", executable.path,
            "-json", "-n", "-G", "-api", "largefilesupport=1", "--", file.path,
        ]
        process.standardInput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let output = Pipe()
        process.standardOutput = output
        do {
            try Self.launch(process)
        } catch {
            return .failed("exiftool could not be started")
        }
        let pid = process.processIdentifier
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(pid), 19)
        try? output.fileHandleForWriting.close()
        let descriptor = output.fileHandleForReading.fileDescriptor
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(limits.seconds) * 1_000_000_000
        var data = [UInt8]()
        var cutOff: String?
        var buffer = [UInt8](repeating: 0, count: 65_536)
        reading: while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else {
                cutOff = "ran past \(limits.seconds) s"
                break
            }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(1_000, (deadline - now) / 1_000_000 + 1)))
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break reading }
            guard data.count + count <= limits.outputBytes else {
                cutOff = "printed more than \(limits.outputBytes) bytes"
                break
            }
            data += buffer[0..<count]
        }
        if cutOff != nil { kill(pid, SIGKILL) }
        try? output.fileHandleForReading.close()
        process.waitUntilExit()
        if let cutOff { return .cutOff(cutOff) }
        guard process.terminationReason == .exit else {
            return .failed("exiftool was stopped by signal \(process.terminationStatus)")
        }
        guard process.terminationStatus == 0 else {
            return .failed("exiftool exited with status \(process.terminationStatus)")
        }
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(data)) as? [[String: Any]],
            let tags = parsed.first
        else { return .failed("exiftool printed no readable metadata") }
        var kept = tags.filter { key, _ in !Self.droppedGroups.contains { key.hasPrefix($0) } }
        kept[Self.outcomeKey] = "complete"
        guard let document = try? JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys]) else {
            return .failed("exiftool printed no readable metadata")
        }
        return .complete(document)
    }
}

/// Extracts capture metadata from sealed files one (or `concurrency`) at a time, on threads of its own at the
/// lowest priority, after the upload that brought the file has been answered. At most `queue` files wait; a file
/// past that is recorded as skipped. Each outcome, complete or not, is stored beside the original.
final class MetadataQueue: Sendable {
    let extractor: MetadataExtractor
    /// Foundation's operation queue runs each extraction on a thread of its own, outside Swift's cooperative pool,
    /// at background priority, `concurrency` at a time, and needs no shutdown.
    private let operations: OperationQueue
    private let state = NIOLockedValueBox(State())

    private struct State {
        var waiting = 0
        var running = 0
        var idle: [CheckedContinuation<Void, Never>] = []
    }

    init(extractor: MetadataExtractor) {
        self.extractor = extractor
        operations = OperationQueue()
        operations.name = "attest.metadata"
        operations.maxConcurrentOperationCount = extractor.limits.concurrency
        operations.qualityOfService = .background
    }

    /// Queues `file` (the sealed original of `sha256`); `store` receives the outcome. Returns at once.
    func enqueue(file: URL, sha256: String, store: @escaping @Sendable (Data) async -> Void) {
        guard extractor.executable != nil else { return }
        let queueLimit = extractor.limits.queue
        let admitted = state.withLockedValue { state -> Bool in
            guard state.waiting < queueLimit else { return false }
            state.waiting += 1
            return true
        }
        guard admitted else {
            let document = MetadataExtractor.Outcome.skipped("\(queueLimit) extractions were waiting")
                .document
            Task { await store(document) }
            return
        }
        let extractor = extractor
        let state = state
        operations.addOperation {
            state.withLockedValue {
                $0.waiting -= 1
                $0.running += 1
            }
            let outcome = extractor.extractBlocking(from: file)
            Task {
                await store(outcome.document)
                let resumed = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
                    state.running -= 1
                    guard state.waiting == 0, state.running == 0 else { return [] }
                    defer { state.idle = [] }
                    return state.idle
                }
                for continuation in resumed { continuation.resume() }
            }
        }
    }

    /// Extractions waiting or running.
    var pending: Int { state.withLockedValue { $0.waiting + $0.running } }

    /// Returns once nothing waits or runs (tests, and `attest` commands that seal files).
    func drained() async {
        await withCheckedContinuation { continuation in
            let done = state.withLockedValue { state -> Bool in
                guard state.waiting > 0 || state.running > 0 else { return true }
                state.idle.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
