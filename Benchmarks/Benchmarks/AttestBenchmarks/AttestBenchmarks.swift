import AttestCore
import AttestWeb
import Benchmark
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

let benchmarks: @Sendable () -> Void = {
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
            let app = try await Application.make(.production)
            var configuration = try AttestConfiguration.from(environment: [
                "ATTEST_DATA_DIR": directory.path, "ATTEST_SQLITE_SYNCHRONOUS": synchronous,
            ])
            configuration.rateLimitPerMinute = 0
            try await configure(app, with: configuration)
            app.logger.logLevel = .warning
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
