import Foundation
import Testing
@testable import Recurrent

/// `recurrent compare --plan / --shard / --merge / --slurm / --kubernetes` through the built
/// binary, on a grid of 2 models x 2 lengths x 2 seeds of tiny adding problems. The real
/// Slurm run is `scripts/slurm-local.sh` (it needs root and the daemons).
@Suite("CLI: sweeps")
struct CLISweepTests {
    static let grid = ["compare", "--task", "adding", "--length", "5,7", "--models", "irnn:lr=1e-2|3e-3", "--seeds", "2", "--steps", "20",
                       "--hidden", "4", "--batch", "4", "--eval-every", "10", "--limit", "20", "--report", "out"]

    func lines(_ url: URL) throws -> [Substring] { try String(contentsOf: url, encoding: .utf8).split(separator: "\n") }

    @Test func planWritesTheManifestAndTrainsNothing() throws {
        let dir = try CLI.directory()
        let r = try CLI.run(Self.grid + ["--plan"], in: dir)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stdout.contains("planned 8 runs (2 model(s) x 2 length(s) x 2 seed(s))"), "\(r.stdout)")
        let manifest = try lines(dir.appendingPathComponent("out/manifest.jsonl"))
        #expect(manifest.count == 8)
        #expect(manifest[7].contains("\"key\":\"irnn_lr_3e-3-T7-seed2\"") && manifest[7].contains("\"length\":7"), "\(manifest[7])")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/runs").path))
    }

    /// Two array tasks from the environment, then the merge: the report lists what is missing
    /// until the last shard has run; a plain compare then trains nothing.
    @Test func shardsFromTheEnvironmentThenMerge() throws {
        let dir = try CLI.directory()
        let one = try CLI.run(Self.grid, in: dir, environment: ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2"])
        #expect(one.status == 0, "\(one.output)")
        #expect(one.stdout.contains("shard 1/2: 4 run(s) finished"), "\(one.stdout)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/report.md").path), "a shard leaves the report to --merge")
        let runs = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out/runs").path).sorted()
        #expect(runs == ["irnn_lr_1e-2-T5-seed2", "irnn_lr_1e-2-T7-seed2", "irnn_lr_3e-3-T5-seed2", "irnn_lr_3e-3-T7-seed2"])
        let partial = try CLI.run(Self.grid + ["--merge"], in: dir)
        #expect(partial.status == 0, "\(partial.output)")
        #expect(partial.stdout.contains("4 of 8 runs finished"), "\(partial.stdout)")
        let md = try String(contentsOf: dir.appendingPathComponent("out/report.md"), encoding: .utf8)
        #expect(md.contains("## Unfinished runs") && md.contains("| runs/irnn_lr_1e-2-T5-seed1 | irnn:lr=1e-2 T=5 | 1 | not started |"), "\(md)")
        #expect(md.contains("# Comparison: adding, T = 5, 7"))
        let zero = try CLI.run(Self.grid + ["--shard", "0/2"], in: dir)
        #expect(zero.status == 0, "\(zero.output)")
        let merged = try CLI.run(Self.grid + ["--merge"], in: dir)
        #expect(merged.status == 0 && !merged.stdout.contains("runs finished"), "\(merged.output)")
        let full = try String(contentsOf: dir.appendingPathComponent("out/report.md"), encoding: .utf8)
        #expect(!full.contains("Unfinished") && full.contains("| irnn:lr=3e-3 T=7 | 37 |"), "\(full)")
        #expect(try lines(dir.appendingPathComponent("out/runs.jsonl")).count == 8)
        let again = try CLI.run(Self.grid, in: dir)
        #expect(again.status == 0 && again.stderr.components(separatedBy: "already finished").count == 9, "\(again.stderr)")
    }

    /// #15's rough edge: compare reused finished runs after an option changed.
    @Test func aChangedOptionIsRefusedNotReused() throws {
        let dir = try CLI.directory()
        let args = ["compare", "--length", "5", "--models", "irnn", "--steps", "10", "--hidden", "4", "--batch", "4", "--limit", "20", "--report", "out"]
        #expect(try CLI.run(args, in: dir).status == 0)
        let r = try CLI.run(args.map { $0 == "4" ? "5" : $0 }, in: dir)      // --hidden 5 --batch 5
        #expect(r.status != 0)
        #expect(r.stderr.contains("runs/irnn-seed1 holds a run with other options") && r.stderr.contains("hidden: 4 there, 5 here")
                && r.stderr.contains("spec.run.batch: 4 there, 5 here"), "\(r.stderr)")
    }

    /// A run locked by a process on another host that is not this scheduler task: the shard
    /// leaves it, fails, and names the lock; the merge says where it runs.
    @Test func aShardLeavesARunLockedElsewhereAndSaysSo() throws {
        let dir = try CLI.directory()
        let folder = dir.appendingPathComponent("out/runs/irnn_lr_1e-2-T5-seed1")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(#"{"host":"node-elsewhere","pid":4242,"task":"slurm:99_0"}"#.utf8).write(to: folder.appendingPathComponent("lock"))
        let r = try CLI.run(Self.grid + ["--shard", "0/4"], in: dir)
        #expect(r.status == 1, "\(r.output)")
        #expect(r.stderr.contains("irnn:lr=1e-2 T=5 seed 1: trained by another process (host node-elsewhere, pid 4242, task slurm:99_0), left to it"), "\(r.stderr)")
        #expect(r.stderr.contains("\(folder.lastPathComponent)/lock (host node-elsewhere") && r.stderr.contains("remove those lock files"), "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/runs/irnn_lr_3e-3-T5-seed1/result.json").path),
                "the shard's other run (index 4) is trained")
        let merged = try CLI.run(Self.grid + ["--merge"], in: dir)
        let md = try String(contentsOf: dir.appendingPathComponent("out/report.md"), encoding: .utf8)
        #expect(merged.status == 0 && md.contains("| runs/irnn_lr_1e-2-T5-seed1 | irnn:lr=1e-2 T=5 | 1 | running (host node-elsewhere, pid 4242, task slurm:99_0) |"), "\(md)")
    }

    @Test func slurmWritesTheArrayAndTheMergeJob() throws {
        let dir = try CLI.directory()
        let r = try CLI.run(Self.grid + ["--slurm", "--max-parallel", "3", "--slurm-option=--partition=cpu"], in: dir)
        #expect(r.status == 0, "\(r.output)")
        let script = try String(contentsOf: dir.appendingPathComponent("out/sweep.sbatch"), encoding: .utf8)
        for line in ["#SBATCH --array=0-7%3", "#SBATCH --cpus-per-task=1", "#SBATCH --requeue", "#SBATCH --partition=cpu",
                     "/out/logs/%A_%a.log", "#SBATCH --mem="] {
            #expect(script.contains(line), "\(line) missing from:\n\(script)")
        }
        let exec = try #require(script.split(separator: "\n").first { $0.hasPrefix("exec ") })
        #expect(exec.hasSuffix("compare --task adding --length 5,7 --models 'irnn:lr=1e-2|3e-3' --seeds 2 --steps 20 --hidden 4 --batch 4 --eval-every 10 --limit 20 --report out --threads 1"), "\(exec)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/logs").path), "Slurm does not create the log folder")
        let merge = try String(contentsOf: dir.appendingPathComponent("out/merge.sbatch"), encoding: .utf8)
        #expect(merge.contains("--report out --threads 1 --merge") && !merge.contains("--array"), "\(merge)")
        #expect(try lines(dir.appendingPathComponent("out/manifest.jsonl")).count == 8)
    }

    @Test func kubernetesWritesAnIndexedJob() throws {
        let dir = try CLI.directory()
        let missing = try CLI.run(Self.grid + ["--kubernetes"], in: dir)
        #expect(missing.status != 0 && missing.stderr.contains("--kubernetes needs --image"), "\(missing.stderr)")
        let r = try CLI.run(Self.grid + ["--kubernetes", "--image", "registry.example/recurrent:1", "--volume", "sweeps", "--max-parallel", "4"], in: dir)
        #expect(r.status == 0, "\(r.output)")
        let yaml = try String(contentsOf: dir.appendingPathComponent("out/sweep-job.yaml"), encoding: .utf8)
        for line in ["completionMode: Indexed", "completions: 8", "parallelism: 4", "image: \"registry.example/recurrent:1\"",
                     "claimName: \"sweeps\"", "mountPath: \"/sweep\"", "workingDir: \"/sweep\"", "fieldPath: metadata.labels['job-name']",
                     "\"--report\", \"out\", \"--threads\", \"1\", \"--shard-count\", \"8\"]"] {
            #expect(yaml.contains(line), "\(line) missing from:\n\(yaml)")
        }
        #expect(!yaml.contains("--kubernetes") && !yaml.contains("--image"))
    }

    @Test(arguments: [(["--shard", "2/2"], "shard 2/2 does not exist"), (["--plan", "--merge"], "pass one of"),
                      (["--submit"], "pass --slurm too"), (["--image", "x"], "apply to --kubernetes")])
    func badSweepOptionsAreRefused(_ bad: [String], _ message: String) throws {
        let r = try CLI.run(Self.grid + bad, in: try CLI.directory())
        #expect(r.status != 0 && r.stderr.contains(message), "\(r.stderr)")
    }

    @Test func anIndexedJobNeedsItsShardCountAndTrainTakesOneLength() throws {
        let dir = try CLI.directory()
        let r = try CLI.run(Self.grid, in: dir, environment: ["JOB_COMPLETION_INDEX": "0"])
        #expect(r.status != 0 && r.stderr.contains("--shard-count"), "\(r.stderr)")
        let pod = try CLI.run(Self.grid + ["--shard-count", "4"], in: dir, environment: ["JOB_COMPLETION_INDEX": "3", "RECURRENT_JOB_NAME": "sweep"])
        #expect(pod.status == 0 && pod.stdout.contains("shard 3/4: 2 run(s) finished"), "\(pod.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out/runs").path).sorted()
                == ["irnn_lr_1e-2-T7-seed2", "irnn_lr_3e-3-T7-seed2"])
        let train = try CLI.run(["train", "--length", "5,7", "--hidden", "4", "--steps", "2"], in: dir)
        #expect(train.status != 0 && train.stderr.contains("--length takes one value here"), "\(train.stderr)")
    }
}
