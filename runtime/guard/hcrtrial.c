/*
 * hcrtrial: loads one library in a process of its own, then unloads it, so that a library whose constructors or
 * destructors fault, or that makes the dynamic loader give up, ends this process and not the host's
 * (HcrRuntimeOptions.TrialLoad, runtime/TrialLoad.cs). Built by HcrLab.Runtime.csproj next to libhcrguard.
 *
 * Usage: hcrtrial LIBRARY
 * Exit 0: loaded and unloaded. Exit 2: dlopen refused it (its dlerror on stderr), which the host's own dlopen will
 * report if it refuses it too. Exit 64: usage. Anything else (a signal, the loader's exit 127) is the library's doing.
 */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char** argv)
{
    if (argc != 2) {
        fputs("usage: hcrtrial LIBRARY\n", stderr);
        return 64;
    }

    void* handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        fprintf(stderr, "%s\n", dlerror());
        return 2;
    }

    if (dlclose(handle) != 0) {
        fprintf(stderr, "%s\n", dlerror());
        return 3;
    }

    return 0;
}
