"""A de-identification run: files or an index selection in, a folder of de-identified instances out.

    run = DeidRun(kernel, backend, config, output="out/shared", workers=2)
    report = run.run(["/data/export"])          # or run.run(locations from session.query(...))

Per instance, in a worker process: read (the ranked readers), de-identify (the compiled plan,
the actions' providers), encode, **verify** (the privacy audit re-scans the de-identified
dataset; the preamble is zeros by construction), then write through the instance store
(``OUT/<study>/<series>/<sop>.dcm``, by the *new* UIDs, so no original identifier reaches a path;
atomic; an identical instance already there is not written twice). Fail closed: an instance that
fails any step is not written and is listed with its reason; one whose verification finds
something, or that an action flagged (burned-in text risk ...), is held back too unless
``write_flagged`` — never passed silently.

The parent alone writes to the storage backend, one transaction per batch: the UID pairs, the
date shifts, the findings, one audit row per instance and the job's progress. Resuming: the same
command (same inputs, output, profile and options) skips what the unfinished job already did.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

import attrs

from gantry import NotDicomError
from gantry.ingest import Rejection, actor_name, walk
from gantry.log import Phi, get_logger
from gantry.parallel import ordered_map, process_context
from gantry.storage import AuditEvent, Finding

from gantry_deid.config_file import DeidConfig
from gantry_deid.report import DeidReport, InstanceOutcome

log = get_logger(__name__)

CHUNK = 16
WINDOW = 32
BATCH = 1000
Progress = Callable[[int, int], None]


@attrs.frozen
class Processed:
    """What a worker sends back for one input (patient key included: it keys the date shift;
    it crosses a process boundary, never a log)."""

    source: str
    status: str  # "written", "held", "failed", "not-dicom", "existed"
    output: str = ""
    reason: str = ""
    sop_instance_uid: str = ""
    new_sop_instance_uid: str = ""
    patient_key: str = ""
    uid_pairs: dict[str, str] = attrs.field(factory=dict)
    date_shift_days: int | None = None
    findings: list[Finding] = attrs.field(factory=list)
    flags: list[str] = attrs.field(factory=list)


@attrs.frozen
class WorkerSetup:
    """Everything a worker needs, picklable (workers under "spawn" rebuild plan and kernel)."""

    config_source: str | None
    database: str | None
    output: str
    config: DeidConfig
    secret: bytes
    write_flagged: bool


class _Worker:
    """One process's plan, store, backend and auditor, built once."""

    def __init__(self, kernel: Any, setup: WorkerSetup) -> None:
        from gantry_deid.run_plan import plan_for, settings_for

        self.kernel = kernel
        self.setup = setup
        self.plan = plan_for(kernel, setup.config)
        self.settings = settings_for(kernel, setup.config)
        self.store = kernel.open_instance_store(setup.output)
        if hasattr(self.store, "fsync"):
            # Durability per batch, not per file: the parent syncs before it marks a batch done
            # (an fsync per small file costs more than de-identifying it). A crash loses at most
            # the unmarked batch, which the resumed run writes again (replace=True below).
            self.store.fsync = False
        self.backend = kernel.open_storage(setup.database) if setup.database else None
        self.auditor = _auditor(kernel)

    def process(self, source: str) -> Processed:
        from gantry_deid.context import make_context
        from gantry_deid.encoder import encode_part10
        from gantry_deid.engine import deidentify_dataset

        try:
            dataset = self.kernel.read(source)
        except NotDicomError:
            return Processed(source, "not-dicom")
        except Exception as err:
            return Processed(source, "failed", reason=f"cannot read: {err}")
        context = None
        try:
            context = make_context(dataset, secret=self.setup.secret, plan=self.plan,
                                   settings=self.settings, backend=self.backend)
            context.kernel = self.kernel
            out = deidentify_dataset(dataset, self.plan, context)
            encoded = encode_part10(out)  # before the audit: kept elements still raw, copied fast
            findings = [attrs.evolve(f, sop_instance_uid=str(out.SOPInstanceUID))
                        for f in self.auditor(out, context)]
            new_uid = str(out.SOPInstanceUID)
            common = dict(sop_instance_uid=context.sop_instance_uid, new_sop_instance_uid=new_uid,
                          patient_key=context.patient_key, uid_pairs=dict(context.uid_pairs),
                          date_shift_days=context.date_shift_days, findings=findings,
                          flags=list(context.flags))
            if (findings or context.flags) and not self.setup.write_flagged:
                return Processed(source, "held", reason="held for review: not written", **common)
            stored = self.store.put(encoded, study_uid=str(out.StudyInstanceUID),
                                    series_uid=str(out.SeriesInstanceUID), sop_uid=new_uid,
                                    replace=True)
            return Processed(source, "existed" if stored.existed else "written",
                             output=stored.location, **common)
        except Exception as err:  # fail closed: nothing written, the reason reported
            where = context.sop_instance_uid if context is not None else "instance"
            return Processed(source, "failed", reason=f"{where}: {type(err).__name__}: {err}")


