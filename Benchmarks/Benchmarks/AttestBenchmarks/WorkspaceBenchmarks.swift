import AttestCore
import AttestPersistence
import AttestWeb
import Benchmark
import Foundation
import Vapor

// MARK: - A million stored reports

/// One million realistic reports (varied times over two years, all 77 community areas, narratives in English and
/// Spanish from a 3,000-word vocabulary with a long tail, plates and badges from pools of 40,000 and 8,000)
/// submitted through the real use case into an SQLite data directory kept between runs — or into PostgreSQL when
/// `DATABASE_URL` is set. Seeding takes minutes once; the benchmarks then reuse it.
enum MillionReports {
    static var size: Int { Int(ProcessInfo.processInfo.environment["ATTEST_BENCH_REPORTS"] ?? "") ?? 1_000_000 }
    static let directory = URL(fileURLWithPath: "/tmp/attest-bench-million-reports", isDirectory: true)

    /// A deterministic generator, so every run builds the same data.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let common = [
        "agents", "agentes", "vest", "chaleco", "car", "carro", "street", "calle", "stopped", "detuvieron", "man",
        "hombre", "woman", "mujer", "masked", "enmascarados", "pushed", "empujaron", "van", "camioneta", "school",
        "escuela", "store", "tienda", "morning", "mañana", "children", "niños", "phone", "teléfono", "camera",
        "cámara", "badge", "placa", "window", "ventana", "door", "puerta", "ground", "suelo", "work", "trabajo",
    ]

    /// A word of the long tail: rank `n` of a Zipf-like vocabulary (pseudo-words, reproducible).
    static func tailWord(_ n: Int) -> String {
        let syllables = [
            "ka", "lo", "mi", "ze", "ru", "ta", "po", "ne", "si", "da", "be", "gu", "fo", "ya", "xi", "we",
        ]
        var word = ""
        var value = n + 17
        while value > 0 {
            word += syllables[value % syllables.count]
            value /= syllables.count
        }
        return word
    }

    static func plate(_ n: Int) -> String {
        let letters = Array("ABCDEFGHJKLMNPRSTUVWXYZ")
        return "\(n % 10)\(letters[(n / 10) % letters.count])\(String(format: "%03d", (n / 230) % 1000))"
    }

    static func submission(_ index: Int, random: inout Generator) -> ReportSubmission {
        var submission = ReportSubmission()
        // Spread over 2025-01-01 … 2026-11-20 (688 days).
        let day = Int.random(in: 0..<688, using: &random)
        let date = Calendar(identifier: .gregorian).date(
            byAdding: .day, value: day,
            to: DateComponents(calendar: .init(identifier: .gregorian), year: 2025, month: 1, day: 1).date!)!
        let parts = Calendar(identifier: .gregorian).dateComponents([.year, .month, .day], from: date)
        let hour = Int.random(in: 6..<22, using: &random)
        submission.occurrence = .local(
            date: String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!),
            time: String(format: "%02d:%02d", hour, Int.random(in: 0..<60, using: &random)), endDate: nil,
            endTime: String(format: "%02d:%02d", hour + 1, Int.random(in: 0..<60, using: &random)))
        submission.communityArea = String(Int.random(in: 1...77, using: &random))
        var words: [String] = []
        for _ in 0..<Int.random(in: 20...60, using: &random) {
            if Bool.random(using: &random) {
                words.append(common.randomElement(using: &random)!)
            } else {
                // Zipf-like: small ranks are frequent.
                let rank = Int(pow(Double.random(in: 0..<1, using: &random), 3) * 3_000)
                words.append(tailWord(rank))
            }
        }
        submission.narrative = words.joined(separator: " ") + "."
        submission.categories = ["physical_force"]
        submission.agency = "ice"
        submission.agents = [
            .init(
                vestText: ["POLICE ICE", "ERO", "HSI", "BORDER PATROL"].randomElement(using: &random),
                badge: String(Int.random(in: 1000..<9000, using: &random)),
                plateNumber: Int.random(in: 0..<3, using: &random) == 0
                    ? plate(Int.random(in: 0..<40_000, using: &random)) : nil)
        ]
        submission.language = index % 2 == 0 ? "en" : "es"
        submission.consentsToPublicStatistics = true
        return submission
    }

    static func open() async throws -> Application {
        let app = try await makeApp(directory: directory)
        var stored = try await app.attest.store.countReports(samples: false)
        let target = size
        let started = Date()
        while stored < target {
            let count = min(20_000, target - stored)
            let first = stored
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<64 {
                    group.addTask {
                        var random = Generator(state: UInt64(first * 64 + lane))
                        var index = first + lane
                        while index < first + count {
                            let submission = submission(index, random: &random)
                            _ = try await app.attest.submitReport.execute(.init(submission: submission))
                            index += 64
                        }
                    }
                }
                try await group.waitForAll()
            }
            stored += count
            FileHandle.standardError.write(
                Data("seeded \(stored) reports in \(Int(Date().timeIntervalSince(started))) s\n".utf8))
        }
        return app
    }

    /// Stored reports to ask suggestions for, spread over the whole range.
    static func sample(_ app: Application, count: Int) async throws -> [Report] {
        var reports: [Report] = []
        var random = Generator(state: 42)
        let total = try await app.attest.store.countReports(samples: false)
        for _ in 0..<count {
            let number = Int.random(in: 1...total, using: &random)
            if let report = try await app.attest.store.report(reference: ReportReference(year: 2026, number: number)) {
                reports.append(report)
            }
        }
        return reports
    }
}

