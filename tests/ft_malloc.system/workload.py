# ft_malloc.system/workload.py - a python3 workload for system.exp:
# json, re, threads, subprocess, zlib/hashlib on generated data.  Its
# output is deterministic (run with PYTHONHASHSEED=0); system.exp compares
# it between a run with and a run without libft_malloc.
import collections
import concurrent.futures
import hashlib
import json
import random
import re
import subprocess
import sys
import threading
import zlib

big = sys.argv[1]
random.seed(2024)


def digest(data):
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()[:16]


# json: nested structures, round trips, many sizes
doc = {}
for i in range(20000):
    k = "key%05d" % random.randrange(100000)
    doc.setdefault(k, []).append({"i": i, "f": i / 7, "s": "x" * (i % 50),
                                  "l": list(range(i % 9)), "n": None, "b": i % 2 == 0})
text = json.dumps(doc, sort_keys=True)
back = json.loads(text)
assert back == doc
pretty = json.dumps(back, sort_keys=True, indent=2)
print("json", len(doc), len(text), len(pretty), digest(pretty))

# re: a file of 30 MB, several patterns, sub with a function
with open(big, encoding="ascii") as f:
    lines = f.read().splitlines()
print("lines", len(lines))
pat = re.compile(r"^(\w+) (\d+) ([0-9a-f]{8}) (\w+)-(\d+) (x*)$")
counts = collections.Counter()
total = 0
for line in lines[:200000]:
    m = pat.match(line)
    counts[m.group(1)] += 1
    total += int(m.group(2)) + len(m.group(6))
print("re", sorted(counts.items())[:5], total)
sample = "\n".join(lines[:50000])
swapped = re.sub(r"(\w+) (\d+)", lambda m: m.group(2) + ":" + m.group(1).upper(), sample)
print("sub", len(swapped), digest(swapped))
print("findall", len(re.findall(r"\b[0-9a-f]{4}(?=[0-9a-f]{4}\b)", sample)),
      len(re.split(r"[ -]+", sample)))
pats = [re.compile("%s.{0,%d}%d" % (w, n, n)) for w in ("echo", "golf", "kilo") for n in range(1, 40)]
print("many patterns", sum(len(p.findall(sample[:200000])) for p in pats))


# threads: a pool and a few plain threads sharing a locked dict
def work(n):
    rnd = random.Random(n)
    d = {}
    for i in range(20000):
        d[rnd.randrange(5000)] = "v" * rnd.randrange(1, 64)
    s = sorted(d.items())
    return n, len(s), sum(len(v) for _, v in s), digest(repr(s[:100]))


with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
    for r in ex.map(work, range(12)):
        print("thread", *r)

shared = {}
lock = threading.Lock()


def fill(t):
    for i in range(30000):
        b = bytearray((i * t) % 251 for _ in range(i % 40))
        with lock:
            shared[(t, i % 1000)] = bytes(b)


ths = [threading.Thread(target=fill, args=(t,)) for t in range(1, 5)]
for t in ths:
    t.start()
for t in ths:
    t.join()
print("shared", len(shared), sum(len(v) for v in shared.values()))

# subprocess: pipes in both directions, a python child, a shell pipeline
inp = "\n".join(lines[200000:260000]) + "\n"
p = subprocess.run(["sort", "-k2,2n"], input=inp, capture_output=True, text=True, check=True)
print("sort child", len(p.stdout), digest(p.stdout))
p = subprocess.run([sys.executable, "-c",
                    "import json, sys; d = json.load(sys.stdin); print(len(d), sum(len(v) for v in d.values()))"],
                   input=text, capture_output=True, text=True, check=True)
print("python child", p.stdout.strip())
p = subprocess.run("seq 1 50000 | awk '{ s += $1 } END { print s }' | tr 0 o", shell=True,
                   capture_output=True, text=True, check=True)
print("shell child", p.stdout.strip())
procs = [subprocess.Popen(["wc", "-c"], stdin=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(6)]
outs = [pr.communicate(b"z" * (100000 * (i + 1)))[0].strip() for i, pr in enumerate(procs)]
print("wc children", [o.decode() for o in outs])

# zlib and big buffers
blob = "\n".join(lines[:100000]).encode()
z = zlib.compress(blob, 6)
assert zlib.decompress(z) == blob
print("zlib", len(blob), len(z))
bufs = [bytearray(random.randrange(1, 300000)) for _ in range(200)]
print("buffers", sum(len(b) for b in bufs))
