// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "attest",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "attest", targets: ["attest"]),
        .library(name: "AttestCore", targets: ["AttestCore"]),
        .library(name: "AttestLedger", targets: ["AttestLedger"]),
        .library(name: "AttestPersistence", targets: ["AttestPersistence"]),
        .library(name: "AttestWeb", targets: ["AttestWeb"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/vapor", from: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent", from: "4.13.0"),
        .package(url: "https://github.com/vapor/fluent-kit", from: "1.57.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver", from: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver", from: "2.14.0"),
        .package(url: "https://github.com/vapor/leaf", from: "4.5.2"),
        .package(url: "https://github.com/vapor/leaf-kit", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/mattpolzin/OpenAPIKit", from: "6.4.0"),
    ],
    targets: [
        .target(
            name: "AttestCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "AttestLedger",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "AttestPersistence",
            dependencies: [
                "AttestCore",
                "AttestLedger",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "AttestWeb",
            dependencies: [
                "AttestCore",
                "AttestLedger",
                "AttestPersistence",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "Leaf", package: "leaf"),
                .product(name: "LeafKit", package: "leaf-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Resources")]
        ),
        .executableTarget(
            name: "attest",
            dependencies: ["AttestWeb", .product(name: "Vapor", package: "vapor")]
        ),
        .target(
            name: "AttestTestSupport",
            dependencies: [
                "AttestCore",
                "AttestPersistence",
                "AttestWeb",
                .product(name: "VaporTesting", package: "vapor"),
            ],
            resources: [.copy("Resources")]
        ),
        .testTarget(
            name: "AttestCoreTests",
            dependencies: ["AttestCore", "AttestTestSupport"]
        ),
        .testTarget(
            name: "AttestLedgerTests",
            dependencies: ["AttestLedger"],
            resources: [.copy("Vectors")]
        ),
        .testTarget(
            name: "AttestPersistenceTests",
            dependencies: ["AttestCore", "AttestLedger", "AttestPersistence", "AttestTestSupport"]
        ),
        .testTarget(
            name: "AttestWebTests",
            dependencies: [
                "AttestLedger",
                "AttestWeb",
                "AttestTestSupport",
                .product(name: "VaporTesting", package: "vapor"),
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
