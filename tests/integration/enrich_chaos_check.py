"""Checks gtp-enrich output against its input (issue 3, acceptance 5).

usage: enrich_chaos_check.py INPUT.jsonl OUTPUT.jsonl NOW

An independent re-implementation of the validation rules of docs/events.md (in the
documented precedence of include/gtp/event.h) decides, from each input line
alone, whether it must be rejected and why; the output line must agree. For
accepted events the normalized fields (posted_at, date_posted, ids, text
fields) are compared exactly and region / experience_level / skills_array are
checked for shape. Exits 1 on any disagreement.
"""
import collections
import datetime as dt
import json
import re
import sys

MAX = 1048576
LEVELS = {"Intern", "Junior", "Mid", "Senior", "Lead", "Principal", "Director", "Unspecified"}
REASONS = {"invalid_json", "invalid_utf8", "missing_field", "wrong_type", "bad_timestamp",
           "future_timestamp", "too_large"}
KEYS = ["event_id", "posted_at", "date_posted", "title", "company", "skills_array",
        "experience_level", "region", "job_id", "source", "location", "is_remote"]
TS = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
                r"(?:\.([0-9]+))?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
LO = int((dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc) - EPOCH).total_seconds()) * 10**6
HI = int((dt.datetime(2101, 1, 1, tzinfo=dt.timezone.utc) - EPOCH).total_seconds()) * 10**6


def parse_ts(s):
    """RFC 3339 -> µs since the epoch, or None (bad_timestamp)."""
    m = TS.fullmatch(s)
    if not m:
        return None
    y, mo, d, h, mi, sec = (int(m.group(i)) for i in range(1, 7))
    frac = (m.group(7) or "")[:6].ljust(6, "0")
    if h > 23 or mi > 59 or sec > 60:
        return None
    try:
        base = dt.datetime(y, mo, d, h, mi, 0, tzinfo=dt.timezone.utc)
    except ValueError:
        return None
    off = 0
    if m.group(9):
        oh, om = int(m.group(10)), int(m.group(11))
        if oh > 23 or om > 59:
            return None
        off = (oh * 60 + om) * (-1 if m.group(9) == "-" else 1)
    us = (int((base - EPOCH).total_seconds()) + sec - off * 60) * 10**6 + int(frac)
    if not LO <= us < HI:
        return None
    return us


def fmt(us):
    t = EPOCH + dt.timedelta(microseconds=us)
    s = t.strftime("%Y-%m-%dT%H:%M:%S")
    return s + (".%06dZ" % t.microsecond if t.microsecond else "Z"), t.strftime("%Y-%m-%d")


def expect(raw, now_us):
    """(reason or None, parsed event or None)."""
    if len(raw) > MAX:
        return "too_large", None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid_utf8", None
    try:
        ev = json.loads(text)
    except (ValueError, RecursionError):
        return "invalid_json", None
    if not isinstance(ev, dict):
        return "wrong_type", None

    def need(obj, key, kind=str):
        v = obj.get(key)
        if v is None or (v == "" and key != "timestamp"):
            return "missing_field"
        if not isinstance(v, kind):
            return "wrong_type"
        return None

    for key in ("event_id", "timestamp"):
        r = need(ev, key)
        if r:
            return r, None
    if ev.get("payload") is None:
        return "missing_field", None
    if not isinstance(ev["payload"], dict):
        return "wrong_type", None
    p = ev["payload"]
    for key in ("job_id", "title"):
        r = need(p, key)
        if r:
            return r, None
    for obj, key in ((ev, "source"), (p, "company"), (p, "location"), (p, "description")):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            return "wrong_type", None
    if p.get("is_remote") is not None and not isinstance(p["is_remote"], bool):
        return "wrong_type", None
    us = parse_ts(ev["timestamp"])
    if us is None:
        return "bad_timestamp", None
    if us > now_us + 3600 * 10**6:
        return "future_timestamp", None
    ev["_us"] = us
    return None, ev


