#!/usr/bin/env python3
"""The correct zoo encoder, except for one request (argv[2]: 'ARCH MODE AT TARGET'), on which it does argv[1]:
hang (after starting a grandchild in its process group, whose pid it writes to argv[3]), crash, malformed, overlong."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lab", "examples"))
import zoo  # noqa: E402

behaviour, trigger = sys.argv[1], sys.argv[2]
print("hcrlab-encoder 1 cpus=i386,amd64,arm,thumb,arm64 modes=code,data scratch=arm64:x16", flush=True)
for line in sys.stdin:
    if line.strip() == trigger:
        if behaviour == "hang":
            child = subprocess.Popen(["sleep", "1000"])
            with open(sys.argv[3], "w") as pid:
                pid.write(str(child.pid))
            time.sleep(1000)
        elif behaviour == "crash":
            os._exit(3)
        elif behaviour == "malformed":
            print("e9zz", flush=True)
            continue
        elif behaviour == "overlong":
            print("90" * 40, flush=True)
            continue
    arch, mode, slot, target = line.split()
    try:
        print(zoo.encode(arch, mode, int(slot, 16), int(target, 16), None).hex(), flush=True)
    except zoo.Refuse:
        print(flush=True)
