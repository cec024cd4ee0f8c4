import ArgumentParser
import Foundation
import Recurrent

/// `compare`'s sweep options: plan a grid, run a share of it, merge, and write the job files
/// of Slurm (a job array) and Kubernetes (an Indexed Job). The grid, its shards, locks and
/// states are the library's (`Comparison`, `PlannedRun`, `Shard`, `RunLock`); this file only
/// words them as options and job files.
struct SweepOptions: ParsableArguments {
    @Flag(help: "Write the grid to REPORT/manifest.jsonl (one run per line: model, seed, every option that changes its result, folder) and stop without training.")
    var plan = false

    @Option(help: ArgumentHelp("Train only share I of N of the grid's runs (0-based: the runs k with k % N == I). Default: from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX with --shard-count.", valueName: "i/n"))
    var shard: String?

    @Option(name: .customLong("shard-count"), help: "The number of shards of a Kubernetes Indexed Job (its completions), which JOB_COMPLETION_INDEX does not tell.")
    var shardCount: Int?

    @Flag(help: "Train nothing: write the report of the runs that have finished, listing the others (running where, stopped at which step, not started).")
    var merge = false

    @Flag(help: "Write REPORT/sweep.sbatch (a job array, one task per run) and REPORT/merge.sbatch (the report, after the array), and stop.")
    var slurm = false

    @Flag(help: "With --slurm: submit both with sbatch (the merge job waits for the array: --dependency=afterany).")
    var submit = false

    @Option(name: .customLong("max-parallel"), help: ArgumentHelp("--slurm, --kubernetes: at most K runs at once (the array's %K, the Job's parallelism). (default: every run)", valueName: "k"))
    var maxParallel: Int?

    @Option(name: .customLong("slurm-option"), help: ArgumentHelp("--slurm: one more #SBATCH line for both jobs, e.g. --slurm-option=--partition=cpu (repeatable).", valueName: "option"))
    var slurmOptions: [String] = []

    @Flag(help: "Write REPORT/sweep-job.yaml (an Indexed Job, one pod per run; kubectl apply -f it) and stop. Needs --image and --volume.")
    var kubernetes = false

    @Option(help: "--kubernetes: the container image, with `recurrent` on its PATH.")
    var image: String?

    @Option(help: "--kubernetes: the PersistentVolumeClaim (ReadWriteMany) that holds the report folder.")
    var volume: String?

    @Option(help: "--kubernetes: where the volume is mounted in the pods, their working folder: give --report (and --data) relative to it, or as absolute paths under it. (default: /sweep)")
    var mount = "/sweep"

    /// The options of this group that plan or submit rather than train: a worker's command
    /// line is the user's without them.
    static let planningFlags: Set<String> = ["--plan", "--merge", "--slurm", "--submit", "--kubernetes"]
    static let planningOptions: Set<String> = ["--shard", "--shard-count", "--max-parallel", "--slurm-option", "--image", "--volume", "--mount"]

    var plansOnly: Bool { plan || slurm || kubernetes }

    func validate() throws {
        let modes = [plan, merge, slurm, kubernetes, shard != nil].filter { $0 }.count
        if modes > 1 { throw ValidationError("pass one of --plan, --merge, --slurm, --kubernetes and --shard") }
        if submit && !slurm { throw ValidationError("--submit submits the --slurm job files: pass --slurm too") }
        if let k = maxParallel, k < 1 { throw ValidationError("--max-parallel must be at least 1, got \(k)") }
        if let n = shardCount, n < 1 { throw ValidationError("--shard-count must be at least 1, got \(n)") }
        if let text = shard { do { _ = try Shard(parsing: text) } catch { throw ValidationError("--shard: \(error.message)") } }
        if !slurmOptions.isEmpty && !slurm { throw ValidationError("--slurm-option applies to --slurm") }
        if kubernetes {
            guard let image, !image.isEmpty else { throw ValidationError("--kubernetes needs --image IMAGE, a container image with recurrent on its PATH") }
            guard let volume, !volume.isEmpty else { throw ValidationError("--kubernetes needs --volume CLAIM, a ReadWriteMany PersistentVolumeClaim that holds the report folder") }
            guard mount.hasPrefix("/") else { throw ValidationError("--mount must be an absolute path, got \(mount)") }
        } else if image != nil || volume != nil {
            throw ValidationError("--image and --volume apply to --kubernetes")
        }
    }

    /// `--shard`, else the scheduler's task from the environment, else nil (the whole grid).
    func shard(environment: [String: String]) throws -> Shard? {
        do {
            if let text = shard { return try Shard(parsing: text) }
            if environment["JOB_COMPLETION_INDEX"] != nil && shardCount == nil {
                throw ValidationError("JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but the number of shards is not: pass --shard-count N (the job's completions)")
            }
            return try Shard.fromEnvironment(environment, count: shardCount)
        } catch let error as ConfigurationError {
            throw ValidationError(error.worded)
        }
    }

