/*
 * Why the runtime does not run dlopen under the fault guard (runtime/RELIABILITY.md): the loader holds its lock while
 * it maps, relocates and runs ELF constructors, so a longjmp out of a fault there leaves the lock held, and the next
 * dlopen on any other thread waits forever. Build the guard (dotnet build runtime), then:
 *   echo '__attribute__((constructor)) static void boom(void) { *(volatile int*)0 = 1; }' |
 *     gcc -shared -fPIC -x c - -o /tmp/constructor-fault.so
 *   gcc -O1 -o /tmp/dlopen-experiment runtime/Isolation/guard/dlopen-experiment.c -Lruntime/obj/hcrguard -l:libhcrguard.a -lpthread
 *   /tmp/dlopen-experiment; echo $?                              # no fault: the other thread's dlopen returns, exit 0
 *   /tmp/dlopen-experiment /tmp/constructor-fault.so; echo $?    # "signal 11", then the other thread hangs: exit 142
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* hcr_guard_frame of hcrguard.c. */
typedef struct {
    volatile int32_t armed;
    int32_t probe;
    int32_t signal;
    int32_t code;
    uint64_t address;
    uint64_t pc;
    void* jump;
    void* outer;
} frame_t;

int hcr_guard_install(const char* runtime_directory);
int hcr_guard_call(frame_t* frame, void* fn, void* a0, void* a1, void** result);

static void* other_thread(void* argument)
{
    void* handle = dlopen("libz.so.1", RTLD_NOW);
    printf("another thread: dlopen(libz.so.1) = %p\n", handle);
    return argument;
}

int main(int argc, char** argv)
{
    hcr_guard_install(NULL);
    frame_t frame;
    memset(&frame, 0, sizeof frame);
    frame.probe = 1;   /* contain wherever it faults, as the experiment wants */
    void* handle = NULL;
    int signal_number = argc > 1 ? hcr_guard_call(&frame, (void*)&dlopen, argv[1], (void*)(intptr_t)RTLD_NOW, &handle) : 0;
    printf("guarded dlopen: signal %d\n", signal_number);
    fflush(stdout);
    alarm(3);
    pthread_t thread;
    pthread_create(&thread, NULL, other_thread, NULL);
    pthread_join(thread, NULL);
    return 0;
}