def _auditor(kernel: Any) -> Callable[[Any, Any], list[Finding]]:
    """The privacy audit's scan of a de-identified dataset (gantry-phi-audit)."""
    from gantry_phi_audit import audit_dataset

    return lambda dataset, context: list(audit_dataset(dataset, context=context))


# --- worker processes ------------------------------------------------------------------------

_worker: _Worker | None = None
_inherited: tuple[Any, WorkerSetup] | None = None


def _start_worker(setup: WorkerSetup) -> None:
    global _worker
    if _inherited is not None:  # fork: the parent's kernel, as configured
        _worker = _Worker(_inherited[0], setup)
        return
    from gantry.kernel import Kernel

    _worker = _Worker(Kernel.from_config(setup.config_source), setup)


def _process_chunk(sources: Sequence[str]) -> list[Processed]:
    assert _worker is not None
    return [_worker.process(source) for source in sources]


# --- the run -----------------------------------------------------------------------------------


class DeidRun:
    def __init__(self, kernel: Any, backend: Any, config: DeidConfig, *, output: str,
                 secret: bytes, database: str | None = None, workers: int | None = None,
                 write_flagged: bool = False, progress: Progress | None = None) -> None:
        self.kernel = kernel
        self.backend = backend
        self.config = config
        self.output = os.path.abspath(output)
        self.workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
        self.progress = progress
        self.setup = WorkerSetup(config_source=kernel.config.source, database=database,
                                 output=self.output, config=config, secret=secret,
                                 write_flagged=write_flagged)
        self.report = DeidReport(output=self.output, config_sources=config.sources,
                                 profile=config.profile, options=config.all_options,
                                 started=_now())
        self.actor = actor_name()
        self._pending: list[Processed] = []

    def run(self, inputs: Sequence[str]) -> DeidReport:
        started = time.perf_counter()
        from gantry_deid.run_plan import plan_for

        plan_for(self.kernel, self.config)  # a bad configuration fails here, before any file
        sources, unreadable = self._sources(inputs)
        params = {"inputs": sorted(os.path.abspath(p) for p in inputs), "output": self.output,
                  "profile": self.config.profile, "options": list(self.config.all_options),
                  "configuration": list(self.config.sources), "pseudonym": self.config.pseudonym}
        job, done = self._job(params)
        for rejection in unreadable:
            self.report.outcomes.append(InstanceOutcome(rejection.path, "failed", reason=rejection.reason))
        todo = [s for s in sources if s not in done]
        for source in sources:
            if source in done:
                self.report.outcomes.append(InstanceOutcome(source, "resumed", verified=True))
        status = "failed"
        try:
            finished = len(sources) - len(todo)
            self._advance(finished, len(sources))
            for chunk in self._processed(todo):
                self._pending.extend(chunk)
                finished += len(chunk)
                if len(self._pending) >= BATCH:
                    self._flush(job.id)
                self._advance(finished, len(sources))
            self._flush(job.id)
            status = "done"
        finally:
            self.backend.job_finish(job.id, status)
            self.report.finished = _now()
            self.report.seconds = time.perf_counter() - started
            log.info("deid.finished", grade=self.report.grade, seconds=round(self.report.seconds, 3),
                     written=self.report.count("written"), failed=self.report.count("failed"))
        return self.report

    # --- inputs and resuming ----------------------------------------------------------------
    def _sources(self, inputs: Sequence[str]) -> tuple[list[str], list[Rejection]]:
        unreadable: list[Rejection] = []
        output = self.output + os.sep
        sources = [path for path, _size, _mtime in walk(inputs, unreadable)
                   if not path.startswith(output)]  # never read back what this run writes
        return sources, unreadable

    def _job(self, params: dict[str, Any]) -> tuple[Any, set[str]]:
        last = self.backend.last_job("deid", params)
        if last is not None and last.status != "done":
            done = self.backend.job_done_items(last.id)
            log.info("deid.resuming", job=last.id, done=len(done))
            return last, done
        return self.backend.job_start("deid", params), set()

    def _advance(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)

    # --- processing -------------------------------------------------------------------------
    def _processed(self, sources: list[str]) -> Iterator[list[Processed]]:
        chunks = [sources[i:i + CHUNK] for i in range(0, len(sources), CHUNK)]
        if self.workers == 1 or len(chunks) <= 1:
            worker = _Worker(self.kernel, self.setup)
            for chunk in chunks:
                yield [worker.process(source) for source in chunk]
            return
        yield from self._in_processes(chunks)

    def _in_processes(self, chunks: list[list[str]]) -> Iterator[list[Processed]]:
        global _inherited
        context = process_context()
        if context.get_start_method() == "fork":
            _inherited = (self.kernel, self.setup)
        try:
            yield from ordered_map(_process_chunk, chunks, workers=self.workers, context=context,
                                   initializer=_start_worker, initargs=(self.setup,), window=WINDOW)
        finally:
            _inherited = None

    # --- the parent's bookkeeping -------------------------------------------------------------
    def _flush(self, job_id: int) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        namespace = str(self.config.uids.get("namespace", self.kernel.settings("uidmap").get("namespace", "")))
        events, pairs, findings = [], {}, []
        for item in batch:
            self._record(item)
            pairs.update(item.uid_pairs)
            findings += item.findings
            if item.status != "not-dicom":
                events.append(AuditEvent(
                    actor=self.actor, action=f"deid.{item.status}",
                    sop_instance_uid=item.sop_instance_uid,
                    detail={"output_sop_instance_uid": item.new_sop_instance_uid,
                            "output": item.output, "profile": self.config.profile,
                            "options": list(self.config.all_options),
                            **({"reason": item.reason} if item.reason else {})}))
        os.sync()  # the batch's files are on disk before the job says they are done
        with self.backend.transaction():
            if pairs:
                self.backend.uid_map_put(pairs, namespace=namespace)
            for item in batch:
                if item.date_shift_days is not None and item.patient_key:
                    self.backend.date_shift_put(item.patient_key, item.date_shift_days)
            if findings:
                self.backend.add_findings([attrs.evolve(f, job_id=job_id) for f in findings])
            self.backend.audit(events)
            self.backend.job_mark_done(job_id, [item.source for item in batch
                                                if item.status in ("written", "existed", "not-dicom")])

    def _record(self, item: Processed) -> None:
        if item.status == "not-dicom":
            self.report.skipped_non_dicom.append(item.source)
            return
        status = {"existed": "written", "held": "held"}.get(item.status, item.status)
        self.report.outcomes.append(InstanceOutcome(
            item.source, status, output=item.output, reason=item.reason, findings=item.findings,
            flags=item.flags, verified=item.status in ("written", "existed", "held")))
        if item.status == "failed":
            log.warning("deid.failed", path=Phi(item.source), reason=Phi(item.reason))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


