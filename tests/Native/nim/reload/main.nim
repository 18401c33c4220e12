# The host of the reload scenario (built with --hotCodeReloading:on): it calls mymod, waits until the test has
# replaced mymod.nim with mymod_v2.nim and rebuilt (the file "rebuilt" appears in the current directory), reloads,
# and calls mymod again. It forces no garbage collection: in Nim 1.6's --hotCodeReloading:on programs the collector
# never calls hcrMarkGlobals (see native/README.md), so a full collection can free what globals hold.
import hotcodereloading, os, mymod

afterCodeReload:
  echo "main: after reload, mymod changed: ", hasModuleChanged(mymod)

echo greet()
inc counter
echo greet()
echo "main: waiting for the rebuild"
var waited = 0
while not fileExists("rebuilt") and waited < 1200:
  sleep(50)
  inc waited
echo "main: reload needed: ", hasAnyModuleChanged()
performCodeReload()
echo greet()
inc counter
echo greet()
performCodeReload()
echo "main: reload needed: ", hasAnyModuleChanged()
