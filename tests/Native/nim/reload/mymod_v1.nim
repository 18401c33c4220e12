# The scenario's reloadable module, first version (the test copies it to mymod.nim).
import hotcodereloading

var counter* = 0
var greeting = "greeting from the v1 initializer"

proc greet*(): string = "v1: counter " & $counter & ", " & greeting

beforeCodeReload:
  echo "mymod v1: before reload"

afterCodeReload:
  echo "mymod v1: after reload"
