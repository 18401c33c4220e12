/*
 * hcr.h: write a hot-reloadable module for the HcrLab runtime in plain C.
 *
 * One module is one .c file that defines HCR_MODULE (its name, as importers list it) and includes this header once.
 * The declarations below generate the module ABI the runtime loads (runtime/README.md):
 *   HcrInit000            fetches the runtime's C ABI entry points through getProcAddr;
 *   HcrCreateTypeInfos    empty (C has no type infos to register);
 *   DatInit000            registers every HCR_PROC, HCR_GLOBAL and HCR_TOP_LEVEL guard, and, from the first reload
 *                         after this code's Init000 on, re-resolves every imported symbol (NULL ones too: a proc or
 *                         global that comes back is found);
 *   Init000               resolves imported symbols, then in source order: runs the initializer of every HCR_GLOBAL
 *                         that was new, runs every HCR_TOP_LEVEL block that is new, and adds the
 *                         HCR_BEFORE_RELOAD / HCR_AFTER_RELOAD handlers (these are added again at every load);
 *   HcrGetImportedModules the HCR_IMPORTS list, ending with "";
 *   HcrGetSigHash         HCR_SIG_HASH, or the module name and build time when the module gives none.
 *
 * Every declaration macro files an entry in a list built by constructors when the library is loaded; the list is kept
 * in declaration order (__COUNTER__), so initializers and top-level blocks run in the order they are written.
 * scenarios/README.md shows each macro with an example.
 */
#ifndef HCRLAB_HCR_H
#define HCRLAB_HCR_H

#ifndef HCR_MODULE
#error "hcr.h: define HCR_MODULE, the module's name as its importers list it (e.g. gcc -DHCR_MODULE='\"a\"'), before including it"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The runtime's C ABI (runtime/README.md), fetched by HcrInit000. A module may call these directly. */
static void* (*hcrRegisterProc)(const char* module, const char* name, void* fn) __attribute__((unused));
static void* (*hcrGetProc)(const char* module, const char* name) __attribute__((unused));
static bool (*hcrRegisterGlobal)(const char* module, const char* name, size_t size, void (*gcMarker)(void), void** out)
    __attribute__((unused));
static void* (*hcrGetGlobal)(const char* module, const char* name) __attribute__((unused));
static void (*hcrAddEventHandler)(bool isBefore, void (*fn)(void)) __attribute__((unused));
static void (*hcrAddModule)(const char* module) __attribute__((unused));
static int64_t (*hcrGeneration)(void) __attribute__((unused));
static bool (*hcrHasModuleChanged)(const char* moduleOrSigHash) __attribute__((unused));
static bool (*hcrReloadNeeded)(void) __attribute__((unused));

enum hcr_entry_kind
{
    HCR_KIND_PROC,
    HCR_KIND_IMPORTED_PROC,
    HCR_KIND_GLOBAL,
    HCR_KIND_IMPORTED_GLOBAL,
    HCR_KIND_TOP_LEVEL,
    HCR_KIND_BEFORE_RELOAD,
    HCR_KIND_AFTER_RELOAD,
};

/* One declaration of the module. Pointers are stored through memcpy: `address` may point at a function pointer. */
struct hcr_entry
{
    enum hcr_entry_kind kind;
    int order;           /* __COUNTER__ at the declaration: source order */
    const char* module;  /* HCR_MODULE, or the module an import comes from */
    const char* name;    /* the symbol's name in the runtime */
    void (*code)(void);  /* a global's initializer, a top-level block, a handler */
    void* function;      /* a proc's function */
    void* address;       /* where the slot, the global's block or the resolved import is stored */
    size_t size;         /* a global's size */
    struct hcr_entry* next;
    bool is_new;         /* a global or top-level guard that DatInit000 registered as new: Init000 initialises it */
};

static struct hcr_entry* hcr_entries;

