"""workload.py - a real-program benchmark: typical Python work.

    python3 workload.py SCALE

Models a script that loads records, indexes them in dicts, serialises and
parses JSON, and scans text with regular expressions.  CPython serves small
objects (<= 512 B) from its own pool allocator, so the preloaded malloc
sees the larger requests: dict and list tables as they grow, big strings,
the JSON text, regex match buffers.  Deterministic: the printed checksum
depends only on SCALE, so the runner can compare it across allocators.
"""
import json
import re
import sys
import zlib


def records(n, seed):
    """n pseudo-random records (a linear congruential generator, no imports)."""
    x = seed
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta",
             "theta", "iota", "kappa", "lambda", "mu"]
    out = []
    for i in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        tags = [words[(x >> s) % len(words)] for s in (3, 11, 19, (x >> 60) + 23)]
        out.append({
            "id": i,
            "name": "user%d_%s" % (x % 100000, tags[0]),
            "score": (x >> 20) % 1000 / 10.0,
            "tags": tags[: 1 + (x >> 40) % 4],
            "text": " ".join(tags) * (1 + (x >> 50) % 6),
        })
    return out


def main():
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    n = max(2000, int(20000 * scale))
    check = 0
    for rnd in range(3):
        recs = records(n, 12345 + rnd)
        # Index: dict of lists, dict of dicts; grows and rehashes tables.
        by_tag = {}
        by_name = {}
        for r in recs:
            by_name[r["name"]] = r
            for t in r["tags"]:
                by_tag.setdefault(t, []).append(r["id"])
        check += sum(len(v) for v in by_tag.values()) + len(by_name)
        # JSON round trip of the whole set (one large string).
        text = json.dumps(recs, sort_keys=True)
        back = json.loads(text)
        if back != recs:
            raise SystemExit("VERIFY FAILED: json round trip differs")
        check += zlib.crc32(text.encode())
        # Regex scan and substitution over a large text.
        blob = "\n".join(r["text"] + " " + r["name"] for r in recs)
        found = re.findall(r"user(\d+)_(\w+)", blob)
        check += len(found) + sum(int(a) for a, _ in found[:1000])
        blob2 = re.sub(r"(\w+)a\b", r"<\1>", blob)
        check += zlib.crc32(blob2.encode())
        # Sorting and string building.
        recs.sort(key=lambda r: (-r["score"], r["name"]))
        check += zlib.crc32("".join(r["name"] for r in recs[:5000]).encode())
    print("result check=%016x" % (check & (1 << 64) - 1))


main()
