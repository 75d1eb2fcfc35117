"""``xds-gateway valuesets import FILE... [--into DIR]`` and ``xds-gateway valuesets list [--from DIR]``."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from gateway.valuesets import load_value_sets, read_correspondence_file, read_value_set_file

SHARED_VALUESETS = Path(__file__).resolve().parents[3] / "shared" / "data" / "valuesets"
J08 = SHARED_VALUESETS / "TestContenuCDA-3-0__JDV_J08_XdsConfidentialityCode_CISIS.xml"
J04 = SHARED_VALUESETS / "TestContenuCDA-3-0__JDV_J04_XdsPracticeSettingCode_CISIS.xml"


@pytest.fixture(autouse=True)
def plain_settings(monkeypatch, tmp_path):
    # The command line loads the gateway's settings first; keep the caller's environment out of it.
    for name in [n for n in __import__("os").environ if n.startswith("XDSGW_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("XDSGW_DATA_DIR", str(tmp_path / "var"))


def svs_file(folder: Path, name: str, oid: str, concepts: list[tuple[str, str, str]], *, mapped: bool = False) -> Path:
    if mapped:
        body = "<MappedConceptList>" + "".join(
            f'<MappedConcept><Concept code="{k}" codeSystem="{ks}"/><Concept code="{c}" codeSystem="1.2"/>'
            "</MappedConcept>" for k, ks, c in concepts) + "</MappedConceptList>"
    else:
        body = "<ConceptList>" + "".join(
            f'<Concept code="{c}" codeSystem="{s}" displayName="{d}"/>' for c, s, d in concepts) + "</ConceptList>"
    path = folder / f"{name}.xml"
    path.write_text(f'<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008"><ValueSet id="{oid}" '
                    f'displayName="{name}.tabs" dateMaj="20250101120000">{body}</ValueSet></RetrieveValueSetResponse>',
                    encoding="utf-8")
    return path


def test_import_writes_one_compact_file_per_value_set_and_says_so(tmp_path, capsys):
    a = svs_file(tmp_path, "JDV_A", "1.2.3.1", [("X", "1.9", "Ex"), ("Y", "1.9", "Why")])
    b = svs_file(tmp_path, "JDV_B", "1.2.3.2", [("Z", "1.9", "Zed")])
    into = tmp_path / "sets"

    assert main(["valuesets", "import", str(a), str(b), "--into", str(into)]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"JDV_A (1.2.3.1, version 20250101120000): 2 concepts → {into / 'JDV_A.tsv'}",
        f"JDV_B (1.2.3.2, version 20250101120000): 1 concepts → {into / 'JDV_B.tsv'}",
    ]
    assert read_value_set_file(into / "JDV_A.tsv").get("Y", "1.9").display == "Why"


def test_a_second_import_replaces_the_file_and_shows_the_counts(tmp_path, capsys):
    into = tmp_path / "sets"
    main(["valuesets", "import", str(svs_file(tmp_path, "JDV_A", "1.2.3.1", [("X", "1.9", ""), ("Y", "1.9", "")])),
          "--into", str(into)])
    capsys.readouterr()
    newer = svs_file(tmp_path, "JDV_A", "1.2.3.1", [("X", "1.9", ""), ("Z", "1.9", ""), ("W", "1.9", "")])

    assert main(["valuesets", "import", str(newer), "--into", str(into)]) == 0

    assert "JDV_A (1.2.3.1, version 20250101120000): 2 → 3 concepts (+2, -1)" in capsys.readouterr().out
    assert [c.code for c in read_value_set_file(into / "JDV_A.tsv").concepts] == ["X", "Z", "W"]


def test_an_import_keeps_the_name_of_the_file_with_the_same_oid(tmp_path, capsys):
    into = tmp_path / "sets"
    into.mkdir()
    (into / "ASS_A11_ModeleCDA_FormatCode.tsv").write_text(
        "# name: ASS_A11_ModeleCDA_FormatCode\n# oid: 1.2.250.1.213.1.1.4.331\n# kind: correspondence\n"
        "key\tkeySystem\tcode\tcodeSystem\tdisplayName\n"
        "1.2.250.1.213.1.1.1.41\t1.2.250.1.213.1.1.4.328\turn:asip:ci-sis:cr-cpa:2020\t1.2\t\n"
        "# added: not in the 2024 export\n"
        "1.2.250.1.213.1.1.1.59\t1.2.250.1.213.1.1.4.328\turn:ans:ci-sis:trod:2024\t1.2\t\n", encoding="utf-8")
    official = svs_file(tmp_path, "ASS_A11-CorresModeleCDA-XdsFormatCode-CISIS", "1.2.250.1.213.1.1.4.331",
                        [("1.2.250.1.213.1.1.1.41", "1.2.250.1.213.1.1.4.328", "urn:asip:ci-sis:cr-cpa:2020")],
                        mapped=True)

    assert main(["valuesets", "import", str(official), "--into", str(into)]) == 0

    out = capsys.readouterr().out
    assert sorted(p.name for p in into.iterdir()) == ["ASS_A11_ModeleCDA_FormatCode.tsv"]
    assert "ASS_A11_ModeleCDA_FormatCode (1.2.250.1.213.1.1.4.331, version 20250101120000): 2 → 1 rows" in out
    assert ("warning: drops 1.2.250.1.213.1.1.1.59 urn:ans:ci-sis:trod:2024 1.2, added by hand "
            "(not in the 2024 export)") in out
    assert read_correspondence_file(into / "ASS_A11_ModeleCDA_FormatCode.tsv").name == "ASS_A11_ModeleCDA_FormatCode"


def test_a_bad_file_stops_the_import_before_anything_is_written(tmp_path, capsys):
    good = svs_file(tmp_path, "JDV_A", "1.2.3.1", [("X", "1.9", "")])
    bad = tmp_path / "bad.xml"
    bad.write_text("<not-svs/>")
    into = tmp_path / "sets"

    assert main(["valuesets", "import", str(good), str(bad), "--into", str(into)]) == 1

    assert f"xds-gateway: {bad}" in capsys.readouterr().err
    assert not into.exists() or not list(into.iterdir())


def test_two_files_for_the_same_value_set_are_refused(tmp_path, capsys):
    a = svs_file(tmp_path, "JDV_A", "1.2.3.1", [("X", "1.9", "")])

    assert main(["valuesets", "import", str(a), str(a), "--into", str(tmp_path / "sets")]) == 1
    assert "two of the files given are JDV_A (1.2.3.1)" in capsys.readouterr().err


def test_list_prints_name_oid_version_and_size(tmp_path, capsys):
    into = tmp_path / "sets"
    main(["valuesets", "import", str(svs_file(tmp_path, "JDV_LONGER_NAME", "1.2.3.1", [("X", "1.9", "")])),
          str(svs_file(tmp_path, "ASS_T", "1.2.3.2", [("k", "1.8", "X"), ("l", "1.8", "X")], mapped=True)),
          "--into", str(into)])
    capsys.readouterr()

    assert main(["valuesets", "list", "--from", str(into)]) == 0

    assert capsys.readouterr().out.splitlines() == [
        "name             oid      version         size",
        "ASS_T            1.2.3.2  20250101120000  2 rows",
        "JDV_LONGER_NAME  1.2.3.1  20250101120000  1 concepts",
        f"1 value sets, 1 correspondence tables in {into}",
    ]


def test_list_reports_a_bad_folder(tmp_path, capsys):
    (tmp_path / "V.tsv").write_text("# name: V\n", encoding="utf-8")

    assert main(["valuesets", "list", "--from", str(tmp_path)]) == 1
    assert f"xds-gateway: {tmp_path / 'V.tsv'}" in capsys.readouterr().err


def test_list_defaults_to_the_shipped_ci_sis_folder(capsys):
    assert main(["valuesets", "list"]) == 0

    out = capsys.readouterr().out
    assert "JDV_J07_XdsTypeCode_CISIS" in out and "ASS_X04_TypeCode_ClassCode" in out


@pytest.mark.skipif(not J08.is_file(), reason=f"the ANS SVS exports are not here ({SHARED_VALUESETS})")
def test_importing_the_ans_exports_gives_the_shipped_files(tmp_path, capsys):
    into = tmp_path / "sets"

    assert main(["valuesets", "import", str(J08), str(J04), "--into", str(into)]) == 0

    sets = load_value_sets(into)
    assert sets["JDV_J08_XdsConfidentialityCode_CISIS"].concepts[0].code == "N"
    assert len(sets["JDV_J04_XdsPracticeSettingCode_CISIS"]) == 12
    shipped = Path(__file__).resolve().parents[2] / "profiles" / "ci-sis" / "valuesets"
    for name in ("JDV_J08_XdsConfidentialityCode_CISIS.tsv", "JDV_J04_XdsPracticeSettingCode_CISIS.tsv"):
        assert (into / name).read_bytes() == (shipped / name).read_bytes()


# --- inputs the compact files cannot hold: refused before anything is written ---------------------------------------

LOINC = "2.16.840.1.113883.6.1"
TRE_A05 = "1.2.250.1.213.1.1.4.1"


def svs_body(folder: Path, file: str, name: str, oid: str, body: str) -> Path:
    path = folder / file
    path.write_text(f'<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008"><ValueSet id="{oid}" '
                    f'displayName="{name}.tabs" dateMaj="20250101120000">{body}</ValueSet></RetrieveValueSetResponse>',
                    encoding="utf-8")
    return path


def mapped(*rows: tuple[str, str, str, str, str]) -> str:
    """A MappedConceptList of (key, keySystem, code, codeSystem, displayName) rows."""
    return "<MappedConceptList>" + "".join(
        f'<MappedConcept><Concept code="{k}" codeSystem="{ks}"/>'
        f'<Concept code="{c}" codeSystem="{cs}" displayName="{d}"/></MappedConcept>' for k, ks, c, cs, d in rows
    ) + "</MappedConceptList>"


@pytest.fixture
def folder(tmp_path) -> Path:
    """A folder already holding a value set and a table, as the shipped one does."""
    into = tmp_path / "sets"
    assert main(["valuesets", "import", "--into", str(into),
                 str(svs_file(tmp_path, "JDV_A", "1.2.3.1", [("X", "1.9", "Ex")])),
                 str(svs_body(tmp_path, "x04.xml", "ASS_X04", "1.2.3.9", mapped(("11488-4", LOINC, "10", TRE_A05, ""))))
                 ]) == 0
    return into


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_mapped_concept_repeated_identically_is_kept_once_and_the_folder_still_loads(tmp_path, folder, capsys):
    capsys.readouterr()
    row = ("11488-4", LOINC, "10", TRE_A05, "CR")
    svs = svs_body(tmp_path, "in.xml", "ASS_X04-Corres", "1.2.3.9", mapped(row, row))

    assert main(["valuesets", "import", str(svs), "--into", str(folder)]) == 0

    out = capsys.readouterr().out
    assert "note: line 1: this MappedConcept repeats an earlier one (line 1), kept once" in out
    table = load_value_sets(folder).table("ASS_X04")
    assert len(table) == 1 and table.get("11488-4").display == "CR"


def test_a_mapped_concept_repeated_with_another_display_name_is_refused(tmp_path, folder, capsys):
    before = snapshot(folder)
    svs = svs_body(tmp_path, "in.xml", "ASS_X04", "1.2.3.9",
                   mapped(("11488-4", LOINC, "10", TRE_A05, "CR"), ("11488-4", LOINC, "10", TRE_A05, "Other")))

    assert main(["valuesets", "import", str(svs), "--into", str(folder)]) == 2

    err = capsys.readouterr().err
    assert f"xds-gateway: {svs}, line 1: '11488-4' → '10' ({TRE_A05}) repeats" in err
    assert "nothing was written" in err
    assert snapshot(folder) == before
    load_value_sets(folder)


def test_a_key_under_two_key_systems_is_refused_not_rewritten(tmp_path, folder, capsys):
    before = snapshot(folder)
    svs = svs_body(tmp_path, "in.xml", "ASS_X04", "1.2.3.9",
                   mapped(("11488-4", LOINC, "10", TRE_A05, ""), ("11488-4", "9.9.9", "11", TRE_A05, "")))

    assert main(["valuesets", "import", str(svs), "--into", str(folder)]) == 2

    err = capsys.readouterr().err
    assert f"key '11488-4' has key system '9.9.9' here but '{LOINC}' in an earlier MappedConcept" in err
    assert snapshot(folder) == before


@pytest.mark.parametrize(
    ("concept", "message"),
    [
        ('code="11488-4" codeSystem="2.16.840.1.113883.6.1" displayName="CR&#9;consultation"',
         r"displayName 'CR\tconsultation' holds a tab or a line break"),
        ('code="11488-4" codeSystem="2.16.840.1.113883.6.1" displayName="CR&#10;consultation"',
         r"displayName 'CR\nconsultation' holds a tab or a line break"),
        ('code="#11488-4" codeSystem="2.16.840.1.113883.6.1" displayName="x"',
         "code '#11488-4' would read back as a comment"),
    ],
)
def test_a_concept_the_file_cannot_carry_refuses_the_whole_import(tmp_path, folder, capsys, concept, message):
    before = snapshot(folder)
    good = svs_file(tmp_path, "JDV_A", "1.2.3.1", [("Y", "1.9", "Why")])  # would replace JDV_A.tsv
    bad = svs_body(tmp_path, "bad.xml", "JDV_B", "1.2.3.2", f"<ConceptList><Concept {concept}/></ConceptList>")

    assert main(["valuesets", "import", str(good), str(bad), "--into", str(folder)]) == 2

    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.err
    assert captured.out == ""
    assert snapshot(folder) == before


def test_a_table_key_that_would_read_back_as_a_comment_is_refused(tmp_path, folder, capsys):
    before = snapshot(folder)
    svs = svs_body(tmp_path, "in.xml", "ASS_X04", "1.2.3.9", mapped(("#1", LOINC, "10", TRE_A05, "")))

    assert main(["valuesets", "import", str(svs), "--into", str(folder)]) == 2

    assert "key '#1' would read back as a comment" in capsys.readouterr().err
    assert snapshot(folder) == before


def test_a_concept_repeated_in_one_concept_list_with_another_display_name_is_refused(tmp_path, folder, capsys):
    before = snapshot(folder)
    svs = svs_file(tmp_path, "JDV_A", "1.2.3.1", [("X", "1.9", "Ex"), ("X", "1.9", "Other")])

    assert main(["valuesets", "import", str(svs), "--into", str(folder)]) == 2

    assert "'X' (1.9) repeats line 1 with displayName 'Ex'" in capsys.readouterr().err
    assert snapshot(folder) == before


def test_an_import_leaves_no_temporary_file_and_keeps_the_file_mode(tmp_path, folder):
    (folder / "JDV_A.tsv").chmod(0o644)

    assert main(["valuesets", "import", str(svs_file(tmp_path, "JDV_A", "1.2.3.1", [("Y", "1.9", "")])),
                 "--into", str(folder)]) == 0

    assert sorted(p.name for p in folder.iterdir()) == ["ASS_X04.tsv", "JDV_A.tsv"]
    assert (folder / "JDV_A.tsv").stat().st_mode & 0o777 == 0o644


def test_a_file_that_would_not_read_back_as_imported_is_not_written(tmp_path, folder, capsys, monkeypatch):
    # Whatever the writer and the reader disagree on in future, the import checks the round trip itself.
    from gateway.valuesets import commands

    real = commands.file_text
    monkeypatch.setattr(commands, "file_text", lambda item: real(item).replace("Why", "Who"))
    before = snapshot(folder)

    assert main(["valuesets", "import", str(svs_file(tmp_path, "JDV_A", "1.2.3.1", [("Y", "1.9", "Why")])),
                 "--into", str(folder)]) == 2

    assert "JDV_A: its file would not read back as the value set imported" in capsys.readouterr().err
    assert snapshot(folder) == before


def test_a_file_the_reader_refuses_is_not_written(tmp_path, folder, capsys, monkeypatch):
    from gateway.valuesets import commands

    real = commands.file_text
    monkeypatch.setattr(commands, "file_text", lambda item: real(item) + real(item).splitlines()[-1] + "\n")
    before = snapshot(folder)

    assert main(["valuesets", "import", str(svs_file(tmp_path, "JDV_A", "1.2.3.1", [("Y", "1.9", "Why")])),
                 "--into", str(folder)]) == 2

    assert f"its file would not read back: {folder / 'JDV_A.tsv'}, line 8: 'Y' (1.9) repeats line 7" \
        in capsys.readouterr().err
    assert snapshot(folder) == before
