import ArgumentParser
import Recurrent

// The library's names are the options' values: one list for parsing, `--help` and messages
// (an unknown value is refused with the accepted ones).
extension TaskKind: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
