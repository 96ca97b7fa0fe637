"""Prints the JSON lines of bench/ann/run.sh as one table: python table.py RESULTS.jsonl"""

import json
import sys


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
    head = ["n", "impl", "index", "ef", "recall@10", "QPS k=5", "QPS k=10", "build s", "RSS MiB"]
    table = [
        [
            f"{r['n']:,}", r["impl"], r["index"], str(r["ef"] or "-"), f"{r['recall10']:.4f}",
            f"{r['qps5']:,.0f}", f"{r['qps10']:,.0f}",
            f"{r['build_s']:.1f}" if r["build_s"] else "-",
            f"{r['rss_mib']:.0f}" if r["rss_mib"] else "-",
        ]
        for r in rows
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *table)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for t in table:
        print(line(t))


if __name__ == "__main__":
    main()
