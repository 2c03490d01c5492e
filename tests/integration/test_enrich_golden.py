"""gtp-enrich on tests/data/events/golden.jsonl (hand-made events: the seed
event, offsets, fractions, a leap second, remote and garbage locations, HTML,
NUL, accents, every reject reason) must print, line for line, the reviewed
records in golden.expected.jsonl. skills_array is left out of the comparison
(test_skills owns the matcher's quality); its shape is still checked."""
import json
import os
import re
import subprocess
import sys

src = os.environ.get("GTP_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
build = os.environ.get("GTP_BUILD_DIR") or os.path.join(src, "build")
data = os.path.join(src, "tests", "data", "events")

with open(os.path.join(data, "golden.jsonl"), "rb") as f:
    raw = f.read()
proc = subprocess.run([os.path.join(build, "gtp-enrich"), "--now", "2024-03-16T00:00:00Z",
                       "--taxonomy", os.path.join(src, "taxonomy")],
                      input=raw, stdout=subprocess.PIPE, check=True)
got = proc.stdout.decode("utf-8").splitlines()
with open(os.path.join(data, "golden.expected.jsonl"), encoding="utf-8") as f:
    want = [json.loads(line) for line in f]
assert len(got) == raw.count(b"\n") == len(want), (len(got), len(want))
bad = 0
for i, (g, w) in enumerate(zip(got, want), 1):
    d = json.loads(g)
    sk = d.pop("skills_array", [])
    if not isinstance(sk, list) or not all(re.fullmatch(r"[a-z0-9-]+", s) for s in sk):
        print(f"line {i}: bad skills_array {sk!r}")
        bad += 1
    if d != w or list(d) != list(w):
        print(f"line {i}:\n  got  {d}\n  want {w}")
        bad += 1
print(f"{len(got)} lines, {bad} differences")
sys.exit(1 if bad else 0)
