"""The report every de-identification run ends with, in JSON and Markdown.

Grades:

* **PASS** — every DICOM input was written, every output was re-scanned by the privacy audit
  and nothing was found or flagged;
* **REVIEW** — everything was written and verified, but the re-scan found something or an
  instance was flagged for a person to look at (burned-in text risk without a matching zone ...);
* **FAIL** — something was lost (an instance that could not be fully processed is not written:
  fail closed) or left unverified.

The report is for the operator, not for the people the data is shared with: it names input
paths (which can hold names) and goes next to the output folder, never into it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from gantry.storage import Finding


@attrs.define
class InstanceOutcome:
    source: str
    status: str
    """``written``, ``held`` (verified, not written: findings or flags), ``failed`` or
    ``resumed`` (done by an earlier run of the same job)."""
    output: str = ""
    reason: str = ""
    findings: list[Finding] = attrs.field(factory=list)
    flags: list[str] = attrs.field(factory=list)
    verified: bool = False


@attrs.define
class DeidReport:
    output: str
    config_sources: tuple[str, ...]
    profile: str
    options: tuple[str, ...]
    started: str
    finished: str = ""
    seconds: float = 0.0
    skipped_non_dicom: list[str] = attrs.field(factory=list)
    outcomes: list[InstanceOutcome] = attrs.field(factory=list)

    # --- the figures ---------------------------------------------------------------------------
    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def failures(self) -> list[InstanceOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def unverified(self) -> list[InstanceOutcome]:
        return [o for o in self.outcomes if o.status == "written" and not o.verified]

    @property
    def findings(self) -> list[Finding]:
        return [finding for o in self.outcomes for finding in o.findings]

    @property
    def flagged(self) -> list[InstanceOutcome]:
        return [o for o in self.outcomes if o.flags]

    @property
    def grade(self) -> str:
        if self.failures or self.unverified:
            return "FAIL"
        if self.findings or self.flagged:
            return "REVIEW"
        return "PASS"

    # --- renderings ----------------------------------------------------------------------------
    def as_json(self) -> dict[str, Any]:
        by_rule = Counter(f.rule for f in self.findings)
        return {
            "grade": self.grade,
            "output": self.output,
            "configuration": list(self.config_sources),
            "profile": self.profile,
            "options": list(self.options),
            "started": self.started, "finished": self.finished, "seconds": round(self.seconds, 3),
            "counts": {"inputs": len(self.outcomes) + len(self.skipped_non_dicom),
                       "written": self.count("written"), "held": self.count("held"),
                       "resumed": self.count("resumed"),
                       "failed": self.count("failed"), "skipped_non_dicom": len(self.skipped_non_dicom),
                       "unverified": len(self.unverified), "flagged": len(self.flagged),
                       "findings": len(self.findings)},
            "failures": [{"path": o.source, "reason": o.reason} for o in self.failures],
            "flagged": [{"path": o.source, "output": o.output, "flags": o.flags} for o in self.flagged],
            "findings_by_rule": dict(sorted(by_rule.items())),
            "findings": [{"path": o.source, "output": o.output, "tag": f.tag, "rule": f.rule,
                          "note": f.note} for o in self.outcomes for f in o.findings],
            "skipped_non_dicom": self.skipped_non_dicom,
        }

    def as_markdown(self) -> str:
        data = self.as_json()
        counts = data["counts"]
        lines = [f"# De-identification report: **{self.grade}**", "",
                 f"- output: `{self.output}`",
                 f"- configuration: {', '.join(self.config_sources)}",
                 f"- profile: {self.profile}; options: {', '.join(self.options) or 'none'}",
                 f"- {self.started} to {self.finished} ({self.seconds:.1f} s)", "",
                 "| inputs | written | held | resumed | failed | not DICOM | unverified | flagged | findings |",
                 "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
                 "| " + " | ".join(str(counts[k]) for k in ("inputs", "written", "held", "resumed", "failed",
                                                              "skipped_non_dicom", "unverified",
                                                              "flagged", "findings")) + " |", ""]
        if self.failures:
            lines += ["## Not written (fail closed)", ""]
            lines += [f"- `{o.source}`: {o.reason}" for o in self.failures] + [""]
        held = [o for o in self.outcomes if o.status == "held"]
        if held:
            lines += ["## Held for review (verified, not written)", ""]
            lines += [f"- `{o.source}`: {'; '.join(o.flags) or 'findings below'}" for o in held] + [""]
        if self.flagged:
            lines += ["## Flagged for review", ""]
            lines += [f"- `{o.source}` -> `{o.output}`: {'; '.join(o.flags)}" for o in self.flagged] + [""]
        if self.findings:
            lines += ["## Verification re-scan findings", "", "| rule | count |", "|---|---:|"]
            lines += [f"| {rule} | {n} |" for rule, n in data["findings_by_rule"].items()] + [""]
            lines += [f"- `{o.output or o.source}` {f.tag}: {f.rule}" + (f" ({f.note})" if f.note else "")
                      for o in self.outcomes for f in o.findings] + [""]
        grade_text = {"PASS": "every input written, verified, nothing found or flagged.",
                      "REVIEW": "everything written and verified; findings or flags need a person.",
                      "FAIL": "instances were not written or not verified (listed above)."}
        lines += [f"Grade **{self.grade}**: {grade_text[self.grade]}"]
        return "\n".join(lines) + "\n"

    def write(self, base: str | Path) -> tuple[Path, Path]:
        """Write ``<base>.json`` and ``<base>.md``; return their paths."""
        base = Path(base)
        json_path, markdown_path = base.with_suffix(".json"), base.with_suffix(".md")
        json_path.write_text(json.dumps(self.as_json(), indent=2) + "\n", encoding="utf-8")
        markdown_path.write_text(self.as_markdown(), encoding="utf-8")
        return json_path, markdown_path


def summary_line(report: DeidReport) -> str:
    counts: Mapping[str, int] = report.as_json()["counts"]
    return (f"{report.grade}: {counts['written']} written, {counts['held']} held for review, "
            f"{counts['resumed']} resumed, "
            f"{counts['failed']} failed, {counts['skipped_non_dicom']} not DICOM, "
            f"{counts['flagged']} flagged, {counts['findings']} findings ({report.seconds:.1f} s)")
