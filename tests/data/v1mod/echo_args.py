import json
import os
import sys

from shared_lib.helper import describe

args = sys.argv[1:]
out = args[args.index("--out") + 1]
data = args[args.index("--data") + 1]
with open(os.path.join(out, "args.json"), "w") as f:
    json.dump({"argv": args, "described": describe(args), "files": sorted(os.listdir(data))}, f)
print("wrote", out)
