#!/usr/bin/env python3
"""The cost recording rules (deploy/prometheus/nstats-cost-rules.yml) with Prometheus' own
tools: promtool check rules, and promtool test rules on nstats-cost-rules.test.yml, whose
input series are shaped as nstats exposes them and a PodMonitor or a static config labels
them, with exact expected values. Then the same test against the rules broken the ways such
rules go wrong (joined on namespace and pod, which hosts do not have; a price join without
the direction; nstats_info joined as it is, two series for a while when its labels change;
no unit conversion; the workload summed away): each must fail, or the test proves nothing.
Every name the rules use is in docs/METRICS.md. tests/integration/test_dashboards.py runs the
same rules over real nstats data."""
import os
import re
import shutil
import tempfile

from harness import Checks, have, require, run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULES_DIR = os.path.join(ROOT, "deploy", "prometheus")
RULES = os.path.join(RULES_DIR, "nstats-cost-rules.yml")
TEST = os.path.join(RULES_DIR, "nstats-cost-rules.test.yml")
require(have("promtool"), "promtool (Debian prometheus)")

c = Checks()
tmp = tempfile.mkdtemp(prefix="nstats-cost-rules-")

# (what goes wrong, [(text in the rules, its broken form, times it occurs)])
BROKEN = [
    ("roll-ups joined to nstats_info on (namespace, pod): hosts have neither",
     [("on (instance, job) group_left (workload)", "on (namespace, pod) group_left (workload)", 2),
      ("group by (instance, job, workload)", "group by (namespace, pod, workload)", 2)]),
    ("prices joined on (namespace, pod, class, direction): hosts have no namespace or pod",
     [("on (instance, job, class, direction)", "on (namespace, pod, class, direction)", 1)]),
    ("prices joined without the direction",
     [("on (instance, job, class, direction)", "on (instance, job, class)", 1)]),
    ("nstats_info joined as it is (two series while its labels change)",
     [("group by (instance, job, workload) (nstats_info)", "nstats_info", 2)]),
    ("no conversion from bytes to GB", [("rate5m / 1e9", "rate5m", 1)]),
    ("the workload summed away", [("sum by (namespace, workload, class) (",
                                   "sum by (namespace, class) (", 1)]),
    ("the rate over all directions",
     [("sum by (namespace, pod, instance, job, class, direction)",
       "sum by (namespace, pod, instance, job, class)", 1)]),
]


def promtool_test(rules_text):
    """promtool test rules on a copy of the test file beside rules_text; (rc, output)."""
    d = tempfile.mkdtemp(dir=tmp)
    with open(os.path.join(d, "nstats-cost-rules.yml"), "w") as f:
        f.write(rules_text)
    shutil.copy(TEST, d)
    r = run(["promtool", "test", "rules", "nstats-cost-rules.test.yml"], cwd=d)
    return r.returncode, r.stdout + r.stderr


def documented():
    """Names in docs/METRICS.md: backticked words and metric names."""
    text = open(os.path.join(ROOT, "docs", "METRICS.md")).read()
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    return set(re.findall(r"`([^`\n]+)`", prose)) | set(re.findall(r"\bnstats_[a-z_]+\b", text))


def main():
    r = run(["promtool", "check", "rules", RULES])
    c.eq(r.returncode, 0, f"promtool check rules ({(r.stdout + r.stderr).strip()[-400:]})")
    c.ok("SUCCESS: 4 rules found" in r.stdout, f"four rules: {r.stdout.strip()}")

    rules = open(RULES).read()
    rc, out = promtool_test(rules)
    c.eq(rc, 0, f"promtool test rules on the rules as shipped ({out.strip()[-1500:]})")
    print(f"promtool test rules: {out.strip().splitlines()[-1].strip()}", flush=True)

    for what, edits in BROKEN:
        broken = rules
        for old, new, times in edits:
            c.eq(broken.count(old), times, f"{what}: '{old}' is in the rules {times} time(s)")
            broken = broken.replace(old, new)
        rc, out = promtool_test(broken)
        c.ok(rc != 0 and "FAILED" in out, f"{what}: the test fails ({rc}: {out.strip()[-300:]})")
        first = next((l.strip() for l in out.splitlines() if "err" in l.lower() or
                      l.strip().startswith("exp:")), "")
        print(f"broken ({what}): promtool test rules exits {rc}: {first[:160]}", flush=True)

    # Every metric and label the rules read is documented; records are level:metric:ops.
    known = documented()
    exprs = re.sub(r"#.*", "", rules.split("\ngroups:", 1)[1])
    names = set()
    for e in [exprs]:
        names |= set(re.findall(r"\b(nstats_[a-z_]+)\b", re.sub(r"\w+:nstats_\w+:\w+", "", e)))
        for group in re.findall(r"(?:by|on|group_left) \(([^)]*)\)", e):
            names |= {x.strip() for x in group.split(",") if x.strip()}
    c.eq(sorted(n for n in names if n not in known), [],
         "every metric and label the rules use is in docs/METRICS.md")
    for record in re.findall(r"record: (\S+)", rules):
        c.ok(re.fullmatch(r"[a-z_]+:nstats_[a-z_]+:rate5m", record),
             f"{record}: level:metric:operations")
        c.ok(f"`{record}`" in open(os.path.join(ROOT, "docs", "METRICS.md")).read(),
             f"{record} is in docs/METRICS.md")


try:
    main()
finally:
    shutil.rmtree(tmp, ignore_errors=True)
c.finish()
