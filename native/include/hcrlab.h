/*
 * hcrlab.h — the C ABI of HcrLab's hot code reloading runtime: libhcrlab.so.1 (pkg-config: hcrlab), also installed
 * as libnimhcr.so. linux-x64 only. It has two parts, both exported by the one library over one runtime:
 *
 * 1. The reference's entry points (hcrRegisterProc ... hcrMarkGlobals), unchanged, so that Nim 1.6 programs and
 *    hosts written for Nim's libnimhcr.so run on it as they are. Their signatures are Nim 1.6.10's; where Nim's
 *    signature has a Nim type, the type below is what Nim's generated C passes:
 *      - hcrHasModuleChanged takes Nim's string: a pointer to HcrNimString (NULL is "");
 *      - hcrAddEventHandler takes Nim's closure by value: HcrClosure{fn, env}; fn() is called when env is NULL,
 *        else ((void (*)(void*))fn)(env);
 *      - GC marker procs are plain void (*)(void).
 *    They cannot report failure beyond NULL or false: a refused call writes one "hcr: ..." line to stderr, and
 *    hcrInit and hcrPerformCodeReload return nothing at all.
 *
 * 2. The hcrlab* entry points, for C hosts: each returns an HcrlabStatus (HCRLAB_OK is 0) and, on failure, leaves
 *    the reason in hcrlabLastError() for the calling thread. hcrlabInit and hcrlabReload are hcrInit and
 *    hcrPerformCodeReload with a status; hcrlabCreate sets the runtime's options (the trials, the module directory,
 *    stderr); threads that call module code register and report quiescent states; hcrlabCallGuarded calls module
 *    code with hardware faults contained; hcrlabHasModuleChanged asks hcrHasModuleChanged's question with a C string.
 *
 * Modules see the entry points through the getter their HcrInit000 receives (hcrInit's and hcrlabInit's last two
 * arguments). Passing dlsym and this library's handle gives them the exports below, Nim's forms. Passing NULL, NULL
 * gives them the runtime's own getter, whose hcrAddEventHandler takes a plain void (*)(void) and whose
 * hcrHasModuleChanged takes a C string: the forms scenarios/include/hcr.h is written for. The same names, two forms:
 * pick the getter that matches how the modules are written. hcrFailInit is both exported and in the getter's table.
 *
 * Strings are UTF-8 and copied; nothing throws into C. Pointers: NULL is refused everywhere; any other must lead to
 * readable memory (a C string NUL-terminated within it, an `out` writable). During hcrInit and hcrPerformCodeReload
 * (module code under the fault guard) strings and out pointers are measured first, and a wild one is a refused call
 * that fails that module's load. Outside them they are trusted as libc trusts strlen's argument: hcrGetProc("host",
 * <unmapped>) faults and ends the process. The Nim string of hcrHasModuleChanged is copied through the kernel: one in
 * unmapped memory, or whose len runs off its block, is refused (false). Module names are the strings imports
 * list: "x" is ./x.so (else ./libx.so) relative to the module directory (default: the current directory); paths are
 * used as they are. The runtime is created by the first call of any entry point (hcrlabCreate, when used, must be
 * that first call) and lives until the process exits; copies of loaded modules are removed at exit.
 */
#ifndef HCRLAB_H
#define HCRLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version: the soname is libhcrlab.so.HCRLAB_ABI_VERSION. hcrlabVersion() gives the library's full version. */
#define HCRLAB_ABI_VERSION 1
#define HCRLAB_SONAME "libhcrlab.so.1"

/* ---- 1. The reference's entry points (Nim 1.6.10's libnimhcr.so) ------------------------------------------------- */

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

/* The same with a C string (an addition of HcrLab's, beside Nim's entry points). */
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

/* From a module's DatInit000 or Init000: fail the start or reload that runs it, with `reason` (NULL: none given). The
   start or reload is undone; hcrlabInit/hcrlabReload return HCRLAB_REFUSED and hcrlabLastError() holds the reason.
   Outside a start or reload it is only a diagnostic. (Not in Nim's runtime: Nim's modules never call it.) */
void hcrFailInit(const char* reason);

/* ---- 2. The hcrlab* entry points for C hosts ---------------------------------------------------------------------- */

/* What every hcrlab* call that can fail returns. */
typedef enum HcrlabStatus {
    HCRLAB_OK = 0,
    HCRLAB_REFUSED = 1,          /* modules failed to load or initialise: the start or reload was undone, the old code runs */
    HCRLAB_FAULT = 2,            /* a guarded call faulted (SIGSEGV, SIGBUS, ...) and the fault was contained */
    HCRLAB_INVALID_CALL = 3,     /* not now: not started, started already, created already, thread (not) registered */
    HCRLAB_INVALID_ARGUMENT = 4, /* a NULL or malformed argument */
    HCRLAB_NOT_FOUND = 5,        /* no module or proc of that name */
    HCRLAB_UNAVAILABLE = 6,      /* the runtime cannot run here (not linux-x64) or could not be created */
    HCRLAB_FAILED = 7            /* anything else (a full jump table, out of memory, ...) */
} HcrlabStatus;

