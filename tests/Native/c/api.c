/* The hcrlab* contract of include/hcrlab.h, call by call: each line is "what -> status [hcrlabLastError()]". Built
   and run by CLibraryTests with the module missing.so absent from the current directory. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include "hcrlab.h"

static void say(const char* what, HcrlabStatus status) {
    printf("%s -> %d [%s]\n", what, (int)status, hcrlabLastError());
}

static void* other_thread(void* unused) {
    (void)unused;
    say("other thread: quiescent state, not registered", hcrlabQuiescentState());
    return NULL;
}

static intptr_t reads_address_16(intptr_t a0, intptr_t a1) {
    return *(volatile intptr_t*)(16 + a0 + a1);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("version %s\n", hcrlabVersion());

    HcrlabOptions small = {.size = 1};
    say("create, size 1", hcrlabCreate(&small));
    HcrlabOptions options = {.size = sizeof options, .quiet = true};
    say("create", hcrlabCreate(&options));
    say("create again", hcrlabCreate(&options));

    say("reload before init", hcrlabReload(NULL));
    pthread_t thread;
    if (pthread_create(&thread, NULL, other_thread, NULL) != 0 || pthread_join(thread, NULL) != 0)
        return 1;
    printf("main thread's last error is still [%s]\n", hcrlabLastError());

    say("quiescent state, not registered", hcrlabQuiescentState());
    say("register", hcrlabRegisterThread("main"));
    say("register again", hcrlabRegisterThread("main"));
    say("quiescent state", hcrlabQuiescentState());
    say("offline", hcrlabThreadOffline());
    say("online", hcrlabThreadOnline());

    const char* imports[] = {"missing", ""};
    say("init with a missing module", hcrlabInit(imports, "host", NULL, NULL, NULL, NULL));

    intptr_t result = -1;
    say("guarded call of NULL", hcrlabCallGuarded(NULL, 0, 0, &result));
    say("guarded call of an unknown proc", hcrlabCallProcGuarded("nowhere", "nothing", 0, 0, &result));
    say("guarded call that faults", hcrlabCallGuarded((void*)reads_address_16, 0, 0, &result));
    printf("result untouched: %s\n", result == -1 ? "yes" : "no");

    say("unregister", hcrlabUnregisterThread());
    say("unregister again", hcrlabUnregisterThread());
    return 0;
}
