using System.Runtime.InteropServices;

namespace HcrLab.Runtime;

/// <summary>
/// One loaded copy of a module's library and the module ABI functions it exports. The copy has a file name no earlier
/// load used, so the dynamic loader cannot hand back an image it still holds; it is deleted when the library is closed.
/// Loaded with RTLD_NOW (an unresolved symbol fails the load, not a later call) and RTLD_LOCAL (modules export the same
/// ABI names, and one module's symbols must not bind another's).
/// </summary>
internal sealed unsafe class ModuleLibrary
{
    /// <summary>Exports every module must have. <c>HcrCreateTypeInfos</c> is optional: C modules have no type information.</summary>
    public static readonly string[] RequiredExports = ["HcrInit000", "DatInit000", "Init000", "HcrGetImportedModules", "HcrGetSigHash"];

    private const int MaxImports = 65536;

    /// <summary>The longest import name or signature hash read (a path, with room to spare).</summary>
    private const int MaxNameBytes = 1 << 16;

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static int s_faultedImages;
    private int _faulted;

    private nint _handle;

    private ModuleLibrary(string module, string originalPath, string copyPath, nint handle)
    {
        Module = module;
        OriginalPath = originalPath;
        CopyPath = copyPath;
        _handle = handle;
    }

    public string Module { get; }

    public string OriginalPath { get; }

    public string CopyPath { get; }

    public bool IsOpen => _handle != 0;

    /// <summary>
    /// True once code of this library faulted under the fault guard: it is never unloaded (<see cref="Close"/> only
    /// deletes the copy), since its code stopped halfway and may have left pointers into the image behind.
    /// </summary>
    public bool Faulted => _faulted != 0;

    /// <summary>How many libraries in this process are <see cref="Faulted"/>: mapped for good, whatever runtime loaded them.</summary>
    public static int FaultedImages => Volatile.Read(ref s_faultedImages);

    public void MarkFaulted()
    {
        if (Interlocked.Exchange(ref _faulted, 1) == 0)
        {
            Interlocked.Increment(ref s_faultedImages);
        }
    }

    public delegate* unmanaged<nint, nint, void> HcrInit000 { get; private set; }

    public delegate* unmanaged<void> HcrCreateTypeInfos { get; private set; }

    public delegate* unmanaged<void> DatInit000 { get; private set; }

    public delegate* unmanaged<void> Init000 { get; private set; }

    public IReadOnlyList<string> Imports { get; private set; } = [];

    public string SignatureHash { get; private set; } = "";

    public ModuleFingerprint Fingerprint { get; private set; } = null!;