/* The library's version, "MAJOR.MINOR.PATCH" (MAJOR is HCRLAB_ABI_VERSION). Static storage. */
const char* hcrlabVersion(void);

/* Why the calling thread's last hcrlab* call that returned a status failed, as one line of UTF-8 beginning with the
   entry point's name; "" when that call succeeded. Never NULL. Valid until the thread's next such call. */
const char* hcrlabLastError(void);

/* How much of a start or reload is first tried in a child process (hcrtrial, installed beside the library), so that
   module code that would end the host ends the child instead and the modules are refused (HCRLAB_REFUSED). */
typedef enum HcrlabTrial {
    HCRLAB_TRIAL_NONE = 0,  /* module code runs only in the host, under the fault guard where it can be */
    HCRLAB_TRIAL_LOAD = 1,  /* each copy is loaded and unloaded in a child first (constructors, destructors) */
    HCRLAB_TRIAL_START = 2  /* LOAD, then the whole start or reload is run in a child first against a stand-in ABI */
} HcrlabTrial;

/* The runtime's options. Zero is every default; set size = sizeof(HcrlabOptions) (fields may be added at the end). */
typedef struct HcrlabOptions {
    size_t size;
    HcrlabTrial trial;
    const char* moduleDirectory; /* where module names resolve; NULL: the current directory */
    bool quiet;                  /* true: refusals are not also written to stderr (hcrlabLastError still has them) */
    bool noFaultGuard;           /* true: install no signal handler; faults in module code end the process, and
                                    hcrlabCallGuarded answers HCRLAB_INVALID_CALL */
} HcrlabOptions;

/* Creates the runtime with `options`. Must be the process's first call into the library (every other entry point
   creates the runtime with the defaults): HCRLAB_INVALID_CALL afterwards. */
HcrlabStatus hcrlabCreate(const HcrlabOptions* options);

/* hcrInit with a status: HCRLAB_REFUSED when a module fails to load or initialise (nothing stays loaded and
   hcrlabInit may be called again), HCRLAB_INVALID_CALL when already started. */
HcrlabStatus hcrlabInit(const char** imports, const char* main, const char* system, void (*mainDatInit)(void), void* handle,
                        HcrProcGetter getProcAddr);

/* hcrPerformCodeReload with a status. *reloaded (when not NULL) is true when modules changed and were reloaded, false
   when nothing changed or on failure. HCRLAB_REFUSED: the reload was undone (slots point at the old code again, the
   generation is back) and the old code keeps running. HCRLAB_INVALID_CALL: nothing started, or called from inside a
   reload (a handler or an init function). */
HcrlabStatus hcrlabReload(bool* reloaded);

/* Threads that call module code (quiescent-state-based reclamation, as liburcu-qsbr): a reload unloads the code it
   replaced only once every registered, online thread has reported a quiescent state since, so a registered thread
   never has the code it runs unloaded under it. Each call applies to the calling thread. Register before the thread's
   first call into module code (`name` is for diagnostics; NULL picks one); report a quiescent state at points where
   the thread is not inside module code (between two frames, requests, jobs); go offline while it blocks or waits,
   online before it calls module code again; unregister before it ends. HCRLAB_INVALID_CALL for a thread that is not
   registered (or registered twice). Threads that never register are not waited for. */
HcrlabStatus hcrlabRegisterThread(const char* name);
HcrlabStatus hcrlabUnregisterThread(void);
HcrlabStatus hcrlabQuiescentState(void);
HcrlabStatus hcrlabThreadOffline(void);
HcrlabStatus hcrlabThreadOnline(void);

/* Calls function(a0, a1) with hardware faults contained: a SIGSEGV, SIGBUS, SIGILL, SIGFPE or SIGTRAP in native code
   during the call returns HCRLAB_FAULT (hcrlabLastError names the signal, the address and the module) instead of
   ending the process, and the faulting module's library stays mapped for good. `function` takes at most two integer or
   pointer arguments and returns an integer, a pointer or nothing; *result (when not NULL) gets its return register.
   Not for floating point, structs by value or more arguments. About 0.2 us per call. */
HcrlabStatus hcrlabCallGuarded(void* function, intptr_t a0, intptr_t a1, intptr_t* result);

/* hcrlabCallGuarded of proc `name` of `module`, through its slot: HCRLAB_NOT_FOUND for an unknown module or proc. */
HcrlabStatus hcrlabCallProcGuarded(const char* module, const char* name, intptr_t a0, intptr_t a1, intptr_t* result);

#ifdef __cplusplus
}
#endif

#endif
