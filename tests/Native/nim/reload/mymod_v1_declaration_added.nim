# The first version with one declaration added above the globals: Nim 1.6 renames what follows (see native/README.md).
import hotcodereloading

proc helper*(): int = 1

var counter* = 0
var greeting = "greeting from the v1 initializer"

proc greet*(): string = "v1: counter " & $counter & ", " & greeting

beforeCodeReload:
  echo "mymod v1: before reload"

afterCodeReload:
  echo "mymod v1: after reload"
