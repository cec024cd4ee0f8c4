/// A model preset's name (`ModelConfiguration.preset`): `irnn`, `lstm`, ... A thin view of
/// `ModelConfiguration.presetNames`, which stays the one list, so that presets parse and are
/// listed like the other names (`NamedCase`).
public struct ModelPreset: NamedCase, Hashable, Codable {
    public let rawValue: String

    public init?(rawValue: String) {
        guard ModelConfiguration.presetNames.contains(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    public static var allCases: [ModelPreset] { ModelConfiguration.presetNames.compactMap(ModelPreset.init(rawValue:)) }
    public static let noun = "model"
}