    /// `--plan`, `--slurm`, `--kubernetes`: the manifest, the job files, and with `--submit` the jobs.
    func writePlan(_ comparison: Comparison, plan: [PlannedRun], settings: ComparisonSettings) throws {
        try comparison.writeManifest(plan)
        let (largest, estimate) = try comparison.largestMemoryEstimate()
        let lengths = settings.gridLengths.count
        Terminal.out("planned \(plan.count) runs (\(settings.models.count) model(s) x \(lengths) length(s) x \(settings.seeds) seed(s)) in \(comparison.manifestURL.path)")
        Terminal.out("largest run: \(largest.key), about \(megabytes(estimate.bytes)) MB")
        let parallel = min(maxParallel ?? plan.count, plan.count)
        let memory = taskMemory(estimate.bytes)
        let worker = try workerArguments()
        let directory = comparison.directory
        if slurm {
            let logs = directory.appendingPathComponent("logs")
            try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
            let job = jobName(directory)
            let array = slurmScript(job: job, runs: plan.count, parallel: parallel, memoryMB: memory, logs: logs.path, arguments: worker)
            let merge = slurmMergeScript(job: job, memoryMB: memory, logs: logs.path, arguments: worker)
            let arrayURL = directory.appendingPathComponent("sweep.sbatch"), mergeURL = directory.appendingPathComponent("merge.sbatch")
            try Data(array.utf8).write(to: arrayURL, options: .atomic)
            try Data(merge.utf8).write(to: mergeURL, options: .atomic)
            Terminal.out("wrote \(arrayURL.path) (array 0-\(plan.count - 1)%\(parallel), 1 CPU and \(memory) MB per task, logs in \(logs.path)/) and \(mergeURL.path)")
            if submit {
                let id = try sbatch(["--parsable", arrayURL.path])
                let mergeID = try sbatch(["--parsable", "--dependency=afterany:\(id)", mergeURL.path])
                Terminal.out("submitted job array \(id) and its merge job \(mergeID); watch with: squeue -j \(id),\(mergeID)")
            } else {
                Terminal.out("submit with: id=$(sbatch --parsable \(arrayURL.path)) && sbatch --dependency=afterany:$id \(mergeURL.path)")
            }
        }
        if kubernetes {
            let url = directory.appendingPathComponent("sweep-job.yaml")
            let yaml = kubernetesJob(name: jobName(directory), runs: plan.count, parallel: parallel, memoryMB: memory,
                                     arguments: worker + ["--shard-count", String(plan.count)])
            try Data(yaml.utf8).write(to: url, options: .atomic)
            Terminal.out("wrote \(url.path) (\(plan.count) completions, parallelism \(parallel), 1 CPU and \(memory) Mi per pod)")
            Terminal.out("start with: kubectl apply -f \(url.path); then the report: kubectl wait --for=condition=complete job/\(jobName(directory)) --timeout=-1s and this command with --merge instead of --kubernetes")
        }
        if !slurm && !kubernetes {
            Terminal.out("train a share with this command and --shard i/\(plan.count) (or --slurm / --kubernetes for the job files); the report: --merge")
        }
    }

    /// A task's memory: the largest run's estimate, half again for what it does not count
    /// (allocator, buffers), and 256 MB for the program, in whole MB.
    func taskMemory(_ bytes: Double) -> Int { Int((bytes * 1.5 / 1_048_576).rounded(.up)) + 256 }

    func megabytes(_ bytes: Double) -> String { fixed(bytes / 1_048_576, 1) }

