import Foundation

/// The bundled resources: views, static files, translations, jurisdictions, the OpenAPI document.
enum AttestResources {
    /// The `Resources` directory inside the module bundle.
    static let directory: URL = {
        if let url = Bundle.module.url(forResource: "Resources", withExtension: nil) { return url }
        return Bundle.module.bundleURL.appendingPathComponent("Resources")
    }()
}
