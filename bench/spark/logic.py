"""Per-event logic of the Spark reference job, kept free of Spark so it can be
checked on its own (bench/spark/logic.py --check FILE compares it with
gtp-enrich). Shipped to the Python workers with SparkContext.addPyFile.

skills: the seed's broadcast-keyword UDF -- lowercase the text, then test each
keyword of a broadcast list -- with the keyword test made a word-boundary regex
that follows taxonomy/skills.tsv's documented boundary rule (a letter, digit or
'_' on either side blocks a match, so does '+' or '#' after it; after a keyword
of 3+ characters ending in a letter, digits are allowed: "python3"). Only valid
for a taxonomy whose aliases are single plain words (bench/spark/taxonomy/).

region: Spark computes it itself from the taxonomy's country, US-state and city
tables with a deliberately small rule set (last named place wins; a US state
abbreviation that is also a country code yields to a known city before it;
"Remote" alone is REMOTE). It is not gtp's region module; the benchmark's
count check shows whether the two agree on the comparison stream.
"""
import os
import re
import sys
import unicodedata


def load_keywords(taxonomy_dir):
    """[(skill id, alias)] in taxonomy order, refusing anything but plain words."""
    out = []
    with open(os.path.join(taxonomy_dir, "skills.tsv"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            for alias in cols[3].split("|"):
                if not re.fullmatch(r"[a-z0-9]+", alias.lower()):
                    raise ValueError(f"skills.tsv: alias {alias!r} of {cols[0]} is not a plain word")
                out.append((cols[0], alias.lower()))
    return out


def compile_keywords(keywords):
    pats = []
    for skill, kw in keywords:
        after = r"(?![a-z_+#])" if len(kw) >= 3 and kw[-1].isalpha() else r"(?![a-z0-9_+#])"
        pats.append((skill, re.compile(r"(?<![a-z0-9_])" + re.escape(kw) + after, re.ASCII)))
    return pats


def find_skills(pats, title, description):
    """Skill ids in title + description, each once, in taxonomy order."""
    text = ((title or "") + "\n" + (description or "")).lower()
    found = []
    for skill, pat in pats:
        if skill not in found and pat.search(text):
            found.append(skill)
    return found


def _norm(s):
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = re.sub(r"[^\w\s]", "", s.lower())
    return " ".join(s.split())


def load_places(taxonomy_dir):
    def rows(name):
        with open(os.path.join(taxonomy_dir, name), encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if line and not line.startswith("#"):
                    cols = line.split("\t") + ["", ""]
                    yield cols[0], [cols[1]] + [a for a in cols[2].split(",") if a]

    countries, states, cities = {}, {}, {}
    for code, names in rows("countries.tsv"):
        if code == "REMOTE":
            continue
        for n in names + [code]:
            countries.setdefault(_norm(n), code)
    if "GB" not in countries:
        countries["gb"] = "UK"
    for abbr, names in rows("us_states.tsv"):
        for n in names + [abbr]:
            states.setdefault(_norm(n), "US")
    for code, names in rows("cities.tsv"):
        for n in names:
            cities.setdefault(_norm(n), code)
    return countries, states, cities


def find_region(places, location):
    countries, states, cities = places
    if not location:
        return "UNKNOWN"
    parts = [_norm(p) for p in re.split(r"[,()]| - ", location)]
    remote = False
    kept = []
    for p in parts:
        words = [w for w in p.split() if w not in ("remote", "fully")]
        remote = remote or len(words) < len(p.split())
        if words:
            kept.append(" ".join(words))
    for i in range(len(kept) - 1, -1, -1):
        p = kept[i]
        if p in states:
            if p in countries and i > 0 and kept[i - 1] in cities:
                return cities[kept[i - 1]]
            return "US"
        if p in countries:
            return countries[p]
        if p in cities:
            return cities[p]
    return "REMOTE" if remote else "UNKNOWN"


def _check(taxonomy_dir, enriched_jsonl, raw_jsonl):
    """Compare with gtp-enrich output line by line; exit 1 on any difference."""
    import json

    pats = compile_keywords(load_keywords(taxonomy_dir))
    places = load_places(taxonomy_dir)
    bad = 0
    n = 0
    with open(raw_jsonl, encoding="utf-8") as fr, open(enriched_jsonl, encoding="utf-8") as fe:
        for raw, enr in zip(fr, fe):
            ev, en = json.loads(raw), json.loads(enr)
            if "rejected" in en:
                continue
            n += 1
            p = ev["payload"]
            sk = find_skills(pats, p.get("title"), p.get("description"))
            rg = find_region(places, p.get("location"))
            if sk != en["skills_array"] or rg != en["region"]:
                bad += 1
                if bad <= 10:
                    print(f"differs: {p.get('location')!r} {rg} vs {en['region']}; {sk} vs {en['skills_array']}")
    print(f"{n} events, {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--check":
        sys.exit(_check(sys.argv[2], sys.argv[3], sys.argv[4]))
    print("usage: logic.py --check TAXONOMY_DIR ENRICHED.jsonl RAW.jsonl", file=sys.stderr)
    sys.exit(64)
