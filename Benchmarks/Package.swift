// swift-tools-version:6.1
import PackageDescription

// Benchmarks live apart from the test suite: `cd Benchmarks && swift package benchmark`.
let package = Package(
    name: "AttestBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "AttestBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "AttestCore", package: "attest"),
                .product(name: "AttestWeb", package: "attest"),
            ],
            path: "Benchmarks/AttestBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
