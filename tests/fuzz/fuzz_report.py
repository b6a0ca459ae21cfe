#!/usr/bin/env python3
"""Writes the figures of a `make fuzz-long` campaign into the results table
of docs/fuzzing.md (between its begin/end markers): one row per target,
replacing that target's previous row and keeping the rows of targets that
were not run this time.

usage: fuzz_report.py REPORT SECONDS_EACH ROW...
ROW: name|result|execs|exec_per_s|cov|ft|corpus_files|peak_rss_mb|seconds
"""
import datetime
import os
import sys

BEGIN = "<!-- fuzz-long results: begin (written by tests/fuzz/fuzz_report.py) -->"
END = "<!-- fuzz-long results: end -->"
HEADER = [
    "| target | date (UTC) | ran | machine | executions | exec/s | coverage (edges) | features | corpus files | peak RSS | findings |",
    "|---|---|---|---|---:|---:|---:|---:|---:|---:|---|",
]


def main() -> int:
    report, _seconds_each, rows = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    text = open(report, encoding="utf-8").read() if os.path.exists(report) else ""
    if BEGIN not in text or END not in text:
        text += "\n## Results\n\n" + BEGIN + "\n" + END + "\n"
    head, rest = text.split(BEGIN, 1)
    body, tail = rest.split(END, 1)

    table = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `fuzz_") and len(cells) == len(HEADER[0].strip("|").split("|")):
            table[cells[0].strip("`")] = line
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    cores = os.cpu_count()
    load = os.getloadavg()[1]  # 5-minute load: the machine may be shared
    for row in rows:
        name, result, execs, eps, cov, ft, files, rss, secs = row.split("|")
        findings = "none" if result == "ok" else result.replace("FAIL:", "") + " (see below)"
        try:
            execs = f"{int(execs):,}"
        except ValueError:
            pass
        minutes = int(secs) / 60
        table[name] = (
            f"| `{name}` | {when} | {minutes:.1f} min | {cores} cores, load {load:.0f} | {execs} | {eps} | {cov} | {ft} "
            f"| {files} | {rss} MB | {findings} |"
        )
    lines = HEADER + [table[k] for k in sorted(table)]
    with open(report, "w", encoding="utf-8") as f:
        f.write(head + BEGIN + "\n" + "\n".join(lines) + "\n" + END + tail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
