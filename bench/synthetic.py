"""A synthetic XDS registry for the stored query benchmark: plan, then rows, deterministic from a seed.

Used by ``bench/stored_query.py``; not a test fixture. The registry looks like a
French regional one after ten years of use:

- patients with CX ids ``NNNNNNNN^^^&1.2.250.1.213.1.4.10&ISO``; documents per patient
  log-normally distributed (median about 6 for a mean of 10, a few percent with 50 or more,
  the largest a few hundred);
- each patient's documents arrive in SubmissionSets of 1 to 3 documents at random moments
  over ten years; the rows are produced in submission order across all patients, as a
  registry fills up, so one patient's documents are spread over the tables, not clustered;
- about 5 % of the documents are Deprecated: a later single-document submission of the
  same patient replaces them (RPLC association, same codes and title);
- about 5 % of the patients have a Folder holding some of their documents (Folder→Document
  HasMember, itself a member of the SubmissionSet that made it); a replacement joins its
  original's folders, as the registry does (ITI TF-3 §4.2.2.2.2);
- codes drawn with Zipf-like skew from French value sets: classCode (10), typeCode (60,
  LOINC and CI-SIS, each tied to its classCode), practiceSettingCode (8),
  healthcareFacilityTypeCode (15), formatCode (10), confidentialityCode N/R/V (90/7/3 %,
  5 % with a second DMP masking code), eventCodeList 0 to 3 CCAM-like acts out of 200;
- creationTime at full precision, serviceStartTime (to the minute or second) and
  serviceStopTime shortly before it; 1 or 2 authors per document, RPPS-like XCN
  ``8NNNNNNNNNNN^NOM^Prénom^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^^IDNPS`` out of 20 000
  practitioners, with institution, role and specialty.

Rows are built from real model objects by the store's own functions
(``gateway.store.rows``: the query columns, the child rows and the JSON payload of
``serialize.to_dict``), so they are exactly what ``RegistryStore.add`` would write, final
statuses included (a replaced document's row says Deprecated, as after ``set_status``).
Primary keys are assigned here, in insertion order.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from gateway.metadata import (
    CX,
    DTM,
    HD,
    XCN,
    XON,
    XTN,
    Association,
    AssociationType,
    Author,
    AvailabilityStatus,
    Code,
    DocumentEntry,
    Folder,
    LocalizedString,
    SubmissionSet,
    SubmissionSetStatus,
)
from gateway.store.rows import association_row, document_codes, document_row, folder_row, persons, submission_set_row
from gateway.store.schema import Base

#: Bumped whenever the generated content changes: a cached database of another version is reloaded.
GENERATOR_VERSION = 1

PATIENT_AUTHORITY = "1.2.250.1.213.1.4.10"
RPPS_AUTHORITY = "1.2.250.1.71.4.2.1"
FINESS_AUTHORITY = "1.2.250.1.71.4.2.2"
OID_ROOT = "1.2.250.1.999.18"
#: Ten years of submissions, UTC.
EPOCH_START = int(datetime(2015, 1, 1, tzinfo=timezone.utc).timestamp())
EPOCH_END = int(datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp())
DAY = 86_400

HAS_MEMBER = AssociationType.HAS_MEMBER.value
RPLC = AssociationType.REPLACE.value
APPROVED = AvailabilityStatus.APPROVED
DEPRECATED = AvailabilityStatus.DEPRECATED

# -- value sets ------------------------------------------------------------------------

CLASS_SCHEME = "1.2.250.1.213.1.1.4.1"
LOINC = "2.16.840.1.113883.6.1"
CISIS_TYPE_SCHEME = "1.2.250.1.213.1.1.4.12"
CLASS_CODES = {
    "10": "Compte rendu",
    "11": "Synthèse",
    "12": "Certificat, déclaration",
    "13": "Traitement ou soin",
    "14": "Imagerie médicale",
    "15": "Résultats d'examens",
    "16": "Données de remboursement",
    "17": "Expression personnelle du patient",
    "18": "Prévention",
    "19": "Document administratif",
}
#: typeCode → (scheme, display, classCode), most frequent first (the Zipf rank).
TYPE_CODES = {
    "11502-2": (LOINC, "CR d'examens biologiques", "15"),
    "18748-4": (LOINC, "CR d'imagerie médicale", "14"),
    "11488-4": (LOINC, "CR de consultation", "10"),
    "57833-6": (LOINC, "Prescription de produits de santé", "13"),
    "11490-0": (LOINC, "Lettre de liaison à la sortie d'un établissement de soins", "10"),
    "34133-9": (LOINC, "Synthèse d'épisode de soins", "11"),
    "REMB": (CISIS_TYPE_SCHEME, "Données de remboursement", "16"),
    "60591-5": (LOINC, "Synthèse médicale", "11"),
    "34874-7": (LOINC, "CR opératoire", "10"),
    "11526-1": (LOINC, "CR d'anatomie et de cytologie pathologiques", "15"),
    "57832-8": (LOINC, "Prescription d'actes", "13"),
    "34112-3": (LOINC, "CR d'hospitalisation", "10"),
    "11524-6": (LOINC, "CR d'électrocardiogramme", "15"),
    "87273-9": (LOINC, "Note de vaccination", "18"),
    "34111-5": (LOINC, "CR de passage aux urgences", "10"),
    "28570-0": (LOINC, "CR d'acte thérapeutique", "10"),
    "CERT_DECL": (CISIS_TYPE_SCHEME, "Certificat, déclaration", "12"),
    "18842-5": (LOINC, "Lettre de sortie", "10"),
    "56445-0": (LOINC, "Bilan médicamenteux", "13"),
    "11506-3": (LOINC, "Note d'évolution", "10"),
    "24606-6": (LOINC, "CR de mammographie de dépistage", "14"),
    "18752-6": (LOINC, "CR d'épreuve d'effort", "15"),
    "PROT_ALD": (CISIS_TYPE_SCHEME, "Protocole de soins ALD", "13"),
    "11369-6": (LOINC, "Historique des vaccinations", "18"),
    "18751-8": (LOINC, "CR d'endoscopie", "15"),
    "18746-8": (LOINC, "CR de coloscopie", "15"),
    "11525-3": (LOINC, "CR d'échographie obstétricale", "14"),
    "15508-5": (LOINC, "CR d'accouchement", "10"),
    "34794-8": (LOINC, "CR de réunion de concertation pluridisciplinaire", "10"),
    "57828-6": (LOINC, "Prescriptions", "13"),
    "18745-0": (LOINC, "CR de cathétérisme cardiaque", "15"),
    "47420-5": (LOINC, "Bilan fonctionnel", "11"),
    "18761-7": (LOINC, "Note de transfert", "10"),
    "51851-4": (LOINC, "Note administrative", "19"),
    "59258-4": (LOINC, "CR de sortie des urgences", "10"),
    "28636-9": (LOINC, "Note d'évaluation initiale", "10"),
    "42348-3": (LOINC, "Directives anticipées", "17"),
    "34117-2": (LOINC, "Observation médicale", "10"),
    "57830-2": (LOINC, "Demande d'admission", "19"),
    "42349-1": (LOINC, "Motif de recours", "10"),
    "55112-7": (LOINC, "Résumé de document", "11"),
    "34748-4": (LOINC, "Note de téléconsultation", "10"),
    "SYNTH": (CISIS_TYPE_SCHEME, "Synthèse", "11"),
    "BIL_AUTO": (CISIS_TYPE_SCHEME, "Bilan d'autonomie", "11"),
    "EXPPAT_1": (CISIS_TYPE_SCHEME, "Volontés et droits du patient", "17"),
    "EXPPAT_2": (CISIS_TYPE_SCHEME, "Autorisation du patient", "17"),
    "EXPPAT_3": (CISIS_TYPE_SCHEME, "Document du patient", "17"),
    "DOCPAT01": (CISIS_TYPE_SCHEME, "Carnet de santé", "17"),
    "PRES_KINE": (CISIS_TYPE_SCHEME, "Prescription de kinésithérapie", "13"),
    "CR_KINE": (CISIS_TYPE_SCHEME, "CR de kinésithérapie", "10"),
    "CR_BIO_PREV": (CISIS_TYPE_SCHEME, "CR de biologie de dépistage", "18"),
    "VAC_NOTE": (CISIS_TYPE_SCHEME, "Note de vaccination", "18"),
    "DEPISTAGE": (CISIS_TYPE_SCHEME, "Dépistage organisé", "18"),
    "ADM_DOC": (CISIS_TYPE_SCHEME, "Document administratif", "19"),
    "ATTEST_AT": (CISIS_TYPE_SCHEME, "Certificat d'accident du travail", "12"),
    "CERT_DC": (CISIS_TYPE_SCHEME, "Certificat de décès", "12"),
    "52040-3": (LOINC, "Radiographie dentaire", "14"),
    "18726-0": (LOINC, "CR de radiologie", "14"),
    "11528-7": (LOINC, "CR de radiologie conventionnelle", "14"),
    "PAT_SUM": (CISIS_TYPE_SCHEME, "Volet de synthèse médicale", "11"),
}
PRACTICE_SETTINGS = (  # scheme 1.2.250.1.213.1.1.4.9
    ("ETABLISSEMENT", "Établissement de santé"),
    ("AMBULATOIRE", "Ambulatoire"),
    ("MEDICO-SOCIAL", "Médico-social"),
    ("URGENCES", "Urgences"),
    ("HAD", "Hospitalisation à domicile"),
    ("SSR", "Soins de suite et de réadaptation"),
    ("PSY", "Psychiatrie"),
    ("TELEMEDECINE", "Télémédecine"),
)
FACILITY_TYPES = (  # scheme 1.2.250.1.71.4.2.4
    ("SA01", "Établissement public de santé"),
    ("SA07", "Cabinet individuel"),
    ("SA29", "Laboratoire de biologie médicale"),
    ("SA04", "Établissement privé non PSPH"),
    ("SA08", "Cabinet de groupe"),
    ("SA17", "Cabinet de radiologie"),
    ("SA05", "Centre de santé"),
    ("SA03", "Établissement privé PSPH"),
    ("SA09", "Exercice en société"),
    ("SA25", "Protection maternelle et infantile"),
    ("SA02", "Hôpital des armées"),
    ("SA16", "Pharmacie d'officine"),
    ("SA33", "Établissement médico-social"),
    ("SA40", "Service de santé au travail"),
    ("SA52", "Centre de dépistage"),
)
FORMATS = (  # scheme 1.3.6.1.4.1.19376.1.2.3, with the MIME type that goes with each
    ("urn:ihe:iti:xds-sd:pdf:2008", "CDA avec PDF", "text/xml"),
    ("urn:asip:ci-sis:2010", "CDA structuré CI-SIS", "text/xml"),
    ("urn:ihe:lab:xd-lab:2008", "CR de biologie XD-LAB", "text/xml"),
    ("urn:ihe:iti:xds-sd:text:2008", "CDA avec texte", "text/xml"),
    ("urn:ihe:pcc:xds-ms:2007", "Medical Summary", "text/xml"),
    ("urn:ihe:rad:PDF", "PDF d'imagerie", "application/pdf"),
    ("urn:ihe:rad:TEXT", "Texte d'imagerie", "text/plain"),
    ("urn:ihe:pcc:ic:2009", "Immunization Content", "text/xml"),
    ("urn:ihe:pat:apsr:all:2010", "Anatomic Pathology", "text/xml"),
    ("urn:ihe:card:imaging:2011", "Cardiac Imaging", "text/xml"),
)
CONFIDENTIALITY_SCHEME = "2.16.840.1.113883.5.25"
CONFIDENTIALITY = (("N", "Normal", 90), ("R", "Restricted", 7), ("V", "Very restricted", 3))
MASKING_SCHEME = "1.2.250.1.213.1.1.4.13"
MASKING = (("MASQUE_PS", "Masqué aux professionnels de santé"), ("INVISIBLE_PATIENT", "Non visible par le patient"))
CCAM_SCHEME = "1.2.250.1.213.2.5"
CONTENT_TYPES = (  # SubmissionSet contentTypeCode, scheme 1.2.250.1.213.2.2
    ("04", "Hospitalisation"),
    ("03", "Consultation"),
    ("01", "Biologie"),
    ("02", "Imagerie"),
    ("05", "Urgences"),
    ("06", "Soins infirmiers"),
    ("07", "Pharmacie"),
    ("08", "Dépistage"),
    ("09", "Vaccination"),
    ("10", "Télémédecine"),
)
FOLDER_CODES = (  # Folder codeList, scheme 1.2.250.1.213.1.1.4.11
    ("CANCERO", "Cancérologie"),
    ("GROSSESSE", "Suivi de grossesse"),
    ("CARDIO", "Insuffisance cardiaque"),
    ("DIABETE", "Diabète"),
    ("DIALYSE", "Dialyse"),
    ("GERIA", "Parcours gériatrique"),
)
ROLES = ("ODP^Exécutant^^^^^^^&1.2.250.1.213.1.1.4.6&ISO", "RESP^Responsable^^^^^^^&1.2.250.1.213.1.1.4.6&ISO")
SPECIALTIES = (
    "G15_10/SM26^Qualifié en médecine générale (SM)^1.2.250.1.71.4.2.5",
    "G15_10/SM04^Cardiologie et maladies vasculaires (SM)^1.2.250.1.71.4.2.5",
    "G15_10/SM44^Radio-diagnostic (SM)^1.2.250.1.71.4.2.5",
    "G15_10/SM05^Chirurgie générale (SM)^1.2.250.1.71.4.2.5",
    "G15_10/SM19^Gynécologie-obstétrique (SM)^1.2.250.1.71.4.2.5",
    "G15_10/SM38^Oncologie (SM)^1.2.250.1.71.4.2.5",
    "G15_10/SM02^Anesthésie-réanimation (SM)^1.2.250.1.71.4.2.5",
    "G15_10/SM40^Pédiatrie (SM)^1.2.250.1.71.4.2.5",
    "G15_30/SM57^Biologie médicale (SM)^1.2.250.1.71.4.2.5",
    "G15_10/SM42^Psychiatrie (SM)^1.2.250.1.71.4.2.5",
)
FAMILY_NAMES = (
    "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU", "LAURENT",
    "SIMON", "MICHEL", "LEFEBVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL", "FOURNIER", "GIRARD",
    "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT", "MULLER", "LEFEVRE", "FAURE", "ANDRE",
    "MERCIER", "BLANC", "GUERIN", "BOYER", "GARNIER", "CHEVALIER", "FRANCOIS", "LEGRAND", "GAUTHIER", "GARCIA",
)
GIVEN_NAMES = (
    "Jean", "Marie", "Pierre", "Nathalie", "Michel", "Isabelle", "Philippe", "Sylvie", "Alain", "Catherine",
    "Nicolas", "Françoise", "Christophe", "Sandrine", "Patrick", "Valérie", "Stéphane", "Christine", "Éric",
    "Céline", "Laurent", "Julie", "Frédéric", "Sophie", "Olivier", "Camille", "Thomas", "Léa", "Hugo", "Chloé",
)
INSTITUTION_KINDS = ("CH", "CHU", "Clinique", "Centre de santé", "Laboratoire", "Cabinet de radiologie")
CITIES = ("Nantes", "Rennes", "Lyon", "Lille", "Bordeaux", "Toulouse", "Angers", "Brest", "Tours", "Limoges",
          "Dijon", "Reims", "Rouen", "Caen", "Nancy", "Metz", "Besançon", "Poitiers", "Amiens", "Orléans")


def zipf(n: int, s: float = 1.0) -> list[float]:
    """Cumulative Zipf weights of ``n`` ranks (rank 1 the most frequent), for ``Random.choices``."""
    return list(itertools.accumulate(1 / (k + 1) ** s for k in range(n)))


class Picker:
    """Draws items with fixed cumulative weights (``random.choices`` without its per-call set-up)."""

    def __init__(self, items, cum_weights: list[float]) -> None:
        self.items = list(items)
        self.cum = cum_weights
        self.total = cum_weights[-1]

    def __call__(self, rng: random.Random):
        return self.items[bisect.bisect(self.cum, rng.random() * self.total)]


def _code(code: str, scheme: str, display: str) -> Code:
    return Code(code, scheme, display)


CLASS = {code: _code(code, CLASS_SCHEME, display) for code, display in CLASS_CODES.items()}
TYPES = [(_code(code, scheme, display), CLASS[cls]) for code, (scheme, display, cls) in TYPE_CODES.items()]
PICK_TYPE = Picker(TYPES, zipf(len(TYPES), 1.05))
PICK_PRACTICE = Picker([_code(c, "1.2.250.1.213.1.1.4.9", d) for c, d in PRACTICE_SETTINGS],
                       zipf(len(PRACTICE_SETTINGS), 1.5))
PICK_FACILITY = Picker([_code(c, "1.2.250.1.71.4.2.4", d) for c, d in FACILITY_TYPES], zipf(len(FACILITY_TYPES), 1.2))
PICK_FORMAT = Picker([(_code(c, "1.3.6.1.4.1.19376.1.2.3", d), mime) for c, d, mime in FORMATS],
                     zipf(len(FORMATS), 1.4))
PICK_CONFIDENTIALITY = Picker([_code(c, CONFIDENTIALITY_SCHEME, d) for c, d, _ in CONFIDENTIALITY],
                              list(itertools.accumulate(w for *_, w in CONFIDENTIALITY)))
MASKS = [_code(c, MASKING_SCHEME, d) for c, d in MASKING]
PICK_CONTENT_TYPE = Picker([_code(c, "1.2.250.1.213.2.2", d) for c, d in CONTENT_TYPES], zipf(len(CONTENT_TYPES)))
FOLDER_CODE_LIST = [_code(c, "1.2.250.1.213.1.1.4.11", d) for c, d in FOLDER_CODES]
#: 0, 1, 2 or 3 event codes.
PICK_EVENT_COUNT = Picker([0, 1, 2, 3], list(itertools.accumulate([40, 35, 15, 10])))
PICK_SS_SIZE = Picker([1, 2, 3], list(itertools.accumulate([50, 30, 20])))


def _ccam_codes(count: int = 200) -> list[Code]:
    """CCAM-like acts: four letters and three digits (the real CCAM has ~8 000; a site uses a few hundred)."""
    rng = random.Random(18)
    letters = "ABCDEFGHJKLMNPQRSTVXYZ"
    acts = ("Radiographie", "Échographie", "Scanographie", "Remnographie", "Endoscopie", "Biopsie", "Exérèse",
            "Suture", "Ponction", "Anesthésie", "Électrocardiographie", "Séance de rééducation")
    codes: dict[str, Code] = {}
    while len(codes) < count:
        value = "".join(rng.choice(letters) for _ in range(4)) + f"{rng.randrange(1, 1000):03d}"
        codes.setdefault(value, _code(value, CCAM_SCHEME, f"{rng.choice(acts)} ({value})"))
    return list(codes.values())


EVENTS = _ccam_codes()
PICK_EVENT = Picker(EVENTS, zipf(len(EVENTS), 1.0))


@dataclass(frozen=True)
class Params:
    """What the content depends on; a cached database is reused only for the same values."""

    documents: int = 1_000_000
    patients: int = 100_000
    seed: int = 18
    deprecated_fraction: float = 0.05
    folder_patient_fraction: float = 0.05
    practitioners: int = 20_000
    generator_version: int = GENERATOR_VERSION

    def as_dict(self) -> dict:
        return asdict(self)


# -- plan ------------------------------------------------------------------------------


@dataclass
class Plan:
    """Who gets which documents, grouped how and when; everything but the attribute values.

    SubmissionSets are numbered in submission order, documents in the order of their
    SubmissionSets (so that ids grow with time, as in a registry that fills up).
    """

    params: Params
    doc_counts: list[int]
    #: Per SubmissionSet: submission time (epoch seconds), patient index, first document key, document count.
    ss_time: list[int] = field(default_factory=list)
    ss_patient: list[int] = field(default_factory=list)
    ss_first_doc: list[int] = field(default_factory=list)
    ss_size: list[int] = field(default_factory=list)
    #: Replacement document key → replaced document key (RPLC).
    replaces: dict[int, int] = field(default_factory=dict)
    deprecated: set[int] = field(default_factory=set)
    #: SubmissionSet → folders it creates (folder index), and → Folder→Document memberships it adds.
    folders_created: dict[int, list[int]] = field(default_factory=dict)
    memberships: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    #: Folder index → (patient index, lastUpdateTime epoch seconds, codes).
    folders: list[tuple[int, int, list[Code]]] = field(default_factory=list)

    @property
    def submission_sets(self) -> int:
        return len(self.ss_time)


def _document_counts(params: Params, rng: random.Random) -> list[int]:
    """At least one document per patient, log-normal spread, summing exactly to ``params.documents``."""
    if params.documents < params.patients:
        raise ValueError("need at least one document per patient")
    weights = [rng.lognormvariate(0.0, 1.0) for _ in range(params.patients)]
    spare = params.documents - params.patients
    scale = spare / sum(weights)
    counts = [1 + int(w * scale) for w in weights]
    # Hand out what truncation left, one each to random patients (weighted like the rest).
    missing = params.documents - sum(counts)
    cum = list(itertools.accumulate(weights))
    for _ in range(missing):
        counts[bisect.bisect(cum, rng.random() * cum[-1])] += 1
    return counts


def make_plan(params: Params) -> Plan:
    rng = random.Random(params.seed)
    counts = _document_counts(params, rng)
    plan = Plan(params, counts)

    # SubmissionSets of each patient at random moments; then all of them in time order.
    sets: list[tuple[int, int, int]] = []  # (time, patient, size)
    for patient, count in enumerate(counts):
        while count:
            size = min(PICK_SS_SIZE(rng), count)
            count -= size
            sets.append((rng.randrange(EPOCH_START, EPOCH_END), patient, size))
    sets.sort()
    key = 0
    per_patient: dict[int, list[int]] = {}
    for index, (moment, patient, size) in enumerate(sets):
        plan.ss_time.append(moment)
        plan.ss_patient.append(patient)
        plan.ss_first_doc.append(key)
        plan.ss_size.append(size)
        per_patient.setdefault(patient, []).append(index)
        key += size

    # Replacements: single-document SubmissionSets that are not a patient's first one.
    firsts = {sss[0] for sss in per_patient.values()}
    eligible = [i for i, size in enumerate(plan.ss_size) if size == 1 and i not in firsts]
    wanted = min(len(eligible), round(params.deprecated_fraction * params.documents))
    replacing = set(rng.sample(eligible, wanted))
    for patient in range(params.patients):
        approved: list[int] = []
        for ss in per_patient.get(patient, ()):
            first = plan.ss_first_doc[ss]
            if ss in replacing and approved:
                # Mostly a recent document is corrected, sometimes an older one.
                pick = len(approved) - 1 if rng.random() < 0.6 else rng.randrange(len(approved))
                target = approved.pop(pick)
                plan.replaces[first] = target
                plan.deprecated.add(target)
            approved.extend(range(first, first + plan.ss_size[ss]))

    # Folders: a SubmissionSet of the patient creates one; that set's and later documents may join it.
    doc_ss = {}
    for ss in range(len(sets)):
        for k in range(plan.ss_first_doc[ss], plan.ss_first_doc[ss] + plan.ss_size[ss]):
            doc_ss[k] = ss
    candidates = [p for p in range(params.patients) if counts[p] >= 2]
    folder_patients = rng.sample(candidates, min(len(candidates), round(params.folder_patient_fraction
                                                                        * params.patients)))
    created = []
    for patient in folder_patients:
        sss = per_patient[patient]
        start = rng.randrange(max(1, len(sss) // 2))  # in the first half of the patient's history
        created.append((sss[start], patient, sss[start:]))
    created.sort()
    replaced_by = {old: new for new, old in plan.replaces.items()}
    for folder, (creator, patient, sss) in enumerate(created):
        plan.folders_created.setdefault(creator, []).append(folder)
        last = plan.ss_time[creator]
        members = [k for ss in sss for k in range(plan.ss_first_doc[ss], plan.ss_first_doc[ss] + plan.ss_size[ss])
                   if rng.random() < 0.5]
        chosen = sorted(set(members or [plan.ss_first_doc[creator]]))
        # The registry puts a replacement into every folder of its original (chains included).
        added: set[int] = set()
        for k in chosen:
            while k not in added:
                added.add(k)
                plan.memberships.setdefault(doc_ss[k], []).append((folder, k))
                last = max(last, plan.ss_time[doc_ss[k]])
                if k not in replaced_by:
                    break
                k = replaced_by[k]
        codes = rng.sample(FOLDER_CODE_LIST, 1 if rng.random() < 0.8 else 2)
        plan.folders.append((patient, last, codes))
    return plan


# -- rows ------------------------------------------------------------------------------


def entry_uuid(seed: int, kind: str, n: int) -> str:
    """A version-4-shaped UUID, a pure function of (seed, kind, n), so that any row can name any other."""
    digest = hashlib.blake2b(f"{seed}/{kind}/{n}".encode(), digest_size=16).digest()
    return f"urn:uuid:{uuid.UUID(bytes=digest, version=4)}"


def patient_cx(patient: int) -> CX:
    return CX.of(f"{patient + 1:08d}", PATIENT_AUTHORITY)


def dtm(epoch: int, digits: int = 14) -> DTM:
    return DTM(datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y%m%d%H%M%S")[:digits])


def _practitioners(count: int, rng: random.Random) -> list[Author]:
    institutions = [
        XON(organization_name=f"{kind} {city}", assigning_authority=HD("", FINESS_AUTHORITY, "ISO"),
            identifier_type_code="IDNST", organization_identifier=f"3{rng.randrange(10**8, 10**9)}")
        for kind in INSTITUTION_KINDS for city in CITIES
    ]
    pick_institution = Picker(institutions, zipf(len(institutions), 0.8))
    authors = []
    for n in range(count):
        family, given = rng.choice(FAMILY_NAMES), rng.choice(GIVEN_NAMES)
        person = XCN(id=f"8{10_000_000_000 + n * 37:011d}", family_name=family, given_name=given,
                     assigning_authority=HD("", RPPS_AUTHORITY, "ISO"), name_type_code="D",
                     identifier_type_code="IDNPS")
        telecoms = ([XTN(use_code="NET", equipment_type="Internet",
                         email_address=f"{given.lower()}.{family.lower()}{n}@mssante.example.fr")]
                    if rng.random() < 0.3 else [])
        authors.append(Author(person=person, institutions=[pick_institution(rng)], roles=[rng.choice(ROLES)],
                              specialties=[rng.choice(SPECIALTIES)], telecoms=telecoms))
    return authors


#: Table name → column names in table order (the insert order of every sink).
COLUMNS = {name: [c.name for c in table.columns] for name, table in Base.metadata.tables.items()}
#: Parents before children.
TABLE_ORDER = (
    "patients", "dossiers", "document_entries", "document_entry_codes", "document_entry_authors",
    "document_entry_reference_ids", "submission_sets", "submission_set_authors", "folders", "folder_codes",
    "associations",
)
#: The JSON text of a payload, as SQLAlchemy's JSON type writes it (``json.dumps`` with its defaults).
dump_payload = json.dumps


class RowMaker:
    """Turns a :class:`Plan` into table rows (tuples in ``COLUMNS`` order), chunk by chunk."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        params = plan.params
        self.seed = params.seed
        self.rng = random.Random(params.seed * 1_000_003 + 7)
        rng = self.rng
        self.authors = _practitioners(params.practitioners, rng)
        self.pick_author = Picker(range(len(self.authors)), zipf(len(self.authors), 0.7))
        self.repositories = [f"{OID_ROOT}.9.{n}" for n in range(1, 21)]
        self.sources = [f"{OID_ROOT}.8.{n}" for n in range(1, 301)]
        self.pick_source = Picker(self.sources, zipf(len(self.sources), 0.9))
        # Per patient: sex, birth date, name, home practitioner; drawn once.
        self.patients = [
            (rng.choice("FM"), f"{rng.randrange(1925, 2024)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}",
             rng.choice(FAMILY_NAMES), rng.choice(GIVEN_NAMES), self.pick_author(rng))
            for _ in range(params.patients)
        ]
        #: Attribute choices of documents that a later one replaces, for the replacement to copy.
        self.kept: dict[int, tuple] = {}
        self.code_key = 1
        self.author_key = 1
        self.reference_key = 1
        self.ss_author_key = 1
        self.folder_code_key = 1
        self.association_key = 1
        self.counts = dict.fromkeys(TABLE_ORDER, 0)

    def patient_rows(self) -> list[tuple]:
        created = datetime(2014, 12, 1, tzinfo=timezone.utc)
        return [(n + 1, patient_cx(n).format(), created, "active") for n in range(self.plan.params.patients)]

    def dossier_rows(self) -> list[tuple]:
        """An open DMP per patient (issue 6: queries and retrieves are decided on the patient's dossier)."""
        created = datetime(2014, 12, 1, tzinfo=timezone.utc)
        return [
            tuple({"id": n + 1, "patient_key": patient_cx(n).key(), "status": "open", "allow_break_the_glass": True,
                   "allow_emergency_centre": True, "created_at": created, "updated_at": created}[c]
                  for c in COLUMNS["dossiers"])
            for n in range(self.plan.params.patients)
        ]

    def chunks(self, sets_per_chunk: int = 5_000) -> Iterator[dict[str, list[tuple]]]:
        """Rows of every table, ``sets_per_chunk`` SubmissionSets at a time; the patients come in the first."""
        total = self.plan.submission_sets
        for start in range(0, total, sets_per_chunk):
            tables: dict[str, list[tuple]] = {name: [] for name in TABLE_ORDER}
            if start == 0:
                tables["patients"] = self.patient_rows()
                tables["dossiers"] = self.dossier_rows()
            for ss in range(start, min(total, start + sets_per_chunk)):
                self._submission_set(ss, tables)
            for name, rows in tables.items():
                self.counts[name] += len(rows)
            yield tables

    # -- one SubmissionSet and its content ------------------------------------------------

    def _submission_set(self, ss: int, out: dict[str, list[tuple]]) -> None:
        plan, rng, seed = self.plan, self.rng, self.seed
        patient = plan.ss_patient[ss]
        moment = plan.ss_time[ss]
        ss_uuid = entry_uuid(seed, "ss", ss)
        first, size = plan.ss_first_doc[ss], plan.ss_size[ss]
        doc_authors = []
        for key in range(first, first + size):
            doc = self._document(key, patient, moment, rng)
            doc_authors.append(doc.authors[0])
            row = document_row(doc)
            row["id"] = key + 1
            out["document_entries"].append(self._tuple("document_entries", row))
            for attribute, code in document_codes(doc):
                out["document_entry_codes"].append((self.code_key, key + 1, attribute, code.code, code.scheme))
                self.code_key += 1
            for person in persons(doc.authors):
                out["document_entry_authors"].append((self.author_key, key + 1, person))
                self.author_key += 1
            for reference in doc.reference_ids:
                out["document_entry_reference_ids"].append((self.reference_key, key + 1, reference))
                self.reference_key += 1
            self._association(out, entry_uuid(seed, "hm", key), HAS_MEMBER, ss_uuid, doc.entry_uuid,
                              SubmissionSetStatus.ORIGINAL)
            if key in plan.replaces:
                self._association(out, entry_uuid(seed, "rplc", key), RPLC, doc.entry_uuid,
                                  entry_uuid(seed, "doc", plan.replaces[key]))

        submission_set = SubmissionSet(
            entry_uuid=ss_uuid,
            availability_status=APPROVED,
            unique_id=f"{OID_ROOT}.2.{ss + 1}",
            source_id=self.pick_source(rng),
            patient_id=patient_cx(patient),
            submission_time=dtm(moment),
            content_type_code=PICK_CONTENT_TYPE(rng),
            authors=[doc_authors[0]],
        )
        row = submission_set_row(submission_set)
        row["id"] = ss + 1
        out["submission_sets"].append(self._tuple("submission_sets", row))
        for person in persons(submission_set.authors):
            out["submission_set_authors"].append((self.ss_author_key, ss + 1, person))
            self.ss_author_key += 1

        for number in plan.folders_created.get(ss, ()):
            folder_patient, last_update, codes = plan.folders[number]
            folder = Folder(
                entry_uuid=entry_uuid(seed, "folder", number),
                availability_status=APPROVED,
                logical_id=entry_uuid(seed, "folder", number),
                version="1",
                unique_id=f"{OID_ROOT}.3.{number + 1}",
                patient_id=patient_cx(folder_patient),
                codes=codes,
                last_update_time=dtm(last_update),
                title=LocalizedString(f"Dossier {codes[0].display_name}", "fr-FR"),
            )
            row = folder_row(folder)
            row["id"] = number + 1
            out["folders"].append(self._tuple("folders", row))
            for code in codes:
                out["folder_codes"].append((self.folder_code_key, number + 1, code.code, code.scheme))
                self.folder_code_key += 1
            self._association(out, entry_uuid(seed, "hm-folder", number), HAS_MEMBER, ss_uuid, folder.entry_uuid)
        for number, key in plan.memberships.get(ss, ()):
            membership = entry_uuid(seed, f"fm{number}", key)
            self._association(out, membership, HAS_MEMBER, entry_uuid(seed, "folder", number),
                              entry_uuid(seed, "doc", key))
            self._association(out, entry_uuid(seed, f"hm-fm{number}", key), HAS_MEMBER, ss_uuid,
                              membership)

    def _association(self, out, uuid_: str, type_: str, source: str, target: str,
                     status: SubmissionSetStatus | None = None) -> None:
        association = Association(entry_uuid=uuid_, availability_status=APPROVED, type=type_, source=source,
                                  target=target, submission_set_status=status)
        row = association_row(association)
        row["id"] = self.association_key
        self.association_key += 1
        out["associations"].append(self._tuple("associations", row))

    @staticmethod
    def _tuple(table: str, row: dict) -> tuple:
        row["payload"] = dump_payload(row["payload"])
        return tuple(row[c] for c in COLUMNS[table])

    def _document(self, key: int, patient: int, moment: int, rng: random.Random) -> DocumentEntry:
        plan = self.plan
        original = plan.replaces.get(key)
        if original is not None:
            # A replacement: same kind of document, corrected; made shortly before its submission.
            choices = self.kept.pop(original)
            created = moment - rng.randrange(60, 6 * 3600)
        else:
            type_code, class_code = PICK_TYPE(rng)
            events = []
            for _ in range(PICK_EVENT_COUNT(rng)):
                event = PICK_EVENT(rng)
                if event not in events:
                    events.append(event)
            choices = (type_code, class_code, PICK_PRACTICE(rng), PICK_FACILITY(rng), PICK_FORMAT(rng), events)
            created = moment - rng.randrange(60, 3 * DAY)
        if key in plan.deprecated:
            self.kept[key] = choices
        type_code, class_code, practice, facility, (format_code, mime), events = choices

        confidentiality = [PICK_CONFIDENTIALITY(rng)]
        if rng.random() < 0.05:
            confidentiality.append(rng.choice(MASKS))
        sex, birth, family, given, home = self.patients[patient]
        author_ids = [home if rng.random() < 0.3 else self.pick_author(rng)]
        if rng.random() < 0.2:
            author_ids.append(self.pick_author(rng))
        start = created - rng.randrange(0, 7 * DAY)
        stop = min(created, start + rng.randrange(0, 3 * DAY))
        uuid_ = entry_uuid(self.seed, "doc", key)
        references = ([f"{OID_ROOT}.6.{key + 1}^^^^urn:ihe:iti:xds:2013:accession"]
                      if class_code.code == "14" and rng.random() < 0.5 else [])
        return DocumentEntry(
            entry_uuid=uuid_,
            availability_status=DEPRECATED if key in plan.deprecated else APPROVED,
            logical_id=uuid_,
            version="1",
            title=LocalizedString(type_code.display_name or type_code.code, "fr-FR"),
            unique_id=f"{OID_ROOT}.1.{key + 1}",
            patient_id=patient_cx(patient),
            source_patient_id=CX.of(f"IPP{patient + 1:09d}", f"{OID_ROOT}.7"),
            source_patient_info=[f"PID-3|IPP{patient + 1:09d}^^^&{OID_ROOT}.7&ISO", f"PID-5|{family}^{given}^^^^^L",
                                 f"PID-7|{birth}", f"PID-8|{sex}"],
            authors=[self.authors[a] for a in dict.fromkeys(author_ids)],
            class_code=class_code,
            type_code=type_code,
            format_code=format_code,
            healthcare_facility_type_code=facility,
            practice_setting_code=practice,
            confidentiality_codes=confidentiality,
            event_codes=events,
            creation_time=dtm(created),
            service_start_time=dtm(start, 12 if rng.random() < 0.5 else 14),
            service_stop_time=dtm(stop) if rng.random() < 0.8 else None,
            language_code="fr-FR",
            mime_type=mime,
            hash=f"{rng.getrandbits(160):040x}",
            size=str(int(rng.lognormvariate(11.0, 1.0)) + 512),
            repository_unique_id=self.repositories[key % len(self.repositories)],
            legal_authenticator=self.authors[author_ids[0]].person,
            reference_ids=references,
        )


def describe(plan: Plan) -> dict:
    """Shape of the planned registry, for the report."""
    counts = sorted(plan.doc_counts)
    n = len(counts)
    return {
        "patients": plan.params.patients,
        "documents": plan.params.documents,
        "submission_sets": plan.submission_sets,
        "deprecated_documents": len(plan.deprecated),
        "folders": len(plan.folders),
        "documents_per_patient": {
            "median": counts[n // 2],
            "p90": counts[int(n * 0.9)],
            "p99": counts[int(n * 0.99)],
            "max": counts[-1],
            "mean": round(sum(counts) / n, 2),
            "patients_with_50_or_more": sum(1 for c in counts if c >= 50),
        },
    }
