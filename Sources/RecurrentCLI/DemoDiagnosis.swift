import Foundation
import Recurrent

/// The demo's first part: the default diagnosis (relu and tanh x identity and
/// gaussian W; by default H = 100, T = 200), its figure written beside the report.
func demoDiagnosis(directory: URL, seed: UInt64, hidden: Int, length: Int) throws -> String {
    let settings = DiagnosisSetting.seedComparison.map { pair in
        DiagnosisSetting(activation: pair.activation, recurrentInit: pair.recurrentInit, hiddenSize: hidden, inputSize: 2,
                         length: length, batch: 32, seed: seed)
    }
    let diagnosis = try Diagnosis(settings: settings, feedforwardSeeds: 5)
    let figure = directory.appendingPathComponent("diagnose.svg")
    try diagnosis.figure.write(to: figure)
    return diagnosis.report + "\n(figure: \(figure.path))"
}
