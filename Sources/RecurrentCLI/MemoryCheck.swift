import ArgumentParser
import Recurrent

/// Refusing a run that would not fit in memory, before anything is allocated: the library's
/// estimate (`MemoryEstimate`) and what it would need, then which options shrink its largest
/// part. A bad-options error (exit 64): the options asked for the impossible.
extension MemoryError {
    /// The error with `advice` for the largest part's kind appended ("lower --batch or --hidden").
    func refusal(_ advice: (MemoryEstimate.Kind) -> String) -> ValidationError {
        ValidationError("\(self); \(advice(estimate.largest?.kind ?? .weights))")
    }
}

extension MemoryEstimate {
    /// Checks the estimate against the machine's memory; on failure a `ValidationError` with `advice`.
    func checkForCommandLine(_ advice: (MemoryEstimate.Kind) -> String) throws {
        do { try check() } catch { throw error.refusal(advice) }
    }
}

/// Runs `body`, turning a `MemoryError` from deep in the library (diagnose, compare) into a refusal with `advice`.
func refusingOverMemory<T>(_ advice: (MemoryEstimate.Kind) -> String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as MemoryError { throw error.refusal(advice) }
}
