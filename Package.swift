// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Recurrent",
    products: [
        .library(name: "Recurrent", targets: ["Recurrent"]),
        .executable(name: "recurrent", targets: ["RecurrentCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Float kernels in C: AVX2+FMA bodies behind per-function target attributes,
        // chosen at run time, and portable bodies; no flags, no system library.
        .target(name: "CRecurrentKernels"),
        // SVG charts: no knowledge of models, nothing on the hot path.
        .target(name: "RecurrentPlot"),
        .target(name: "Recurrent", dependencies: ["CRecurrentKernels", "RecurrentPlot"]),
        .executableTarget(
            name: "RecurrentCLI",
            dependencies: [
                "Recurrent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "RecurrentTests",
            dependencies: ["Recurrent", "RecurrentPlot"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
