# The two commands a newcomer needs: `make run` and `make test`. Both set up what is missing:
# one virtual environment, .venv at the root, with every workspace member installed editable.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Every folder holding a pyproject.toml below kernel/, plugins/<family>/ and contrib/ is a member.
MEMBERS := kernel $(patsubst %/pyproject.toml,%,$(wildcard plugins/*/*/pyproject.toml contrib/*/pyproject.toml))
STAMP := $(VENV)/.installed
# Debian packages the test suite uses as real peers: dcmtk and GDCM cross-check the codecs,
# PostgreSQL proves the gantry-postgres backend, dicom3tools (dciodvfy) validates de-identified output.
DEBIAN_PACKAGES ?= dcmtk libgdcm-tools postgresql dicom3tools orthanc orthanc-dicomweb chromium
SAMPLE := out/sample

.PHONY: run test install system-packages benchmark clean

# The main job on the embedded default: sample files (with clutter and one damaged file) are
# indexed into SQLite, listed and transcoded; sample studies with identifiers planted everywhere
# (burned-in text included) are de-identified with the research preset plus a redaction zone for
# the sample ultrasound (docs/examples/deid-sample.yaml), the report's summary is printed and the
# output re-scanned; the audit trail is verified. `gantry ingest` exits 3 ("done, with something
# for a person to look at"): it rejects the damaged file, as it should.
DATABASE := sqlite:///out/gantry.db

run: install
	@rm -rf $(SAMPLE) out/j2k out/gantry.db* out/phi-sample out/deid out/deid-report.*
	$(BIN)/python -m gantry.testing.samples $(SAMPLE)
	$(BIN)/gantry plugins
	$(BIN)/gantry ingest $(SAMPLE) --db $(DATABASE) || [ $$? -eq 3 ]
	$(BIN)/gantry ls --db $(DATABASE) --level study
	$(BIN)/gantry stats --db $(DATABASE)
	$(BIN)/gantry transcode $(SAMPLE)/patient1 out/j2k --to j2k-lossless
	$(BIN)/gantry scan out/j2k
	$(BIN)/gantry ls --db $(DATABASE) --level series
	$(BIN)/python -m gantry_deid.sample out/phi-sample
	GANTRY_SECRET_FILE=out/gantry-secret.key $(BIN)/gantry deid out/phi-sample out/deid --config docs/examples/deid-sample.yaml --db $(DATABASE)
	@sed -n 1,12p out/deid-report.md
	$(BIN)/gantry phi-audit out/deid
	$(BIN)/gantry audit-log verify --db $(DATABASE)

test: install system-packages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

benchmark: install
	$(BIN)/uv pip install --quiet --python $(BIN)/python --group pyproject.toml:bench
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/codecs.py
	$(BIN)/python benchmarks/transcode_memory.py
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/deid.py
	$(BIN)/python benchmarks/dimse_store.py
	$(BIN)/python benchmarks/dimse_find.py
	$(BIN)/python benchmarks/dicomweb.py

install: $(STAMP)

$(STAMP): pyproject.toml $(addsuffix /pyproject.toml,$(MEMBERS))
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python $(addprefix -e ,$(MEMBERS)) --group pyproject.toml:dev
	@touch $@

# Installs only the Debian packages that are missing (CI and fresh machines run as root).
system-packages:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

clean:
	rm -rf $(VENV) out .pytest_cache
