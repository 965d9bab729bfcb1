namespace DistillSharp.FaultInjection;

/// <summary>When a trial kills the run.</summary>
enum Moment
{
    /// <summary>At a uniformly random time of an uninterrupted run's duration.</summary>
    Random,
    /// <summary>The moment a checkpoint folder is being written (its temporary name appears).</summary>
    CheckpointWrite,
    /// <summary>The moment the teacher cache's data file grows.</summary>
    TeacherCacheWrite,
    /// <summary>The moment the export starts (the student's folder or an ONNX file appears).</summary>
    Export,
    /// <summary>At a random time, and the resumed run again at a random time.</summary>
    KillTheResume,
}

/// <summary>What one trial did and found.</summary>
sealed record TrialResult(string Kind, int Trial, string Moment, double? KilledAtSeconds, string? KilledDuring, int Resumes,
    bool Completed, bool Identical, string? Problem);

/// <summary>
/// One trial: start `distill run`, SIGKILL it at the trial's moment, then `distill run --resume`
/// until it completes (at most three times), and compare the compared files with the uninterrupted run.
/// </summary>
sealed class KillTrial(RunKind kind, string work, string sharedCacheRoot, double referenceSeconds, string referenceDir)
{
    // A new, empty cache root that shares the fetched datasets of the shared one.
    string ColdCache(int trial)
    {
        string root = $"{sharedCacheRoot}-cold-{trial:D2}";
        Directory.CreateDirectory(root);
        string npm = Path.Combine(sharedCacheRoot, "npm");
        if (Path.Exists(npm) && !Path.Exists(Path.Combine(root, "npm"))) Directory.CreateSymbolicLink(Path.Combine(root, "npm"), new FileInfo(npm).LinkTarget ?? npm);
        return root;
    }

    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    public TrialResult Run(int trial, Moment moment, Random random)
    {
        string runDir = Path.Combine(work, $"{kind.Name}-trial-{trial:D2}");
        string[] args = ["run", kind.Config, "--out", runDir];
        // The shared cache is warm after the first trial; a kill during a teacher-cache write needs a cold one.
        string cacheRoot = moment == Moment.TeacherCacheWrite ? ColdCache(trial) : sharedCacheRoot;
        double? killedAt = null;
        string? during = null;
        using (var first = new ChildRun(args, cacheRoot))
        {
            (killedAt, during) = KillAt(first, moment, random, runDir, cacheRoot);
            if (killedAt is null && first.Wait(Timeout) is not 0)
                return new(kind.Name, trial, moment.ToString(), null, null, 0, false, false, "the uninterrupted run failed: " + Tail(first.Output));
        }
        int resumes = 0;
        string? problem = null;
        bool completed = killedAt is null;
        while (!completed && resumes < 3)
        {
            resumes++;
            using var resume = new ChildRun([.. args, "--resume"], cacheRoot);
            if (moment == Moment.KillTheResume && resumes == 1)
            {
                Thread.Sleep(TimeSpan.FromSeconds(random.NextDouble() * referenceSeconds * 0.5));
                if (resume.Kill()) continue;
            }
            int? code = resume.Wait(Timeout);
            if (code == 0) completed = true;
            else problem = $"--resume exited {code?.ToString() ?? "(timeout)"}: {Tail(resume.Output)}";
        }
        var differing = completed ? kind.Compared.Where(f => !SameBytes(Path.Combine(referenceDir, f), Path.Combine(runDir, f))).ToList() : [];
        if (completed) problem = differing.Count > 0 ? "differs from the uninterrupted run: " + string.Join(", ", differing) : null;
        return new(kind.Name, trial, moment.ToString(), killedAt is null ? null : Math.Round(killedAt.Value, 2), during, resumes, completed,
            completed && differing.Count == 0, problem);
    }

    // Kills at the moment (or returns nulls when the run ended first). "During" names the write in progress.
    (double? At, string? During) KillAt(ChildRun child, Moment moment, Random random, string runDir, string cacheRoot)
    {
        if (moment is Moment.Random or Moment.KillTheResume)
        {
            double at = (0.05 + 0.65 * random.NextDouble()) * referenceSeconds; // the reference ran on a cold cache: trials are faster
            while (child.Running && child.Seconds < at) Thread.Sleep(5);
            return child.Kill() ? (child.Seconds, "random") : (null, null);
        }
        var (root, match) = moment switch
        {
            Moment.CheckpointWrite => (runDir, (Func<string, bool>)(p => p.Contains("checkpoints") && p.Contains(".tmp-"))),
            Moment.TeacherCacheWrite => (Path.Combine(cacheRoot, kind.TeacherCacheFolder), p => p.EndsWith("data.bin", StringComparison.Ordinal)),
            _ => (runDir, p => p.EndsWith(".onnx", StringComparison.Ordinal) || p.Contains("student-int8") || p.Contains(".onnx.tmp-")),
        };
        int skip = random.Next(0, moment == Moment.Export ? 3 : 8), seen = 0;
        string? hit = null;
        var gate = new object();
        Directory.CreateDirectory(root);
        using var watcher = new FileSystemWatcher(root) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.Size | NotifyFilters.LastWrite };
        void OnEvent(object _, FileSystemEventArgs e)
        {
            if (!match(e.FullPath)) return;
            lock (gate)
            {
                if (hit is not null || seen++ < skip) return;
                hit = e.FullPath;
            }
            child.Kill();
        }
        watcher.Created += OnEvent;
        watcher.Changed += OnEvent;
        watcher.EnableRaisingEvents = true;
        while (child.Running) Thread.Sleep(5);
        lock (gate)
            return hit is null ? (null, null) : (child.Seconds, $"{moment}: {Path.GetRelativePath(work, hit)}{(Exists(hit) ? " (still there after the kill)" : "")}");
    }

    static bool Exists(string path) => File.Exists(path) || Directory.Exists(path);

    static bool SameBytes(string a, string b) => File.Exists(a) && File.Exists(b) && File.ReadAllBytes(a).AsSpan().SequenceEqual(File.ReadAllBytes(b));

    static string Tail(string text)
    {
        var lines = text.Trim().Split('\n');
        return string.Join(" | ", lines.Skip(Math.Max(0, lines.Length - 3))).Trim();
    }
}
