// libFuzzer target: the small spec parsers (activation, initializer, schedule, model spec) on
// each line of the input; accepted specs must read back from their own text form.
// Built and run by scripts/fuzz.sh (not part of the package build).
@testable import Recurrent

let task = try! AddingTask(length: 5, testSize: 1)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).prefix(8).map(String.init) {
        // Refusals: the message is built, and stays short (the texts they quote are bounded).
        func refusal(_ parse: () throws(ConfigurationError) -> Void) {
            do { try parse() } catch {
                precondition(!error.message.isEmpty && error.message.count < 2000, "message of \(error.message.count) characters")
            }
        }
        refusal { () throws(ConfigurationError) in _ = try Activation(parsing: line) }
        refusal { () throws(ConfigurationError) in _ = try Initializer(parsing: line) }
        refusal { () throws(ConfigurationError) in _ = try LearningRateSchedule(parsing: line, totalSteps: 100) }
        refusal { () throws(ConfigurationError) in _ = try ModelSpec(parsing: line) }
        if let activation = try? Activation(parsing: line) {
            precondition((try? Activation(parsing: activation.name)) == activation, "activation \(activation.name) does not read back")
        }
        if let initializer = try? Initializer(parsing: line) {
            precondition((try? Initializer(parsing: initializer.name)) == initializer, "initializer \(initializer.name) does not read back")
        }
        if let schedule = try? LearningRateSchedule(parsing: line, totalSteps: 100) {
            for step in [0, 1, 50, 99, 100, 1000] { _ = schedule.rate(base: 0.01, step: step) }
        }
        if let spec = try? ModelSpec(parsing: line) {
            _ = spec.slug
            precondition((try? ModelSpec(parsing: spec.description)) == spec, "model spec \(spec) does not read back")
            _ = try? spec.configuration(for: task, hidden: 8)
        }
    }
    return 0
}
