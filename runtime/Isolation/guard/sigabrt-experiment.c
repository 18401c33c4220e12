/*
 * Why libhcrguard does not contain SIGABRT (runtime/RELIABILITY.md): glibc aborts from inside malloc's own checks
 * while it holds the arena's lock, so a longjmp out of that abort leaves the lock held and the next malloc waits
 * forever. Run: gcc -O0 -o /tmp/sigabrt runtime/Isolation/guard/sigabrt-experiment.c -lpthread && /tmp/sigabrt; echo $?
 * Prints "double free or corruption (!prev)", "contained SIGABRT", then hangs until the alarm: exit status 142.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static sigjmp_buf jump;

static void on_abort(int signal_number) { (void)signal_number; siglongjmp(jump, 1); }

static void* idle(void* argument) { return argument; }

int main(void)
{
    /* A .NET process always has several threads; a single-threaded one skips the arena lock. */
    pthread_t thread;
    pthread_create(&thread, NULL, idle, NULL);
    pthread_join(thread, NULL);
    signal(SIGABRT, on_abort);
    if (sigsetjmp(jump, 1) == 0) {
        char* block = malloc(4096);
        volatile char* fence = malloc(16);   /* keeps the block out of the top chunk */
        (void)fence;
        free(block);
        free(block);
    } else {
        fprintf(stderr, "contained SIGABRT\n");
    }

    alarm(3);
    void* again = malloc(5000);
    printf("malloc after the contained abort returned %p\n", again);
    return 0;
}
