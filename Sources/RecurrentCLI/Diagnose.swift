import ArgumentParser
import Foundation
import Recurrent

/// `recurrent diagnose`: the seed's four-step argument, measured on real matrices.
/// Thin: parse, validate, call `Diagnosis`, print.
struct Diagnose: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure why a ReLU RNN needs W near the identity: forward growth, Jacobian, spectrum, CNN contrast.",
        discussion: """
        For each (activation f, recurrent initialiser) pair: draws W [H, H],
        U [H, I], b from --seed; runs net_t = U x_t + W h_{t-1} + b,
        h_t = f(net_t) in Float32 (as training does) on x_t ~ N(0, 1); reports:

        [1] Forward (10.11). ||h_t||, ||net_t||: Euclidean over the H units,
        mean and max over the B sequences, t = 1..T. The fraction of units
        with net_t > 0. overflow: first t with inf/NaN (Float32); zero@t:
        first t with h_t exactly 0 everywhere. x/step: exp of the least-squares
        slope of ln ||h_t|| over the second half of the finite steps. Also
        with zero input after t = 1: h_t = f(W h_{t-1} + b), a product of W's.

        [2] Backward (10.12). J_t = d net_t / d net_1 = W D_{t-1} ... W D_1,
        D_k = diag f'(net_k), along --jacobian-sequences trajectories redone
        in Double: ||J_t||_2 (largest singular value) and ||J_t||_F per lag t.
        ||dL/dh_k|| for L = r . h_T (fixed random unit r), from
        dL/dh_{k-1} = W^T D_k dL/dh_k. Kept as 2^e M: exact beyond Double's
        range (printed as mantissa e exponent). ReLU with every unit active
        gives J_t = W^(t-1).

        [3] Spectrum of W. All eigenvalues (Hessenberg + Francis QR, for
        non-symmetric W); rho(W) = max |lambda|, the growth per step that
        W^n approaches (Gelfand); sigma_max, sigma_min (one-sided Jacobi).

        [4] CNN contrast. ||W^n||_2 (one draw reused: the RNN) against
        ||W_n ... W_1||_2 (n independent draws: a feed-forward stack),
        n = 1..T, over --feedforward-seeds seeds: mean and sd of log10, and
        the growth per layer 10^(mean log10 / n).

        Verdict: the gradient reaching t = 1 is "vanishing" below 1e-3 of its
        value at t = T, "exploding" above 1e3, "cut" when exactly 0 (every
        path back crosses a unit with f' = 0).

        Default pairs: relu, tanh x identity, gaussian:0.3. At H = 100,
        s sqrt(H) = 3 puts rho(W) near 3, and a ReLU state with half its
        units active grows about s sqrt(H/2) = 2.1 per step: it overflows
        Float32 within T = 200.

        Initialisers (U, W, b): \(Initializer.accepted)
        Cost: about (pairs + seeds) x T x H^3.
        """
    )

    @Option(name: .customLong("activation"), help: ArgumentHelp("Hidden activation f; repeat (or comma-separate) for several. Default: relu, tanh. With --checkpoint: one f, for a file that does not record its activation (a PyTorch state_dict loads as tanh otherwise).", valueName: "f"))
    var activations: [String] = []

    @Option(name: .customLong("recurrent-init"), help: ArgumentHelp("Initialiser of W; repeat for several (one run per activation x init). Default: identity, gaussian:\(DiagnosisSetting.defaultGaussianStd).", valueName: "init"))
    var recurrentInits: [String] = []

    @Option(name: .customLong("input-init"), help: ArgumentHelp("Initialiser of U (default \(DiagnosisSetting.defaultInputInit.name), Le et al. 2015).", valueName: "init"))
    var inputInit: String?

    @Option(name: .customLong("bias-init"), help: ArgumentHelp("Initialiser of b (default zeros).", valueName: "init"))
    var biasInit: String?

    @Option(help: "Hidden size H (default 100).")
    var hidden: Int?

    @Option(name: .customLong("input-size"), help: "Input size I (default 2).")
    var inputSize: Int?

    @Option(help: "Sequence length T (>= 2).")
    var length: Int = 200

    @Option(help: "Batch size B: sequences averaged in [1].")
    var batch: Int = 32

    @Option(help: "Seed of every draw (xoshiro256**, SplitMix64-seeded).")
    var seed: UInt64 = 1

    @Option(name: .customLong("jacobian-sequences"), help: "Trajectories averaged (log10) in [2].")
    var jacobianSequences: Int = 1

    @Option(name: .customLong("feedforward-seeds"), help: "Seeds of the CNN contrast [4] (0 skips it).")
    var feedforwardSeeds: Int = 5

    @Flag(help: "Print one JSON document with every series instead of the tables.")
    var json = false

    @Option(help: ArgumentHelp("Write series.csv, eigenvalues.csv, feedforward.csv and summary.csv into DIR.", valueName: "DIR"))
    var csv: String?

    @Option(help: ArgumentHelp("Write an SVG figure: log-scale curves for [1], [2], [4]; eigenvalues and the unit circle for [3].", valueName: "FILE.svg"))
    var plot: String?

    @Option(help: ArgumentHelp("Diagnose layer 0 of a trained model (safetensors) instead of a fresh init: RNN and IndRNN fully, LSTM/GRU the spectrum of each gate block.", valueName: "FILE"))
    var checkpoint: String?

    @Flag(name: .customLong("allow-non-finite"), help: ArgumentHelp(allowNonFiniteHelp))
    var allowNonFinite = false

    // MARK: - Validation

    func parsedActivations() throws -> [Activation] {
        let names = activations.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        if names.isEmpty { return [.relu, .tanh] }
        return try names.map { name in
            do { return try Activation(parsing: name) } catch { throw ValidationError("--activation: \(error)") }
        }
    }

    func parsedRecurrentInits() throws -> [Initializer] {
        if recurrentInits.isEmpty { return [.identity(scale: 1), .gaussian(std: DiagnosisSetting.defaultGaussianStd)] }
        return try recurrentInits.map { try Self.initializer($0, option: "--recurrent-init") }
    }

    static func initializer(_ text: String, option: String) throws -> Initializer {
        do { return try Initializer(parsing: text) } catch { throw ValidationError("\(option): \(error)") }
    }

    func validate() throws {
        _ = try parsedActivations()
        _ = try parsedRecurrentInits()
        if let text = inputInit { _ = try Self.initializer(text, option: "--input-init") }
        if let text = biasInit { _ = try Self.initializer(text, option: "--bias-init") }
        if let h = hidden, h < 1 { throw ValidationError("--hidden must be at least 1, got \(h)") }
        if let i = inputSize, i < 1 { throw ValidationError("--input-size must be at least 1, got \(i)") }
        if length < 2 { throw ValidationError("--length must be at least 2 (a lag needs two steps), got \(length)") }
        if batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch)") }
        if jacobianSequences < 1 || jacobianSequences > batch {
            throw ValidationError("--jacobian-sequences must be between 1 and --batch (\(batch)), got \(jacobianSequences)")
        }
        if feedforwardSeeds < 0 { throw ValidationError("--feedforward-seeds must be 0 or more, got \(feedforwardSeeds)") }
        if let file = plot, !file.lowercased().hasSuffix(".svg") { throw ValidationError("--plot writes SVG: give a file name ending in .svg, got '\(file)'") }
        if let file = checkpoint {
            // One --activation sets that of a file that does not record it (a PyTorch state_dict).
            let clashing = [("--activation (more than one)", activations.flatMap { $0.split(separator: ",") }.count > 1), ("--recurrent-init", !recurrentInits.isEmpty),
                            ("--input-init", inputInit != nil), ("--bias-init", biasInit != nil),
                            ("--hidden", hidden != nil), ("--input-size", inputSize != nil)].filter(\.1).map(\.0)
            if !clashing.isEmpty {
                throw ValidationError("--checkpoint takes f, W, U, b and the sizes from the file; drop \(clashing.joined(separator: ", "))")
            }
            if !FileManager.default.fileExists(atPath: file) { throw ValidationError("--checkpoint: no file at '\(file)'") }
        } else if allowNonFinite {
            throw ValidationError("--allow-non-finite applies to --checkpoint (a fresh initialisation is always finite)")
        }
    }

    // MARK: - Run

    func run() throws {
        let diagnosis: Diagnosis
        if let file = checkpoint {
            do {
                diagnosis = try refusingOverMemory({ _ in "lower --length or --batch" }) {
                    try Diagnosis(checkpoint: URL(fileURLWithPath: file), length: length, batch: batch, seed: seed,
                                  jacobianSequences: jacobianSequences, allowNonFinite: allowNonFinite,
                                  overriding: ConfigurationOverrides(activation: try activations.first.map { try Activation(parsing: $0) }))
                }
            } catch let error as NonFiniteTensorsError {
                throw refusal(error, command: "diagnose")
            }
        } else {
            let input = try inputInit.map { try Self.initializer($0, option: "--input-init") } ?? DiagnosisSetting.defaultInputInit
            let bias = try biasInit.map { try Self.initializer($0, option: "--bias-init") } ?? .zeros
            let settings = try parsedActivations().flatMap { f in
                try parsedRecurrentInits().map { w in
                    DiagnosisSetting(activation: f, recurrentInit: w, inputInit: input, biasInit: bias, hiddenSize: hidden ?? 100,
                                     inputSize: inputSize ?? 2, length: length, batch: batch, seed: seed,
                                     jacobianSequences: jacobianSequences)
                }
            }
            diagnosis = try refusingOverMemory({ $0 == .trace || $0 == .batches ? "lower --batch, --length or --hidden" : "lower --hidden" }) {
                try Diagnosis(settings: settings, feedforwardSeeds: feedforwardSeeds)
            }
        }
        if let dir = csv {
            let files = try diagnosis.writeCSV(to: URL(fileURLWithPath: dir))
            FileHandle.standardError.write(Data("wrote \(files.map(\.path).joined(separator: ", "))\n".utf8))
        }
        if let file = plot {
            try diagnosis.figure.write(to: URL(fileURLWithPath: file))
            FileHandle.standardError.write(Data("wrote \(file)\n".utf8))
        }
        Terminal.out(json ? diagnosis.json.text : diagnosis.report)
    }
}
