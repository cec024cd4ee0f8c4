/// The one table of defaults: what a run uses when neither the command line (`train`,
/// `compare`), a checkpoint's `recurrent.train` nor the caller says otherwise. The task's part
/// is `TaskSpec.Defaults` (Data sits below Training); `TrainSpec.defaults` is the whole of it
/// as one value. `train` and `compare` read their option defaults and help texts from here.
///
/// Why these values: they are `train`'s documented ones. H = 64, batch 32 and T = 50 solve
/// the adding problem with an IRNN in a few minutes on two cores, where the tanh RNN fails;
/// `compare`'s former 100/50/150 are one option each away (`--hidden 100 --batch 50 --length 150`).
public enum TrainingDefaults {
    /// The task's settings (T, bptt, validation fraction, test size, permutation seed).
    public typealias Task = TaskSpec.Defaults

    // MARK: - Model
    /// The model preset (`ModelConfiguration.preset`): relu, W = I, U ~ N(0, 0.001²), b = 0.
    public static let preset = "irnn"
    /// H, units per layer.
    public static let hidden = 64
    /// L, stacked recurrent layers.
    public static let layers = 1

    /// The models `compare` (and `demo`) train side by side: the seed's argument in four
    /// presets (IRNN against LSTM, tanh RNN and a ReLU RNN with a small Gaussian W).
    public static let comparisonModels = ["irnn", "lstm", "rnn-tanh", "rnn-relu-gaussian"]

    // MARK: - Optimizer
    /// Adam at PyTorch's defaults (lr 1e-3): the rate least sensitive to the task.
    public static let optimizer = OptimizerKind.adam
    /// Gradient clipping at global norm 1 (Pascanu et al. 2013): a ReLU RNN needs it.
    public static let clipNorm = 1.0
    /// The learning-rate schedule (`LearningRateSchedule(parsing:)`).
    public static let schedule = "constant"

    // MARK: - Run
    /// Optimizer steps of a run.
    public static let steps = 3000
    /// Sequences per batch (charlm: parallel streams).
    public static let batch = 32
    /// The seed of the initial weights and of the batch stream (compare: of the first run).
    public static let seed: UInt64 = 1
    /// `train` evaluates at the end only: on an MNIST task one evaluation costs more than a
    /// hundred training steps.
    public static let evalEvery = 0
    /// `compare` evaluates every 100 steps instead: its report is the curves.
    public static let comparisonEvalEvery = 100
    /// A training record (log, progress) every this many steps.
    public static let logEvery = 10
    /// A checkpoint every this many steps (and at the end, and when stopped).
    public static let checkpointEvery = 1000
    /// Sequences per evaluation batch.
    public static let evaluationBatch = 500
}
