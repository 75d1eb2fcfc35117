"""The compact file format of ``gateway.valuesets.files``: round trips, the exact layout, clear errors."""

from __future__ import annotations

import pytest

from gateway.valuesets import (
    Concept,
    Correspondence,
    ValueSet,
    load_value_sets,
    read_correspondence_file,
    read_value_set_file,
    write_correspondence_file,
    write_value_set_file,
)
from gateway.valuesets.files import parse_file

LOINC = "2.16.840.1.113883.6.1"
HL7_CONF = "2.16.840.1.113883.5.25"
VISIBILITY = "1.2.250.1.213.1.1.4.13"

J08_LIKE = ValueSet(
    "JDV_J08_XdsConfidentialityCode_CISIS",
    "1.2.250.1.213.1.1.5.463",
    "20200424120000",
    (
        Concept("N", HL7_CONF, "Normal"),
        Concept("V", HL7_CONF, "Très restreint"),
        Concept("MASQUE_PS", VISIBILITY, "Masqué aux professionnels de santé"),
        Concept("X", "1.2.3", ""),
    ),
    source="https://mos.esante.gouv.fr/NOS/JDV_J08-XdsConfidentialityCode-CISIS",
)

A11_LIKE = Correspondence.of(
    "ASS_A11_ModeleCDA_FormatCode",
    "1.2.250.1.213.1.1.4.331",
    [
        ("1.2.250.1.213.1.1.1.55", "1.2.250.1.213.1.1.4.328",
         Concept("urn:ihe:lab:xd-lab:2008", "1.3.6.1.4.1.19376.1.2.3")),
        ("1.3.6.1.4.1.19376.1.2.20", "1.2.250.1.213.1.1.4.329",
         Concept("urn:ihe:iti:xds-sd:pdf:2008", "1.3.6.1.4.1.19376.1.2.3", "PDF")),
        ("1.3.6.1.4.1.19376.1.2.20", "1.2.250.1.213.1.1.4.329",
         Concept("urn:ihe:iti:xds-sd:text:2008", "1.3.6.1.4.1.19376.1.2.3")),
    ],
    version="20240126120000",
)


def test_a_value_set_survives_a_write_and_a_read(tmp_path):
    path = tmp_path / "JDV_J08_XdsConfidentialityCode_CISIS.tsv"

    write_value_set_file(path, J08_LIKE)
    back = read_value_set_file(path)

    assert back == J08_LIKE
    assert back.concepts == J08_LIKE.concepts  # order kept
    assert back.source == J08_LIKE.source
    assert ("V", HL7_CONF) in back and back.get("V", HL7_CONF).display == "Très restreint"


def test_a_correspondence_table_with_a_repeated_key_survives_a_write_and_a_read(tmp_path):
    path = tmp_path / "ASS_A11_ModeleCDA_FormatCode.tsv"

    write_correspondence_file(path, A11_LIKE)
    back = read_correspondence_file(path)

    assert back == A11_LIKE
    assert list(back.entries()) == list(A11_LIKE.entries())
    assert back.get("1.3.6.1.4.1.19376.1.2.20").code == "urn:ihe:iti:xds-sd:pdf:2008"  # the first one
    assert [c.code for c in back.get_all("1.3.6.1.4.1.19376.1.2.20")] == [
        "urn:ihe:iti:xds-sd:pdf:2008", "urn:ihe:iti:xds-sd:text:2008"]
    assert back.key_system("1.2.250.1.213.1.1.1.55") == "1.2.250.1.213.1.1.4.328"
    assert len(back) == 3


def test_the_file_is_the_documented_layout(tmp_path):
    path = tmp_path / "JDV_X.tsv"
    write_value_set_file(path, ValueSet("JDV_X", "1.2.3", "", (Concept("A", "1.2.3.4", "Été"),)))

    assert path.read_bytes().decode("utf-8") == (
        "# name: JDV_X\n"
        "# oid: 1.2.3\n"
        "# version:\n"
        "# kind: valueset\n"
        "# source:\n"
        "code\tcodeSystem\tdisplayName\n"
        "A\t1.2.3.4\tÉté\n"
    )


def test_unusual_characters_in_a_display_name_survive_a_round_trip(tmp_path):
    vs = ValueSet("V", "1.2.3", "", (Concept("A", "1.2", "line\u2028separator\x85next\x0cfeed"),))
    write_value_set_file(tmp_path / "V.tsv", vs)

    assert read_value_set_file(tmp_path / "V.tsv") == vs


def test_a_file_with_windows_line_ends_reads_the_same(tmp_path):
    path = tmp_path / "V.tsv"
    path.write_bytes(VS_HEAD.replace("\n", "\r\n").encode() + b"A\t1.2\tx\r\n")

    assert read_value_set_file(path).concepts == (Concept("A", "1.2", "x"),)


def test_comments_and_blank_lines_are_ignored_and_added_notes_are_kept_apart(tmp_path):
    path = tmp_path / "T.tsv"
    path.write_text(
        "# A table written by hand.\n"
        "# name: T\n# oid:\n# kind: correspondence\n\n"
        "key\tkeySystem\tcode\tcodeSystem\tdisplayName\n"
        "a\t\tx\t1.2\t\n"
        "\n"
        "# added: the ANS table lacks it\n"
        "b\t\ty\t1.2\tWhy\n",
        encoding="utf-8",
    )

    table = read_correspondence_file(path)

    assert table.get("b") == Concept("y", "1.2", "Why")
    assert table.oid == "" and table.key_system("a") == ""
    assert list(parse_file(path).added.values()) == ["the ANS table lacks it"]


