"""Health recognizers: medical record numbers, ICD-10 codes and medical terms about a patient.

Each needs context: an MRN follows its label, an ICD-10 code follows a diagnosis word, and a
condition or medication counts only in the same sentence as a patient cue ("diagnosed",
"prescribed", "patient", a dose). "Diabetes is common" is general knowledge, not PHI.
"""

from __future__ import annotations

import re

from interlock.compliance.detection import DataClass, Detection
from interlock.compliance.recognizers.medical_terms import FIRST_WORDS, MAX_TERM_WORDS, TERMS
from interlock.compliance.recognizers.patterns import PatternDetector, lower_same_length, needle_positions

HEALTH = DataClass.HEALTH

_MRN = re.compile(
    r"\b(?:mrn|medical record(?: number| no\.?| #)?|patient (?:id|number|no\.?|#)|chart (?:number|no\.?|#))"
    r"\W{0,3}(?:(?:is|was)\W{1,3})?(?P<value>(?:[A-Za-z]{1,3}-?)?\d{5,12})\b",
    re.IGNORECASE,
)


def mrn() -> PatternDetector:
    return PatternDetector(
        "mrn", "mrn", HEALTH, _MRN, needles=("mrn", "medical record", "patient", "chart"), anchored=True
    )


# Diagnosis words after which ICD-10 codes are expected; matched at needle hits, not by a scan.
_ICD_CUE = re.compile(
    r"(?:icd(?:-?10)?(?:-cm)?|diagnos(?:is|es|ed)|dx|assessment|impression|problem list|"
    r"(?:billed|coded|classified) (?:as|under|with)|patient)\b"
)
_ICD_NEEDLES = (
    "icd", "diagnos", "dx", "assessment", "impression", "problem list", "billed", "coded", "classified",
    "patient",
)
# A letter (U is reserved), two more characters, an optional dot and up to four more.
_ICD_CODE = re.compile(r"[A-TV-Z](?<![\w.][A-TV-Z])\d[0-9AB](?:\.[0-9A-Z]{1,4})?(?![\w]|\.\w)")
_ICD_WINDOW = 120


class Icd10Detector:
    """ICD-10 codes within a short window after a diagnosis word ("Dx: E11.9, I10")."""

    name = "icd10"

    def detect(self, text: str) -> list[Detection]:
        lower = lower_same_length(text)
        out: list[Detection] = []
        reached = 0
        for _, cue_end in _cues(lower, _ICD_NEEDLES, _ICD_CUE):
            start = max(cue_end, reached)
            stop = text.find("\n\n", start, cue_end + _ICD_WINDOW)
            stop = min(len(text), cue_end + _ICD_WINDOW if stop < 0 else stop)
            for code in _ICD_CODE.finditer(text, start, stop):
                out.append(Detection("icd10", HEALTH, code.start(), code.end()))
            reached = max(reached, stop)
        return out


def _cues(lower: str, needles: tuple[str, ...], cue: re.Pattern[str]) -> list[tuple[int, int]]:
    """Sorted (start, end) of cue words: needle hits at a word start that the cue pattern accepts."""
    found: list[tuple[int, int]] = []
    for needle in needles:
        i = lower.find(needle)
        while i != -1:
            if i == 0 or not lower[i - 1].isalpha():
                match = cue.match(lower, i)
                if match:
                    found.append(match.span())
            i = lower.find(needle, i + 1)
    return sorted(set(found))


_PATIENT_CUE = re.compile(
    r"(?:patients?|pt|diagnos(?:ed|is|es)|dx|prescribed|prescription|prescribing|suffers|suffering|"
    r"history of|hx|pmh|admitted|discharged|treated for|treatment for|present(?:s|ed|ing) with|"
    r"tested positive|my (?:mother|father|mom|mum|dad|son|daughter|wife|husband|partner|child|"
    r"brother|sister|grandmother|grandfather|aunt|uncle|doctor|gp)|"
    r"i am on|i'm on|taking|takes|medications?|meds|allergic to|complains of|c/o|"
    r"mg|mcg|dose|dosage|once daily|twice daily|bid|tid|prn|mrn|biopsy|relapse|remission)\b"
)
_PATIENT_NEEDLES = (
    "patient",
    "pt",
    "diagnos",
    "dx",
    "prescri",
    "suffer",
    "history of",
    "hx",
    "pmh",
    "admitted",
    "discharged",
    "treat",
    "present",
    "tested positive",
    "my ",
    "i am on",
    "i'm on",
    "tak",
    "medication",
    "meds",
    "allergic",
    "complains",
    "c/o",
    "mg",
    "mcg",
    "dos",
    "daily",
    "bid",
    "tid",
    "prn",
    "mrn",
    "biopsy",
    "relapse",
    "remission",
)
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)|\n")
_WORD = re.compile(r"[a-z][a-z0-9'-]*")