def main():
    inp, outp, now = sys.argv[1], sys.argv[2], sys.argv[3]
    now_us = parse_ts(now)
    assert now_us is not None, now
    with open(inp, "rb") as f:
        ins = f.read().split(b"\n")
    if ins and ins[-1] == b"":
        ins.pop()
    with open(outp, "rb") as f:
        outs = f.read().split(b"\n")
    if outs and outs[-1] == b"":
        outs.pop()
    print(f"input lines {len(ins)}, output lines {len(outs)}")
    if len(ins) != len(outs):
        print("FAIL: line counts differ")
        return 1
    verdicts = collections.Counter()
    regions = collections.Counter()
    unknown_locs = collections.Counter()
    bad = 0
    seen = {}
    for i, (raw, out) in enumerate(zip(ins, outs)):
        want, ev = expect(raw, now_us)
        try:
            got = json.loads(out)
        except ValueError as e:
            print(f"line {i + 1}: output is not json: {e}")
            bad += 1
            continue
        problems = []
        if want:
            if got.get("rejected") != want:
                problems.append(f"want rejected {want}, got {out[:200]!r}")
            elif not isinstance(got.get("detail"), str) or not got["detail"]:
                problems.append("reject without detail")
        else:
            if "rejected" in got:
                problems.append(f"want accepted, got {got}")
            else:
                p = ev["payload"]
                posted, day = fmt(ev["_us"])
                if list(got) != KEYS:
                    problems.append(f"keys {list(got)}")
                checks = [("event_id", ev["event_id"]), ("posted_at", posted),
                          ("date_posted", day), ("title", p["title"]),
                          ("company", p.get("company")), ("job_id", p["job_id"]),
                          ("source", ev.get("source")), ("location", p.get("location")),
                          ("is_remote", p.get("is_remote"))]
                for k, v in checks:
                    if got.get(k) != v:
                        problems.append(f"{k}: want {v!r}, got {got.get(k)!r}")
                if got.get("experience_level") not in LEVELS:
                    problems.append(f"experience_level {got.get('experience_level')!r}")
                reg = got.get("region")
                if not isinstance(reg, str) or not re.fullmatch(r"[A-Z]{2}|REMOTE|UNKNOWN", reg):
                    problems.append(f"region {reg!r}")
                loc = p.get("location")
                if (loc is None or loc.strip() == "") and reg != "UNKNOWN":
                    problems.append(f"empty location gave {reg}")
                if reg == "UNKNOWN":
                    unknown_locs[loc] += 1
                regions[reg] += 1
                sk = got.get("skills_array")
                if not isinstance(sk, list) or len(set(sk)) != len(sk) or not all(
                        isinstance(s, str) and re.fullmatch(r"[a-z0-9-]+", s) for s in sk):
                    problems.append(f"skills_array {sk!r}")
        # the CLI is stateless: an exact duplicate line gets the same answer
        if raw in seen and seen[raw] != out:
            problems.append("duplicate input line got a different output")
        seen.setdefault(raw, out)
        verdicts[want or "accepted"] += 1
        if problems:
            bad += 1
            if bad <= 20:
                print(f"line {i + 1}: " + "; ".join(problems))
    print("verdicts:", dict(sorted(verdicts.items())))
    print("regions (top 12):", regions.most_common(12))
    print(f"distinct countries: {len([r for r in regions if len(r) == 2])}")
    print("UNKNOWN locations:", unknown_locs.most_common(40))
    accepted = verdicts["accepted"]
    if accepted and regions["UNKNOWN"] > 0.05 * accepted:
        print("FAIL: more than 5% of accepted events have region UNKNOWN")
        bad += 1
    missing = REASONS - set(verdicts)
    print("reasons not exercised:", sorted(missing) or "none")
    if bad:
        print(f"FAIL: {bad} lines disagree")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