VS_HEAD = "# name: V\n# oid: 1.2.3\n# kind: valueset\ncode\tcodeSystem\tdisplayName\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("# name: V\n# oid: 1.2.3\ncode\tcodeSystem\tdisplayName\n", "line 3: missing header line '# kind: …'"),
        ("# name: V\n# oid: 1.2.3\n# kind: list\ncode\n", "line 4: kind 'list' is neither"),
        ("# name: V\n# oid:\n# kind: valueset\ncode\tcodeSystem\tdisplayName\n", "line 4: empty oid"),
        ("# name: V\n# oid: 1.2.3\n# kind: valueset\n# colour: red\n", "line 4: unknown header key 'colour'"),
        ("# name: V\n# name: W\n", "line 2: header key 'name' given twice"),
        ("# name: V\n# oid: 1.2.3\n# kind: valueset\ncode\tsystem\tdisplay\n",
         "line 4: column row is 'code|system|display', expected 'code|codeSystem|displayName'"),
        (VS_HEAD + "A\t1.2\n", "line 5: 2 tab-separated fields, expected 3"),
        (VS_HEAD + "A\t1.2\tx\ty\n", "line 5: 4 tab-separated fields, expected 3"),
        (VS_HEAD + "\t1.2\tx\n", "line 5: empty code"),
        (VS_HEAD + "A\t\tx\n", "line 5: empty codeSystem"),
        (VS_HEAD + "A\t1.2\tx\n# c\nA\t1.2\ty\n", "line 7: 'A' (1.2) repeats line 5"),
        ("# name: V\n# oid: 1.2.3\n# kind: valueset\n", "no column row"),
        ("", "missing header line '# name: …'"),
    ],
)
def test_a_bad_file_is_refused_with_its_name_and_line(tmp_path, content, message):
    path = tmp_path / "V.tsv"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(ValueError) as caught:
        read_value_set_file(path)

    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_a_key_with_two_systems_is_refused(tmp_path):
    path = tmp_path / "T.tsv"
    path.write_text("# name: T\n# oid: 1\n# kind: correspondence\nkey\tkeySystem\tcode\tcodeSystem\tdisplayName\n"
                    f"11502-2\t{LOINC}\t10\t1.2\t\n11502-2\tASTM\t11\t1.2\t\n", encoding="utf-8")

    with pytest.raises(ValueError, match=r"line 6: key '11502-2' has keySystem 'ASTM' here but '2\.16"):
        read_correspondence_file(path)


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "V.tsv"
    path.write_bytes(VS_HEAD.encode() + "A\t1.2\tTrès\n".encode("latin-1"))

    with pytest.raises(ValueError, match=r"V\.tsv: not UTF-8"):
        read_value_set_file(path)


def test_reading_a_table_as_a_value_set_says_what_the_file_is(tmp_path):
    path = tmp_path / "ASS_A11_ModeleCDA_FormatCode.tsv"
    write_correspondence_file(path, A11_LIKE)

    with pytest.raises(ValueError, match="is a correspondence, not a valueset"):
        read_value_set_file(path)


@pytest.mark.parametrize("display", ["a\tb", "a\nb", "a\rb"])
def test_the_writer_refuses_what_the_format_cannot_carry(tmp_path, display):
    vs = ValueSet("V", "1.2.3", "", (Concept("A", "1.2", display),))

    with pytest.raises(ValueError, match="tab or a line break"):
        write_value_set_file(tmp_path / "V.tsv", vs)
    assert not (tmp_path / "V.tsv").exists()


def test_a_code_that_would_read_back_as_a_comment_is_refused(tmp_path):
    with pytest.raises(ValueError, match="would read back as a comment"):
        write_value_set_file(tmp_path / "V.tsv", ValueSet("V", "1.2.3", "", (Concept("#1", "1.2"),)))


@pytest.mark.parametrize("name", ["../escape", "a/b", "", "with space", ".hidden"])
def test_a_name_unfit_for_a_file_name_is_refused(tmp_path, name):
    with pytest.raises(ValueError, match="cannot name a value-set file"):
        write_value_set_file(tmp_path / "x.tsv", ValueSet(name, "1.2.3"))


def test_a_folder_loads_value_sets_and_tables_by_name(tmp_path):
    write_value_set_file(tmp_path / "JDV_J08_XdsConfidentialityCode_CISIS.tsv", J08_LIKE)
    write_correspondence_file(tmp_path / "ASS_A11_ModeleCDA_FormatCode.tsv", A11_LIKE)
    (tmp_path / "README.md").write_text("not a value set")

    sets = load_value_sets(tmp_path)

    assert sets["JDV_J08_XdsConfidentialityCode_CISIS"] == J08_LIKE
    assert sets.table("ASS_A11_ModeleCDA_FormatCode") == A11_LIKE
    assert list(sets.value_sets) == ["JDV_J08_XdsConfidentialityCode_CISIS"]


def test_a_file_named_otherwise_than_its_value_set_is_refused(tmp_path):
    write_value_set_file(tmp_path / "J08.tsv", J08_LIKE)

    with pytest.raises(ValueError, match=r"J08\.tsv: holds 'JDV_J08_XdsConfidentialityCode_CISIS', so it must be"):
        load_value_sets(tmp_path)


def test_a_missing_folder_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="no value-set folder at"):
        load_value_sets(tmp_path / "nowhere")