class MedicalTermDetector:
    """Conditions and medications in a sentence that also holds a patient cue."""

    name = "medical_term_in_patient_context"

    def detect(self, text: str) -> list[Detection]:
        lower = lower_same_length(text)
        out: list[Detection] = []
        reached = 0
        for cue_start, cue_end in _cues(lower, _PATIENT_NEEDLES, _PATIENT_CUE):
            if cue_start < reached:
                continue
            start, end = _sentence_around(lower, cue_start, cue_end)
            out.extend(_terms_in(lower, max(start, reached), end))
            reached = end
        covered = {(d.start, d.end) for d in out}
        out.extend(d for d in _conditions_of_a_person(text, lower) if (d.start, d.end) not in covered)
        return out


# A person having a condition, with no clinical word in sight: "She has bipolar disorder", "Tom is
# living with HIV", "Her epilepsy ...". The term must follow the verb (or the possessive) within a
# few qualifying words, and a verb needs a person before it: a pronoun, a possessive phrase or a
# capitalised name, so "Anyone who has asthma" and "People with epilepsy have rights" stay clean.
_HAVING = re.compile(
    r"(?:has|had|have|having|got|developed|(?:living|lives|lived) with|struggl(?:es|ed|ing) with|"
    r"battl(?:es|ed|ing)|fighting|coping with|dealing with|recovering from|diagnosed with)\b"
)
_HAVING_NEEDLES = (
    "has ", "had ", "have ", "having ", "got ", "developed ", "living with", "lives with", "lived with",
    "struggl", "battl", "fighting ", "coping with", "dealing with", "recovering from", "diagnosed with",
)
_POSSESSIVES = ("his ", "her ", "my ", "our ")
_QUALIFIERS = frozenset(
    "a an the been some severe chronic mild moderate acute early late advanced recurrent untreated "
    "worsening terminal stage type full-blown suspected diagnosed with".split()
)
_PERSON_BEFORE = re.compile(
    r"(?:\b(?i:he|she|i|we)|\b(?i:my|our|his|her|their) [\w'-]+(?: [A-Z][a-z]+)?|\b[A-Z][a-z]+)"
    r"(?:'s| (?i:is|was|has|had|have|been|also|still|now|recently|just|already|currently|reportedly)){0,3} $"
)
_NOT_A_NAME = frozenset(
    "this that these those it there here which what who whoever everyone everybody anyone anybody someone "
    "somebody nobody each every one all many most some none nothing something".split()
)


def _conditions_of_a_person(text: str, lower: str) -> list[Detection]:
    out: list[Detection] = []
    for position in needle_positions(lower, _HAVING_NEEDLES):
        if position > 0 and lower[position - 1].isalpha():
            continue
        verb = _HAVING.match(lower, position)
        if verb is None:
            continue
        found = _term_after(lower, verb.end())  # rarer than a person before the verb: checked first
        if found is None:
            continue
        subject = _PERSON_BEFORE.search(text, max(0, position - 60), position)
        if subject is not None and subject.group().split()[0].lower() not in _NOT_A_NAME:
            out.append(found)
    for position in needle_positions(lower, _POSSESSIVES):
        if position == 0 or not lower[position - 1].isalpha():
            found = _term_after(lower, lower.find(" ", position) + 1)
            if found is not None:
                out.append(found)
    return out


def _term_after(lower: str, start: int) -> Detection | None:
    """The medical term that starts the clause at ``start``, after qualifying words ("a", "severe")."""
    end = min(len(lower), start + 80)
    for match in _WORD.finditer(lower, start, end):
        word = match.group()
        if word in FIRST_WORDS:
            words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(lower, match.start(), end)]
            matched = _longest_term(words, 0)
            if matched:
                end_of_term = words[matched - 1][2]
                return Detection("medical_term_in_patient_context", HEALTH, match.start(), end_of_term)
        if word not in _QUALIFIERS:
            return None
    return None


def _sentence_around(lower: str, cue_start: int, cue_end: int) -> tuple[int, int]:
    """The sentence holding the cue, at most 300 characters either side of it."""
    floor = max(0, cue_start - 300)
    start = floor
    for boundary in _SENTENCE_END.finditer(lower, floor, cue_start):
        start = boundary.end()
    # Search from one past the cue so "Pt." does not end its own sentence.
    after = _SENTENCE_END.search(lower, min(cue_end + 1, len(lower)), cue_end + 300)
    return start, (after.start() if after else min(len(lower), cue_end + 300))


def _terms_in(lower: str, start: int, end: int) -> list[Detection]:
    if FIRST_WORDS.isdisjoint(_WORD.findall(lower, start, end)):
        return []  # the common case, decided without building match objects
    words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(lower, start, end)]
    out: list[Detection] = []
    i = 0
    while i < len(words):
        word, w_start, _ = words[i]
        if word in FIRST_WORDS:
            matched = _longest_term(words, i)
            if matched:
                out.append(
                    Detection("medical_term_in_patient_context", HEALTH, w_start, words[i + matched - 1][2])
                )
                i += matched
                continue
        i += 1
    return out


def _longest_term(words: list[tuple[str, int, int]], i: int) -> int:
    """How many words from ``i`` form the longest known term (0 when none)."""
    for n in range(min(MAX_TERM_WORDS, len(words) - i), 0, -1):
        if " ".join(w for w, _, _ in words[i : i + n]) in TERMS:
            return n
    return 0
