# The scenario's reloadable module, second version: new bodies and handlers; the globals' initializers changed too,
# but a reload keeps the values the globals have.
import hotcodereloading

var counter* = 100
var greeting = "greeting from the v2 initializer"

proc greet*(): string = "v2: counter " & $counter & ", " & greeting

beforeCodeReload:
  echo "mymod v2: before reload"

afterCodeReload:
  echo "mymod v2: after reload"