/* Constructors may run in any order; the list stays sorted by declaration order. */
static void hcr_link(struct hcr_entry* entry)
{
    struct hcr_entry** at = &hcr_entries;
    while (*at != NULL && (*at)->order < entry->order)
        at = &(*at)->next;
    entry->next = *at;
    *at = entry;
}

static void hcr_store_pointer(const struct hcr_entry* entry, void* value)
{
    memcpy(entry->address, &value, sizeof value);
}

#define HCR_CAT_(a, b) a##b
#define HCR_CAT(a, b) HCR_CAT_(a, b)

#define HCR_ENTRY_(n, kind, module, name, code, function, address, size)                                              \
    static struct hcr_entry HCR_CAT(hcr_entry_, n) = {kind, n, module, name, code, function, address, size, NULL, false}; \
    __attribute__((constructor)) static void HCR_CAT(hcr_link_, n)(void) { hcr_link(&HCR_CAT(hcr_entry_, n)); }

/*
 * HCR_PROC(type, name, (params)) { body }
 * A reloadable proc. Inside the module, name(...) is a direct call; other modules call it through its slot
 * (HCR_IMPORT_PROC), which every reload re-points to the newest body. HCR_SLOT(name) is the slot's address.
 * A slot's address may be stored anywhere (a callback in a global): when a reload removes the proc, the slot reports a
 * bad call and returns 0, and never runs another proc's code. A new proc takes a never-used slot; the proc coming back
 * under the same module and name gets its old slot (stored addresses work again); a removed proc's slot is given to
 * another proc only when no never-used slot is left and every registered host thread has reported a quiescent state
 * since the removal, and the host is told (runtime/README.md).
 */
