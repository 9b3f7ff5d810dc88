import sys, glob, json
from collections import Counter
import opencc
cv = opencc.OpenCC('s2tw')
OK = {"paraphrase", "factual-no", "plain"}
GROUPS = {"stuffing","buck-passing","sarcasm","off-topic","refusal","vague","blame","english","repetition"} | OK
items = []
for fn in sorted(glob.glob(str(__import__('pathlib').Path(__file__).parent / 'd_*.txt'))):
    cur = None
    for ln, line in enumerate(open(fn, encoding='utf-8'), 1):
        line = line.rstrip('\n')
        if not line.strip() or line.startswith('#'):
            continue
        if line.startswith('C '):
            dom, matter, cust = line[2:].split('|', 2)
            cur = (dom.strip(), matter.strip(), cust.strip())
            continue
        g, text = line.split('|', 1)
        g = g.strip(); text = text.strip()
        assert g in GROUPS, (fn, ln, g)
        assert cur, (fn, ln)
        items.append(dict(group=g, note=f"{cur[0]}: {cur[1]}", customer=cur[2], text=text,
                          label="ok" if g in OK else "not-ok"))
def esc(s):
    return json.dumps(s, ensure_ascii=False)
out = ["# Blind holdout 6 for reply review (issue 8.6): telecom, bank, e-commerce, logistics, airline.",
       "# Written from CURRICULUM.md's definitions without reading the checker, its cue files or other sets.",
       "version = 1", ""]
n = 0
w = 0
for i, it in enumerate(items):
    if it["group"] != "english" and i % 4 == 3:
        it["customer"] = cv.convert(it["customer"]); it["text"] = cv.convert(it["text"])
        n += 1
    elif it["group"] != "english" and i % 13 == 5:
        it["text"] = "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in it["text"]).replace("，", ",", 1)
        it["customer"] = it["customer"].replace("，", ", ").replace("？", "?")
        w += 1
    out.append("[[item]]")
    for k in ("group", "note", "customer", "text", "label"):
        out.append(f"{k} = {esc(it[k])}")
    out.append("")
open(sys.argv[1], 'w', encoding='utf-8').write("\n".join(out))
c = Counter(it["group"] for it in items)
print(len(items), dict(c), "trad", n, "width-mix", w)
d = Counter((it["group"], it["note"].split(':')[0]) for it in items)
print(sorted(d.items()))
m = Counter(it["note"].split(':')[0] for it in items); print(m)
mat = {}
for it in items: mat.setdefault(it["note"].split(':')[0], set()).add(it["note"])
print({k: len(v) for k, v in mat.items()})
