#!/usr/bin/env python3
"""Turns public data sets into Raymundo projects for `raymundo eval` (bench/quality/run.sh).

qa:      a SQuAD-format JSON file (XQuAD, SQuAD, MLQA ...). The first --articles articles become
         the documents (one Markdown file each, paragraphs as they are); up to --questions of
         their questions are the answerable ones (with their gold answers), and the questions
         of the articles left out are the out-of-scope ones (same style, other topics), up to
         --out-of-scope of them.
intents: a CSV or JSONL of labelled messages (text, label). --intents labels become intents
         with --examples training examples each (data/intents.json); the eval file holds up to
         --per-intent other messages of each, and messages of the labels left out as no intent
         (up to --no-intent of them). Chosen with a fixed seed, so runs are reproducible.
"""
import argparse, csv, json, os, random, re, sys


def slug(text):
    s = re.sub(r"[^0-9A-Za-z]+", "-", text).strip("-").lower()
    return s[:60] or "doc"


def qa(args):
    data = json.load(open(args.input, encoding="utf-8"))["data"]
    rng = random.Random(args.seed)
    inside, outside = data[: args.articles], data[args.articles :]
    docs = os.path.join(args.out, "data", "docs", "articulos")
    os.makedirs(docs, exist_ok=True)
    os.makedirs(os.path.join(args.out, "data", "eval"), exist_ok=True)
    answerable = []
    for art in inside:
        name = slug(art["title"]) + ".md"
        with open(os.path.join(docs, name), "w", encoding="utf-8") as f:
            f.write("# " + art["title"].replace("_", " ") + "\n\n")
            for p in art["paragraphs"]:
                f.write(p["context"].strip() + "\n\n")
        for p in art["paragraphs"]:
            for q in p["qas"]:
                golds = sorted({a["text"] for a in q.get("answers", [])})
                if golds:
                    answerable.append({"pregunta": q["question"], "fuentes_esperadas": ["articulos/" + name],
                                       "en_alcance": True, "respuestas": golds})
    others = [{"pregunta": q["question"], "en_alcance": False}
              for art in outside for p in art["paragraphs"] for q in p["qas"]]
    rng.shuffle(answerable)
    rng.shuffle(others)
    lines = answerable[: args.questions] + others[: args.out_of_scope]
    with open(os.path.join(args.out, "data", "eval", "preguntas.jsonl"), "w", encoding="utf-8") as f:
        for l in lines:
            f.write(json.dumps(l, ensure_ascii=False) + "\n")
    print(f"{args.out}: {len(inside)} articles, {min(len(answerable), args.questions)} answerable, "
          f"{min(len(others), args.out_of_scope)} out-of-scope questions")


def read_labelled(path):
    rows = []
    if path.endswith(".jsonl"):
        for line in open(path, encoding="utf-8"):
            if line.strip():
                o = json.loads(line)
                rows.append((o.get("text") or o.get("texto"), str(o.get("label", o.get("intent")))))
    else:
        with open(path, encoding="utf-8", newline="") as f:
            r = csv.reader(f)
            header = next(r)
            ti = [h.lower() for h in header].index("text")
            li = [h.lower() for h in header].index("label") if "label" in [h.lower() for h in header] else 1 - ti
            rows = [(row[ti], row[li]) for row in r if len(row) > max(ti, li)]
    return rows


def intents(args):
    rows = read_labelled(args.input)
    rng = random.Random(args.seed)
    by = {}
    for text, label in rows:
        by.setdefault(label, []).append(text)
    labels = sorted(by)
    rng.shuffle(labels)
    chosen, left = labels[: args.intents], labels[args.intents :]
    spec, evals = {}, []
    for label in chosen:
        msgs = by[label][:]
        rng.shuffle(msgs)
        name = slug(label).replace("-", "_")
        spec[name] = {"examples": msgs[: args.examples], "parameters": []}
        evals += [{"texto": m, "intent": name} for m in msgs[args.examples : args.examples + args.per_intent]]
    others = [m for label in left for m in by[label]]
    rng.shuffle(others)
    evals += [{"texto": m, "intent": None} for m in others[: args.no_intent]]
    os.makedirs(os.path.join(args.out, "data", "eval"), exist_ok=True)
    os.makedirs(os.path.join(args.out, "data", "docs"), exist_ok=True)
    json.dump(spec, open(os.path.join(args.out, "data", "intents.json"), "w", encoding="utf-8"),
              ensure_ascii=False, indent=1)
    with open(os.path.join(args.out, "data", "eval", "intents.jsonl"), "w", encoding="utf-8") as f:
        for e in evals:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")
    print(f"{args.out}: {len(chosen)} intents x {args.examples} examples; eval {len(evals)} messages "
          f"({min(len(others), args.no_intent)} no intent)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="kind", required=True)
    a = sub.add_parser("qa")
    a.add_argument("input"); a.add_argument("out")
    a.add_argument("--articles", type=int, default=40)
    a.add_argument("--questions", type=int, default=300)
    a.add_argument("--out-of-scope", type=int, default=100)
    a.add_argument("--seed", type=int, default=15)
    b = sub.add_parser("intents")
    b.add_argument("input"); b.add_argument("out")
    b.add_argument("--intents", type=int, default=58)
    b.add_argument("--examples", type=int, default=10)
    b.add_argument("--per-intent", type=int, default=10)
    b.add_argument("--no-intent", type=int, default=200)
    b.add_argument("--seed", type=int, default=15)
    args = ap.parse_args()
    {"qa": qa, "intents": intents}[args.kind](args)


if __name__ == "__main__":
    sys.exit(main())