#define HCR_PROC(type, name, params) HCR_PROC_(__COUNTER__, type, name, params)
#define HCR_PROC_(n, type, name, params)                                                                               \
    static type name params;                                                                                           \
    static void* hcr_slot_##name __attribute__((unused));                                                              \
    HCR_ENTRY_(n, HCR_KIND_PROC, HCR_MODULE, #name, NULL, (void*)name, &hcr_slot_##name, 0)                           \
    static type name params
#define HCR_SLOT(name) (hcr_slot_##name)

/*
 * HCR_IMPORT_PROC(module, type, name, (params))
 * Declares module_name, a pointer to the slot of proc `name` of `module` (an identifier): call it as module_name(...).
 */
#define HCR_IMPORT_PROC(module, type, name, params) HCR_IMPORT_PROC_(__COUNTER__, module, type, name, params)
#define HCR_IMPORT_PROC_(n, module, type, name, params)                                                                \
    static type(*module##_##name) params __attribute__((unused));                                                      \
    HCR_ENTRY_(n, HCR_KIND_IMPORTED_PROC, #module, #name, NULL, NULL, &module##_##name, 0)

/*
 * HCR_GLOBAL(type, name, initializer)
 * A global the runtime owns: `name` is a `type*` to it. The initializer runs once, when the global is new; a reload
 * keeps the value whatever the initializer now says. Any initializer that `type x = ...;` accepts works.
 * When a reload drops the global, a module that imported it (HCR_IMPORT_GLOBAL) and is not reloaded keeps a valid
 * block: the runtime frees it only after every such module has re-resolved it (to NULL, at its next DatInit000) or
 * has been reloaded or unloaded.
 */
#define HCR_GLOBAL(type, name, ...) HCR_GLOBAL_(__COUNTER__, type, name, __VA_ARGS__)
#define HCR_GLOBAL_(n, type, name, ...)                                                                                \
    static type* name;                                                                                                 \
    static void HCR_CAT(hcr_initialize_, n)(void)                                                                      \
    {                                                                                                                  \
        type hcr_initial_value = __VA_ARGS__;                                                                          \
        *name = hcr_initial_value;                                                                                     \
    }                                                                                                                  \
    HCR_ENTRY_(n, HCR_KIND_GLOBAL, HCR_MODULE, #name, HCR_CAT(hcr_initialize_, n), NULL, &name, sizeof(type))

/* HCR_IMPORT_GLOBAL(module, type, name): declares module_name, a `type*` to global `name` of `module`. */
#define HCR_IMPORT_GLOBAL(module, type, name) HCR_IMPORT_GLOBAL_(__COUNTER__, module, type, name)
#define HCR_IMPORT_GLOBAL_(n, module, type, name)                                                                      \
    static type* module##_##name __attribute__((unused));                                                              \
    HCR_ENTRY_(n, HCR_KIND_IMPORTED_GLOBAL, #module, #name, NULL, NULL, &module##_##name, 0)

/*
 * HCR_TOP_LEVEL(label) { code }
 * Code that runs once: at the first load of the module, or at the reload that adds the block. The label names the
 * block's guard (a one-byte global "top-level:label"), so a block keeps its identity across versions.
 */
#define HCR_TOP_LEVEL(label) HCR_TOP_LEVEL_(__COUNTER__, label)
#define HCR_TOP_LEVEL_(n, label)                                                                                       \
    static void HCR_CAT(hcr_top_level_, n)(void);                                                                      \
    HCR_ENTRY_(n, HCR_KIND_TOP_LEVEL, HCR_MODULE, "top-level:" #label, HCR_CAT(hcr_top_level_, n), NULL, NULL, 1)     \
    static void HCR_CAT(hcr_top_level_, n)(void)

/*
 * HCR_BEFORE_RELOAD { code }   HCR_AFTER_RELOAD { code }
 * Handlers around every reload that changes something: before runs the old code's handler, after the new code's.
 */
#define HCR_BEFORE_RELOAD HCR_HANDLER_(__COUNTER__, HCR_KIND_BEFORE_RELOAD)
#define HCR_AFTER_RELOAD HCR_HANDLER_(__COUNTER__, HCR_KIND_AFTER_RELOAD)
#define HCR_HANDLER_(n, kind)                                                                                          \
    static void HCR_CAT(hcr_handler_, n)(void);                                                                        \
    HCR_ENTRY_(n, kind, HCR_MODULE, NULL, HCR_CAT(hcr_handler_, n), NULL, NULL, 0)                                    \
    static void HCR_CAT(hcr_handler_, n)(void)

/* HCR_IMPORTS("b", "c"): the modules this one imports, in order (at most once per module; none when absent). */
#define HCR_IMPORTS(...) const char* const hcr_imports[] __attribute__((visibility("hidden"))) = {__VA_ARGS__, ""}

/* HCR_SIG_HASH("text"): the module's signature hash (at most once; default: module name, file and build time). */
#define HCR_SIG_HASH(text) const char hcr_sig_hash[] __attribute__((visibility("hidden"))) = text

/* Hidden, so that a module's own references never bind to another module's definitions; weak, so both are optional. */
extern const char* const hcr_imports[] __attribute__((weak, visibility("hidden")));
extern const char hcr_sig_hash[] __attribute__((weak, visibility("hidden")));

#define HCR_EXPORT __attribute__((visibility("default")))

static void hcr_resolve(const struct hcr_entry* entry)
{
    hcr_store_pointer(entry, entry->kind == HCR_KIND_IMPORTED_PROC ? hcrGetProc(entry->module, entry->name)
                                                                   : hcrGetGlobal(entry->module, entry->name));
}

static bool hcr_is_import(const struct hcr_entry* entry)
{
    return entry->kind == HCR_KIND_IMPORTED_PROC || entry->kind == HCR_KIND_IMPORTED_GLOBAL;
}

HCR_EXPORT void HcrInit000(void* handle, void* (*getProcAddr)(void* handle, const char* name))
{
    hcrRegisterProc = (void* (*)(const char*, const char*, void*))getProcAddr(handle, "hcrRegisterProc");
    hcrGetProc = (void* (*)(const char*, const char*))getProcAddr(handle, "hcrGetProc");
    hcrRegisterGlobal = (bool (*)(const char*, const char*, size_t, void (*)(void), void**))getProcAddr(handle, "hcrRegisterGlobal");
    hcrGetGlobal = (void* (*)(const char*, const char*))getProcAddr(handle, "hcrGetGlobal");
    hcrAddEventHandler = (void (*)(bool, void (*)(void)))getProcAddr(handle, "hcrAddEventHandler");
    hcrAddModule = (void (*)(const char*))getProcAddr(handle, "hcrAddModule");
    hcrGeneration = (int64_t (*)(void))getProcAddr(handle, "hcrGeneration");
    hcrHasModuleChanged = (bool (*)(const char*))getProcAddr(handle, "hcrHasModuleChanged");
    hcrReloadNeeded = (bool (*)(void))getProcAddr(handle, "hcrReloadNeeded");
}

HCR_EXPORT void HcrCreateTypeInfos(void)
{
}

/* Set by this code's Init000: from then on DatInit000 (which runs at every reload, changed module or not) re-resolves. */
static bool hcr_imports_resolved;

/*
 * Imports are resolved in Init000 (after every module's DatInit000, so a module that imports its own importer finds
 * its procs too). DatInit000 runs again at every reload, in unchanged modules too, and re-resolves every import, the
 * NULL ones included: providers are initialised first and register their procs and globals in their DatInit000, so a
 * proc or global that comes back is found at the reload that brings it back. A proc removed by a reload is still found
 * during that reload (the provider's old symbols are dropped when the reload commits), so importers keep its slot,
 * which reports a bad call; at the next reload it resolves to NULL, which an importer that expects the proc to go away
 * can test. A dropped global stays allocated for its importers until they re-resolve it (runtime/README.md).
 */
HCR_EXPORT void DatInit000(void)
{
    for (struct hcr_entry* entry = hcr_entries; entry != NULL; entry = entry->next)
    {
        void* block = NULL;
        switch (entry->kind)
        {
        case HCR_KIND_PROC:
            hcr_store_pointer(entry, hcrRegisterProc(entry->module, entry->name, entry->function));
            break;
        case HCR_KIND_GLOBAL:
        case HCR_KIND_TOP_LEVEL:
            entry->is_new = hcrRegisterGlobal(entry->module, entry->name, entry->size, NULL, &block);
            if (entry->address != NULL)
                hcr_store_pointer(entry, block);
            break;
        case HCR_KIND_IMPORTED_PROC:
        case HCR_KIND_IMPORTED_GLOBAL:
            if (hcr_imports_resolved)
                hcr_resolve(entry);
            break;
        default:
            break;
        }
    }
}

HCR_EXPORT void Init000(void)
{
    for (struct hcr_entry* entry = hcr_entries; entry != NULL; entry = entry->next)
    {
        if (hcr_is_import(entry))
            hcr_resolve(entry);
    }

    hcr_imports_resolved = true;
    for (struct hcr_entry* entry = hcr_entries; entry != NULL; entry = entry->next)
    {
        switch (entry->kind)
        {
        case HCR_KIND_GLOBAL:
        case HCR_KIND_TOP_LEVEL:
            if (entry->is_new)
                entry->code();
            entry->is_new = false;
            break;
        case HCR_KIND_BEFORE_RELOAD:
        case HCR_KIND_AFTER_RELOAD:
            hcrAddEventHandler(entry->kind == HCR_KIND_BEFORE_RELOAD, entry->code);
            break;
        default:
            break;
        }
    }
}

HCR_EXPORT const char* const* HcrGetImportedModules(void)
{
    static const char* const none[] = {""};
    return hcr_imports != NULL ? hcr_imports : none;
}

HCR_EXPORT const char* HcrGetSigHash(void)
{
    return hcr_sig_hash != NULL ? hcr_sig_hash : HCR_MODULE "@" __FILE__ " " __DATE__ " " __TIME__;
}

#endif
