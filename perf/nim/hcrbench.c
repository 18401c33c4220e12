/*
 * The anchor workload, in C, run the way a module would run it: registration and lookup through a runtime's C ABI
 * with UTF-8 C strings, and a loop of calls through a slot against a direct and a plain indirect call.
 *
 * The workload takes the runtime as a table of function pointers (struct hcr_api), so the same code measures Nim's
 * libnimhcr.so (the hcrbench program, HCRBENCH_MAIN) and HcrLab's runtime (libhcrbench.so, whose hcrbench_run a .NET
 * host calls with HcrLab's [UnmanagedCallersOnly] entry points).
 *
 * Output: one JSON object per line, {"runtime":..., "op":..., "n":..., "ns_per_op":...}, medians of the repetitions.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct hcr_api {
    void (*add_module)(const char* module);
    void* (*register_proc)(const char* module, const char* name, void* fn);
    void* (*get_proc)(const char* module, const char* name);
    bool (*register_global)(const char* module, const char* name, size_t size, void (*marker)(void), void** out);
    void* (*get_global)(const char* module, const char* name);
    /* Optional: called before each fresh "new" repetition; NULL when a fresh module name is enough (Nim). */
    void (*fresh_runtime)(void);
};

typedef void (*hcr_emit)(const char* json_line, void* context);

/* The callee of the call loops: tiny and never inlined, so the loops measure the call, not the work. */
__attribute__((noinline)) int64_t hcrbench_increment(int64_t x) { __asm__ volatile(""); return x + 1; }

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int compare_doubles(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}

static double median(double* values, int count) {
    qsort(values, (size_t)count, sizeof *values, compare_doubles);
    return count % 2 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2;
}

static void emit(hcr_emit out, void* context, const char* runtime, const char* op, long n, double ns) {
    char line[256];
    snprintf(line, sizeof line, "{\"runtime\":\"%s\",\"op\":\"%s\",\"n\":%ld,\"ns_per_op\":%.3f}", runtime, op, n, ns);
    out(line, context);
}

static char** make_names(const char* prefix, long n) {
    char** names = malloc((size_t)n * sizeof *names);
    for (long i = 0; i < n; i++) {
        char buffer[32];
        snprintf(buffer, sizeof buffer, "%s%07ld", prefix, i);
        names[i] = strdup(buffer);
    }
    return names;
}

static void free_names(char** names, long n) {
    for (long i = 0; i < n; i++) free(names[i]);
    free(names);
}

#define MAX_REPS 16

/* Registration and lookup at n distinct names in one module; "new" repetitions each use a fresh module (or runtime). */
static void run_symbols(const struct hcr_api* api, const char* runtime, long n, int reps, hcr_emit out, void* context) {
    char** procs = make_names("p", n);
    char** globals = make_names("g", n);
    double new_proc[MAX_REPS], old_proc[MAX_REPS], get_proc[MAX_REPS];
    double new_global[MAX_REPS], old_global[MAX_REPS], get_global[MAX_REPS];
    void* fn = (void*)hcrbench_increment;
    volatile uintptr_t sink = 0;
    char module[64];
    if (reps > MAX_REPS) reps = MAX_REPS;

    for (int r = 0; r < reps; r++) {
        if (api->fresh_runtime) api->fresh_runtime();
        snprintf(module, sizeof module, "bench%ld.%d", n, r);
        api->add_module(module);

        double t0 = now_ns();
        for (long i = 0; i < n; i++) sink += (uintptr_t)api->register_proc(module, procs[i], fn);
        double t1 = now_ns();
        for (long i = 0; i < n; i++) sink += (uintptr_t)api->register_proc(module, procs[i], fn);
        double t2 = now_ns();
        for (long i = 0; i < n; i++) sink += (uintptr_t)api->get_proc(module, procs[i]);
        double t3 = now_ns();
        void* block;
        for (long i = 0; i < n; i++) sink += api->register_global(module, globals[i], 8, NULL, &block);
        double t4 = now_ns();
        for (long i = 0; i < n; i++) sink += api->register_global(module, globals[i], 8, NULL, &block);
        double t5 = now_ns();
        for (long i = 0; i < n; i++) sink += (uintptr_t)api->get_global(module, globals[i]);
        double t6 = now_ns();

        new_proc[r] = (t1 - t0) / n;
        old_proc[r] = (t2 - t1) / n;
        get_proc[r] = (t3 - t2) / n;
        new_global[r] = (t4 - t3) / n;
        old_global[r] = (t5 - t4) / n;
        get_global[r] = (t6 - t5) / n;
    }

    emit(out, context, runtime, "RegisterProcNew", n, median(new_proc, reps));
    emit(out, context, runtime, "RegisterProcExisting", n, median(old_proc, reps));
    emit(out, context, runtime, "GetProc", n, median(get_proc, reps));
    emit(out, context, runtime, "RegisterGlobalNew", n, median(new_global, reps));
    emit(out, context, runtime, "RegisterGlobalExisting", n, median(old_global, reps));
    emit(out, context, runtime, "GetGlobal", n, median(get_global, reps));
    free_names(procs, n);
    free_names(globals, n);
}

