import Foundation
import Recurrent

/// The diagnosis part of the demo (filled in by the diagnose library).
func demoDiagnosis(directory: URL, seed: UInt64) throws -> String {
    "(diagnosis pending)"
}
