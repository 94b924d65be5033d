# The co-production process model as a pipeline of files.
#
#   study.yml + transcripts ─► 01 turns ─► 03 segments + embeddings ─► 04 themes per group
#        │                      └► 02 who spoke                              │
#        └► 00 process model figure          workshop files ─► 05 integrated themes
#                                                                            ▼
#                                             06 thematic maps ─► 07 export + report
#
# Each target is an executed notebook under $(OUT)/notebooks/, produced by papermill
# from notebooks/NN_name.ipynb; it depends on the notebook, the files it reads, the
# helper modules it calls and its key ($(OUT)/.keys/NN_name.json: the study.yml settings
# it uses and the checksums of its input files, rewritten only when they change), so Make
# reruns exactly the stages whose inputs or settings changed, whatever the mtimes say.
#
# Every goal that runs stages first goes through one session (helpers.pipeline session):
# it checks SEED and study.yml, takes the output folder's lock (a second run on the same
# folder is refused), brings the keys up to date, reruns a stage whose recorded output was
# deleted, and only then runs Make on the goal.

SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

STUDY      ?= data/study.yml
# Empty: the seed of study.yml's analysis block (default 20200); SEED=7 overrides it.
SEED       ?=
# Read the study's name without Python so `make help` works before the venv exists;
# helpers.study validates it properly before anything runs.
# Only a whole value of letters, digits, '.', '_' and '-' that does not start with '.' is
# taken: the name becomes a folder that `make clean` removes, so `../x` must never get here.
STUDY_NAME := $(shell sed -n -E 's/^name:[[:space:]]*(["'\'']?)([A-Za-z0-9][A-Za-z0-9._-]*)\1[[:space:]]*(\#.*)?$$/\2/p' $(STUDY) 2>/dev/null | head -n1)
OUTPUT_DIR ?= outputs/$(STUDY_NAME)
OUT        := $(OUTPUT_DIR)
NB_OUT     := $(OUT)/notebooks

# Stages that do not depend on each other (00 beside 01, 02 beside 03) run side by side
# (set inside the session below, which is one process).
JOBS       ?= 2

VENV       ?= .venv
PY         := $(VENV)/bin/python
BOOTSTRAP_PYTHON ?= $(shell command -v python3.11 || command -v python3)
INSTALLED  := $(VENV)/.installed

# Offline at run time: the embedding model comes from an installed package.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg
# A run writes only under OUTPUT_DIR: no __pycache__ beside the helpers' sources (the
# libraries' bytecode was compiled when pip installed them).
export PYTHONDONTWRITEBYTECODE := 1
# UMAP is compiled by numba at first use; helpers/_numba.py caches the machine code here
# (filled once by `make venv`), so no notebook kernel or test run compiles it again.
export NUMBA_CACHE_DIR := $(abspath $(VENV))/numba-cache

H := src/helpers
# What every stage runs on: its Stage (pipeline.py), the runner that executes it and the
# records, session and manifest around it, and study.yml's loader.
COMMON := $(H)/__init__.py $(H)/_io.py $(H)/pipeline.py $(H)/runner.py $(H)/runs.py $(H)/session.py \
		$(H)/manifest.py $(H)/study.py $(INSTALLED)
# The figures of stage 6 (the board draws the thematic map too), with their page templates and assets.
MAPS := $(wildcard $(H)/maps/*.py $(H)/maps/assets/* $(H)/templates/maps/*) $(H)/_templates.py
# One papermill execution in a new kernel per stage; the runner adds the one-sentence
# error, the run statistics and the atomic rename of the executed notebook.
RUN = @$(PY) -m helpers.pipeline run $< $@ $(STUDY) $(OUT) "$(SEED)"
KEY = $(OUT)/.keys

# Refuse, before anything is created, what Make cannot handle safely.
ifneq ($(filter-out help venv git-filter clean-all lab test test-fast bench validity perturbation,$(or $(MAKECMDGOALS),help)),)
ifneq ($(words $(OUTPUT_DIR)) $(words $(STUDY)),1 1)
$(error STUDY=$(STUDY) OUTPUT_DIR=$(OUTPUT_DIR): OUTPUT_DIR and STUDY may not contain spaces (Make splits paths at spaces); move or rename the folder, or make a link to it whose path has none)
endif
ifeq ($(STUDY_NAME),)
$(error $(STUDY): 'name:' must be letters, digits, '.', '_' or '-' (not starting with '.'); it names the output folder)
endif
endif

.PHONY: help all test test-fast lab clean clean-all verify bench venv rebase-workshops validity perturbation

help: ## Show this help: the targets and the variables you can set
	@echo "Compassion co-production compendium: from focus-group transcripts to thematic maps."
	@echo
	@echo "Targets:"
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-16s %s\n", $$1, $$2}'
	@echo
	@echo "Variables (make all STUDY=... OUTPUT_DIR=...):"
	@echo "  STUDY=$(STUDY)   the study file to run"
	@echo "  OUTPUT_DIR=$(OUTPUT_DIR)   where results go"
	@echo "  SEED=$(SEED)   the one seed for every random step (empty: study.yml's analysis seed)"

venv: $(INSTALLED) ## Create .venv and install the pinned dependencies

# torch at the version pyproject.toml pins, installed first. Which build pip picks is
# up to the package index: PyPI's Linux x86-64 wheel of torch pulls several GB of CUDA
# libraries (nvidia-* packages) that only an NVIDIA GPU uses; without a GPU the same
# wheel runs on the CPU. PyPI's macOS and Windows wheels are CPU-only. On Linux without
# a GPU, skip the CUDA download with pip's own option:
#   make venv TORCH_INDEX="--index-url https://download.pytorch.org/whl/cpu"
TORCH_PIN   := $(shell sed -n -E 's/^[[:space:]]*"(torch==[^"]+)".*/\1/p' pyproject.toml)
TORCH_INDEX ?=
PIP         := $(PY) -m pip install --quiet --disable-pip-version-check

# (Re)install whenever pyproject.toml changes.
$(INSTALLED): pyproject.toml
	@test -x $(PY) || { echo "Creating $(VENV) with $(BOOTSTRAP_PYTHON)"; $(BOOTSTRAP_PYTHON) -m venv $(VENV); }
	@echo "Installing pinned dependencies into $(VENV) (a few minutes the first time)…"
	@$(PIP) $(TORCH_PIN) $(TORCH_INDEX)
	@$(PIP) -e .
	@# JupyterLab asks on first start whether to fetch Jupyter's news from the internet; a
	@# compendium that runs offline has no use for the prompt, so that plugin is switched off.
	@$(VENV)/bin/jupyter labextension disable --level=sys_prefix "@jupyterlab/apputils-extension:announcements" >/dev/null 2>&1 \
		|| echo "note: JupyterLab's news prompt could not be switched off; it is harmless (answer No)"
	@echo "Compiling UMAP's numba code once for this machine (kept in $(NUMBA_CACHE_DIR))…"
	@$(PY) -m helpers._numba
	@$(MAKE) --no-print-directory git-filter
	@touch $@

# What only `make test` needs (pytest, nbval, the REFI-QDA reader, the browser driver).
TEST_INSTALLED := $(VENV)/.installed-test
$(TEST_INSTALLED): $(INSTALLED)
	@$(PIP) -e ".[test]"
	@touch $@

# Goals that run stages: first the session (one sentence for a bad SEED or study.yml, the
# lock, the keys), which runs this Makefile again on the same goals inside it.
SESSION_GOALS := $(filter all rebase-workshops $(OUT)/%,$(MAKECMDGOALS))
ifeq ($(COMPENDIUM_SESSION)$(if $(SESSION_GOALS),,none),)
.PHONY: $(MAKECMDGOALS) compendium-session
$(MAKECMDGOALS): compendium-session ; @:
compendium-session: $(INSTALLED)
	@$(PY) -m helpers.pipeline session $(STUDY) $(OUT) "$(SEED)" -- $(MAKE) --no-print-directory $(MAKECMDGOALS)
else
MAKEFLAGS  += --jobs=$(JOBS)

all: $(OUT)/run_manifest.json ## Run every notebook on STUDY, writing to OUTPUT_DIR
	@$(PY) -m helpers.disclosure status $(OUT)

$(NB_OUT)/00_process_model.ipynb: notebooks/00_process_model.ipynb $(KEY)/00_process_model.json \
		$(H)/process_model.py $(COMMON)
	$(RUN)

$(NB_OUT)/01_ingest_transcripts.ipynb: notebooks/01_ingest_transcripts.ipynb $(KEY)/01_ingest_transcripts.json \
		$(wildcard $(H)/transcripts/*.py) $(wildcard $(H)/disclosure/*.py) $(COMMON)
	$(RUN)

$(NB_OUT)/02_describe_groups.ipynb: notebooks/02_describe_groups.ipynb $(KEY)/02_describe_groups.json $(NB_OUT)/01_ingest_transcripts.ipynb \
		$(H)/describe.py $(COMMON)
	$(RUN)

$(NB_OUT)/03_embed_segments.ipynb: notebooks/03_embed_segments.ipynb $(KEY)/03_embed_segments.json $(NB_OUT)/01_ingest_transcripts.ipynb \
		$(H)/embeddings.py $(H)/identity.py $(COMMON)
	$(RUN)

# 04 reads the workshops' snapshots and each workshop file's based_on and snapshot (its key
# has their checksums, not the decisions'): it keeps the number of themes and the themes
# the workshops saw. It also computes the segment maps' 2-D positions.
$(NB_OUT)/04_group_themes.ipynb: notebooks/04_group_themes.ipynb $(KEY)/04_group_themes.json $(NB_OUT)/03_embed_segments.ipynb \
		$(wildcard $(H)/themes/*.py) $(H)/maps/projection.py $(H)/theme_browser.py $(H)/templates/theme_browser.html.j2 \
		$(H)/embeddings.py $(H)/identity.py $(H)/workshop_files.py $(H)/_workers.py $(COMMON)
	$(RUN)

$(NB_OUT)/05_coproduction_workshops.ipynb: notebooks/05_coproduction_workshops.ipynb $(KEY)/05_coproduction_workshops.json \
		$(NB_OUT)/04_group_themes.ipynb $(H)/coproduction.py $(H)/integration.py $(H)/decisions.py $(H)/themes/stop_words.py \
		$(H)/packs.py $(H)/_templates.py $(wildcard $(H)/templates/workshop_pack*) $(H)/workshop_files.py $(H)/board.py \
		$(wildcard $(H)/assets/board/* $(H)/assets/vendor/js-yaml/*) $(H)/templates/board.html.j2 \
		$(H)/balance.py $(H)/identity.py $(MAPS) $(COMMON)
	$(RUN)

$(NB_OUT)/06_thematic_maps.ipynb: notebooks/06_thematic_maps.ipynb $(KEY)/06_thematic_maps.json $(NB_OUT)/05_coproduction_workshops.ipynb \
		$(MAPS) $(H)/_workers.py $(COMMON)
	$(RUN)

$(NB_OUT)/07_export.ipynb: notebooks/07_export.ipynb $(KEY)/07_export.json $(NB_OUT)/06_thematic_maps.ipynb \
		$(NB_OUT)/02_describe_groups.ipynb $(H)/qda_layout.py $(H)/qda_codebook.py $(H)/qda_export.py \
		$(H)/human_codes.py $(H)/agreement.py $(wildcard $(H)/report/*.py) $(H)/_templates.py $(COMMON)
	$(RUN)

# The stages that mask unreviewed identifying details in what people see
# (helpers.disclosure.mask_identifying) rerun when the masking changes.
$(NB_OUT)/04_group_themes.ipynb $(NB_OUT)/05_coproduction_workshops.ipynb $(NB_OUT)/07_export.ipynb: \
		$(wildcard $(H)/disclosure/*.py)

STAGE_TARGETS := $(patsubst notebooks/%,$(NB_OUT)/%,$(sort $(wildcard notebooks/0*.ipynb)))

# The manifest step also writes report.html (it lists the manifest's checksums).
$(OUT)/run_manifest.json: $(STAGE_TARGETS) $(wildcard $(H)/report/*.py) $(H)/_templates.py \
		$(wildcard $(H)/templates/report/*.* $(H)/templates/report/sections/*)
	@$(PY) -m helpers.pipeline manifest $(STUDY) $(OUT) "$(SEED)"

# The session writes every key before Make runs; a missing one (a stage target asked for
# outside a session) is simply out of date.
$(KEY)/%.json: ;

rebase-workshops: $(NB_OUT)/04_group_themes.ipynb ## After a rerun changed the themes: update STUDY's workshop files to the successors (shows a diff, keeps the originals)
	@$(PY) -m helpers.workshop_files rebase $(STUDY) $(OUT)

endif

test: $(TEST_INSTALLED) ## Unit tests of src/helpers, then every notebook under nbval (small fixture study)
	@rm -rf outputs/_nbval
	@COMPENDIUM_STUDY=tests/fixtures/small_study/study.yml COMPENDIUM_OUTPUT_DIR=$(CURDIR)/outputs/_nbval \
		$(PY) -m pytest tests notebooks --nbval-lax

test-fast: $(TEST_INSTALLED) ## The inner loop: the unit tests, without the ones marked slow (make runs, notebooks, browsers); make test runs all
	@$(PY) -m pytest tests -m "not slow"

# nbstripout as this repository's git filter (.gitattributes names it for *.ipynb): what
# JupyterLab saves into a notebook (outputs, execution counts) never reaches a commit.
# This is what `nbstripout --install` writes, with the venv's python named relative to the
# work tree, so every clone or worktree uses its own .venv.
.PHONY: git-filter
git-filter:
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
		git config filter.nbstripout.clean "$(PY) -m nbstripout --keep-id" && \
		git config filter.nbstripout.smudge cat && \
		git config diff.ipynb.textconv "$(PY) -m nbstripout --keep-id -t" && \
		echo "nbstripout is this repository's git filter for notebooks (see .gitattributes)"; fi

# JupyterLab on this machine only, with the project's kernel (the venv's python3), opened
# on notebooks/; as root it needs --allow-root. Figures show inline (not the Agg backend
# the pipeline's stages use).
LAB_PORT ?= 8888
lab: export MPLBACKEND := module://matplotlib_inline.backend_inline
lab: $(INSTALLED) ## Open JupyterLab on notebooks/ at http://127.0.0.1:LAB_PORT (prints the URL with its token)
	@echo "JupyterLab on http://127.0.0.1:$(LAB_PORT)/lab/tree/notebooks (the URL with its token follows; Ctrl-C stops it)"
	@exec $(VENV)/bin/jupyter lab --ip=127.0.0.1 --port=$(LAB_PORT) --no-browser \
		--ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/notebooks \
		$(if $(filter 0,$(shell id -u)),--allow-root)

VERIFY_DIR ?= outputs/_verify/$(STUDY_NAME)

verify: ## Rerun STUDY into VERIFY_DIR and list every output whose sha256 differs from MANIFEST=path/to/run_manifest.json
	@test -n "$(MANIFEST)" || { echo "usage: make verify MANIFEST=path/to/run_manifest.json"; exit 2; }
	@test -f "$(MANIFEST)" || { echo "$(MANIFEST) does not exist; give the run_manifest.json of the run to check."; exit 2; }
	@rm -rf $(VERIFY_DIR) && $(MAKE) --no-print-directory all STUDY=$(STUDY) OUTPUT_DIR=$(VERIFY_DIR)
	@$(PY) -m helpers.pipeline verify $(MANIFEST) $(VERIFY_DIR)/run_manifest.json

# The QualCoder importers and REFI-QDA schemas beside the repository (not part of it).
SHARED ?= ../shared

.PHONY: qda-check
qda-check: ## Open OUTPUT_DIR's export with QualCoder 3.8.2 and main and Taguette (SHARED=../shared); list what was lost
	@$(BOOTSTRAP_PYTHON) tools/qda_check.py --shared $(SHARED) --export-dir $(OUT)/export --venv outputs/.qda-check-venv

BENCH_ARGS ?= --with-tests --scale

bench: $(INSTALLED) ## Time the README's path in a fresh clone, then 10k-100k generated segments; writes benchmarks/results.md (about 30 minutes; BENCH_ARGS=--keep-scale: 15)
	@$(PY) benchmarks/run.py $(BENCH_ARGS)

validity: $(INSTALLED) ## Theme agreement across two seeds, planted-theme recovery and coherence vs baselines, stress corpus; writes benchmarks/validity.md
	@$(PY) benchmarks/validity.py

perturbation: $(INSTALLED) ## Seeded single edits to the transcripts and one new focus group, 03-05 rerun: do decisions carry over? (benchmarks/validity.md)
	@$(PY) benchmarks/perturbation.py

clean: ## Remove OUTPUT_DIR (results, executed notebooks, caches)
	rm -rf $(OUT) outputs/_nbval

clean-all: clean ## Also remove .venv
	rm -rf $(VENV)