    /// The worker's command line: this one without the planning options, with `--threads 1`
    /// unless given (each task has one CPU).
    func workerArguments() throws -> [String] {
        var arguments = Array(CommandLine.arguments.dropFirst())
        var kept: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            let name = a.split(separator: "=", maxSplits: 1).first.map(String.init) ?? a
            if Self.planningFlags.contains(a) { i += 1; continue }
            if Self.planningOptions.contains(name) { i += a.contains("=") ? 1 : 2; continue }
            kept.append(a)
            i += 1
        }
        arguments = kept
        if !arguments.contains(where: { $0 == "--threads" || $0.hasPrefix("--threads=") }) { arguments += ["--threads", "1"] }
        return arguments
    }

    /// A Slurm and Kubernetes name from the report folder: lower-case letters, digits and '-'.
    func jobName(_ directory: URL) -> String {
        let base = directory.standardizedFileURL.lastPathComponent.lowercased().map { $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII ? $0 : "-" }
        return "recurrent-" + String(String(base).prefix(40)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }

    /// The binary that runs now, by its absolute path (the nodes see it on the shared file system).
    var binary: String { Bundle.main.executableURL?.resolvingSymlinksInPath().path ?? CommandLine.arguments[0] }

    func slurmScript(job: String, runs: Int, parallel: Int, memoryMB: Int, logs: String, arguments: [String]) -> String {
        """
        #!/bin/bash
        # A sweep of \(runs) runs (manifest.jsonl beside this file), one array task per run.
        # Written by: recurrent \(arguments.map(shellQuoted).joined(separator: " "))
        # Submit: id=$(sbatch --parsable sweep.sbatch) && sbatch --dependency=afterany:$id merge.sbatch
        #SBATCH --job-name=\(job)
        #SBATCH --array=0-\(runs - 1)%\(parallel)
        #SBATCH --ntasks=1
        #SBATCH --cpus-per-task=1
        #SBATCH --mem=\(memoryMB)M
        #SBATCH --requeue
        #SBATCH --open-mode=append
        #SBATCH --output=\(logs)/%A_%a.log
        #SBATCH --chdir=\(FileManager.default.currentDirectoryPath)
        \(slurmOptions.map { "#SBATCH \($0)\n" }.joined())
        # A task stopped by scancel, preemption or its time limit (SIGTERM) saves and exits; requeued
        # (scontrol requeue), it resumes its run from the checkpoint. Its shard comes from
        # SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT.
        exec \(shellQuoted(binary)) \(arguments.map(shellQuoted).joined(separator: " "))

        """
    }

    func slurmMergeScript(job: String, memoryMB: Int, logs: String, arguments: [String]) -> String {
        """
        #!/bin/bash
        # The report of the sweep (sweep.sbatch), from the runs that have finished.
        #SBATCH --job-name=\(job)-merge
        #SBATCH --ntasks=1
        #SBATCH --cpus-per-task=1
        #SBATCH --mem=\(memoryMB)M
        #SBATCH --output=\(logs)/merge-%j.log
        #SBATCH --chdir=\(FileManager.default.currentDirectoryPath)
        \(slurmOptions.map { "#SBATCH \($0)\n" }.joined())
        exec \(shellQuoted(binary)) \(arguments.map(shellQuoted).joined(separator: " ")) --merge

        """
    }

    func kubernetesJob(name: String, runs: Int, parallel: Int, memoryMB: Int, arguments: [String]) -> String {
        let command = (["recurrent"] + arguments).map(jsonQuoted).joined(separator: ", ")
        return """
        # A sweep of \(runs) runs (manifest.jsonl beside this file) as an Indexed Job: one pod per run,
        # at most \(parallel) at once. Each pod trains the share JOB_COMPLETION_INDEX of --shard-count;
        # a pod stopped or evicted (SIGTERM) saves, and its replacement resumes from the checkpoint.
        # Start: kubectl apply -f sweep-job.yaml
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: \(name)
        spec:
          completionMode: Indexed
          completions: \(runs)
          parallelism: \(parallel)
          backoffLimit: \(max(6, 3 * runs))
          template:
            spec:
              restartPolicy: OnFailure
              containers:
              - name: recurrent
                image: \(jsonQuoted(image ?? ""))
                workingDir: \(jsonQuoted(mount))
                command: [\(command)]
                env:
                - name: RECURRENT_JOB_NAME
                  valueFrom:
                    fieldRef:
                      fieldPath: metadata.labels['job-name']
                resources:
                  requests:
                    cpu: "1"
                    memory: \(memoryMB)Mi
                  limits:
                    memory: \(memoryMB)Mi
                volumeMounts:
                - name: sweep
                  mountPath: \(jsonQuoted(mount))
              volumes:
              - name: sweep
                persistentVolumeClaim:
                  claimName: \(jsonQuoted(volume ?? ""))

        """
    }

    /// Runs `sbatch ARGS` and returns the job id it prints (`--parsable`: "id" or "id;cluster").
    func sbatch(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sbatch"] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch {
            throw CLIError("cannot run sbatch (\(error))", fix: "run this on a Slurm login node, or submit the written files there")
        }
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let id = output.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        guard process.terminationStatus == 0, !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw CLIError("sbatch \(arguments.joined(separator: " ")) failed (status \(process.terminationStatus)): \(errors.trimmingCharacters(in: .whitespacesAndNewlines))",
                           fix: "check the #SBATCH lines of the written file (--slurm-option adds partition, account or time)")
        }
        return id
    }
}

/// `text` as one shell word: single-quoted unless it is plain.
func shellQuoted(_ text: String) -> String {
    if !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:,@%+".contains($0)) }) { return text }
    return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// `text` as a JSON string, which YAML reads as the same string.
func jsonQuoted(_ text: String) -> String {
    String(decoding: (try? { let e = JSONEncoder(); e.outputFormatting = .withoutEscapingSlashes; return try e.encode(text) }()) ?? Data("\"\"".utf8), as: UTF8.self)
}
