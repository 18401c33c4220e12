/*
 * Keeps a.removed's slot address in a global, as a Nim closure or proc value does, and calls through it. b never
 * changes, so nothing re-resolves the stored address: it is the stale address a removed proc leaves behind.
 */
#include "hcr.h"

HCR_IMPORTS("a");

HCR_IMPORT_PROC(a, int64_t, removed, (int64_t x));

HCR_GLOBAL(void*, callback, NULL);

HCR_TOP_LEVEL(store_callback) { *callback = (void*)a_removed; }

HCR_PROC(int64_t, call_callback, (int64_t x)) { return ((int64_t(*)(int64_t)) * callback)(x); }