    /// <summary>
    /// Copies <paramref name="originalPath"/> to <paramref name="copyPath"/>, loads the copy, and reads its imports and
    /// hash (with <paramref name="containFaults"/>, calling the module's functions under the fault guard).
    /// </summary>
    /// <param name="module">The module's name.</param>
    /// <param name="originalPath">The module's file.</param>
    /// <param name="copyPath">Where the copy that is loaded goes (a name no earlier load used).</param>
    /// <param name="containFaults">Call the module's metadata functions under the fault guard.</param>
    /// <param name="trialLoad">Load the copy and run its destructors in a child process first (<see cref="TrialLoad"/>).</param>
    /// <param name="read">The file as a change check already read it, or null to read it now.</param>
    /// <param name="maxFaulted">Load nothing while this many libraries of the process are <see cref="Faulted"/> (stage <see cref="ModuleLoadStage.Limit"/>).</param>
    /// <exception cref="ModuleLoadException">
    /// Any step failed; nothing stays loaded (except a library whose code faulted: it stays mapped) and the copy is gone.
    /// </exception>
    public static ModuleLibrary Load(string module, string originalPath, string copyPath, bool containFaults, bool trialLoad = false, ModuleFile? read = null, int maxFaulted = int.MaxValue)
    {
        // Faulted libraries are never unloaded (their code stopped halfway): each pins its mappings for the process's life.
        if (FaultedImages >= maxFaulted)
        {
            throw new ModuleLoadException(module, originalPath, ModuleLoadStage.Limit,
                $"{FaultedImages} libraries whose code faulted stay mapped in this process (HcrRuntimeOptions.MaxFaultedImages); restart the process to load more");
        }

        // Read once: the bytes checked, hashed and written to the copy are the same, whatever happens to the file meanwhile.
        ModuleFile? file = read;
        try
        {
            file ??= ModuleFile.Read(originalPath);
        }
        catch (ModuleFileRefusedException e)
        {
            throw new ModuleLoadException(module, originalPath, ModuleLoadStage.Format, e.Message, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModuleLoadException(module, originalPath, ModuleLoadStage.Copy, $"{e.GetType().Name}: {e.Message}", e);
        }

        if (file is null)
        {
            throw new ModuleLoadException(module, originalPath, ModuleLoadStage.Copy, "the file does not exist");
        }

        byte[] bytes = file.Bytes;

        // glibc's loader trusts the file's layout: a truncated library would kill the process inside dlopen.
        if (ElfCheck.Problem(bytes) is { } problem)
        {
            throw new ModuleLoadException(module, originalPath, ModuleLoadStage.Format, problem);
        }

        try
        {
            using var copy = new FileStream(copyPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
            copy.Write(bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(copyPath);
            throw new ModuleLoadException(module, originalPath, ModuleLoadStage.Copy, $"{e.GetType().Name}: {e.Message}", e);
        }

        // Constructors and destructors run inside dlopen and dlclose, where the fault guard cannot reach.
        if (trialLoad && TrialLoad.Problem(copyPath) is { } refused)
        {
            TryDelete(copyPath);
            throw new ModuleLoadException(module, originalPath, ModuleLoadStage.Load, refused);
        }

        var fingerprint = ModuleFingerprint.Of(file);
        Native.ClearDlerror();
        nint handle = Native.Dlopen(copyPath, Native.RtldNow | Native.RtldLocal);
        if (handle == 0)
        {
            string error = Native.Dlerror();
            TryDelete(copyPath);
            throw new ModuleLoadException(module, originalPath, ModuleLoadStage.Load, error);
        }

        var library = new ModuleLibrary(module, originalPath, copyPath, handle) { Fingerprint = fingerprint };
        try
        {
            library.ResolveExports();
            library.ReadMetadata(containFaults);
            return library;
        }
        catch
        {
            library.Close();
            throw;
        }
    }

    /// <summary>Unloads the library (unless it <see cref="Faulted"/>) and deletes its copy. Calling code of this library afterwards faults.</summary>
    public void Close()
    {
        if (_handle != 0 && !Faulted)
        {
            Native.Dlclose(_handle);
            _handle = 0;
        }

        TryDelete(CopyPath);
    }

    public override string ToString() => $"{Module} ({CopyPath})";

    private void ResolveExports()
    {
        var missing = RequiredExports.Where(name => Native.Dlsym(_handle, name) == 0).ToList();
        if (missing.Count > 0)
        {
            throw new ModuleLoadException(Module, OriginalPath, ModuleLoadStage.MissingExport,
                $"{string.Join(", ", missing)} (a module must export {string.Join(", ", RequiredExports)})");
        }

        HcrInit000 = (delegate* unmanaged<nint, nint, void>)Native.Dlsym(_handle, "HcrInit000");
        HcrCreateTypeInfos = (delegate* unmanaged<void>)Native.Dlsym(_handle, "HcrCreateTypeInfos");
        DatInit000 = (delegate* unmanaged<void>)Native.Dlsym(_handle, "DatInit000");
        Init000 = (delegate* unmanaged<void>)Native.Dlsym(_handle, "Init000");
    }

    /// <summary>
    /// Reads the import list and the signature hash. The pointers come from the module's code, so each one is checked
    /// against the process's readable mappings before it is followed: a wild pointer is an error, not a fault.
    /// </summary>
    private void ReadMetadata(bool containFaults)
    {
        nint getImports = Native.Dlsym(_handle, "HcrGetImportedModules");
        nint getHash = Native.Dlsym(_handle, "HcrGetSigHash");
        var memory = new ModuleMemoryReader();

        byte** list = (byte**)CallMetadata("HcrGetImportedModules", getImports, containFaults);
        if (list == null)
        {
            throw new ModuleLoadException(Module, OriginalPath, ModuleLoadStage.Metadata, "HcrGetImportedModules returned NULL");
        }

        // The list ends with an empty string (the reference's convention); a NULL entry ends it too.
        var imports = new List<string>();
        for (int i = 0; ; i++)
        {
            if (i >= MaxImports)
            {
                throw new ModuleLoadException(Module, OriginalPath, ModuleLoadStage.Metadata,
                    $"HcrGetImportedModules has more than {MaxImports} entries (is the list missing its terminating empty string?)");
            }

            byte* entry;
            if (memory.Copy((ulong)(list + i), new Span<byte>(&entry, sizeof(byte*))) != sizeof(byte*))
            {
                throw new ModuleLoadException(Module, OriginalPath, ModuleLoadStage.Metadata,
                    $"HcrGetImportedModules returned a list whose entry {i} (at 0x{(ulong)(list + i):x}) is not in readable memory");
            }

            if (entry == null)
            {
                break;
            }

            string import = Utf8(memory, entry, $"import {i}");
            if (import.Length == 0)
            {
                break;
            }

            imports.Add(import);
        }

        byte* hash = (byte*)CallMetadata("HcrGetSigHash", getHash, containFaults);
        if (hash == null)
        {
            throw new ModuleLoadException(Module, OriginalPath, ModuleLoadStage.Metadata, "HcrGetSigHash returned NULL");
        }

        Imports = imports;
        SignatureHash = Utf8(memory, hash, "the signature hash");
    }

    /// <summary>Calls a metadata function of the module (no arguments, a pointer back), under the fault guard when asked.</summary>
    private nint CallMetadata(string function, nint fn, bool containFaults)
    {
        if (!containFaults)
        {
            return ((delegate* unmanaged<nint>)fn)();
        }

        ModuleFault? fault;
        nint result;
        try
        {
            fault = FaultGuard.Call(function, fn, 0, 0, out result);
        }
        catch (Exception e) when (e is not HcrException)
        {
            MarkFaulted();
            throw new ModuleLoadException(Module, OriginalPath, ModuleLoadStage.Metadata,
                $"{function}: {e.GetType().Name} came out of the module's code: {e.Message}; {ModuleLoadException.KeptMapped}", e);
        }

        if (fault is not null)
        {
            MarkFaulted();
            throw ModuleLoadException.Faulted(Module, OriginalPath, ModuleLoadStage.Metadata, fault);
        }

        return result;
    }

    /// <summary>
    /// A C string from the module. A module name is a file name and a key: bytes that are not UTF-8 would silently
    /// become U+FFFD and name another module, so they are an error.
    /// </summary>
    private string Utf8(ModuleMemoryReader memory, byte* text, string what)
    {
        ulong address = (ulong)text;
        var (bytes, readable, terminated) = memory.ReadCString(address, MaxNameBytes);
        if (readable == 0)
        {
            throw new ModuleLoadException(Module, OriginalPath, ModuleLoadStage.Metadata, $"{what} points at 0x{address:x}, which is not readable memory");
        }

        if (!terminated)
        {
            throw new ModuleLoadException(Module, OriginalPath, ModuleLoadStage.Metadata,
                $"{what} has no terminating NUL within {readable} readable bytes");
        }

        int length = bytes.Length;
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw new ModuleLoadException(Module, OriginalPath, ModuleLoadStage.Metadata,
                $"{what} is not valid UTF-8 ({Convert.ToHexString(bytes[..Math.Min(length, 32)])}{(length > 32 ? "..." : "")})");
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A copy that cannot be deleted now is removed with the copy directory.
        }
    }
}
