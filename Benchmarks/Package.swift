// swift-tools-version:6.1
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its directory, so the root package's identity is its folder's name.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let rootIdentity = root.lastPathComponent.lowercased()

// Benchmarks live apart from the test suite: `cd Benchmarks && swift package benchmark`.
let package = Package(
    name: "AttestBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        .executableTarget(
            name: "AttestBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "AttestCore", package: rootIdentity),
                .product(name: "AttestLedger", package: rootIdentity),
                .product(name: "AttestPersistence", package: rootIdentity),
                .product(name: "AttestWeb", package: rootIdentity),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/AttestBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
