/*
 * hcrlab.h — the C ABI of HcrLab's hot code reloading runtime (libhcrlab.so; also installed as libnimhcr.so).
 *
 * The entry points and their signatures are those of Nim 1.6.10's libnimhcr.so, so a Nim program runs on either.
 * Where Nim's signature has a Nim type, the type below is what Nim 1.6.10's generated C passes:
 *   - hcrHasModuleChanged takes Nim's string: a pointer to HcrNimString (NULL is ""); C hosts can call
 *     hcrlabHasModuleChanged with a C string instead;
 *   - hcrAddEventHandler takes Nim's closure by value: HcrClosure{fn, env}; fn() is called when env is NULL,
 *     else ((void (*)(void*))fn)(env);
 *   - GC marker procs are plain void (*)(void).
 * Strings are UTF-8 and copied. A refused call answers NULL or false and writes one "hcr: ..." line to stderr. Module
 * names are the strings imports list (Nim passes paths of the module libraries).
 * Pointers: NULL is refused everywhere; any other must lead to readable memory (a C string NUL-terminated within it, an
 * `out` writable). During hcrInit and hcrPerformCodeReload (module code under the fault guard) strings and out
 * pointers are measured first, and a wild one is a refused call that fails that module's load. Outside them they are
 * trusted as libc trusts strlen's argument: hcrGetProc("host", <unmapped>) faults and ends the process. The Nim string
 * of hcrHasModuleChanged is copied through the kernel: one in unmapped memory, or whose len runs off its block, is
 * refused (false).
 * linux-x64 only.
 */
#ifndef HCRLAB_H
#define HCRLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Nim 1.6's string with its default garbage collector (refc): length, capacity/flags, then the bytes. */
typedef struct HcrNimString {
    int64_t len;
    int64_t reserved;
    char data[];
} HcrNimString;

/* Nim's closure proc (): the proc and its environment, passed by value (two integer registers on x86-64). */
typedef struct HcrClosure {
    void (*fn)(void);
    void* env;
} HcrClosure;

/* What each module's HcrInit000 receives to find these entry points by name (dlsym fits). */
typedef void* (*HcrProcGetter)(void* handle, const char* name);

/* Registers fn as proc `name` of `module`; returns its slot, the address every caller calls from then on. A known name
   keeps its slot, which now jumps to fn. NULL if refused (unknown module: hcrAddModule first). */
void* hcrRegisterProc(const char* module, const char* name, void* fn);

/* The slot of a registered proc, NULL when unknown. */
void* hcrGetProc(const char* module, const char* name);

/* A new name gets `size` zero bytes in *out and true (run the initializer); a known name its block and false. A known
   name with another size is refused: *out = NULL, false. */
bool hcrRegisterGlobal(const char* module, const char* name, size_t size, void (*gcMarker)(void), void** out);

/* The block of a registered global, NULL when unknown. */
void* hcrGetGlobal(const char* module, const char* name);

/* Starts: the host's imports (ending with ""), its own module, the system module initialised first ("" or NULL for
   none), its data-init (run after every module's DatInit000, at start and at each reload; NULL for none), and the
   handle and getter modules' HcrInit000 receive (NULL, NULL: the runtime's own). */
void hcrInit(const char** imports, const char* main, const char* system, void (*mainDatInit)(void), void* handle,
             HcrProcGetter getProcAddr);

/* Adds an empty module (for symbols registered before hcrInit), if none of that name exists. */
void hcrAddModule(const char* module);

/* Nim's form: true when the module (by signature hash or name) changed on disk, or was reloaded by the reload whose
   after-handlers run now. */
bool hcrHasModuleChanged(const HcrNimString* moduleHash);

/* The same with a C string. */
bool hcrlabHasModuleChanged(const char* moduleOrHash);

/* True when a loaded module's file holds other bytes than the copy that was loaded. */
bool hcrReloadNeeded(void);

/* Reloads changed modules (nothing at all when none changed). Call it from the host, never from module code. */
void hcrPerformCodeReload(void);

/* Files a before- or after-reload handler under the module whose Init000 runs (else under the host). */
void hcrAddEventHandler(bool isBefore, HcrClosure handler);

/* 0 after start, +1 per effective reload. */
int64_t hcrGeneration(void);

/* Calls every global's GC marker. */
void hcrMarkGlobals(void);

#ifdef __cplusplus
}
#endif

#endif
