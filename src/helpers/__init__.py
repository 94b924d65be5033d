"""Helpers of the compassion co-production compendium.

One module per stage of the co-production process model (see README):

- ``study``        the study design (study.yml)
- ``process_model`` the study design drawn: the process-model figure and design table
- ``transcripts``  independent focus groups -> tidy speaker turns
- ``disclosure``   identifying details to review before analysis
- ``describe``     who spoke, how much
- ``embeddings``   analysis units (segments) and their sentence embeddings
- ``themes``       independent thematic analysis per participant group
- ``coproduction`` workshops that integrate the groups' themes
                   (``integration``: the state; ``decisions``: what each action does;
                   ``packs``: the printable workshop packs)
- ``balance``      how equally an (integrated) theme draws on each participant group
- ``identity``     theme fingerprints: what a workshop decision points at
- ``maps``         thematic maps, heatmap, lineage
- ``qda_export``   REFI-QDA project for QDA software (``qda_layout``: its plain text and
                   positions; ``qda_codebook``: its code tree, .qdc and Taguette CSV)
- ``human_codes``  codes applied by people, read back onto the segments
- ``agreement``    human coding against the themes (κ, Gwet's AC1, F1, k-means baseline)
- ``report``       the study report: one self-contained page from the tables of a run
- ``pipeline``     a notebook's stage (where it reads and writes) and the Makefile's command line:
                   ``runner`` runs one stage's notebook with papermill, ``session`` takes the
                   output folder's lock and brings the keys up to date, ``runs`` keeps the
                   stages' keys and run records, ``manifest`` writes the run manifest
"""

__version__ = "0.1.0"
