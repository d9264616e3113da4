import AttestCore
import AttestLedger
import AttestPersistence
import AttestWeb
import Benchmark
import Crypto
import Foundation
import Vapor

/// A typical report: every section filled in, as a resident on a phone would.
func typicalSubmission() -> ReportSubmission {
    var submission = ReportSubmission()
    submission.occurrence = .local(date: "2026-11-20", time: "14:30", endDate: nil, endTime: "15:10")
    submission.isApproximate = true
    submission.locationDescription = "26th St & Pulaski, in front of the bakery"
    submission.latitude = "41.8445"
    submission.longitude = "-87.7249"
    submission.narrative = String(
        repeating: "Three agents in tactical vests stopped a man walking to work and pushed him against a car. ",
        count: 12
    )
    submission.categories = ["physical_force", "failure_to_identify", "vehicle"]
    submission.agentCount = "4"
    submission.agency = "ice"
    submission.agents = [
        .init(vestText: "POLICE ICE", badge: "41", plateState: "IL", plateNumber: "7K", masked: "fully"),
        .init(vestText: "ERO", masked: "partly", plainClothes: "no", bodyCamera: "no"),
    ]
    submission.injuries = "yes"
    submission.reporterRole = "witness"
    submission.consentsToPublicStatistics = true
    submission.language = "es"
    return submission
}

/// A configured Attest on an SQLite data directory, rate limit off, logging at warning.
func makeApp(directory: URL, synchronous: String = "full") async throws -> Application {
    let app = try await Application.make(.production)
    var environment = ["ATTEST_DATA_DIR": directory.path, "ATTEST_SQLITE_SYNCHRONOUS": synchronous]
    // PostgreSQL when the benchmark is run with DATABASE_URL set.
    environment["DATABASE_URL"] = ProcessInfo.processInfo.environment["DATABASE_URL"]
    var configuration = try AttestConfiguration.from(environment: environment)
    configuration.rateLimitPerMinute = 0
    try await configure(app, with: configuration)
    app.logger.logLevel = .warning
    return app
}

let benchmarks: @Sendable () -> Void = {
    ledgerBenchmarks()
    workspaceBenchmarks()
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], maxDuration: .seconds(5))

    let jurisdiction = try! JurisdictionLoader.load(directory: AttestConfiguration.bundledJurisdiction("chicago"))
    let validator = ReportValidator(jurisdiction: jurisdiction, limits: ReportLimits())
    let now = Date()

    Benchmark("Validate a typical report (Chicago, 77 areas)") { benchmark in
        let submission = typicalSubmission()
        for _ in benchmark.scaledIterations {
            blackHole(try validator.validate(submission, now: now))
        }
    }

    Benchmark("Point in polygon over Chicago's 77 community areas") { benchmark in
        let point = Coordinate(latitude: 41.8445, longitude: -87.7249)
        for _ in benchmark.scaledIterations {
            blackHole(jurisdiction.geography.place(point))
        }
    }

    Benchmark("Follow-up code: generate and hash") { benchmark in
        let random = SystemRandomSource()
        for _ in benchmark.scaledIterations {
            blackHole(FollowUpCode(random: random).hash)
        }
    }

    // The whole use case against the real SQLite store, in process: validation, reference, encryption of
    // contact details, insert, custody entry, commit with fsync of the write-ahead log.
    for synchronous in ["full", "normal"] {
        Benchmark(
            "Submit a report in process (SQLite, synchronous=\(synchronous))",
            configuration: .init(metrics: [.wallClock, .throughput], maxDuration: .seconds(8))
        ) { benchmark in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("attest-bench-\(UUID())")
            let app = try await makeApp(directory: directory, synchronous: synchronous)
            let submitReport = app.attest.submitReport
            var submission = typicalSubmission()
            submission.wantsContact = true
            submission.contactPhone = "+1 312 555 0100"
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try await submitReport.execute(.init(submission: submission)))
            }
            benchmark.stopMeasurement()
            try await app.asyncShutdown()
            try? FileManager.default.removeItem(at: directory)
        }
    }
}

// MARK: - Custody log

/// A custody log of one million entries in an SQLite data directory kept between runs (the benchmark tool
/// starts a process per benchmark; building the log once saves minutes).
enum MillionEntryLog {
    static let size: UInt64 = 1_000_000
    static let directory = URL(fileURLWithPath: "/tmp/attest-bench-million-entries", isDirectory: true)

    static func open() async throws -> Application {
        let app = try await makeApp(directory: directory)
        var appended = try await app.attest.ledger.size()
        while appended < size {
            let count = min(10_000, size - appended)
            let first = appended
            try await app.attest.store.transaction { unit in
                for index in 0..<count {
                    _ = try await unit.custodyLog.append(
                        CustodyEvent(
                            kind: .recordViewed, occurredAt: Date(), actor: "staff:bench",
                            recordID: "report:R-2026-\(first + index)", contentHash: ContentHash.sha256Hex("\(index)")
                        ))
                }
            }
            appended += count
        }
        try await app.attest.ledger.publishIfDue(now: Date(), policy: .always)
        return app
    }
}