/// The million-report instance and sample reports, opened once per benchmark by its setup hook: every call of
/// the benchmark closure is then one sample of one operation.
final class MillionReportsFixture: @unchecked Sendable {
    var app: Application?
    var reports: [Report] = []
    var next = 0

    func setUp(samples: Int) async throws {
        let app = try await MillionReports.open()
        self.app = app
        reports = try await MillionReports.sample(app, count: samples)
    }

    func tearDown() async throws {
        try await app?.asyncShutdown()
        app = nil
    }

    func nextReport() -> Report {
        defer { next += 1 }
        return reports[next % reports.count]
    }
}

func workspaceBenchmarks() {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock], timeUnits: .microseconds, warmupIterations: 5, maxDuration: .seconds(30),
        maxIterations: 400)
    let fixture = MillionReportsFixture()

    Benchmark(
        "Related-report suggestions for a report, 1,000,000 stored", configuration: configuration,
        closure: { benchmark in
            let report = fixture.nextReport()
            benchmark.startMeasurement()
            blackHole(try await fixture.app!.attest.relatedSuggestions(for: report, candidateLimit: 2_000).prefix(10))
            benchmark.stopMeasurement()
        }, setup: { try await fixture.setUp(samples: 400) }, teardown: { try await fixture.tearDown() })

    Benchmark(
        "Related parts: window query, 1,000,000 stored", configuration: configuration,
        closure: { benchmark in
            let report = fixture.nextReport()
            benchmark.startMeasurement()
            blackHole(
                try await fixture.app!.attest.store.reports(
                    overlapping: RelatedReports(hours: 6).window(of: report), limit: 2_000))
            benchmark.stopMeasurement()
        }, setup: { try await fixture.setUp(samples: 400) }, teardown: { try await fixture.tearDown() })

    Benchmark(
        "Related parts: identifier query, 1,000,000 stored", configuration: configuration,
        closure: { benchmark in
            let report = fixture.nextReport()
            benchmark.startMeasurement()
            blackHole(try await fixture.app!.attest.store.reports(sharingIdentifiersWith: report.content, limit: 2_000))
            benchmark.stopMeasurement()
        }, setup: { try await fixture.setUp(samples: 400) }, teardown: { try await fixture.tearDown() })

    // A mix of what staff type: frequent words, rarer ones, two and three words, a plate fragment, a badge, a
    // reference.
    let queries = [
        "agents", "camioneta", MillionReports.tailWord(40), MillionReports.tailWord(900), "masked school",
        "\(MillionReports.tailWord(3)) \(MillionReports.tailWord(60))", String(MillionReports.plate(12_345).prefix(4)),
        "4471", "R-2026-000777", "vest niños puerta",
    ]
    Benchmark(
        "Search (a mix of \(queries.count) queries in turn), 1,000,000 reports stored", configuration: configuration,
        closure: { benchmark in
            let query = try SearchQuery(queries[fixture.next % queries.count])
            fixture.next += 1
            benchmark.startMeasurement()
            blackHole(try await fixture.app!.attest.search.search(query, kinds: Set(SearchKind.allCases), limit: 50))
            benchmark.stopMeasurement()
        }, setup: { try await fixture.setUp(samples: 1) }, teardown: { try await fixture.tearDown() })

    for query in queries {
        Benchmark(
            "Search \"\(query)\", 1,000,000 reports stored", configuration: configuration,
            closure: { benchmark in
                let parsed = try SearchQuery(query)
                benchmark.startMeasurement()
                blackHole(
                    try await fixture.app!.attest.search.search(parsed, kinds: Set(SearchKind.allCases), limit: 50))
                benchmark.stopMeasurement()
            }, setup: { try await fixture.setUp(samples: 1) }, teardown: { try await fixture.tearDown() })
    }
}