/* Direct call, plain indirect call (a function pointer the compiler cannot see through) and a call through a slot. */
static void run_calls(const struct hcr_api* api, const char* runtime, long calls, int reps, hcr_emit out, void* context) {
    const char* module = "calls";
    api->add_module(module);
    int64_t (*volatile slot)(int64_t) = (int64_t (*)(int64_t))api->register_proc(module, "increment", (void*)hcrbench_increment);
    int64_t (*volatile plain)(int64_t) = hcrbench_increment;
    double direct[MAX_REPS], indirect[MAX_REPS], through[MAX_REPS];
    if (reps > MAX_REPS) reps = MAX_REPS;
    if (slot == NULL) return;

    for (int r = 0; r < reps; r++) {
        int64_t x = 0;
        int64_t (*p)(int64_t) = plain;
        int64_t (*s)(int64_t) = slot;
        double t0 = now_ns();
        for (long i = 0; i < calls; i++) x = hcrbench_increment(x);
        double t1 = now_ns();
        for (long i = 0; i < calls; i++) x = p(x);
        double t2 = now_ns();
        for (long i = 0; i < calls; i++) x = s(x);
        double t3 = now_ns();
        if (x != 3 * calls) fprintf(stderr, "hcrbench: call loop miscounted (%ld)\n", (long)x);
        direct[r] = (t1 - t0) / calls;
        indirect[r] = (t2 - t1) / calls;
        through[r] = (t3 - t2) / calls;
    }

    emit(out, context, runtime, "CallDirect", calls, median(direct, reps));
    emit(out, context, runtime, "CallIndirect", calls, median(indirect, reps));
    emit(out, context, runtime, "CallThroughSlot", calls, median(through, reps));
}

/* The whole workload: the three sizes, then the call loops. */
void hcrbench_run(const struct hcr_api* api, const char* runtime, int reps, long calls, hcr_emit out, void* context) {
    static const long sizes[] = {1000, 100000, 1000000};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        /* Small tables are timed over more repetitions: one pass over 1,000 names takes well under a millisecond. */
        run_symbols(api, runtime, sizes[i], sizes[i] <= 1000 ? MAX_REPS : reps, out, context);
    }
    run_calls(api, runtime, calls, reps, out, context);
}

#ifdef HCRBENCH_MAIN
#include <dlfcn.h>

static void print_line(const char* line, void* context) {
    (void)context;
    puts(line);
    fflush(stdout);
}

static void* need(void* library, const char* name) {
    void* symbol = dlsym(library, name);
    if (symbol == NULL) {
        fprintf(stderr, "hcrbench: %s is missing: %s\n", name, dlerror());
        exit(2);
    }
    return symbol;
}

/* LD_LIBRARY_PATH=DIR hcrbench DIR [REPS] [CALLS]: runs the workload against DIR/libnimhcr.so (and DIR/libnimrtl.so). */
int main(int argc, char** argv) {
    const char* directory = argc > 1 ? argv[1] : ".";
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    long calls = argc > 3 ? atol(argv[3]) : 100000000L;
    char path[4096];

    /* RTLD_LOCAL: libnimhcr.so has data symbols named like nimrtl's functions (its pointers to them); a global
       libnimrtl.so would interpose them. libnimhcr.so dlopens "libnimrtl.so" itself: LD_LIBRARY_PATH must hold DIR. */
    snprintf(path, sizeof path, "%s/libnimrtl.so", directory);
    void* rtl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (rtl == NULL) { fprintf(stderr, "hcrbench: %s\n", dlerror()); return 2; }
    /* Nim's GC scans the stack from a bottom the host must set before any Nim code allocates. */
    int local = 0;
    ((void (*)(void*))need(rtl, "nimrtl_nimGC_setStackBottom"))(&local);

    snprintf(path, sizeof path, "%s/libnimhcr.so", directory);
    void* hcr = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (hcr == NULL) { fprintf(stderr, "hcrbench: %s\n", dlerror()); return 2; }

    struct hcr_api api = {
        .add_module = need(hcr, "hcrAddModule"),
        .register_proc = need(hcr, "hcrRegisterProc"),
        .get_proc = need(hcr, "hcrGetProc"),
        .register_global = need(hcr, "hcrRegisterGlobal"),
        .get_global = need(hcr, "hcrGetGlobal"),
        .fresh_runtime = NULL,
    };
    hcrbench_run(&api, "nim", reps, calls, print_line, NULL);
    return 0;
}
#endif
