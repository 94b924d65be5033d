"""Disclosure check: likely identifying details in every turn, before any analysis.

Pseudonymised transcripts still leak: a participant names a nurse, a ward, a date of birth.
This check lists *candidates* for a person to review; it cannot prove a transcript is
safe. Reviewed items that are not identifying go in ``disclosure.allow`` in study.yml.
While unresolved items remain and ``disclosure.refuse_exports_with_disclosures`` is true
(the default), the export stage writes no export.

The rules that find candidates in one turn are :mod:`.rules` (with the word lists of
:mod:`.words`); :mod:`.scan` runs them over a study's turns and gates the exports;
:mod:`.masking` is what people are shown while details are unresolved.
"""

from .masking import MASKS, mask_identifying, masking_notice, run_summary, unresolved
from .rules import nhs_number_valid
from .scan import exports_allowed, find_disclosures
from .words import fold

__all__ = ["MASKS", "exports_allowed", "find_disclosures", "fold", "mask_identifying", "masking_notice",
           "nhs_number_valid", "run_summary", "unresolved"]
