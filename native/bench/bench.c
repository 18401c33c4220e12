/* One C benchmark harness for any libnimhcr.so (Nim 1.6.10's or HcrLab's): the loader finds it on LD_LIBRARY_PATH.
   Measures the registration API per operation over N distinct names in one module (median of 3 fresh modules) and
   the cost of a call through a slot against a plain indirect call. Prints "operation<TAB>value<TAB>unit" lines.
   Usage: bench [N] */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPEATS 3

static void* (*registerProc)(const char*, const char*, void*);
static void* (*getProc)(const char*, const char*);
static bool (*registerGlobal)(const char*, const char*, size_t, void (*)(void), void**);
static void* (*getGlobal)(const char*, const char*);
static void (*addModule)(const char*);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void* need(void* library, const char* name) {
    void* symbol = dlsym(library, name);
    if (!symbol) {
        fprintf(stderr, "bench: %s\n", dlerror());
        exit(1);
    }
    return symbol;
}

static int compare(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

static double median(double* values) {
    qsort(values, REPEATS, sizeof *values, compare);
    return values[REPEATS / 2];
}

__attribute__((noinline)) static int64_t add_one(int64_t x) { return x + 1; }
__attribute__((noinline)) static int64_t add_two(int64_t x) { return x + 2; }

/* Nanoseconds per call of f over `count` dependent calls. */
static double per_call(int64_t (*volatile f)(int64_t), long count) {
    int64_t (*g)(int64_t) = f;
    int64_t x = 0;
    double start = now();
    for (long i = 0; i < count; i++) {
        x = g(x);
    }
    double elapsed = now() - start;
    if (x != count && x != 2 * count) {
        fprintf(stderr, "bench: wrong result %lld\n", (long long)x);
        exit(1);
    }
    return elapsed * 1e9 / (double)count;
}

int main(int argc, char** argv) {
    long n = argc > 1 ? atol(argv[1]) : 100000;
    /* Nim's runtime uses Nim's shared runtime library, whose collector must know the stack first. */
    void* rtl = dlopen("libnimrtl.so", RTLD_NOW); /* not RTLD_GLOBAL: its data symbols would interpose libnimhcr.so's */
    if (rtl) {
        void (*setStackBottom)(void*) = (void (*)(void*))dlsym(rtl, "nimrtl_nimGC_setStackBottom");
        int local;
        if (setStackBottom) {
            setStackBottom(&local);
        }
    }
    void* hcr = dlopen("libnimhcr.so", RTLD_NOW);
    if (!hcr) {
        fprintf(stderr, "bench: %s\n", dlerror());
        return 1;
    }
    registerProc = need(hcr, "hcrRegisterProc");
    getProc = need(hcr, "hcrGetProc");
    registerGlobal = need(hcr, "hcrRegisterGlobal");
    getGlobal = need(hcr, "hcrGetGlobal");
    addModule = need(hcr, "hcrAddModule");

    char** names = malloc((size_t)n * sizeof *names);
    for (long i = 0; i < n; i++) {
        char buffer[32];
        snprintf(buffer, sizeof buffer, "symbol_%ld", i);
        names[i] = strdup(buffer);
    }

    enum { PROC_NEW, PROC_REPOINT, PROC_GET, GLOBAL_NEW, GLOBAL_EXISTING, GLOBAL_GET, OPERATIONS };
    static const char* labels[OPERATIONS] = {
        "register proc, new name", "register proc, existing name", "get proc",
        "register global, new", "register global, existing", "get global",
    };
    double rates[OPERATIONS][REPEATS];
    for (int r = 0; r < REPEATS; r++) {
        char module[32];
        snprintf(module, sizeof module, "bench_%d", r);
        addModule(module);
        void* out;
        double t;

        t = now();
        for (long i = 0; i < n; i++) registerProc(module, names[i], (void*)add_one);
        rates[PROC_NEW][r] = (double)n / (now() - t);
        t = now();
        for (long i = 0; i < n; i++) registerProc(module, names[i], (void*)add_two);
        rates[PROC_REPOINT][r] = (double)n / (now() - t);
        t = now();
        for (long i = 0; i < n; i++) getProc(module, names[i]);
        rates[PROC_GET][r] = (double)n / (now() - t);
        t = now();
        for (long i = 0; i < n; i++) registerGlobal(module, names[i], 8, NULL, &out);
        rates[GLOBAL_NEW][r] = (double)n / (now() - t);
        t = now();
        for (long i = 0; i < n; i++) registerGlobal(module, names[i], 8, NULL, &out);
        rates[GLOBAL_EXISTING][r] = (double)n / (now() - t);
        t = now();
        for (long i = 0; i < n; i++) getGlobal(module, names[i]);
        rates[GLOBAL_GET][r] = (double)n / (now() - t);
    }
    for (int o = 0; o < OPERATIONS; o++) {
        printf("%s, N = %ld\t%.2f\tM/s\n", labels[o], n, median(rates[o]) / 1e6);
    }

    addModule("bench_calls");
    int64_t (*slot)(int64_t) = (int64_t (*)(int64_t))registerProc("bench_calls", "add_one", (void*)add_one);
    const long calls = 50000000;
    double direct[REPEATS], through[REPEATS];
    for (int r = 0; r < REPEATS; r++) {
        direct[r] = per_call(add_one, calls);
        through[r] = per_call(slot, calls);
    }
    printf("call, plain indirect\t%.2f\tns\n", median(direct));
    printf("call through a slot\t%.2f\tns\n", median(through));
    return 0;
}