let ledgerBenchmarks: @Sendable () -> Void = {
    for synchronous in ["full", "normal"] {
        Benchmark(
            "Custody log: append, 1,000 concurrent single-entry transactions (SQLite, synchronous=\(synchronous))",
            configuration: .init(metrics: [.wallClock, .throughput, .cpuTotal], maxDuration: .seconds(10))
        ) { benchmark in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("attest-bench-\(UUID())")
            let app = try await makeApp(directory: directory, synchronous: synchronous)
            let store = app.attest.store
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<1_000 {
                        group.addTask {
                            _ = try await store.transaction { unit in
                                try await unit.custodyLog.append(
                                    CustodyEvent(
                                        kind: .recordViewed, occurredAt: Date(), actor: "staff:bench",
                                        recordID: "report:R-2026-\(index)",
                                        contentHash: ContentHash.sha256Hex("\(index)")
                                    ))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            benchmark.stopMeasurement()
            try await app.asyncShutdown()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    Benchmark(
        "Custody log: append, 1,000 entries in one transaction (SQLite, synchronous=full)",
        configuration: .init(metrics: [.wallClock, .throughput, .cpuTotal], maxDuration: .seconds(10))
    ) { benchmark in
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("attest-bench-\(UUID())")
        let app = try await makeApp(directory: directory)
        let store = app.attest.store
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            try await store.transaction { unit in
                for index in 0..<1_000 {
                    _ = try await unit.custodyLog.append(
                        CustodyEvent(
                            kind: .recordViewed, occurredAt: Date(), actor: "staff:bench",
                            recordID: "report:R-2026-\(index)", contentHash: ContentHash.sha256Hex("\(index)")
                        ))
                }
            }
        }
        benchmark.stopMeasurement()
        try await app.asyncShutdown()
        try? FileManager.default.removeItem(at: directory)
    }

    Benchmark(
        "Custody log: inclusion proof at 1,000,000 entries (SQLite)",
        configuration: .init(metrics: [.wallClock, .throughput], maxDuration: .seconds(5), maxIterations: 10_000)
    ) { benchmark in
        let app = try await MillionEntryLog.open()
        let ledger = app.attest.ledger
        var generator = SystemRandomNumberGenerator()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let index = UInt64.random(in: 0..<MillionEntryLog.size, using: &generator)
            blackHole(try await ledger.inclusionProof(index: index, size: MillionEntryLog.size))
        }
        benchmark.stopMeasurement()
        try await app.asyncShutdown()
    }

    Benchmark(
        "Custody log: full verification of 1,000,000 entries (SQLite; recompute, compare stored hashes, checkpoints)",
        configuration: .init(metrics: [.wallClock], maxDuration: .seconds(60), maxIterations: 2)
    ) { benchmark in
        let app = try await MillionEntryLog.open()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let outcome = try await LogVerifier(ledger: app.attest.ledger).verify()
            precondition(outcome.isClean, "\(outcome.discrepancies.prefix(3))")
            blackHole(outcome)
        }
        benchmark.stopMeasurement()
        try await app.asyncShutdown()
    }

    Benchmark(
        "Custody log: Merkle frontier, hash 1,000,000 leaves and the root (in memory)",
        configuration: .init(metrics: [.wallClock], maxDuration: .seconds(20), maxIterations: 5)
    ) { benchmark in
        let entries = (0..<1_000).map {
            Data("{\"actor\":\"staff:bench\",\"nonce\":\"\($0)…\",\"type\":\"record.viewed\",\"v\":1}".utf8)
        }
        for _ in benchmark.scaledIterations {
            var frontier = MerkleFrontier()
            for index in 0..<1_000_000 { frontier.append(TreeHash.leaf(entries[index % 1_000])) }
            blackHole(frontier.root)
        }
    }

    // Micro-benchmarks run 1,000 operations per sample (scalingFactor .kilo), so the harness's own per-sample
    // cost does not swamp a sub-microsecond operation; figures are per 1,000.
    let micro = Benchmark.Configuration(metrics: [.wallClock, .throughput], scalingFactor: .kilo)

    // Evidence: the digests an upload computes on every byte (swift-crypto, BoringSSL), 64 MiB per iteration.
    let block = [UInt8](repeating: 0xA5, count: 1 << 20)
    Benchmark("Evidence: SHA-256 of 64 MiB", configuration: .init(metrics: [.wallClock, .throughput])) { benchmark in
        for _ in benchmark.scaledIterations {
            var hash = SHA256()
            for _ in 0..<64 { hash.update(data: block) }
            blackHole(hash.finalize())
        }
    }
    Benchmark("Evidence: SHA-512 of 64 MiB", configuration: .init(metrics: [.wallClock, .throughput])) { benchmark in
        for _ in benchmark.scaledIterations {
            var hash = SHA512()
            for _ in 0..<64 { hash.update(data: block) }
            blackHole(hash.finalize())
        }
    }
    Benchmark("Evidence: content type of a file's first 64 bytes", configuration: micro) { benchmark in
        let prefix = Array("\0\0\0\u{20}ftypisom\0\0\u{2}\0isomiso2avc1mp41".utf8) + [UInt8](repeating: 0, count: 40)
        for _ in benchmark.scaledIterations {
            blackHole(ContentSniffer.detect(prefix: prefix))
        }
    }

    Benchmark("Custody log: 1,000 interior node hashes (SHA-256 of 65 bytes)", configuration: micro) { benchmark in
        var hash = TreeHash.emptyTree
        for _ in benchmark.scaledIterations {
            hash = TreeHash.node(hash, hash)
        }
        blackHole(hash)
    }

    for size in [60, 230] {
        Benchmark("Custody log: 1,000 leaf hashes of a \(size)-byte entry", configuration: micro) { benchmark in
            let entry = String(repeating: "e", count: size)
            for _ in benchmark.scaledIterations {
                blackHole(TreeHash.leaf(entry))
            }
        }
    }

    Benchmark(
        "Custody log: sign a checkpoint (Ed25519)",
        configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal])
    ) { benchmark in
        let signer = try NoteSigner(name: "attest.example.org/log", seed: Data(0..<32))
        let checkpoint = Checkpoint(origin: signer.name, size: 1_000_000, root: TreeHash.emptyTree)
        for _ in benchmark.scaledIterations {
            blackHole(try checkpoint.signed(by: signer))
        }
    }
}
