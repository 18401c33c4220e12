/* A C host on libhcrlab.so.1: creates the runtime with a trial load, registers its own procs, calls through a slot,
   re-points it, starts two modules (greeter imports counter), calls them through their slots and under the fault
   guard, replaces counter.so with a new build and reloads, then with a build that refuses its own init, whose reload
   is refused and undone (the reason comes from hcrlabLastError). Every call that can fail is checked.
   Build: cc host.c $(pkg-config --cflags --libs hcrlab) (or native/build.sh example).
   Run from the directory holding counter_v1.so ... counter_v3.so and greeter.so: module "x" is ./x.so. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include "hcrlab.h"

static void (*greet)(const char*);
static int64_t (*next)(void);

static int64_t twice(int64_t x) { return 2 * x; }
static int64_t thrice(int64_t x) { return 3 * x; }

/* An hcrlab* call that must succeed: on failure, say which and why, and stop. */
#define CHECK(call) check((call), #call)
static void check(HcrlabStatus status, const char* call) {
    if (status != HCRLAB_OK) {
        fprintf(stderr, "host: %s failed with status %d: %s\n", call, (int)status, hcrlabLastError());
        exit(1);
    }
}

/* The reference's entry points answer NULL when they refuse (and say why on stderr). */
static void* must(void* pointer, const char* what) {
    if (pointer == NULL) {
        fprintf(stderr, "host: %s answered NULL\n", what);
        exit(1);
    }
    return pointer;
}

/* Runs after every DatInit000 at start and at each reload: the host resolves the slots it calls. */
static void host_dat_init(void) {
    greet = (void (*)(const char*))must(hcrGetProc("greeter", "greet"), "hcrGetProc(greeter, greet)");
    next = (int64_t (*)(void))must(hcrGetProc("counter", "next"), "hcrGetProc(counter, next)");
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
        if (fwrite(buffer, 1, n, out) != n) {
            perror(temporary);
            exit(1);
        }
    }
    fclose(in);
    if (fclose(out) != 0 || rename(temporary, to) != 0) { /* rename: the runtime never sees a half-written library */
        perror(to);
        exit(1);
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("host: libhcrlab %s\n", hcrlabVersion());

    /* First call: the options. Each copy is loaded in a child process (hcrtrial) before this one loads it; refusals
       come back through hcrlabLastError only. */
    HcrlabOptions options = {.size = sizeof options, .trial = HCRLAB_TRIAL_LOAD, .quiet = true};
    CHECK(hcrlabCreate(&options));
    CHECK(hcrlabRegisterThread("main")); /* this thread calls module code */
    install("counter_v1.so", "counter.so");

    hcrAddModule("host");
    int64_t (*f)(int64_t) = (int64_t (*)(int64_t))must(hcrRegisterProc("host", "f", (void*)twice), "hcrRegisterProc(host, f)");
    printf("host: f(21) = %lld\n", (long long)f(21));
    void* again = must(hcrRegisterProc("host", "f", (void*)thrice), "hcrRegisterProc(host, f) again");
    printf("host: re-pointed f, same slot %s, f(21) = %lld\n", again == (void*)f ? "yes" : "no", (long long)f(21));
    printf("host: lookup by name finds the slot: %s\n", hcrGetProc("host", "f") == (void*)f ? "yes" : "no");

    /* Modules fetch the entry points as Nim's do: dlsym on the runtime library's handle. */
    void* runtime = must(dlopen(HCRLAB_SONAME, RTLD_NOW | RTLD_NOLOAD), "dlopen(" HCRLAB_SONAME ")");
    const char* imports[] = {"greeter", ""};
    CHECK(hcrlabInit(imports, "host", "", host_dat_init, runtime, (HcrProcGetter)dlsym));
    hcrAddEventHandler(false, (HcrClosure){host_after_reload, NULL});

    greet("C");
    printf("host: next() = %lld\n", (long long)next());
    printf("host: reload needed %s\n", hcrReloadNeeded() ? "yes" : "no");

    install("counter_v2.so", "counter.so");
    printf("host: reload needed %s\n", hcrReloadNeeded() ? "yes" : "no");
    bool reloaded;
    CHECK(hcrlabReload(&reloaded));
    CHECK(hcrlabQuiescentState()); /* not inside module code: the replaced image may go */
    greet("again");
    printf("host: reloaded %s, next() = %lld, generation %lld, reload needed %s\n", reloaded ? "yes" : "no",
           (long long)next(), (long long)hcrGeneration(), hcrReloadNeeded() ? "yes" : "no");
    CHECK(hcrlabReload(&reloaded)); /* nothing changed: no handlers, no new generation */
    printf("host: reloaded %s, generation %lld\n", reloaded ? "yes" : "no", (long long)hcrGeneration());

    intptr_t value;
    CHECK(hcrlabCallProcGuarded("counter", "next", 0, 0, &value));
    printf("host: guarded next() = %lld\n", (long long)value);

    install("counter_v3.so", "counter.so");
    HcrlabStatus status = hcrlabReload(&reloaded);
    if (status != HCRLAB_REFUSED) {
        fprintf(stderr, "host: the reload of counter v3 was not refused (status %d)\n", (int)status);
        return 1;
    }
    printf("host: reload refused, reloaded %s: %s\n", reloaded ? "yes" : "no", hcrlabLastError());
    printf("host: v2 runs on, next() = %lld, generation %lld\n", (long long)next(), (long long)hcrGeneration());

    CHECK(hcrlabUnregisterThread());
    return 0;
}
