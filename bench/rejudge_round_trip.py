"""Record and re-judge every row of the fault table: are the verdicts identical offline?

    python bench/rejudge_round_trip.py [--only NAME[,NAME]] [--json OUT.json]

For the clean mock, every `--fault` and every `--variant`, the whole suite runs live against a
real mock process (in process, as the fault-table self-test does), its report directory is
written with exchanges.har, and `conformance.rejudge` judges the recording again offline. The
figure printed at the end is "N of M runs identical"; any run whose verdicts, hash or check
set differ is listed with the differences, and the exit status is then 1. About 2-4 s per
run on 2 shared cores (the tests run a representative set: tests/audit/test_rejudge.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from conformance import rejudge  # noqa: E402
from conformance.mock.faults import FAULTS  # noqa: E402
from conformance.mock.variants import VARIANTS  # noqa: E402
from tests.audit.recording import record  # noqa: E402


def runs(only: set[str] | None) -> list[tuple[str, list[str], list[str]]]:
    table = [("clean", [], [])]
    table += [(f"fault {f}", [f], []) for f in sorted(FAULTS)]
    table += [(f"variant {v}", [], [v]) for v in sorted(VARIANTS)]
    if only:
        table = [row for row in table if row[0].split()[-1] in only]
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated fault/variant names")
    parser.add_argument("--json", type=Path, help="write the per-run results here")
    args = parser.parse_args()
    only = {n.strip() for n in args.only.split(",")} if args.only else None
    rows = []
    start = time.monotonic()
    for name, faults, variants in runs(only):
        with tempfile.TemporaryDirectory(prefix="rejudge-") as tmp:
            t0 = time.monotonic()
            live = record(Path(tmp), faults, variants)
            t1 = time.monotonic()
            result = rejudge.rejudge(Path(tmp))
            t2 = time.monotonic()
        ok = result.identical and result.integrity == "match"
        failing = sum(r.verdict in ("fail", "warn") for r in live.results)
        rows.append(
            {
                "run": name,
                "identical": ok,
                "checks": len(live.results),
                "red": failing,
                "kept": len(result.kept),
                "exchanges": len(result.recording.pairs),
                "live_s": round(t1 - t0, 2),
                "rejudge_s": round(t2 - t1, 2),
                "differences": [f"{c}: {a} -> {b}" for c, a, b in result.changed]
                + [f"{c}: new" for c in result.added]
                + [f"{c}: missing" for c in result.missing]
                + ([] if result.integrity == "match" else [f"hash: {result.integrity}"]),
            }
        )
        row = rows[-1]
        print(
            f"{'ok  ' if ok else 'DIFF'} {name:40} {row['checks']:4} checks {row['red']:3} red "
            f"{row['exchanges']:4} exchanges  live {row['live_s']:5.1f} s  "
            f"rejudge {row['rejudge_s']:4.2f} s",
            flush=True,
        )
        for line in row["differences"]:
            print(f"     {line}")
    same = sum(r["identical"] for r in rows)
    wall = time.monotonic() - start
    print(f"\n{same} of {len(rows)} runs identical after rejudge ({wall:.0f} s in all)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if same == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
