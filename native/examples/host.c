/* A C host on libhcrlab.so: registers its own procs, calls through a slot, re-points it, starts two modules
   (greeter imports counter), calls them through their slots, replaces counter.so with a new build and reloads.
   Run from the directory holding counter_v1.so, counter_v2.so and greeter.so: module "x" is ./x.so. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include "hcrlab.h"

static void (*greet)(const char*);
static int64_t (*next)(void);

static int64_t twice(int64_t x) { return 2 * x; }
static int64_t thrice(int64_t x) { return 3 * x; }

/* Runs after every DatInit000 at start and at each reload: the host resolves the slots it calls. */
static void host_dat_init(void) {
    greet = (void (*)(const char*))hcrGetProc("greeter", "greet");
    next = (int64_t (*)(void))hcrGetProc("counter", "next");
}

static void host_after_reload(void) {
    printf("host: after reload, generation %lld\n", (long long)hcrGeneration());
}

static void install(const char* from, const char* to) {
    char temporary[256];
    snprintf(temporary, sizeof temporary, "%s.tmp", to);
    FILE* in = fopen(from, "rb");
    FILE* out = fopen(temporary, "wb");
    if (!in || !out) {
        perror(from);
        exit(1);
    }
    char buffer[65536];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, in)) > 0) {
        fwrite(buffer, 1, n, out);
    }
    fclose(in);
    fclose(out);
    rename(temporary, to); /* atomic: the runtime never sees a half-written library */
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    install("counter_v1.so", "counter.so");

    hcrAddModule("host");
    int64_t (*f)(int64_t) = (int64_t (*)(int64_t))hcrRegisterProc("host", "f", (void*)twice);
    printf("host: f(21) = %lld\n", (long long)f(21));
    void* again = hcrRegisterProc("host", "f", (void*)thrice);
    printf("host: re-pointed f, same slot %s, f(21) = %lld\n", again == (void*)f ? "yes" : "no", (long long)f(21));
    printf("host: lookup by name finds the slot: %s\n", hcrGetProc("host", "f") == (void*)f ? "yes" : "no");

    /* Modules fetch the entry points as Nim's do: dlsym on the runtime library's handle. */
    void* runtime = dlopen("libhcrlab.so", RTLD_NOW | RTLD_NOLOAD);
    const char* imports[] = {"greeter", ""};
    hcrInit(imports, "host", "", host_dat_init, runtime, (HcrProcGetter)dlsym);
    hcrAddEventHandler(false, (HcrClosure){host_after_reload, NULL});

    greet("C");
    printf("host: next() = %lld\n", (long long)next());
    printf("host: reload needed %s\n", hcrReloadNeeded() ? "yes" : "no");

    install("counter_v2.so", "counter.so");
    printf("host: reload needed %s\n", hcrReloadNeeded() ? "yes" : "no");
    hcrPerformCodeReload();
    greet("again");
    printf("host: next() = %lld, generation %lld, reload needed %s\n", (long long)next(), (long long)hcrGeneration(),
           hcrReloadNeeded() ? "yes" : "no");
    hcrPerformCodeReload(); /* nothing changed: no handlers, no new generation */
    printf("host: generation %lld\n", (long long)hcrGeneration());
    return 0;
}
