# Calls the hot code reloading runtime's C ABI directly, as a module of a --hotCodeReloading:on program would, and
# prints one line per observation. The same binary runs against Nim's libnimhcr.so and HcrLab's (whichever
# libnimhcr.so the loader finds first on LD_LIBRARY_PATH): both must print the same lines.
# Build: nim c -d:useNimRtl --threads:on hcr_unit.nim (libnimhcr.so is opened at start, like Nim's own modules do).

const hcrLib = "libnimhcr.so"

type GcMarker = proc () {.nimcall, raises: [].}

proc hcrAddModule(module: cstring) {.importc, dynlib: hcrLib.}
proc hcrRegisterProc(module, name: cstring, fn: pointer): pointer {.importc, dynlib: hcrLib.}
proc hcrGetProc(module, name: cstring): pointer {.importc, dynlib: hcrLib.}
proc hcrRegisterGlobal(module, name: cstring, size: Natural, gcMarker: GcMarker,
                       outPtr: ptr pointer): bool {.importc, dynlib: hcrLib.}
proc hcrGetGlobal(module, name: cstring): pointer {.importc, dynlib: hcrLib.}
proc hcrGeneration(): int {.importc, dynlib: hcrLib.}
proc hcrMarkGlobals() {.importc, dynlib: hcrLib.}

const module = cstring"unit_module"

# One proc per calling convention, three implementations each: registered in turn under one name, every address
# returned so far must reach the newest implementation.
proc nimcall1(x: int): int {.nimcall.} = x + 1
proc nimcall2(x: int): int {.nimcall.} = x * 2
proc nimcall3(x: int): int {.nimcall.} = x * x
type NimcallFn = proc (x: int): int {.nimcall.}

proc cdecl1(x: int): int {.cdecl.} = x + 1
proc cdecl2(x: int): int {.cdecl.} = x * 2
proc cdecl3(x: int): int {.cdecl.} = x * x
type CdeclFn = proc (x: int): int {.cdecl.}

proc stdcall1(x: int): int {.stdcall.} = x + 1
proc stdcall2(x: int): int {.stdcall.} = x * 2
proc stdcall3(x: int): int {.stdcall.} = x * x
type StdcallFn = proc (x: int): int {.stdcall.}

proc fastcall1(x: int): int {.fastcall.} = x + 1
proc fastcall2(x: int): int {.fastcall.} = x * 2
proc fastcall3(x: int): int {.fastcall.} = x * x
type FastcallFn = proc (x: int): int {.fastcall.}

proc noconv1(x: int): int {.noconv.} = x + 1
proc noconv2(x: int): int {.noconv.} = x * 2
proc noconv3(x: int): int {.noconv.} = x * x
type NoconvFn = proc (x: int): int {.noconv.}

template conventionCase(label: string, Fn: typedesc, impl1, impl2, impl3: typed) =
  block:
    let impls = [cast[pointer](impl1), cast[pointer](impl2), cast[pointer](impl3)]
    var slots: seq[pointer]
    for i, impl in impls:
      slots.add hcrRegisterProc(module, label & "_proc", impl)
      var line = label & " registration " & $(i + 1) & ":"
      for slot in slots:
        line.add " " & $cast[Fn](slot)(7)
      echo line
    echo label, " one slot for every registration: ", slots[0] == slots[1] and slots[1] == slots[2]
    let found = hcrGetProc(module, label & "_proc")
    echo label, " lookup by name finds it: ", found == slots[0], ", calls ", cast[Fn](found)(5)

hcrAddModule(module)
echo "generation ", hcrGeneration()

conventionCase("nimcall", NimcallFn, nimcall1, nimcall2, nimcall3)
conventionCase("cdecl", CdeclFn, cdecl1, cdecl2, cdecl3)
conventionCase("stdcall", StdcallFn, stdcall1, stdcall2, stdcall3)
conventionCase("fastcall", FastcallFn, fastcall1, fastcall2, fastcall3)
conventionCase("noconv", NoconvFn, noconv1, noconv2, noconv3)

var first: ptr int64
echo "global, first registration is new: ",
  hcrRegisterGlobal(module, "counter", sizeof(int64), nil, cast[ptr pointer](addr first))
echo "global starts zeroed: ", first[] == 0
first[] = 42
var second: ptr int64
echo "global, second registration is new: ",
  hcrRegisterGlobal(module, "counter", sizeof(int64), nil, cast[ptr pointer](addr second))
echo "global, same block: ", first == second, ", value kept: ", second[]
echo "global, lookup by name: ", cast[ptr int64](hcrGetGlobal(module, "counter")) == first
echo "unknown proc: ", hcrGetProc(module, "no_such_proc") == nil

# A GC marker is a plain nimcall proc; hcrMarkGlobals calls the one each global was last registered with.
var markerCalls = 0
proc countingMarker() {.nimcall, raises: [].} = inc markerCalls
var marked: ptr int64
discard hcrRegisterGlobal(module, "marked", sizeof(int64), countingMarker, cast[ptr pointer](addr marked))
hcrMarkGlobals()
echo "markGlobals calls the marker: ", markerCalls
discard hcrRegisterGlobal(module, "marked", sizeof(int64), nil, cast[ptr pointer](addr marked))
hcrMarkGlobals()
echo "a registration without a marker replaces it: ", markerCalls
echo "generation ", hcrGeneration()
